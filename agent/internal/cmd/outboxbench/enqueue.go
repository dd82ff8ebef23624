// This file: section 1, durable enqueue: outbox.Enqueue with group commit against one bbolt transaction per record.

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"

	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
)

type enqueueResult struct {
	Producers     int
	Records       int // per side, unless the time limit came first
	PayloadBytes  int // envelope JSON
	ValueBytes    int // as stored: sealed by the outbox, padded to match in the baseline
	Limit         time.Duration
	Outbox        latencies
	OutboxCommits int
	Baseline      latencies
}

func (r *enqueueResult) Ratio() float64 { return ratio(r.Outbox.Rate(), r.Baseline.Rate()) }

// PerCommit is the mean number of records per outbox commit.
func (r *enqueueResult) PerCommit() float64 {
	return ratio(float64(r.Outbox.N()), float64(r.OutboxCommits))
}

// CommitTime is the mean wall time of one outbox commit; the baseline's is
// its elapsed time per record, as each record is a commit.
func (r *enqueueResult) CommitTime() time.Duration {
	return r.Outbox.Elapsed / time.Duration(max(r.OutboxCommits, 1))
}

func benchEnqueue(ctx context.Context, o options, dir string) (*enqueueResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	envs, err := bookings(o.enqueueN)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(envs[0])
	if err != nil {
		return nil, err
	}
	r := &enqueueResult{Producers: o.producers, Records: o.enqueueN, Limit: o.enqueueLimit, PayloadBytes: len(payload)}
	logf("enqueue: outbox.Enqueue, %d records, %d producers", o.enqueueN, o.producers)
	var stats outbox.Stats
	r.Outbox, r.OutboxCommits, stats, err = enqueueOutbox(ctx, dir, envs, o.producers, o.enqueueLimit)
	if err != nil {
		return nil, err
	}
	r.ValueBytes = int(stats.Bytes / int64(max(stats.Depth, 1)))
	logf("enqueue: %.0f records/s, p99 %v, %.1f records per commit", r.Outbox.Rate(), r.Outbox.Pct(0.99), r.PerCommit())

	logf("enqueue: baseline, one bbolt transaction per record, %d-byte values", r.ValueBytes)
	r.Baseline, err = enqueueBaseline(ctx, dir, envs, r.ValueBytes, o.producers, o.enqueueLimit)
	if err != nil {
		return nil, err
	}
	logf("enqueue: baseline %.0f records/s (%d records), p99 %v; ratio %.1f×", r.Baseline.Rate(), r.Baseline.N(), r.Baseline.Pct(0.99), r.Ratio())
	return r, nil
}

// bookings returns n booking envelopes as a kiosk makes them.
func bookings(n int) ([]record.Envelope, error) {
	envs := make([]record.Envelope, n)
	now := time.Now()
	for i := range envs {
		var err error
		if envs[i], err = newBooking(now); err != nil {
			return nil, err
		}
	}
	return envs, nil
}

// newBooking makes a booking made with an ID card, the largest kind of
// booking record. Every value is made up: no real person is in it.
func newBooking(now time.Time) (record.Envelope, error) {
	body := schema.BookingV1{
		Service:  "legal-advisor",
		Topic:    "婚姻家庭",
		Name:     "测试村民",
		Phone:    "13800000000",
		Slot:     now.Add(72 * time.Hour).Truncate(30 * time.Minute),
		Advisor:  "测试顾问",
		Channel:  "kiosk",
		IDNumber: "000000000000000000",
		IDType:   "resident",
	}
	return record.New(devSource, body.RecordType(), body.Schema(), body, now)
}

// produce runs fn over indexes 0..n-1 from `producers` goroutines until all
// are done or limit has passed, timing each call.
func produce(ctx context.Context, n, producers int, limit time.Duration, fn func(i int) error) (latencies, error) {
	var next atomic.Int64
	per := make([][]time.Duration, producers)
	g, ctx := errgroup.WithContext(ctx)
	start := time.Now()
	deadline := start.Add(limit)
	for p := range producers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil || time.Now().After(deadline) {
					return ctx.Err()
				}
				t := time.Now()
				if err := fn(i); err != nil {
					return err
				}
				per[p] = append(per[p], time.Since(t))
			}
		})
	}
	err := g.Wait()
	var l latencies
	for _, d := range per {
		l.d = append(l.d, d...)
	}
	l.finish(time.Since(start))
	return l, err
}

func enqueueOutbox(ctx context.Context, dir string, envs []record.Envelope, producers int, limit time.Duration) (latencies, int, outbox.Stats, error) {
	key, err := outbox.LoadOrCreateKey(filepath.Join(dir, "outbox.key"))
	if err != nil {
		return latencies{}, 0, outbox.Stats{}, err
	}
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dir, "outbox.db"), Key: key})
	if err != nil {
		return latencies{}, 0, outbox.Stats{}, err
	}
	defer ob.Close()
	l, err := produce(ctx, len(envs), producers, limit, func(i int) error {
		_, err := ob.Enqueue(ctx, envs[i])
		return err
	})
	if err != nil {
		return l, 0, outbox.Stats{}, fmt.Errorf("outbox enqueue: %w", err)
	}
	commits, err := countCommits(ob, l.N())
	if err != nil {
		return l, 0, outbox.Stats{}, err
	}
	return l, commits, ob.Stats(), ob.Close()
}

// countCommits counts the transactions the queued records were committed in:
// the outbox reads the clock once per transaction and stamps every record of
// it with that time.
func countCommits(ob *outbox.Outbox, n int) (int, error) {
	items, err := ob.Peek(0, n)
	if err != nil {
		return 0, fmt.Errorf("count commits: %w", err)
	}
	stamps := make(map[int64]struct{})
	for _, it := range items {
		stamps[it.Committed.UnixNano()] = struct{}{}
	}
	return len(stamps), nil
}

// enqueueBaseline commits each record in a transaction of its own: what a
// store without group commit does. It uses the outbox's bbolt options
// (no freelist sync, map freelist) so that the ratio measures group commit
// alone, and values of the size the outbox stores (the envelope JSON padded
// by what sealing adds).
func enqueueBaseline(ctx context.Context, dir string, envs []record.Envelope, valueSize, producers int, limit time.Duration) (latencies, error) {
	db, err := bbolt.Open(filepath.Join(dir, "baseline.db"), 0o600, &bbolt.Options{
		Timeout: time.Second, NoFreelistSync: false, FreelistType: bbolt.FreelistMapType,
	})
	if err != nil {
		return latencies{}, fmt.Errorf("baseline open: %w", err)
	}
	defer db.Close()
	bucket := []byte("records")
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return latencies{}, fmt.Errorf("baseline bucket: %w", err)
	}
	values := make([][]byte, len(envs))
	for i, env := range envs {
		env.Seq = uint64(i + 1)
		v, err := json.Marshal(env)
		if err != nil {
			return latencies{}, err
		}
		values[i] = append(v, bytes.Repeat([]byte{' '}, max(valueSize-len(v), 0))...)
	}
	l, err := produce(ctx, len(envs), producers, limit, func(i int) error {
		return db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucket)
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			return b.Put(binary.BigEndian.AppendUint64(nil, seq), values[i])
		})
	})
	if err != nil {
		return l, fmt.Errorf("baseline put: %w", err)
	}
	return l, nil
}
