package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/sdnotify/sdnotifytest"
)

// TestSystemdNotify runs kioskd as systemd would run its Type=notify unit
// with a watchdog: READY=1 comes only once the local API answers (a unit
// ordered after kioskd finds it serving), the watchdog is pinged with a
// status line, and a SIGTERM is announced with STOPPING=1.
func TestSystemdNotify(t *testing.T) {
	broker := mosquittotest.Start(t)
	sock := sdnotifytest.MustListen(t)
	// systemd also sets WATCHDOG_PID, to kioskd's pid; without it the
	// interval applies to whoever reads it, which here is the child.
	t.Setenv("WATCHDOG_USEC", "900000")

	p := mustExecKioskd(t, t.TempDir(), broker.URL)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("kioskd output:\n%s", p.out)
		}
	})
	m := sock.WaitFor(t, "READY=1", 30*time.Second)
	if st, _ := sdnotifytest.Value(m, "STATUS"); !strings.HasPrefix(st, "serving") {
		t.Errorf("READY status = %q", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := localclient.New(p.socket).Status(ctx); err != nil {
		t.Fatalf("READY=1 sent, but the API does not answer: %v", err)
	}

	m = sock.WaitFor(t, "WATCHDOG=1", 10*time.Second)
	if st, _ := sdnotifytest.Value(m, "STATUS"); !strings.Contains(st, "township link") || !strings.Contains(st, "records waiting") {
		t.Errorf("watchdog status = %q", st)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	sock.WaitFor(t, "STOPPING=1", 10*time.Second)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("kioskd after SIGTERM: %v", p.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd did not stop after SIGTERM")
	}
}

// TestRefusedConfigUnderSystemd: under systemd a refused configuration is
// retried, not given up on: kioskd says why in its status and waits before
// exiting (systemd restarts it), and a stop during the wait is prompt.
func TestRefusedConfigUnderSystemd(t *testing.T) {
	sock := sdnotifytest.MustListen(t)
	p := mustExecKioskd(t, t.TempDir(), "tcp://127.0.0.1:1", "--config", "/nonexistent.yaml")
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	sock.WaitFor(t, "STATUS=configuration refused (journalctl -u fengqiao-kioskd says why); trying again in 20s", 30*time.Second)
	select {
	case <-p.done:
		t.Fatalf("kioskd exited at once: %v", p.err)
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		var ee *exec.ExitError
		if !errors.As(p.err, &ee) || ee.ExitCode() != exitConfig {
			t.Errorf("kioskd = %v, want exit status %d", p.err, exitConfig)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd did not stop on SIGTERM during its wait")
	}
	if !strings.Contains(p.out.String(), "no such file") {
		t.Errorf("kioskd did not say why: %s", p.out)
	}
}
