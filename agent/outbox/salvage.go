package outbox

// Salvage: a store found damaged is moved aside, and every queued record
// that can still be read from it is put back into the new store under its
// own seq, so it still reaches the township; so are its tallies and the
// entries of its kept tables (kept.go). Reading a damaged file can
// crash bbolt, so a child process reads it and streams what it can; the
// parent trusts nothing of it but what its key authenticates.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"

	"go.etcd.io/bbolt"
)

// Salvage stream frames: a kind byte, then key and value, each a uvarint
// length and the bytes.
const (
	frameRecord = 'r'
	frameTally  = 't'
	frameKept   = 'k' // key: the seq (8 bytes) then the table's name
)

// salvageMain streams the readable records and tallies of the store at path.
func salvageMain(path string, stdout, stderr io.Writer) int {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		fmt.Fprintln(stderr, "outbox: open for salvage:", err)
		return CheckExitCorrupt
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	debug.SetPanicOnFault(true)
	skipped := 0
	for _, b := range []struct {
		name []byte
		kind byte
	}{{bucketRecords, frameRecord}, {bucketTallies, frameTally}} {
		skipped += salvageRounds(db, [][]byte{b.name}, b.kind, w)
	}
	for _, table := range keptTables(db) {
		skipped += salvageRounds(db, [][]byte{bucketKept, table}, frameKept, w)
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "outbox: salvage skipped damaged parts %d times\n", skipped)
	}
	return 0
}

// salvageRounds salvages the bucket at path, resuming past damage; it
// returns how many times it had to.
func salvageRounds(db *bbolt.DB, path [][]byte, kind byte, w *bufio.Writer) (skipped int) {
	var from []byte
	for range 64 { // each round resumes past the damage that ended the last
		next, done := salvageBucket(db, path, kind, from, w)
		if done {
			break
		}
		skipped++
		from = next
	}
	return skipped
}

// keptTables lists the kept tables of a damaged store, as far as it can
// be read.
func keptTables(db *bbolt.DB) (out [][]byte) {
	defer func() { recover() }()
	db.View(func(tx *bbolt.Tx) error {
		kept := tx.Bucket(bucketKept)
		if kept == nil {
			return nil
		}
		return kept.ForEach(func(k, v []byte) error {
			if v == nil && kept.Bucket(k) != nil {
				out = append(out, append([]byte(nil), k...))
			}
			return nil
		})
	})
	return out
}

// bucketAt is the bucket at path (a top-level bucket and nested ones), or
// nil.
func bucketAt(tx *bbolt.Tx, path [][]byte) *bbolt.Bucket {
	b := tx.Bucket(path[0])
	for _, name := range path[1:] {
		if b == nil {
			return nil
		}
		b = b.Bucket(name)
	}
	return b
}

// salvageBucket writes the entries of the bucket at path from key from on,
// and reports either that it got to the end, or where to resume past a
// panic. A kept table's entries are framed with their table's name after
// the seq.
func salvageBucket(db *bbolt.DB, path [][]byte, kind byte, from []byte, w *bufio.Writer) (resume []byte, done bool) {
	var last []byte
	defer func() {
		if recover() != nil {
			done = false
			resume = past(last, from)
		}
	}()
	db.View(func(tx *bbolt.Tx) error {
		b := bucketAt(tx, path)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for ; k != nil; k, v = c.Next() {
			if v == nil || (last != nil && bytes.Compare(k, last) <= 0) {
				continue
			}
			w.WriteByte(kind)
			if kind == frameKept {
				writeBytes(w, append(append([]byte(nil), k...), path[len(path)-1]...))
			} else {
				writeBytes(w, k)
			}
			writeBytes(w, v)
			last = append(last[:0], k...)
		}
		return nil
	})
	return nil, true
}

// past is a key after the damage: for seq keys, well past the last good
// one; the resume point doubles its stride each time it lands in damage.
func past(last, from []byte) []byte {
	switch {
	case len(last) == 8:
		return seqKey(binary.BigEndian.Uint64(last) + 1 + 64)
	case len(from) == 8:
		s := binary.BigEndian.Uint64(from)
		return seqKey(s + max(64, s/8))
	case last != nil:
		return append(append([]byte(nil), last...), 0)
	default:
		return seqKey(1 << 40) // nothing read yet and no way to step: give up on it
	}
}

func writeBytes(w *bufio.Writer, b []byte) {
	w.Write(binary.AppendUvarint(nil, uint64(len(b))))
	w.Write(b)
}

func readBytes(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 64<<20 {
		return nil, fmt.Errorf("salvage frame of %d bytes", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// salvaged is one record read back from a damaged store, or one entry of
// a kept table (table set).
type salvaged struct {
	key, value []byte
	table      string
}

// salvageInto runs the salvage child on rec.MovedTo and puts what it reads
// into the open store, then reports rec on Recoveries.
func (o *Outbox) salvageInto(ctx context.Context, rec *Recovery) {
	defer func() {
		select {
		case o.recoveries <- *rec:
		default: // nobody reads them (a test); kioskd always does
		}
	}()
	if o.opts.Child == nil {
		rec.Reason += "; no salvage (no child process to read it)"
		return
	}
	cmd := o.opts.Child(ChildSalvage, rec.MovedTo)
	dieWithParent(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		o.log.Error("cannot start salvage", "err", err)
		return
	}
	r := bufio.NewReader(out)
	var batch, kept []salvaged
	tallies := map[string]uint64{}
	flush := func() {
		if len(batch) == 0 {
			return
		}
		n, err := o.importRecords(batch)
		rec.Salvaged += n
		if err != nil {
			o.log.Error("salvage: records not put back", "err", err, "records", len(batch))
		}
		batch = batch[:0]
	}
	for {
		kind, err := r.ReadByte()
		if err != nil {
			break
		}
		k, err := readBytes(r)
		if err != nil {
			break
		}
		v, err := readBytes(r)
		if err != nil {
			break
		}
		switch kind {
		case frameRecord:
			if len(k) != 8 {
				rec.Unreadable++
				continue
			}
			if _, _, err := o.seal.open(k, v); err != nil {
				rec.Unreadable++
				continue
			}
			batch = append(batch, salvaged{key: k, value: v})
			if len(batch) == 256 {
				flush()
			}
		case frameTally:
			if len(v) == 8 {
				tallies[string(k)] = binary.BigEndian.Uint64(v)
			}
		case frameKept:
			if len(k) <= 8 {
				rec.Unreadable++
				continue
			}
			seq, table := binary.BigEndian.Uint64(k[:8]), string(k[8:])
			if checkTable(table) != nil {
				rec.Unreadable++
				continue
			}
			if _, err := o.openKept(table, seq, v); err != nil {
				rec.Unreadable++
				continue
			}
			kept = append(kept, salvaged{key: k[:8], value: v, table: table})
		}
	}
	flush()
	if len(kept) > 0 {
		if _, err := o.do(context.Background(), &request{op: opImport, imports: kept}); err != nil {
			o.log.Error("salvage: kept entries not put back", "err", err, "entries", len(kept))
		}
	}
	werr := cmd.Wait()
	if len(tallies) > 0 {
		if _, err := o.do(context.Background(), &request{op: opImport, tallyAdd: tallies}); err != nil {
			o.log.Error("salvage: tallies not put back", "err", err)
		}
	}
	o.log.Info("salvaged records from the damaged store", "records", rec.Salvaged, "unreadable", rec.Unreadable,
		"moved_to", rec.MovedTo, "reader", errString(werr), "notes", stderr.String())
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// importRecords hands salvaged records to the committer and makes the
// publisher start over from the oldest, since they sit below what it has
// already taken.
func (o *Outbox) importRecords(batch []salvaged) (int, error) {
	r, err := o.do(context.Background(), &request{op: opImport, imports: append([]salvaged(nil), batch...)})
	if err != nil {
		return 0, err
	}
	o.rewind.Store(true)
	o.signal()
	return r.imported, nil
}

// importSalvaged puts salvaged records back under their own seqs; one
// already in the store (delivered since, or imported twice) is left alone.
// The quota is not applied: these records were accepted once already.
func (t *txn) importSalvaged(items []salvaged) (int, error) {
	records := t.tx.Bucket(bucketRecords)
	dead := t.tx.Bucket(bucketDead)
	n := 0
	for _, it := range items {
		if it.table != "" {
			if err := t.importKept(it); err != nil {
				return n, err
			}
			continue
		}
		if records.Get(it.key) != nil || dead.Get(it.key) != nil {
			continue
		}
		if err := records.Put(it.key, it.value); err != nil {
			return n, err
		}
		if len(it.value) > 1 && Class(it.value[1]) == Evictable {
			if err := t.tx.Bucket(bucketEvictable).Put(it.key, nil); err != nil {
				return n, err
			}
		}
		t.st.depth++
		t.st.bytes += int64(len(it.value))
		n++
	}
	return n, nil
}

// importKept puts a salvaged kept entry back, unless the new store has
// one at its seq already (written since the swap: newer).
func (t *txn) importKept(it salvaged) error {
	kept, err := t.tx.CreateBucketIfNotExists(bucketKept)
	if err != nil {
		return err
	}
	b, err := kept.CreateBucketIfNotExists([]byte(it.table))
	if err != nil {
		return err
	}
	if b.Get(it.key) != nil {
		return nil
	}
	return b.Put(it.key, it.value)
}

// addTallies adds salvaged tallies to those counted since the swap.
func (t *txn) addTallies(add map[string]uint64) error {
	b := t.tx.Bucket(bucketTallies)
	for name, n := range add {
		var have uint64
		if v := b.Get([]byte(name)); len(v) == 8 {
			have = binary.BigEndian.Uint64(v)
		}
		if err := b.Put([]byte(name), binary.BigEndian.AppendUint64(nil, have+n)); err != nil {
			return err
		}
	}
	return nil
}

// protect runs fn on a goroutine of its own on which a fault in the mapped
// file is a panic, and turns a panic into ErrCorrupt: bbolt panics on some
// damage it reads, and the goroutine that hit it must not take kioskd down.
func protect(fn func() error) (err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true)
		err = caught(fn)
	}()
	<-done
	return err
}

// caught runs fn and turns a panic in it into ErrCorrupt.
func caught(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	return fn()
}
