package outbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
)

var (
	bucketRecords   = []byte("records")   // seq → sealed value
	bucketEvictable = []byte("evictable") // seq → nil, index of evictable records, oldest first
	bucketAttempts  = []byte("attempts")  // seq → failed deliveries (uvarint)
	bucketDead      = []byte("dead")      // seq → sealed value
	bucketDeadInfo  = []byte("deadinfo")  // seq → DeadLetter JSON
	bucketMeta      = []byte("meta")
	bucketTallies   = []byte("tallies") // name → uint64 BE, counted with the records

	metaKeyCheck     = []byte("keycheck")
	metaLastDelivery = []byte("last_delivery")
	metaEvicted      = []byte("evicted")
	metaCounts       = []byte("counts") // depth, bytes, dead: 3 × uint64 BE
	keyCheckPlain    = []byte("fengqiao outbox key check")
)

// lockTimeout bounds how long Open waits for another process's file lock: long
// enough to ride out a restart by systemd, short enough to fail visibly.
const lockTimeout = 2 * time.Second

// leaseStep is how many seqs are reserved per write of the lease file. The
// lease lets a store rebuilt after corruption continue above every seq the
// township may already have seen, so seq is never reused.
const leaseStep = 4096

const (
	compactSuffix = ".compact"
	leaseSuffix   = ".seq"
)

func boltOptions() *bbolt.Options {
	return &bbolt.Options{
		Timeout: lockTimeout,
		// The freelist is rebuilt at open instead of written on every commit:
		// fewer pages per fsync, which is most of the cost of a commit.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	}
}

// openChecked verifies and opens path. A store that fails verification is
// renamed aside (never deleted: a technician may recover records from it) and
// a new one is created in its place.
func openChecked(path string, verify func(string) error, now func() time.Time) (*bbolt.DB, *Recovery, error) {
	var rec *Recovery
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		err := verify(path)
		switch {
		case errors.Is(err, ErrCorrupt):
			aside := path + ".corrupt-" + now().UTC().Format("20060102T150405.000Z")
			if rerr := os.Rename(path, aside); rerr != nil {
				return nil, nil, fmt.Errorf("outbox: move corrupt store aside: %w (it was: %v)", rerr, err)
			}
			syncDir(filepath.Dir(path))
			rec = &Recovery{MovedTo: aside, Reason: err.Error()}
		case err != nil:
			return nil, nil, err
		}
	}
	db, err := bbolt.Open(path, 0o600, boltOptions())
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		return nil, nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case err != nil:
		return nil, nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	return db, rec, nil
}

// prepare creates the buckets, checks the key and loads the counters.
func (o *Outbox) prepare() error {
	lease, _ := readLease(o.opts.Path + leaseSuffix)
	err := o.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketRecords, bucketEvictable, bucketAttempts, bucketDead, bucketDeadInfo, bucketMeta, bucketTallies} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		records := tx.Bucket(bucketRecords)
		if check := meta.Get(metaKeyCheck); check != nil {
			if _, _, err := o.seal.open(metaKeyCheck, check); err != nil {
				return fmt.Errorf("%w: the store was written with another key; restore the key file or move the store away", ErrBadKey)
			}
		} else {
			if records.Stats().KeyN > 0 || tx.Bucket(bucketDead).Stats().KeyN > 0 {
				return fmt.Errorf("%w: the store holds records but no key check; it was written by an older kioskd", ErrBadKey)
			}
			if err := meta.Put(metaKeyCheck, o.seal.seal(metaKeyCheck, header{}, keyCheckPlain)); err != nil {
				return err
			}
			// A new store (first boot, or rebuilt after corruption) continues
			// above every seq reserved by the store before it.
			if lease > records.Sequence() {
				if err := records.SetSequence(lease); err != nil {
					return err
				}
			}
		}
		o.lease = max(lease, records.Sequence())

		st := &o.st
		if v := meta.Get(metaCounts); len(v) == 24 {
			st.depth = int(binary.BigEndian.Uint64(v[0:]))
			st.bytes = int64(binary.BigEndian.Uint64(v[8:]))
			st.dead = int(binary.BigEndian.Uint64(v[16:]))
		} else { // a store from before the counters were kept
			c := records.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				st.depth++
				st.bytes += int64(len(v))
			}
			c = tx.Bucket(bucketDead).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				st.dead++
				st.bytes += int64(len(v))
			}
		}
		if v := meta.Get(metaLastDelivery); len(v) == 8 {
			st.lastDelivery = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		if v := meta.Get(metaEvicted); len(v) == 8 {
			st.evicted = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: prepare %s: %w", o.opts.Path, err)
	}
	return nil
}

func readLease(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// peekArena is the buffer Peek starts with for max plaintexts: a booking is
// about 450 bytes, and a larger record grows it.
func peekArena(max int) int { return min(max, 1024) * 512 }

// Peek returns up to max queued items with seq greater than after, oldest first.
func (o *Outbox) Peek(after uint64, max int) ([]Item, error) {
	o.dbMu.RLock()
	defer o.dbMu.RUnlock()
	if err := o.usable(); err != nil {
		return nil, err
	}
	var items []Item
	err := o.db.View(func(tx *bbolt.Tx) error {
		// One pass over records and, beside it, over attempts (usually
		// empty), instead of a lookup in attempts per record; the
		// plaintexts share one buffer. A drain reads every record here once.
		op := opener{arena: make([]byte, 0, peekArena(max)), types: map[string]string{}}
		ac := tx.Bucket(bucketAttempts).Cursor()
		c := tx.Bucket(bucketRecords).Cursor()
		first := seqKey(after + 1)
		ak, av := ac.Seek(first)
		for k, v := c.Seek(first); k != nil && len(items) < max; k, v = c.Next() {
			it := Item{Seq: binary.BigEndian.Uint64(k)}
			h, payload, err := op.open(o.seal, k, v)
			if err != nil {
				it.Err = err
			}
			it.Type, it.Committed, it.Payload = h.typ, h.committed, payload
			for ak != nil && bytes.Compare(ak, k) < 0 {
				ak, av = ac.Next()
			}
			if ak != nil && bytes.Equal(ak, k) {
				n, _ := binary.Uvarint(av)
				it.Attempts = int(n)
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: peek: %w", err)
	}
	return items, nil
}

// Stats returns the queue's figures.
func (o *Outbox) Stats() Stats {
	o.stMu.Lock()
	st := o.st
	o.stMu.Unlock()
	s := Stats{Depth: st.depth, Bytes: st.bytes, Quota: o.opts.Quota, DeadLetters: st.dead,
		LastDelivery: st.lastDelivery, Evicted: st.evicted, Commits: o.commits.Load()}
	o.dbMu.RLock()
	defer o.dbMu.RUnlock()
	if o.usable() != nil {
		return s
	}
	if fi, err := os.Stat(o.opts.Path); err == nil {
		s.FileBytes = fi.Size()
	}
	o.db.View(func(tx *bbolt.Tx) error {
		if k, v := tx.Bucket(bucketRecords).Cursor().First(); k != nil {
			if h, _, err := parseHeader(v); err == nil {
				s.Oldest = h.committed
			}
		}
		return nil
	})
	return s
}

// Tallies returns the tallies whose names start with prefix, keyed by the
// rest of the name (Enqueue counts them with the records).
func (o *Outbox) Tallies(prefix string) (map[string]uint64, error) {
	o.dbMu.RLock()
	defer o.dbMu.RUnlock()
	if err := o.usable(); err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	err := o.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketTallies).Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			if len(v) == 8 {
				out[strings.TrimPrefix(string(k), prefix)] = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, storageError("tallies", err)
	}
	return out, nil
}

// DeadLetters lists the records set aside, oldest first.
func (o *Outbox) DeadLetters() ([]DeadLetter, error) {
	o.dbMu.RLock()
	defer o.dbMu.RUnlock()
	if err := o.usable(); err != nil {
		return nil, err
	}
	var out []DeadLetter
	err := o.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDeadInfo).ForEach(func(k, v []byte) error {
			var d DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				d = DeadLetter{Seq: binary.BigEndian.Uint64(k), Reason: "unreadable dead-letter note"}
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: dead letters: %w", err)
	}
	return out, nil
}

func (o *Outbox) usable() error {
	select {
	case <-o.quit:
		return ErrClosed
	default:
	}
	o.stMu.Lock()
	defer o.stMu.Unlock()
	return o.st.broken
}

// storageError names the cause a caller can act on: a full disk is not a bug.
func storageError(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG) {
		return fmt.Errorf("%w: %s: %v", ErrDiskFull, op, err)
	}
	return fmt.Errorf("outbox: %s: %w", op, err)
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
