// Package outbox owns the kiosk's durable queue of records waiting to reach the
// township: it assigns each record its per-kiosk sequence number, commits it to a
// bbolt file before anyone is told it exists, and hands records to the publisher
// oldest first until they are acknowledged.
//
// The rule the whole kiosk relies on: Enqueue returns only after the record is on
// disk (bbolt fsyncs on commit), so a villager is never shown a booking number
// for a record that a power cut could take back.
package outbox

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/record"
)

// Errors returned by the outbox. Callers compare with errors.Is.
var (
	// ErrLocked means another process (usually a second kioskd) holds the store.
	ErrLocked = errors.New("outbox: store is locked by another process")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("outbox: closed")
)

var bucketRecords = []byte("records")

// lockTimeout bounds how long Open waits for another process's file lock: long
// enough to ride out a restart by systemd, short enough to fail visibly.
const lockTimeout = 2 * time.Second

// Item is a committed record waiting for delivery.
type Item struct {
	Seq     uint64
	Type    string
	Payload []byte // the envelope as JSON, exactly as it will be published
}

// Outbox is the durable queue. It is safe for concurrent use.
type Outbox struct {
	db     *bbolt.DB
	log    *slog.Logger
	ready  chan struct{}
	depth  atomic.Int64
	closed atomic.Bool
}

// Open opens or creates the store at path.
func Open(path string, log *slog.Logger) (*Outbox, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	o := &Outbox{db: db, log: log, ready: make(chan struct{}, 1)}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRecords)
		if err != nil {
			return err
		}
		o.depth.Store(int64(b.Stats().KeyN))
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox: prepare %s: %w", path, err)
	}
	if o.depth.Load() > 0 {
		o.signal()
	}
	log.Info("outbox opened", "path", path, "pending", o.depth.Load())
	return o, nil
}

// Enqueue assigns env its sequence number and commits it. It returns the
// envelope as stored once the commit has reached the disk.
func (o *Outbox) Enqueue(ctx context.Context, env record.Envelope) (record.Envelope, error) {
	if o.closed.Load() {
		return record.Envelope{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return record.Envelope{}, err
	}
	err := o.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		env.Seq = seq
		payload, err := json.Marshal(env)
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), payload)
	})
	if err != nil {
		return record.Envelope{}, fmt.Errorf("outbox: commit %s record %s: %w", env.Type, env.ID, err)
	}
	o.depth.Add(1)
	o.signal()
	return env, nil
}

// Peek returns up to max pending items, oldest first, without removing them.
func (o *Outbox) Peek(max int) ([]Item, error) {
	if o.closed.Load() {
		return nil, ErrClosed
	}
	var items []Item
	err := o.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.First(); k != nil && len(items) < max; k, v = c.Next() {
			var head struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(v, &head); err != nil {
				return fmt.Errorf("record %d is not JSON: %w", binary.BigEndian.Uint64(k), err)
			}
			items = append(items, Item{Seq: binary.BigEndian.Uint64(k), Type: head.Type, Payload: append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: peek: %w", err)
	}
	return items, nil
}

// Ack removes a delivered item. Acking an unknown seq is not an error: a
// record can be delivered twice, and the second ack has nothing to do.
func (o *Outbox) Ack(seq uint64) error {
	if o.closed.Load() {
		return ErrClosed
	}
	removed := false
	err := o.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b.Get(seqKey(seq)) == nil {
			return nil
		}
		removed = true
		return b.Delete(seqKey(seq))
	})
	if err != nil {
		return fmt.Errorf("outbox: ack %d: %w", seq, err)
	}
	if removed {
		o.depth.Add(-1)
	}
	return nil
}

// Depth is the number of records not yet acknowledged by the township broker.
func (o *Outbox) Depth() int { return int(o.depth.Load()) }

// Ready receives a value whenever records may be waiting. The publisher waits
// on it instead of polling the disk.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// Close closes the store. Records already enqueued stay on disk.
func (o *Outbox) Close() error {
	if o.closed.Swap(true) {
		return nil
	}
	if err := o.db.Close(); err != nil {
		return fmt.Errorf("outbox: close: %w", err)
	}
	return nil
}

func (o *Outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
