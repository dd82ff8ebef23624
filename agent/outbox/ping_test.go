package outbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/sdnotify"
	"github.com/fengqiao/kiosk/agent/sdnotify/sdnotifytest"
)

func TestPing(t *testing.T) {
	o := mustOpen(t, testOptions(mustPath(t)))
	if err := o.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Close()
	if err := o.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close = %v", err)
	}
}

// TestWatchdogStopsWhenCommitterIsStuck is kioskd's watchdog check against a
// committer that cannot finish a commit (bbolt's writer lock is held, as a
// hung fsync on a dying SD card would hold it): the pings to systemd stop,
// and start again once the commit goes through.
func TestWatchdogStopsWhenCommitterIsStuck(t *testing.T) {
	sock := sdnotifytest.MustListen(t)
	const watchdog = 300 * time.Millisecond
	sdnotifytest.EnableWatchdog(t, watchdog)
	o := mustOpen(t, testOptions(mustPath(t)))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sdnotify.Watch(ctx, sdnotify.Options{Check: func(ctx context.Context) (string, error) {
		return "ok", o.Ping(ctx)
	}})
	sock.WaitFor(t, "WATCHDOG=1", 5*time.Second)

	tx, err := o.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	enqueued := make(chan error, 1)
	go func() {
		_, err := o.Enqueue(context.Background(), mustRecord(t, "booking", 100))
		enqueued <- err
	}()
	sock.WaitFor(t, "STATUS=unhealthy: context deadline exceeded", 5*time.Second)
	sock.Drain()
	time.Sleep(3 * watchdog)
	for _, m := range sock.Drain() {
		if sdnotifytest.Has(m, "WATCHDOG=1") {
			t.Fatalf("watchdog pinged while the committer was stuck: %q", m)
		}
	}

	tx.Rollback()
	if err := <-enqueued; err != nil {
		t.Fatal(err)
	}
	sock.WaitFor(t, "WATCHDOG=1", 5*time.Second)
}

// TestTallies: a tally is counted in the record's own transaction, kept
// across a restart and a compaction, and not counted for a record the
// store refused.
func TestTallies(t *testing.T) {
	path := mustPath(t)
	opts := testOptions(path)
	opts.Quota = 64 << 10
	o := mustOpen(t, opts)
	ctx := context.Background()
	before := o.Stats().Commits
	for range 3 {
		if _, err := o.Enqueue(ctx, mustRecord(t, "booking", 100), "bookings/legal-advisor"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Enqueue(ctx, mustRecord(t, "booking", 100), "bookings/legal-checkup", "other/x"); err != nil {
		t.Fatal(err)
	}
	if got := o.Stats().Commits - before; got != 4 {
		t.Errorf("4 records with tallies took %d commits", got)
	}
	if _, err := o.Enqueue(ctx, mustRecord(t, "booking", 200<<10), "bookings/legal-advisor"); !errors.Is(err, ErrQuotaFull) {
		t.Fatalf("a record over the quota: %v", err)
	}
	o.Close()

	o = mustOpen(t, opts)
	items, _ := o.Peek(0, 10)
	if err := o.Ack(seqs(items)...); err != nil { // drained: compaction may run
		t.Fatal(err)
	}
	got, err := o.Tallies("bookings/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["legal-advisor"] != 3 || got["legal-checkup"] != 1 {
		t.Errorf("tallies = %v", got)
	}
}
