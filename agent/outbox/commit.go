package outbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/record"
)

type op uint8

const (
	opEnqueue op = iota
	opAck
	opFail
	opRequeue
	opPing
	opImport     // salvaged records and tallies
	opEnqueueAll // several records, all or none
	opPutKept    // a kept entry replaced (kept.go)
)

type request struct {
	op        op
	env       record.Envelope
	encoded   []byte // env as JSON with seq 0
	seqs      []uint64
	reason    string
	permanent bool
	tallies   []string          // counted up with an enqueued record
	envs      []record.Envelope // opEnqueueAll, with encodeds
	encodeds  [][]byte
	imports   []salvaged
	tallyAdd  map[string]uint64
	kept      *Kept // opEnqueue: stored at the record's seq; opPutKept: at seqs[0]
	done      chan result
}

type result struct {
	env      record.Envelope
	envs     []record.Envelope
	dead     bool
	imported int
	err      error
}

// maxBatch bounds one group commit. Larger batches amortise the fsync further
// but hold early callers longer; past a few hundred the fsync is no longer the
// cost that matters.
const maxBatch = 512

// commitLoop is the only writer. It takes every request waiting when the
// previous commit finishes and commits them together: callers that arrive
// while a commit is on its way to the disk share the next fsync. An idle
// outbox commits a lone request at once; there is no batching delay.
func (o *Outbox) commitLoop() {
	defer close(o.done)
	// A fault in the mapped file is a panic here, which commitBatch turns
	// into ErrCorrupt (see protect).
	debug.SetPanicOnFault(true)
	batch := make([]*request, 0, maxBatch)
	last := 0              // size of the previous batch
	var took time.Duration // how long the previous commit took
	for {
		select {
		case r := <-o.reqs:
			batch = append(batch[:0], r)
		case <-o.quit:
			o.failPending()
			return
		}
		o.collect(&batch, last, gatherWait(took))
		last = len(batch)
		start := time.Now()
		acked := o.commitBatch(batch)
		took = time.Since(start)
		if acked {
			o.maybeCompact()
		}
	}
}

// gatherWait is how long the committer waits for the callers it has just
// answered to come back, once the previous batch showed there are several.
// Without it, producers split into two groups that take turns, each commit
// carrying half of them; with it, one commit carries nearly all. A caller
// through the local API takes a few hundred microseconds to come back (the
// HTTP response, the next request); the wait is half the last commit, so it
// stays well below the fsync it saves, on a fast disk as on an SD card, and
// an idle outbox never waits.
func gatherWait(lastCommit time.Duration) time.Duration {
	return min(max(lastCommit/2, 200*time.Microsecond), 5*time.Millisecond)
}

// collect adds every waiting request to batch and, after a batch of several,
// keeps gathering for up to wait for that batch's callers to come back.
func (o *Outbox) collect(batch *[]*request, last int, wait time.Duration) {
	for len(*batch) < maxBatch {
		select {
		case r := <-o.reqs:
			*batch = append(*batch, r)
			continue
		default:
		}
		break
	}
	if last <= 1 {
		return
	}
	// Those who were waiting, and the callers of the last batch, who were
	// just answered and are on their way back: both groups in one commit,
	// rather than two groups taking turns.
	target := min(len(*batch)+last, maxBatch)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(*batch) < target {
		select {
		case r := <-o.reqs:
			*batch = append(*batch, r)
		case <-timer.C:
			return
		}
	}
}

// failPending answers requests that raced with Close.
func (o *Outbox) failPending() {
	for {
		select {
		case r := <-o.reqs:
			r.done <- result{err: ErrClosed}
		default:
			return
		}
	}
}

// commitBatch runs one transaction for the whole batch. A request that cannot
// be served (quota, unknown seq) gets its own error without failing the
// others; a failed commit fails them all, and nothing of theirs is stored.
func (o *Outbox) commitBatch(batch []*request) (acked bool) {
	results := make([]result, len(batch))
	// Shared: it only keeps compaction, the check's snapshot and the swap of
	// a damaged store from changing the file under the commit. Taken before
	// the counters are read, since the swap replaces them.
	o.dbMu.RLock()
	defer o.dbMu.RUnlock()
	o.stMu.Lock()
	st := o.st
	o.stMu.Unlock()
	if st.broken != nil {
		for _, r := range batch {
			r.done <- result{err: st.broken}
		}
		return false
	}
	if onlyPings(batch) {
		for _, r := range batch {
			r.done <- result{}
		}
		return false
	}
	now := o.opts.Now()
	enqueued := false
	// On the committer's own goroutine, which takes faults in the map as
	// panics (commitLoop): no goroutine of its own per commit.
	err := caught(func() error {
		return o.db.Update(func(tx *bbolt.Tx) error {
			t := &txn{o: o, tx: tx, st: &st, now: now}
			for i, r := range batch {
				var err error
				switch r.op {
				case opEnqueue:
					results[i].env, err = t.enqueue(r.env, r.encoded)
					if err == nil && r.kept != nil {
						err = t.putKept(r.kept, results[i].env.Seq, false)
					}
					if err == nil {
						err = t.tally(r.tallies)
					}
					enqueued = enqueued || err == nil
				case opEnqueueAll:
					results[i].envs, err = t.enqueueAll(r.envs, r.encodeds)
					if err == nil {
						err = t.tally(r.tallies)
					}
					enqueued = enqueued || err == nil
				case opAck:
					err = t.ack(r.seqs)
					acked = true
				case opFail:
					results[i].dead, err = t.fail(r.seqs[0], r.reason, r.permanent)
				case opRequeue:
					err = t.requeue(r.seqs[0])
				case opPutKept:
					err = t.putKept(r.kept, r.seqs[0], true)
				case opPing: // answered with the batch, after its commit
				case opImport:
					results[i].imported, err = t.importSalvaged(r.imports)
					if err == nil {
						err = t.addTallies(r.tallyAdd)
					}
				}
				if _, soft := err.(softError); soft {
					results[i].err = err.(softError).err
					continue
				}
				if err != nil {
					return err
				}
			}
			return t.finish()
		})
	})
	if errors.Is(err, ErrCorrupt) {
		o.damaged(err)
	}
	if err != nil {
		err = storageError("commit", err)
		for i := range results {
			results[i] = result{err: err}
		}
		enqueued, acked = false, false
		o.log.Error("commit failed; nothing of this batch was stored", "requests", len(batch), "err", err)
	} else {
		o.commits.Add(1)
		o.stMu.Lock()
		o.st = st
		o.stMu.Unlock()
	}
	for i, r := range batch {
		r.done <- results[i]
	}
	if enqueued {
		o.signal()
	}
	return acked
}

func onlyPings(batch []*request) bool {
	for _, r := range batch {
		if r.op != opPing {
			return false
		}
	}
	return true
}

// softError fails one request of a batch and lets the others commit.
type softError struct{ err error }

func (e softError) Error() string { return e.err.Error() }

// txn applies requests inside one transaction, keeping a working copy of the
// counters that becomes the outbox's only if the commit succeeds.
type txn struct {
	o        *Outbox
	tx       *bbolt.Tx
	st       *state
	now      time.Time
	evicted  int
	delivery bool
	ad       []byte            // scratch for sealing
	tallies  map[string]uint64 // counted up in this batch, written by finish
}

func (t *txn) enqueue(env record.Envelope, encoded []byte) (record.Envelope, error) {
	sealed, err := t.seal(env, encoded)
	if err != nil {
		return env, err
	}
	if err := t.makeRoom(int64(len(sealed.value)), sealed.class); err != nil {
		return env, softError{err}
	}
	return sealed.env, t.put(sealed)
}

// enqueueAll commits envs together: all of them or, if they do not fit in
// the quota together, none.
func (t *txn) enqueueAll(envs []record.Envelope, encoded [][]byte) ([]record.Envelope, error) {
	all := make([]sealedRecord, len(envs))
	var size int64
	class := Evictable
	for i := range envs {
		var err error
		if all[i], err = t.seal(envs[i], encoded[i]); err != nil {
			return nil, err
		}
		size += int64(len(all[i].value))
		class = min(class, all[i].class) // Governance is the lesser
	}
	if err := t.makeRoom(size, class); err != nil {
		return nil, softError{err}
	}
	out := make([]record.Envelope, len(all))
	for i, r := range all {
		if err := t.put(r); err != nil {
			return nil, err
		}
		out[i] = r.env
	}
	return out, nil
}

// sealedRecord is a record given its seq and sealed, not yet stored.
type sealedRecord struct {
	env   record.Envelope
	key   []byte
	value []byte
	class Class
}

// seal gives env the next seq and seals it.
func (t *txn) seal(env record.Envelope, encoded []byte) (sealedRecord, error) {
	records := t.tx.Bucket(bucketRecords)
	seq, err := records.NextSequence()
	if err != nil {
		return sealedRecord{}, err
	}
	if seq > t.o.lease {
		// Reserve the next block of seqs on disk before committing any of it.
		lease := seq + leaseStep
		if err := writeFileSync(t.o.opts.Path+leaseSuffix, []byte(strconv.FormatUint(lease, 10)+"\n"), 0o600); err != nil {
			return sealedRecord{}, fmt.Errorf("seq lease: %w", err)
		}
		t.o.lease = lease
	}
	env.Seq = seq
	class := ClassOf(env.Type)
	key := seqKey(seq)
	h := header{class: class, committed: t.now, typ: env.Type}
	v, ad, ok := t.o.seal.sealRecord(key, h, encoded, seq, t.ad)
	t.ad = ad
	if !ok { // not the layout withSeq knows: encode it here
		payload, err := json.Marshal(env)
		if err != nil {
			return sealedRecord{}, softError{fmt.Errorf("outbox: encode %s record: %w", env.Type, err)}
		}
		v = t.o.seal.seal(key, h, payload)
	}
	return sealedRecord{env: env, key: key, value: v, class: class}, nil
}

// put stores a sealed record.
func (t *txn) put(r sealedRecord) error {
	records := t.tx.Bucket(bucketRecords)
	// Keys only ever grow, so full pages stay full: bbolt's default of half
	// full pages would double the file and the pages each commit writes.
	records.FillPercent = 1.0
	if err := records.Put(r.key, r.value); err != nil {
		return err
	}
	if r.class == Evictable {
		if err := t.tx.Bucket(bucketEvictable).Put(r.key, nil); err != nil {
			return err
		}
	}
	t.st.depth++
	t.st.bytes += int64(len(r.value))
	return nil
}

// tally counts each of names up by one. The counts are written once per
// batch, by finish: a batch of bookings for one service is one Get and one
// Put of its tally rather than one each per booking.
func (t *txn) tally(names []string) error {
	if len(names) == 0 {
		return nil
	}
	if t.tallies == nil {
		t.tallies = make(map[string]uint64, len(names))
	}
	for _, name := range names {
		t.tallies[name]++
	}
	return nil
}

// makeRoom evicts the oldest evictable records until size fits the quota.
// It evicts nothing unless the whole of size will fit.
func (t *txn) makeRoom(size int64, class Class) error {
	quota := t.o.opts.Quota
	if t.st.bytes+size <= quota {
		return nil
	}
	records := t.tx.Bucket(bucketRecords)
	idx := t.tx.Bucket(bucketEvictable)
	var free int64
	var victims [][]byte
	c := idx.Cursor()
	for k, _ := c.First(); k != nil && t.st.bytes-free+size > quota; k, _ = c.Next() {
		free += int64(len(records.Get(k)))
		victims = append(victims, append([]byte(nil), k...))
	}
	if t.st.bytes-free+size > quota {
		what := "governance records are kept, so this one is refused until the queue drains"
		if class == Evictable {
			what = "this evictable record is dropped"
		}
		return fmt.Errorf("%w (%d of %d bytes used; %s)", ErrQuotaFull, t.st.bytes, quota, what)
	}
	for _, k := range victims {
		if err := t.remove(k); err != nil {
			return err
		}
		t.evicted++
		t.st.evicted++
	}
	return nil
}

// remove deletes a queued record and its side entries, updating the counters.
func (t *txn) remove(k []byte) error {
	v := t.tx.Bucket(bucketRecords).Get(k)
	if v == nil {
		return nil
	}
	if err := t.unindex(k, v, true); err != nil {
		return err
	}
	return t.tx.Bucket(bucketRecords).Delete(k)
}

// unindex takes record k (value v) out of the counters and the indexes,
// before the record itself is deleted. The evictable index holds only
// evictable records; attempts is looked in only when it may hold k.
func (t *txn) unindex(k, v []byte, attempts bool) error {
	t.st.depth--
	t.st.bytes -= int64(len(v))
	if len(v) < 2 || Class(v[1]) == Evictable { // unreadable: look anyway
		if err := t.tx.Bucket(bucketEvictable).Delete(k); err != nil {
			return err
		}
	}
	if !attempts {
		return nil
	}
	return t.tx.Bucket(bucketAttempts).Delete(k)
}

// ack deletes delivered records. Acking a drained backlog runs it for every
// record, so each is found with one seek of a cursor, which then deletes it,
// and attempts, nearly always empty, is not searched when it is.
func (t *txn) ack(seqs []uint64) error {
	c := t.tx.Bucket(bucketRecords).Cursor()
	k0, _ := t.tx.Bucket(bucketAttempts).Cursor().First()
	attempts := k0 != nil
	for _, seq := range seqs {
		k := seqKey(seq)
		ck, v := c.Seek(k)
		if !bytes.Equal(ck, k) {
			continue // acked before, or dead-lettered meanwhile
		}
		if err := t.unindex(k, v, attempts); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
		t.delivery = true
	}
	return nil
}

func (t *txn) fail(seq uint64, reason string, permanent bool) (bool, error) {
	k := seqKey(seq)
	v := t.tx.Bucket(bucketRecords).Get(k)
	if v == nil {
		return false, softError{fmt.Errorf("%w: %d", ErrNotFound, seq)}
	}
	attempts := t.tx.Bucket(bucketAttempts)
	n, _ := binary.Uvarint(attempts.Get(k))
	n++
	if !permanent && int(n) < t.o.opts.MaxAttempts {
		return false, attempts.Put(k, binary.AppendUvarint(nil, n))
	}
	h, _, _ := parseHeader(v)
	info, _ := json.Marshal(DeadLetter{Seq: seq, Type: h.typ, Reason: reason, Attempts: int(n), At: t.now.UTC()})
	v = append([]byte(nil), v...) // bbolt's slice is invalid once the key is deleted
	if err := t.remove(k); err != nil {
		return false, err
	}
	if err := t.tx.Bucket(bucketDead).Put(k, v); err != nil {
		return false, err
	}
	if err := t.tx.Bucket(bucketDeadInfo).Put(k, info); err != nil {
		return false, err
	}
	t.st.dead++
	t.st.bytes += int64(len(v))
	t.o.log.Warn("record moved to dead letters", "seq", seq, "type", h.typ, "attempts", n, "reason", reason)
	return true, nil
}

func (t *txn) requeue(seq uint64) error {
	k := seqKey(seq)
	dead := t.tx.Bucket(bucketDead)
	v := dead.Get(k)
	if v == nil {
		return softError{fmt.Errorf("%w: %d is not a dead letter", ErrNotFound, seq)}
	}
	v = append([]byte(nil), v...)
	if err := dead.Delete(k); err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketDeadInfo).Delete(k); err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketRecords).Put(k, v); err != nil {
		return err
	}
	if h, _, err := parseHeader(v); err == nil && h.class == Evictable {
		if err := t.tx.Bucket(bucketEvictable).Put(k, nil); err != nil {
			return err
		}
	}
	t.st.dead--
	t.st.depth++
	return nil
}

// finish writes the counters that must survive a restart. Depth, bytes and
// dead letters are kept too, so that Open need not read a week of backlog
// (and map it all into memory) just to count it.
func (t *txn) finish() error {
	if len(t.tallies) > 0 {
		if err := t.addTallies(t.tallies); err != nil {
			return err
		}
	}
	meta := t.tx.Bucket(bucketMeta)
	counts := binary.BigEndian.AppendUint64(nil, uint64(t.st.depth))
	counts = binary.BigEndian.AppendUint64(counts, uint64(t.st.bytes))
	counts = binary.BigEndian.AppendUint64(counts, uint64(t.st.dead))
	if err := meta.Put(metaCounts, counts); err != nil {
		return err
	}
	if t.delivery {
		t.st.lastDelivery = t.now
		if err := meta.Put(metaLastDelivery, binary.BigEndian.AppendUint64(nil, uint64(t.now.UnixNano()))); err != nil {
			return err
		}
	}
	if t.evicted > 0 {
		t.o.log.Warn("store at quota: evicted oldest evictable records", "evicted", t.evicted, "quota", t.o.opts.Quota)
		if err := meta.Put(metaEvicted, binary.BigEndian.AppendUint64(nil, t.st.evicted)); err != nil {
			return err
		}
	}
	return nil
}

// Compaction. bbolt never gives pages back to the file system, so a store that
// held a week's backlog would stay that size forever (bbolt #288). Once live
// data is a small part of the file, the committer copies it into a fresh file
// and swaps it in. A crash at any point leaves either the old file or the new,
// both complete: the copy is fsynced before the rename, and a leftover copy is
// deleted at Open.
const (
	compactMinFile = 4 << 20 // below this the file is left alone
	// compactTxSize bounds each copy transaction, and so the heap a
	// compaction needs: 4 MiB transactions cost kioskd 20 MiB mid-drain.
	compactTxSize = 256 << 10
)

func (o *Outbox) maybeCompact() {
	if o.checking.Load() { // the check child reads the file: later
		return
	}
	fi, err := os.Stat(o.opts.Path)
	if err != nil {
		return
	}
	o.stMu.Lock()
	st := o.st
	o.stMu.Unlock()
	size := fi.Size()
	// Only once the queue is empty: compacting mid-drain copies the live
	// records (again and again as they shrink) while the link waits on the
	// store lock. Drained, there is almost nothing left to copy.
	if st.depth > 0 || size < compactMinFile || size < 4*st.bytes+compactMinFile {
		return
	}
	start := time.Now()
	if err := o.compact(); err != nil {
		o.log.Error("compaction failed", "err", err)
		return
	}
	after := int64(0)
	if fi, err := os.Stat(o.opts.Path); err == nil {
		after = fi.Size()
	}
	o.log.Info("store compacted", "before", size, "after", after, "took", time.Since(start).Round(time.Millisecond))
}

func (o *Outbox) compact() error {
	o.dbMu.Lock()
	defer o.dbMu.Unlock()
	tmp := o.opts.Path + compactSuffix
	os.Remove(tmp)
	// A small map, so that the copy is only as large as the live data.
	dst, err := bbolt.Open(tmp, 0o600, boltOptions(0, nil))
	if err != nil {
		return err
	}
	dst.AllocSize = allocSize
	if err := bbolt.Compact(dst, o.db, compactTxSize); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := o.db.Close(); err != nil {
		return o.breakStore(fmt.Errorf("close before swap: %w", err))
	}
	if err := os.Rename(tmp, o.opts.Path); err != nil {
		os.Remove(tmp)
	}
	syncDir(filepath.Dir(o.opts.Path))
	db, err := openBolt(o.opts.Path, o.mapSize, &o.file)
	if err != nil {
		return o.breakStore(fmt.Errorf("reopen after compaction: %w", err))
	}
	o.db = db
	return nil
}

// breakStore marks the outbox unusable: every later call fails with err, and
// kioskd exits so that systemd restarts it on a fresh Open.
func (o *Outbox) breakStore(err error) error {
	err = fmt.Errorf("outbox: store unusable: %w", err)
	o.stMu.Lock()
	o.st.broken = err
	o.stMu.Unlock()
	return err
}

// seqField is how the envelope's seq appears in JSON encoded with seq 0. The
// envelope's first fields are id (a UUID, which cannot contain it) and seq.
var seqField = []byte(`,"seq":0,`)

// withSeq returns encoded with its seq set to seq, or false if encoded does
// not have the layout it expects.
func withSeq(encoded []byte, seq uint64) ([]byte, bool) {
	return appendWithSeq(make([]byte, 0, len(encoded)+20), encoded, seq)
}

// appendWithSeq is withSeq appending to dst; dst unchanged when false.
func appendWithSeq(dst, encoded []byte, seq uint64) ([]byte, bool) {
	i := bytes.Index(encoded, seqField)
	if i < 0 || i > 64 {
		return dst, false
	}
	at := i + len(`,"seq":`)
	dst = append(dst, encoded[:at]...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, encoded[at+1:]...), true
}
