package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/record"
)

// The test binary doubles as the store-check child, as kioskd does.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "check-store" {
		os.Exit(CheckMain(os.Args[2]))
	}
	if code, ok := ChildMain(os.Args[1:], os.Stdout, os.Stderr); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

var testKey = bytes.Repeat([]byte{7}, KeySize)

func testOptions(path string) Options {
	return Options{Path: path, Key: testKey, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Child: func(args ...string) *exec.Cmd { return exec.Command(os.Args[0], args...) }}
}

func mustOpen(t testing.TB, opts Options) *Outbox {
	t.Helper()
	o, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func mustPath(t testing.TB) string { return filepath.Join(t.TempDir(), "kiosk.db") }

// mustRecord returns an envelope whose body is padded to about size bytes.
func mustRecord(t testing.TB, typ string, size int) record.Envelope {
	t.Helper()
	env, err := record.New(record.Source{Kiosk: "k"}, typ, typ+"/v1", map[string]string{"pad": strings.Repeat("x", size)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func mustEnqueue(t testing.TB, o *Outbox, typ string, size int) record.Envelope {
	t.Helper()
	env, err := o.Enqueue(context.Background(), mustRecord(t, typ, size))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func seqs(items []Item) []uint64 {
	var out []uint64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}

func TestEnqueuePeekAckSurvivesReopen(t *testing.T) {
	opts := testOptions(mustPath(t))
	o := mustOpen(t, opts)
	var ids []string
	for i := range 3 {
		env := mustEnqueue(t, o, "booking", 10)
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
	if st := o.Stats(); st.LastDelivery.IsZero() || st.Oldest.IsZero() {
		t.Errorf("stats = %+v", st)
	}
	o.Close()

	o = mustOpen(t, opts)
	if o.Depth() != 2 {
		t.Errorf("depth after reopen = %d, want 2", o.Depth())
	}
	select {
	case <-o.Ready():
	default:
		t.Error("a reopened outbox with pending records must signal Ready")
	}
	items, err := o.Peek(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs(items)) != "[2 3]" || items[0].Type != "booking" {
		t.Fatalf("items = %+v", items)
	}
	var env record.Envelope
	if err := json.Unmarshal(items[1].Payload, &env); err != nil || env.ID != ids[2] || env.Seq != 3 {
		t.Errorf("payload = %s (%v)", items[1].Payload, err)
	}
	if items, _ := o.Peek(2, 10); fmt.Sprint(seqs(items)) != "[3]" {
		t.Errorf("Peek(after 2) = %v", seqs(items))
	}
	// Sequence numbers are never reused, even after the newest was acked.
	o.Ack(2, 3)
	if env := mustEnqueue(t, o, "booking", 1); env.Seq != 4 {
		t.Errorf("seq after drain = %d; want 4", env.Seq)
	}
}

func TestConcurrentEnqueueAssignsDistinctSeqs(t *testing.T) {
	o := mustOpen(t, testOptions(mustPath(t)))
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				env, err := o.Enqueue(context.Background(), mustRecord(t, "booking", 50))
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
	if len(seen) != 320 || o.Depth() != 320 {
		t.Errorf("distinct seqs %d, depth %d; want 320", len(seen), o.Depth())
	}
	items, _ := o.Peek(0, 1000)
	for i := 1; i < len(items); i++ {
		if items[i].Seq <= items[i-1].Seq {
			t.Fatalf("Peek out of order at %d: %v", i, seqs(items[i-1:i+1]))
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	opts := testOptions(mustPath(t))
	mustOpen(t, opts)
	if _, err := Open(opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestClosed(t *testing.T) {
	o := mustOpen(t, testOptions(mustPath(t)))
	o.Close()
	if _, err := o.Enqueue(context.Background(), mustRecord(t, "x", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v", err)
	}
	if _, err := o.Peek(0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Peek after Close = %v", err)
	}
	if err := o.Ack(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack after Close = %v", err)
	}
}

// TestQuota: telemetry gives way oldest first; governance records are never
// evicted and are refused with ErrQuotaFull once only they are left.
func TestQuota(t *testing.T) {
	opts := testOptions(mustPath(t))
	opts.Quota = 20 << 10
	o := mustOpen(t, opts)
	var telemetry []uint64
	for range 10 {
		telemetry = append(telemetry, mustEnqueue(t, o, "telemetry", 1000).Seq)
	}
	// Bookings push telemetry out, oldest first.
	var bookings []uint64
	for {
		env, err := o.Enqueue(context.Background(), mustRecord(t, "booking", 1000))
		if errors.Is(err, ErrQuotaFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		bookings = append(bookings, env.Seq)
		if len(bookings) > 100 {
			t.Fatal("quota never reached")
		}
	}
	items, _ := o.Peek(0, 1000)
	if got, want := fmt.Sprint(seqs(items)), fmt.Sprint(bookings); got != want {
		t.Errorf("after quota, queue holds %s; want only the bookings %s", got, want)
	}
	st := o.Stats()
	if st.Evicted != 10 || st.Bytes > opts.Quota {
		t.Errorf("stats = %+v", st)
	}
	// Telemetry that cannot fit is refused too; nothing governance is lost.
	if _, err := o.Enqueue(context.Background(), mustRecord(t, "telemetry", 1000)); !errors.Is(err, ErrQuotaFull) {
		t.Errorf("telemetry at a governance-full quota = %v", err)
	}
	// Delivery frees room again.
	o.Ack(bookings[0], bookings[1])
	mustEnqueue(t, o, "booking", 1000)
}

// TestGroupCommitFailsOnlyTheRefusedRequest: one request over quota in a batch
// must not fail the others committed with it.
func TestGroupCommitFailsOnlyTheRefusedRequest(t *testing.T) {
	opts := testOptions(mustPath(t))
	opts.Quota = 64 << 10
	o := mustOpen(t, opts)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			size := 100
			if i%10 == 0 {
				size = 70 << 10 // can never fit
			}
			_, err := o.Enqueue(context.Background(), mustRecord(t, "booking", size))
			if (size > 1000) != errors.Is(err, ErrQuotaFull) {
				errs <- fmt.Errorf("size %d: %v", size, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if o.Depth() != 36 {
		t.Errorf("depth = %d, want 36", o.Depth())
	}
}

func TestDeadLetters(t *testing.T) {
	opts := testOptions(mustPath(t))
	opts.MaxAttempts = 3
	o := mustOpen(t, opts)
	a := mustEnqueue(t, o, "booking", 10)
	b := mustEnqueue(t, o, "booking", 10)
	for i := 1; i <= 3; i++ {
		dead, err := o.Fail(a.Seq, "broker closed the connection", false)
		if err != nil || dead != (i == 3) {
			t.Fatalf("Fail #%d = %v, %v", i, dead, err)
		}
		if items, _ := o.Peek(0, 10); i < 3 && items[0].Attempts != i {
			t.Errorf("attempts after %d failures = %d", i, items[0].Attempts)
		}
	}
	// The poison record no longer blocks the queue.
	items, _ := o.Peek(0, 10)
	if fmt.Sprint(seqs(items)) != fmt.Sprint([]uint64{b.Seq}) {
		t.Errorf("queue = %v, want only %d", seqs(items), b.Seq)
	}
	if dead, err := o.Fail(b.Seq, "too large", true); !dead || err != nil {
		t.Errorf("permanent Fail = %v, %v", dead, err)
	}
	dls, err := o.DeadLetters()
	if err != nil || len(dls) != 2 || dls[0].Seq != a.Seq || dls[0].Attempts != 3 || dls[1].Reason != "too large" || dls[0].Type != "booking" {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
	if st := o.Stats(); st.DeadLetters != 2 || st.Depth != 0 {
		t.Errorf("stats = %+v", st)
	}
	o.Close()

	o = mustOpen(t, opts)
	if st := o.Stats(); st.DeadLetters != 2 {
		t.Errorf("dead letters after reopen = %d", st.DeadLetters)
	}
	if err := o.Requeue(a.Seq); err != nil {
		t.Fatal(err)
	}
	if err := o.Requeue(a.Seq); !errors.Is(err, ErrNotFound) {
		t.Errorf("second requeue = %v, want ErrNotFound", err)
	}
	items, _ = o.Peek(0, 10)
	var env record.Envelope
	if len(items) != 1 || json.Unmarshal(items[0].Payload, &env) != nil || env.ID != a.ID {
		t.Errorf("requeued = %+v", items)
	}
	if _, err := o.Fail(999, "x", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fail of unknown seq = %v", err)
	}
}

// TestStoreRevealsNoPersonalData: a copied store file, including its free
// pages, holds nothing readable of a record.
func TestStoreRevealsNoPersonalData(t *testing.T) {
	opts := testOptions(mustPath(t))
	o := mustOpen(t, opts)
	secrets := []string{"13905991234", "350102199001011234", "武夷山市星村镇", "陈桂英"}
	for range 50 {
		env, _ := record.New(record.Source{Kiosk: "k"}, "booking", "booking/v1",
			map[string]string{"phone": secrets[0], "id_number": secrets[1], "address": secrets[2], "name": secrets[3]}, time.Now())
		if _, err := o.Enqueue(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	o.Ack(1, 2, 3, 4, 5) // deleted values linger in free pages
	o.Close()
	raw, err := os.ReadFile(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("store file contains %q in clear", s)
		}
	}
	// The wrong key is refused, not used to read garbage or start afresh.
	bad := opts
	bad.Key = bytes.Repeat([]byte{8}, KeySize)
	if _, err := Open(bad); !errors.Is(err, ErrBadKey) {
		t.Errorf("Open with another key = %v, want ErrBadKey", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil || len(k1) != KeySize {
		t.Fatal(k1, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("reload = %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrBadKey) {
		t.Errorf("world-readable key = %v, want ErrBadKey", err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrBadKey) {
		t.Errorf("short key = %v, want ErrBadKey", err)
	}
}

// TestCorruptStoreIsMovedAside: a damaged file is kept for salvage, a new
// store takes its place, and seq continues above anything used before.
func mustMarkUnclean(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path+openMarkerSuffix, []byte("crashed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRecovery(t testing.TB, o *Outbox) Recovery {
	t.Helper()
	select {
	case rec := <-o.Recoveries():
		return rec
	case <-time.After(20 * time.Second):
		t.Fatal("no recovery reported")
		return Recovery{}
	}
}

func TestCorruptStoreIsMovedAside(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 4096), 0o600)
		}},
		{"damaged pages", func(t *testing.T, path string) {
			raw, _ := os.ReadFile(path)
			for i := 4 * 4096; i < len(raw); i += 97 { // leave the meta pages, smash the tree
				raw[i] ^= 0xff
			}
			os.WriteFile(path, raw, 0o600)
		}},
		{"truncated", func(t *testing.T, path string) {
			os.Truncate(path, 4096+100)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(mustPath(t))
			o := mustOpen(t, opts)
			var last uint64
			for range 200 {
				last = mustEnqueue(t, o, "booking", 300).Seq
			}
			o.Close()
			tt.corrupt(t, opts.Path)
			mustMarkUnclean(t, opts.Path) // damage comes with power cuts

			o, err := Open(opts)
			if err != nil {
				t.Fatalf("Open of a corrupt store = %v; want it replaced", err)
			}
			defer o.Close()
			// Found at open or by the background check, it is reported the
			// same way, and the kiosk serves meanwhile.
			mustEnqueue(t, o, "booking", 100)
			rec := mustRecovery(t, o)
			if rec.Reason == "" {
				t.Fatalf("Recovery = %+v", rec)
			}
			if _, err := os.Stat(rec.MovedTo); err != nil {
				t.Errorf("old store not kept: %v", err)
			}
			if env := mustEnqueue(t, o, "alert", 10); env.Seq <= last {
				t.Errorf("seq after rebuild = %d, want above %d (never reused)", env.Seq, last)
			}
		})
	}
}

// TestCompactionShrinksTheFile: after a backlog drains, the file returns to
// live data plus a small constant, with the store open throughout.
func TestCompactionShrinksTheFile(t *testing.T) {
	opts := testOptions(mustPath(t))
	o := mustOpen(t, opts)
	var all []uint64
	for range 100 {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { mustEnqueue(t, o, "booking", 1000) })
		}
		wg.Wait()
	}
	items, _ := o.Peek(0, 5000)
	for _, it := range items {
		all = append(all, it.Seq)
	}
	before := o.Stats().FileBytes
	for i := 0; i < len(all); i += 100 {
		if err := o.Ack(all[i:min(i+100, len(all))]...); err != nil {
			t.Fatal(err)
		}
	}
	// Compaction runs on the committer after it has answered the acks.
	after := o.Stats().FileBytes
	for deadline := time.Now().Add(5 * time.Second); after > 256<<10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = o.Stats().FileBytes
	}
	t.Logf("%d records of ~1200 bytes: file %d bytes before the drain, %d after", len(all), before, after)
	if before < compactMinFile || after > 256<<10 {
		t.Errorf("file %d → %d bytes; want it back under 256 KiB", before, after)
	}
	// Still a working store, with seq intact.
	if env := mustEnqueue(t, o, "booking", 10); env.Seq != uint64(len(all)+1) {
		t.Errorf("seq after compaction = %d", env.Seq)
	}
	o.Close()
	o = mustOpen(t, opts)
	if o.Depth() != 1 {
		t.Errorf("depth after reopen = %d", o.Depth())
	}
}

// TestDiskFull fills a small tmpfs: Enqueue fails with ErrDiskFull, nothing
// acknowledged is lost, and the store works again once space is freed.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("this test needs a 2 MiB tmpfs (run as root): mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	opts := testOptions(filepath.Join(dir, "kiosk.db"))
	o := mustOpen(t, opts)
	filler := filepath.Join(dir, "filler")
	var acked []record.Envelope
	var full error
	for i := 0; i < 10000 && full == nil; i++ {
		env, err := o.Enqueue(context.Background(), mustRecord(t, "booking", 2000))
		switch {
		case err == nil:
			acked = append(acked, env)
		case errors.Is(err, ErrDiskFull):
			full = err
		default:
			t.Fatalf("enqueue #%d: %v (want ErrDiskFull when the disk fills)", i, err)
		}
		if i == 100 { // leave the store less room than the quota would
			os.WriteFile(filler, make([]byte, 1<<20), 0o600)
		}
	}
	if full == nil {
		t.Fatal("disk never filled")
	}
	t.Logf("%d records committed before: %v", len(acked), full)
	items, err := o.Peek(0, 100000)
	if err != nil || len(items) != len(acked) {
		t.Fatalf("after ENOSPC the queue holds %d records, %v; want %d", len(items), err, len(acked))
	}
	os.Remove(filler)
	mustEnqueue(t, o, "booking", 2000)
	o.Close()
	o = mustOpen(t, opts)
	if o.Depth() != len(acked)+1 {
		t.Errorf("depth after reopen = %d, want %d", o.Depth(), len(acked)+1)
	}
}

// TestSeqIsSplicedIntoTheEncodedEnvelope: the committer writes seq into JSON
// the producer encoded; the stored envelope must be exactly what encoding it
// with its seq gives.
func TestSeqIsSplicedIntoTheEncodedEnvelope(t *testing.T) {
	o := mustOpen(t, testOptions(mustPath(t)))
	for range 12 {
		mustEnqueue(t, o, "booking", 10)
	}
	items, _ := o.Peek(0, 100)
	for _, it := range items {
		var env record.Envelope
		if err := json.Unmarshal(it.Payload, &env); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(env)
		if env.Seq != it.Seq || !bytes.Equal(want, it.Payload) {
			t.Errorf("seq %d stored as %s", it.Seq, it.Payload)
		}
	}
	if _, ok := withSeq([]byte(`{"x":1}`), 5); ok {
		t.Error("withSeq spliced into an unknown layout")
	}
}

// TestPeekMergesAttempts: Peek reads attempts beside the records in one
// pass and decrypts every payload into one buffer; each item must still get
// its own count and its own, intact payload.
func TestPeekMergesAttempts(t *testing.T) {
	opts := testOptions(mustPath(t))
	opts.MaxAttempts = 10
	o := mustOpen(t, opts)
	var envs []record.Envelope
	for i := range 6 {
		envs = append(envs, mustEnqueue(t, o, "booking", 10+200*i))
	}
	fails := map[uint64]int{envs[1].Seq: 1, envs[3].Seq: 2, envs[5].Seq: 3}
	for seq, n := range fails {
		for range n {
			if _, err := o.Fail(seq, "broker closed the connection", false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := o.Ack(envs[2].Seq, envs[2].Seq, 999); err != nil { // twice, and one never queued
		t.Fatal(err)
	}
	for _, after := range []uint64{0, envs[1].Seq, envs[3].Seq} {
		items, err := o.Peek(after, 10)
		if err != nil {
			t.Fatal(err)
		}
		var want []record.Envelope
		for _, e := range envs {
			if e.Seq > after && e.Seq != envs[2].Seq {
				want = append(want, e)
			}
		}
		if len(items) != len(want) {
			t.Fatalf("Peek(%d): %d items, want %d", after, len(items), len(want))
		}
		for i, it := range items {
			if it.Seq != want[i].Seq || it.Attempts != fails[it.Seq] || it.Err != nil {
				t.Errorf("Peek(%d)[%d] = seq %d, %d attempts, err %v; want seq %d, %d attempts", after, i, it.Seq, it.Attempts, it.Err, want[i].Seq, fails[want[i].Seq])
			}
			var env record.Envelope
			if err := json.Unmarshal(it.Payload, &env); err != nil || env.ID != want[i].ID || env.Seq != want[i].Seq {
				t.Errorf("Peek(%d)[%d]: payload is not its record's (%v): %.60s", after, i, err, it.Payload)
			}
		}
	}
	if o.Depth() != 5 {
		t.Errorf("depth %d after acking one of six, want 5", o.Depth())
	}
}

// TestPeekManyLargeRecords: a Peek of many records larger than its first
// buffer must take memory in proportion to them (it once copied the whole
// buffer for each record, and 5,000 records of 1 KB took 24 GB).
func TestPeekManyLargeRecords(t *testing.T) {
	o := mustOpen(t, testOptions(mustPath(t)))
	const n = 600 // enough past the first buffer's 256 or so; the old copying took 180 MB
	for range n / 100 {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() { mustEnqueue(t, o, "booking", 1000) })
		}
		wg.Wait()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items, err := o.Peek(0, n)
	runtime.ReadMemStats(&after)
	if err != nil || len(items) != n {
		t.Fatalf("Peek = %d items, %v", len(items), err)
	}
	var payload uint64
	for _, it := range items {
		payload += uint64(len(it.Payload))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*payload {
		t.Errorf("Peek of %d records (%d bytes of payload) allocated %d bytes", n, payload, got)
	}
}

// TestEnqueueAllIsOneCommitAllOrNothing: records committed together share
// one transaction and consecutive seqs, and at the quota none is stored.
func TestEnqueueAllIsOneCommitAllOrNothing(t *testing.T) {
	opts := testOptions(mustPath(t))
	opts.Quota = 4 << 10
	o := mustOpen(t, opts)
	before := o.Stats().Commits
	envs, err := o.EnqueueAll(context.Background(), []record.Envelope{mustRecord(t, "mediation_session", 300), mustRecord(t, "escalation", 300)})
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || envs[1].Seq != envs[0].Seq+1 {
		t.Fatalf("EnqueueAll = %+v", envs)
	}
	if got := o.Stats().Commits - before; got != 1 {
		t.Errorf("EnqueueAll of two records took %d commits, want 1", got)
	}
	depth := o.Depth()
	_, err = o.EnqueueAll(context.Background(), []record.Envelope{mustRecord(t, "mediation_session", 300), mustRecord(t, "escalation", 4000)})
	if !errors.Is(err, ErrQuotaFull) {
		t.Fatalf("EnqueueAll past the quota = %v, want ErrQuotaFull", err)
	}
	if o.Depth() != depth {
		t.Errorf("depth %d after a refused EnqueueAll, want %d: part of it was stored", o.Depth(), depth)
	}
}
