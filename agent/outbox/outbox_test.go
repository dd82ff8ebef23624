package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/record"
)

func mustOpen(t *testing.T, path string) *Outbox {
	t.Helper()
	o, err := Open(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func mustRecord(t *testing.T, typ string) record.Envelope {
	t.Helper()
	env, err := record.New(record.Source{Kiosk: "k"}, typ, typ+"/v1", map[string]int{"n": 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestEnqueuePeekAckSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	o := mustOpen(t, path)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		env, err := o.Enqueue(ctx, mustRecord(t, "booking"))
		if err != nil {
			t.Fatal(err)
		}
		if env.Seq != uint64(i+1) {
			t.Errorf("seq = %d, want %d", env.Seq, i+1)
		}
		ids = append(ids, env.ID)
	}
	if err := o.Ack(1); err != nil {
		t.Fatal(err)
	}
	if err := o.Ack(1); err != nil {
		t.Fatalf("second ack of the same seq: %v", err)
	}
	if o.Depth() != 2 {
		t.Errorf("depth = %d, want 2", o.Depth())
	}
	o.Close()

	o = mustOpen(t, path)
	defer o.Close()
	if o.Depth() != 2 {
		t.Errorf("depth after reopen = %d, want 2", o.Depth())
	}
	select {
	case <-o.Ready():
	default:
		t.Error("a reopened outbox with pending records must signal Ready")
	}
	items, err := o.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Seq != 2 || items[1].Seq != 3 || items[0].Type != "booking" {
		t.Fatalf("items = %+v", items)
	}
	var env record.Envelope
	if err := json.Unmarshal(items[1].Payload, &env); err != nil || env.ID != ids[2] || env.Seq != 3 {
		t.Errorf("payload = %s (%v)", items[1].Payload, err)
	}
	// Sequence numbers are never reused, even after the newest was acked.
	o.Ack(2)
	o.Ack(3)
	env, err = o.Enqueue(ctx, mustRecord(t, "booking"))
	if err != nil || env.Seq != 4 {
		t.Errorf("seq after drain = %d, %v; want 4", env.Seq, err)
	}
}

func TestConcurrentEnqueueAssignsDistinctSeqs(t *testing.T) {
	o := mustOpen(t, filepath.Join(t.TempDir(), "kiosk.db"))
	defer o.Close()
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				env, err := o.Enqueue(context.Background(), mustRecord(t, "booking"))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[env.Seq] {
					t.Errorf("seq %d assigned twice", env.Seq)
				}
				seen[env.Seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 40 || o.Depth() != 40 {
		t.Errorf("distinct seqs %d, depth %d; want 40", len(seen), o.Depth())
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	o := mustOpen(t, path)
	defer o.Close()
	_, err := Open(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestClosed(t *testing.T) {
	o := mustOpen(t, filepath.Join(t.TempDir(), "kiosk.db"))
	o.Close()
	if _, err := o.Enqueue(context.Background(), mustRecord(t, "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v", err)
	}
	if _, err := o.Peek(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Peek after Close = %v", err)
	}
}
