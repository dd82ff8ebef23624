package sdnotify_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/sdnotify"
	"github.com/fengqiao/kiosk/agent/sdnotify/sdnotifytest"
)

func TestReadyAndStopping(t *testing.T) {
	sock := sdnotifytest.MustListen(t)
	if err := sdnotify.Ready("link connected,\n0 queued"); err != nil {
		t.Fatal(err)
	}
	m := sock.Next(t, 5*time.Second)
	if !sdnotifytest.Has(m, "READY=1") {
		t.Errorf("Ready sent %q", m)
	}
	// A newline in a status must not start a new assignment.
	if st, _ := sdnotifytest.Value(m, "STATUS"); st != "link connected, 0 queued" {
		t.Errorf("STATUS = %q", st)
	}
	sdnotify.Stopping()
	if m := sock.Next(t, 5*time.Second); !sdnotifytest.Has(m, "STOPPING=1") {
		t.Errorf("Stopping sent %q", m)
	}
}

// TestPingsFollowTheHealthCheck: the watchdog is pinged only while the check
// passes, so a kioskd stuck inside its check is left for systemd to kill.
func TestPingsFollowTheHealthCheck(t *testing.T) {
	sock := sdnotifytest.MustListen(t)
	const watchdog = 300 * time.Millisecond
	sdnotifytest.EnableWatchdog(t, watchdog)

	var stuck atomic.Bool
	release := make(chan struct{})
	check := func(ctx context.Context) (string, error) {
		if stuck.Load() {
			select {
			case <-release:
			case <-ctx.Done():
				return "", errors.New("committer: " + ctx.Err().Error())
			}
		}
		return "link connected, 3 queued", nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sdnotify.Watch(ctx, sdnotify.Options{Check: check}) }()

	for range 3 {
		m := sock.WaitFor(t, "WATCHDOG=1", 5*time.Second)
		if st, _ := sdnotifytest.Value(m, "STATUS"); st != "link connected, 3 queued" {
			t.Errorf("STATUS = %q", st)
		}
	}

	stuck.Store(true)
	m := sock.WaitFor(t, "STATUS=unhealthy: committer: context deadline exceeded", 5*time.Second)
	if sdnotifytest.Has(m, "WATCHDOG=1") {
		t.Errorf("a failed check pinged: %q", m)
	}
	// Pings sent before the check got stuck may still be in the socket;
	// after that, several watchdog periods pass with none.
	sock.Drain()
	time.Sleep(3 * watchdog)
	for _, m := range sock.Drain() {
		if sdnotifytest.Has(m, "WATCHDOG=1") {
			t.Fatalf("pinged while the check was stuck: %q", m)
		}
	}

	stuck.Store(false)
	close(release)
	sock.WaitFor(t, "WATCHDOG=1", 5*time.Second)

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch = %v", err)
	}
}

func TestWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if err := sdnotify.Ready("x"); err != nil {
		t.Errorf("Ready outside systemd = %v", err)
	}
	var calls atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := sdnotify.Watch(ctx, sdnotify.Options{Check: func(context.Context) (string, error) {
		calls.Add(1)
		return "", nil
	}})
	if !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 0 {
		t.Errorf("Watch outside systemd = %v after %d checks", err, calls.Load())
	}
}

func TestStatusWithoutWatchdog(t *testing.T) {
	sock := sdnotifytest.MustListen(t)
	t.Setenv("WATCHDOG_USEC", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sdnotify.Watch(ctx, sdnotify.Options{Check: func(context.Context) (string, error) { return "ok", nil }})
	m := sock.Next(t, 5*time.Second)
	if m != "STATUS=ok" || strings.Contains(m, "WATCHDOG") {
		t.Errorf("without a watchdog Watch sent %q", m)
	}
}
