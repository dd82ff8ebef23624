package outbox

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// BenchmarkFreelistCost measures what keeping the freelist (NoFreelistSync
// off, which lets Open skip reading the whole file) costs a commit: a
// group commit of 64 booking-sized records, in a store with no free pages
// and in one where a drain has freed most of a large backlog (the freelist
// page then grows with every page freed, until compaction). Against the
// same commits with the freelist rebuilt at open instead.
//
//	go test -run '^$' -bench FreelistCost -benchtime 300x ./agent/outbox
func BenchmarkFreelistCost(b *testing.B) {
	for _, freed := range []int{0, 50000} {
		for _, kept := range []bool{false, true} {
			name := fmt.Sprintf("free-pages=%d/freelist=rebuilt", freed)
			if kept {
				name = fmt.Sprintf("free-pages=%d/freelist=kept", freed)
			}
			b.Run(name, func(b *testing.B) {
				opts := boltOptions(0, nil)
				opts.NoFreelistSync = !kept
				db := mustBoltWithFreePages(b, opts, freed)
				value := bytes.Repeat([]byte{0x5a}, 480)
				key := uint64(1 << 40)
				b.ResetTimer()
				for range b.N {
					err := db.Update(func(tx *bbolt.Tx) error {
						records := tx.Bucket(bucketRecords)
						records.FillPercent = 1.0
						for range 64 {
							key++
							if err := records.Put(seqKey(key), value); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(db.Stats().FreePageN+db.Stats().PendingPageN), "free-pages")
				db.Close()
			})
		}
	}
}

// mustBoltWithFreePages opens a new store holding records, of which enough
// were deleted to leave about freed free pages.
func mustBoltWithFreePages(b *testing.B, opts *bbolt.Options, freed int) *bbolt.DB {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "kiosk.db"), 0o600, opts)
	if err != nil {
		b.Fatal(err)
	}
	db.AllocSize = allocSize
	value := bytes.Repeat([]byte{0x5a}, 480)
	const perTx = 8192 // about 1,000 pages of records
	n := uint64(0)
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketRecords)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	put := func(tx *bbolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		records.FillPercent = 1.0
		for range perTx {
			n++
			if err := records.Put(seqKey(n), value); err != nil {
				return err
			}
		}
		return nil
	}
	for range freed / 1000 {
		if err := db.Update(put); err != nil {
			b.Fatal(err)
		}
	}
	// The backlog delivered and acknowledged: deleted, its pages freed.
	for from := uint64(0); from < n; from += perTx {
		err := db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketRecords).Cursor()
			for k, _ := c.Seek(seqKey(from + 1)); k != nil && bytes.Compare(k, seqKey(from+perTx)) <= 0; k, _ = c.Seek(seqKey(from + 1)) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return db
}
