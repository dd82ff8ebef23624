package outbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/record"
)

// Kept tables. Some records leave something behind on the kiosk after they
// are delivered: a villager's request keeps its local status, which the
// villager checks at the kiosk and the township's answers update. Such an
// entry is written in the same transaction as its record (EnqueueKept), so
// the request costs one commit, and a power cut keeps both or neither. It is
// keyed by the record's seq, which the transaction assigns, and sealed with
// the store's key like the records, under a header naming its table, so an
// entry cannot be moved from one table or seq to another.
//
// Kept entries are not records: they are not queued, counted in Stats or
// the quota, delivered or evicted. A store found damaged gives them back
// with its records (salvage.go), each checked against its table and seq;
// one the new store has already (written since the swap) is kept.

// bucketKept holds one nested bucket per kept table: seq → sealed value.
var bucketKept = []byte("kept")

// maxKeptTable bounds a table's name, which the sealed header carries.
const maxKeptTable = 64

// ErrNoKeptTable means a kept table was named empty or too long.
var ErrNoKeptTable = errors.New("outbox: kept table name must be 1 to 64 bytes")

// Kept is an entry of a kept table, stored with the record it belongs to.
type Kept struct {
	Table string
	Value []byte // stored sealed; the caller's own encoding
}

func keptHeader(table string) header { return header{class: Governance, typ: "kept/" + table} }

func checkTable(table string) error {
	if table == "" || len("kept/"+table) > 255 || len(table) > maxKeptTable {
		return fmt.Errorf("%w: %q", ErrNoKeptTable, table)
	}
	return nil
}

// keptKey is the additional data an entry is sealed under: its table and
// seq.
func keptKey(table string, seq uint64) []byte {
	return append([]byte("kept/"+table+"/"), seqKey(seq)...)
}

// EnqueueKept is Enqueue with kept.Value stored under kept.Table at the
// record's seq, in the same transaction: one commit, both or neither.
func (o *Outbox) EnqueueKept(ctx context.Context, env record.Envelope, kept Kept, tallies ...string) (record.Envelope, error) {
	if err := checkTable(kept.Table); err != nil {
		return record.Envelope{}, err
	}
	env.Seq = 0
	raw, err := record.Encode(env)
	if err != nil {
		return record.Envelope{}, fmt.Errorf("outbox: encode %s record: %w", env.Type, err)
	}
	r, err := o.do(ctx, &request{op: opEnqueue, env: env, encoded: raw, tallies: tallies, kept: &kept})
	return r.env, err
}

// PutKept replaces the entry of table at seq, which must exist: a status
// changed after the record went. It costs a commit of its own.
func (o *Outbox) PutKept(ctx context.Context, table string, seq uint64, value []byte) error {
	if err := checkTable(table); err != nil {
		return err
	}
	_, err := o.do(ctx, &request{op: opPutKept, kept: &Kept{Table: table, Value: value}, seqs: []uint64{seq}})
	return err
}

// GetKept returns the entry of table at seq, opened; ErrNotFound if there
// is none.
func (o *Outbox) GetKept(table string, seq uint64) ([]byte, error) {
	var out []byte
	err := o.viewKept(table, func(b *bbolt.Bucket) error {
		v := b.Get(seqKey(seq))
		if v == nil {
			return nil
		}
		var err error
		out, err = o.openKept(table, seq, v)
		return err
	})
	if err == nil && out == nil {
		err = fmt.Errorf("%w: %s %d", ErrNotFound, table, seq)
	}
	return out, err
}

// ScanKept calls fn with every entry of table, opened, in seq order, until
// fn returns an error (which ScanKept returns). An entry that does not open
// ends the scan with ErrCorrupt or ErrBadKey.
func (o *Outbox) ScanKept(table string, fn func(seq uint64, value []byte) error) error {
	return o.viewKept(table, func(b *bbolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				continue
			}
			seq := binary.BigEndian.Uint64(k)
			p, err := o.openKept(table, seq, v)
			if err != nil {
				return err
			}
			if err := fn(seq, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// viewKept runs fn on table's bucket in a read transaction; not at all
// when the table has no entry yet.
func (o *Outbox) viewKept(table string, fn func(b *bbolt.Bucket) error) error {
	if err := checkTable(table); err != nil {
		return err
	}
	o.dbMu.RLock()
	defer o.dbMu.RUnlock()
	if err := o.usable(); err != nil {
		return err
	}
	var inner error
	err := caught(func() error {
		return o.db.View(func(tx *bbolt.Tx) error {
			kept := tx.Bucket(bucketKept)
			if kept == nil {
				return nil
			}
			b := kept.Bucket([]byte(table))
			if b == nil {
				return nil
			}
			inner = fn(b)
			return nil
		})
	})
	if err != nil {
		return storageError("kept "+table, err)
	}
	return inner
}

func (o *Outbox) openKept(table string, seq uint64, v []byte) ([]byte, error) {
	h, p, err := o.seal.open(keptKey(table, seq), v)
	if err != nil {
		return nil, fmt.Errorf("outbox: kept %s %d: %w", table, seq, err)
	}
	if h.typ != "kept/"+table {
		return nil, fmt.Errorf("%w: kept %s %d is labelled %q", ErrCorrupt, table, seq, h.typ)
	}
	return p, nil
}

// putKept stores k at seq inside the transaction; must says the entry has
// to exist already (PutKept), where EnqueueKept creates it.
func (t *txn) putKept(k *Kept, seq uint64, must bool) error {
	kept, err := t.tx.CreateBucketIfNotExists(bucketKept)
	if err != nil {
		return err
	}
	b, err := kept.CreateBucketIfNotExists([]byte(k.Table))
	if err != nil {
		return err
	}
	key := seqKey(seq)
	if must && b.Get(key) == nil {
		return softError{fmt.Errorf("%w: %s %d", ErrNotFound, k.Table, seq)}
	}
	b.FillPercent = 0.9 // keys grow with seq; entries are rewritten in place
	return b.Put(key, t.o.seal.seal(keptKey(k.Table, seq), keptHeader(k.Table), k.Value))
}
