// Package dev holds the developer's scripts: run.sh behind make run, the
// benchmarks' drivers. Its test holds make run to stopping cleanly.
package dev

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localclient"
)

// TestMakeRunStops starts make run headless (run.sh brings its own Xvfb),
// waits until the whole kiosk is up and kioskd's API answers, signals it as
// a developer, an IDE or a closed terminal would, and checks by pid that
// every process it started has ended within 5 s, make included, with
// kioskd's "kioskd stopped" line printed.
func TestMakeRunStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole kiosk three times; not in -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// make run builds bin/ first; done here, outside the time the kiosk
	// is given to come up.
	build := exec.Command("make", "--no-print-directory", "build")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name  string
		sig   syscall.Signal
		group bool // to the process group, as a terminal does; else to make alone
	}{
		{"Ctrl-C in the terminal", syscall.SIGINT, true},
		{"SIGTERM to make, as an IDE or a script stops it", syscall.SIGTERM, false},
		{"the terminal closed", syscall.SIGHUP, true},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			testMakeRunStops(t, root, tt.sig, tt.group)
		})
	}
}

func testMakeRunStops(t *testing.T, root string, sig syscall.Signal, group bool) {
	state := t.TempDir()
	out := &syncBuffer{}
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = root
	cmd.Env = append(withoutDisplay(os.Environ()), "FENGQIAO_DEV_STATE="+state)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGKILL) // whatever is left after a failure
		<-exited
	})

	// Up: kioskd answers, and run.sh has started everything (it says so
	// last).
	client := localclient.New(filepath.Join(state, "kioskd.sock"))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := client.Status(ctx)
		cancel()
		if err == nil && strings.Contains(out.String(), "kiosk running.") {
			break
		}
		select {
		case <-exited:
			t.Fatalf("make run ended before the kiosk was up (%v):\n%s", waitErr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kiosk not up after 2 min:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Every process make run started, wherever it is (run.sh puts Xvfb in
	// a session of its own).
	started := descendants(t, pgid)
	var names []string
	for _, p := range started {
		names = append(names, p.comm)
	}
	// The programs make run starts, each by name, so that the check below
	// is over the real thing and not an empty list.
	for _, want := range []string{"make", "mosquitto", "kioskctl", "kioskd", "Xvfb", "kiosk-ui", "sed"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Fatalf("no %s among make run's processes %v:\n%s", want, names, out.String())
		}
	}

	target := pgid
	if group {
		target = -pgid
	}
	sent := time.Now()
	if err := syscall.Kill(target, sig); err != nil {
		t.Fatal(err)
	}
	makeDone := false
	for time.Since(sent) < 5*time.Second {
		select {
		case <-exited:
			makeDone = true
		default:
		}
		if makeDone && len(stillRunning(started)) == 0 && len(processesIn(t, pgid)) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	left := stillRunning(started)
	for _, p := range processesIn(t, pgid) { // any started after the snapshot too
		if !slices.Contains(left, p) {
			left = append(left, p)
		}
	}
	if !makeDone || len(left) > 0 {
		t.Errorf("%s: 5 s later make ended: %v; still running: %v\n%s", sig, makeDone, left, out.String())
	} else {
		t.Logf("%s: %d processes ended in %v", sig, len(started), time.Since(sent).Round(10*time.Millisecond))
	}
	if strings.Contains(out.String(), "fatal IO error") {
		t.Errorf("%s: the X server went before kiosk-ui:\n%s", sig, out.String())
	}
	if !strings.Contains(out.String(), `[kioskd] `) || !strings.Contains(out.String(), `msg="kioskd stopped"`) {
		t.Errorf("%s: kioskd's last line, \"kioskd stopped\", not printed:\n%s", sig, out.String())
	}
}

func withoutDisplay(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "DISPLAY=") && !strings.HasPrefix(e, "WAYLAND_DISPLAY=") {
			out = append(out, e)
		}
	}
	return out
}

// process is one process, known by pid and start time (a pid alone may be
// reused).
type process struct {
	pid   int
	comm  string
	start string
}

func (p process) String() string { return fmt.Sprintf("%s[%d]", p.comm, p.pid) }

// stat reads a process's command name, state, process group and start time
// from /proc/PID/stat.
func stat(pid int) (comm, state string, pgid int, start string, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", 0, "", false
	}
	open, closing := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || closing < open {
		return "", "", 0, "", false
	}
	f := strings.Fields(string(raw[closing+1:]))
	if len(f) < 20 {
		return "", "", 0, "", false
	}
	pgid, _ = strconv.Atoi(f[2])
	return string(raw[open+1 : closing]), f[0], pgid, f[19], true
}

// processesIn lists the live processes of a process group (zombies have
// ended: they only wait for a parent to collect them).
func processesIn(t *testing.T, pgid int) []process {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, state, g, start, ok := stat(pid)
		if ok && g == pgid && state != "Z" {
			out = append(out, process{pid, comm, start})
		}
	}
	return out
}

// descendants lists the live processes descended from pid, pid included.
func descendants(t *testing.T, pid int) []process {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(raw, ')'); i >= 0 {
			if f := strings.Fields(string(raw[i+1:])); len(f) > 1 {
				ppid, _ := strconv.Atoi(f[1])
				children[ppid] = append(children[ppid], p)
			}
		}
	}
	var out []process
	for todo := []int{pid}; len(todo) > 0; todo = todo[1:] {
		p := todo[0]
		if comm, state, _, start, ok := stat(p); ok && state != "Z" {
			out = append(out, process{p, comm, start})
		}
		todo = append(todo, children[p]...)
	}
	return out
}

// stillRunning are those of ps that have not ended.
func stillRunning(ps []process) []process {
	var out []process
	for _, p := range ps {
		if _, state, _, start, ok := stat(p.pid); ok && start == p.start && state != "Z" {
			out = append(out, p)
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
