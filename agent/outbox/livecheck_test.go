package outbox

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/storedamage"
)

// mustLeakFreePages damages the store in a way bbolt does not notice at
// open and that leaves every record readable: only the full check finds it.
func mustLeakFreePages(t testing.TB, path string) {
	t.Helper()
	if err := storedamage.LeakFreePages(path); err != nil {
		t.Fatal(err)
	}
}

// mustStoreWithFreePages leaves a closed store holding 200 queued records
// (and free pages, from 100 delivered ones), and returns what Peek gave.
func mustStoreWithFreePages(t testing.TB, opts Options) []Item {
	t.Helper()
	o := mustOpen(t, opts)
	for range 300 {
		mustEnqueue(t, o, "booking", 400)
	}
	items, err := o.Peek(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Ack(seqs(items[:100])...); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	return items[100:]
}

func TestFullCheckOnlyAfterAnUncleanShutdown(t *testing.T) {
	for _, unclean := range []bool{false, true} {
		name := "clean"
		if unclean {
			name = "unclean"
		}
		t.Run(name, func(t *testing.T) {
			opts := testOptions(mustPath(t))
			want := mustStoreWithFreePages(t, opts)
			checked, _ := os.ReadFile(opts.Path + checkedSuffix)
			mustLeakFreePages(t, opts.Path)
			if unclean {
				mustMarkUnclean(t, opts.Path)
			}
			o := mustOpen(t, opts)
			<-o.CheckDone()
			if !unclean {
				select {
				case rec := <-o.Recoveries():
					t.Fatalf("a clean start checked the whole store: %+v", rec)
				case <-time.After(300 * time.Millisecond):
				}
				if now, _ := os.ReadFile(opts.Path + checkedSuffix); !bytes.Equal(now, checked) {
					t.Errorf("check stamp changed from %q to %q without a check", checked, now)
				}
				return
			}
			rec := mustRecovery(t, o)
			if rec.Found != "by the background check" || rec.Salvaged != len(want) || rec.Unreadable != 0 {
				t.Errorf("recovery = %+v; want found by the check, %d salvaged", rec, len(want))
			}
			// Every record of the old store is still to be delivered, as it
			// was: same seq, same bytes; a new one goes above them.
			newer := mustEnqueue(t, o, "booking", 10)
			got, err := o.Peek(0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want)+1 || got[len(got)-1].Seq != newer.Seq {
				t.Fatalf("after salvage Peek = %d records ending %v; want %d and then seq %d", len(got), seqs(got[len(got)-1:]), len(want), newer.Seq)
			}
			for i, it := range want {
				if got[i].Seq != it.Seq || !bytes.Equal(got[i].Payload, it.Payload) {
					t.Fatalf("record %d: seq %d, want %d (or payload differs)", i, got[i].Seq, it.Seq)
				}
			}
			if st := o.Stats(); st.Depth != len(want)+1 {
				t.Errorf("depth after salvage = %d, want %d", st.Depth, len(want)+1)
			}
			o.Close()
			// The next start owes no check: the new store was never damaged.
			o = mustOpen(t, opts)
			<-o.CheckDone()
			if got, _ := o.Peek(0, 1000); len(got) != len(want)+1 {
				t.Errorf("after restart %d records, want %d", len(got), len(want)+1)
			}
		})
	}
}

func TestFullCheckOnSchedule(t *testing.T) {
	opts := testOptions(mustPath(t))
	mustStoreWithFreePages(t, opts)
	mustLeakFreePages(t, opts.Path)
	if err := os.WriteFile(opts.Path+checkedSuffix, stamp(time.Now().Add(-8*24*time.Hour)), 0o600); err != nil {
		t.Fatal(err)
	}
	o := mustOpen(t, opts)
	if rec := mustRecovery(t, o); rec.Salvaged != 200 {
		t.Errorf("recovery = %+v", rec)
	}
}

// TestFullCheckWhileServing: the check reads the live file while records
// are committed and delivered; it must neither see damage that is not there
// nor hold the writers up for its whole length.
func TestFullCheckWhileServing(t *testing.T) {
	opts := testOptions(mustPath(t))
	o := mustOpen(t, opts)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2500 {
				mustEnqueue(t, o, "booking", 400)
			}
		})
	}
	wg.Wait()
	o.Close()
	for round := range 5 {
		mustMarkUnclean(t, opts.Path)
		o := mustOpen(t, opts)
		ctx, stop := context.WithCancel(context.Background())
		var during atomic.Int64
		for range 8 {
			wg.Go(func() {
				for ctx.Err() == nil {
					during.Add(1)
					env, err := o.Enqueue(context.Background(), mustRecord(t, "booking", 400))
					if err != nil {
						t.Error(err)
						return
					}
					o.Ack(env.Seq - 1000) // deliveries free pages for reuse
				}
			})
		}
		<-o.CheckDone()
		n := during.Load()
		stop()
		wg.Wait()
		if n < 10 {
			t.Errorf("round %d: only %d records committed during the check", round, n)
		}
		select {
		case rec := <-o.Recoveries():
			t.Fatalf("round %d: a sound store was found damaged: %+v", round, rec)
		default:
		}
		if o.checkOwed.Load() {
			t.Fatalf("round %d: the check did not pass", round)
		}
		o.Close()
		if _, err := os.Stat(opts.Path + openMarkerSuffix); err == nil {
			t.Fatalf("round %d: marker left after a clean close with the check passed", round)
		}
	}
}
