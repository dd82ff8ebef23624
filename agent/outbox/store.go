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

// boltOptions are the options every writable open of the store uses. f,
// when not nil, receives the file bbolt opens: the live check hands it to
// its child (see livecheck.go).
func boltOptions(mapSize int, f **os.File) *bbolt.Options {
	opts := &bbolt.Options{
		Timeout: lockTimeout,
		// The freelist is written with every commit (NoFreelistSync off), so
		// that Open reads one page instead of walking the whole file to
		// rebuild it: a kiosk with a 1 GB backlog then opens its store in
		// milliseconds, cold, instead of half a minute. It costs the
		// freelist page(s) in every commit: nothing much in a store without
		// free pages, several times a commit's cost mid-drain, when a large
		// backlog has freed tens of thousands of pages that compaction has
		// not yet given back (docs/benchmarks.md, docs/store.md). A store
		// written without one gets it on its first writable open.
		NoFreelistSync: false,
		FreelistType:   bbolt.FreelistMapType,
		// A commit that has to grow the memory map waits for every read
		// transaction, and the live check holds one for as long as it runs;
		// a map with room to spare keeps commits from waiting on it. It is
		// address space, not memory: only pages read count in RSS.
		InitialMmapSize: mapSize,
	}
	if f != nil {
		opts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
			file, err := os.OpenFile(name, flag, perm)
			*f = file
			return file, err
		}
	}
	return opts
}

// allocSize is how much bbolt grows the file by when it needs pages. Its
// default (16 MiB) applies once the map is larger than that, which ours
// always is: a drained, compacted store would grow straight back to 16 MiB.
// 256 KiB is one truncate and fsync per ~400 bookings.
const allocSize = 256 << 10

// mapSizeFor is the memory map a store of fileSize bytes under quota is
// opened with: twice the larger, so a growing backlog stays inside it,
// within what a 32-bit kiosk can map.
func mapSizeFor(fileSize, quota int64) int {
	size := max(2*fileSize, 2*quota, 64<<20)
	if strconv.IntSize == 32 {
		size = min(size, 1<<30)
	}
	return int(min(size, 1<<40))
}

// openBolt opens the store file with bbolt in a goroutine that turns a
// fault in the mapped file into a panic and the panic into ErrCorrupt: with
// the freelist kept, a damaged freelist page is read at open.
func openBolt(path string, mapSize int, f **os.File) (db *bbolt.DB, err error) {
	err = protect(func() (err error) {
		db, err = bbolt.Open(path, 0o600, boltOptions(mapSize, f))
		if err == nil {
			db.AllocSize = allocSize
		}
		return err
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bbolt.ErrTimeout):
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, ErrCorrupt):
		return nil, err
	case isOSError(err):
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	default: // bbolt's own refusals: bad meta pages, wrong version, checksum
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
}

// moveAside renames a damaged store out of the way, never deleting it: a
// technician may want it, and salvage reads the records still readable.
func moveAside(path string, now time.Time, reason error) (*Recovery, error) {
	aside := path + ".corrupt-" + now.UTC().Format("20060102T150405.000Z")
	if err := os.Rename(path, aside); err != nil {
		return nil, fmt.Errorf("outbox: move corrupt store aside: %w (it was: %v)", err, reason)
	}
	syncDir(filepath.Dir(path))
	return &Recovery{MovedTo: aside, Reason: reason.Error()}, nil
}

// prepare creates the buckets, checks the key and loads the counters.
func (o *Outbox) prepare() error {
	lease, _ := readLease(o.opts.Path + leaseSuffix)
	var st state
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
		lease = max(lease, records.Sequence())

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
	o.stMu.Lock()
	o.st, o.lease = st, lease
	o.stMu.Unlock()
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
	if o.rewind.CompareAndSwap(true, false) {
		after = 0 // salvaged records went in below the publisher's place
	}
	var items []Item
	err := protect(func() error {
		return o.db.View(func(tx *bbolt.Tx) error {
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
	})
	if errors.Is(err, ErrCorrupt) {
		o.damaged(err)
	}
	if err == nil && len(items) > 0 {
		o.dropMapped()
	}
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

// dropMappedEvery bounds how often Peek gives mapped pages back.
const dropMappedEvery = 250 * time.Millisecond

// dropMapped gives back the pages of the store mapped into kioskd, at most
// every dropMappedEvery. A drain reads every record once, through bbolt's
// memory map; left mapped, those pages count in kioskd's RSS (and in what
// the OOM killer weighs) until the drain ends, a gigabyte for a gigabyte of
// backlog. They stay in the page cache: a page read again costs a minor
// fault. MADV_DONTNEED on a shared, read-only file mapping drops only the
// mapping, never data. Called with dbMu held shared.
func (o *Outbox) dropMapped() {
	now := time.Now()
	last := o.lastDrop.Load()
	if now.UnixNano()-last < int64(dropMappedEvery) || !o.lastDrop.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	// Inside a read transaction, which keeps bbolt from remapping the file
	// meanwhile: the range must be bbolt's map and nothing else. tx.Size is
	// the pages in use, all of them mapped; Info().Data is the map's start.
	o.db.View(func(tx *bbolt.Tx) error {
		syscall.Syscall(syscall.SYS_MADVISE, o.db.Info().Data, uintptr(tx.Size()), syscall.MADV_DONTNEED)
		return nil
	})
}
