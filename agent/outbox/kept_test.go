package outbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestKeptEntries: an entry enqueued with its record is stored in the
// record's commit, at its seq, outlives the record's delivery and a
// restart, and is replaced only where it exists.
func TestKeptEntries(t *testing.T) {
	path := mustPath(t)
	o := mustOpen(t, testOptions(path))
	ctx := context.Background()

	before := o.Stats().Commits
	env, err := o.EnqueueKept(ctx, mustRecord(t, "request", 100), Kept{Table: "requests", Value: []byte(`{"status":"submitted"}`)}, "requests/report")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Stats().Commits - before; got != 1 {
		t.Errorf("a record with its kept entry took %d commits, want 1", got)
	}
	if n, _ := o.Tallies("requests/"); n["report"] != 1 {
		t.Errorf("tallies = %v", n)
	}
	if err := o.Ack(env.Seq); err != nil {
		t.Fatal(err)
	}
	if err := o.PutKept(ctx, "requests", env.Seq, []byte(`{"status":"accepted"}`)); err != nil {
		t.Fatal(err)
	}
	if err := o.PutKept(ctx, "requests", env.Seq+100, []byte(`{}`)); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutKept of an entry never made: %v, want ErrNotFound", err)
	}
	if _, err := o.GetKept("other", env.Seq); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetKept from another table: %v, want ErrNotFound", err)
	}
	if err := o.PutKept(ctx, "", env.Seq, nil); !errors.Is(err, ErrNoKeptTable) {
		t.Errorf("PutKept without a table: %v", err)
	}
	o.Close()

	o = mustOpen(t, testOptions(path))
	got, err := o.GetKept("requests", env.Seq)
	if err != nil || string(got) != `{"status":"accepted"}` {
		t.Fatalf("after a restart: %q, %v", got, err)
	}
	var seen []uint64
	if err := o.ScanKept("requests", func(seq uint64, v []byte) error { seen = append(seen, seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != env.Seq {
		t.Errorf("scan saw %v, want [%d]", seen, env.Seq)
	}
	if st := o.Stats(); st.Depth != 0 {
		t.Errorf("a kept entry counts as queued: depth %d", st.Depth)
	}
}

// TestSalvageKeepsKeptEntries: a store found damaged gives back its kept
// entries with its records, those of delivered records too, each at its
// own seq and authenticated.
func TestSalvageKeepsKeptEntries(t *testing.T) {
	opts := testOptions(mustPath(t))
	o := mustOpen(t, opts)
	ctx := context.Background()
	var seqs []uint64
	for i := range 60 {
		env, err := o.EnqueueKept(ctx, mustRecord(t, "request", 300), Kept{Table: "requests", Value: []byte(fmt.Sprint("status ", i))})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, env.Seq)
	}
	if err := o.Ack(seqs[:30]...); err != nil { // delivered: their entries stay
		t.Fatal(err)
	}
	o.Close()
	mustLeakFreePages(t, opts.Path)
	// A check is owed (the last one is a week old), and finds the leak.
	if err := os.WriteFile(opts.Path+checkedSuffix, stamp(time.Now().Add(-8*24*time.Hour)), 0o600); err != nil {
		t.Fatal(err)
	}
	o = mustOpen(t, opts)
	rec := mustRecovery(t, o)
	if rec.Salvaged != 30 || rec.Unreadable != 0 {
		t.Errorf("recovery = %+v, want the 30 queued records salvaged", rec)
	}
	for i, seq := range seqs {
		got, err := o.GetKept("requests", seq)
		if err != nil || string(got) != fmt.Sprint("status ", i) {
			t.Errorf("kept entry %d after salvage: %q %v", seq, got, err)
		}
	}
}
