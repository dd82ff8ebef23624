// Package retry owns how kioskd's device loops (card reader, printer,
// sensors) wait before opening a failed device again: jittered exponential
// backoff, so a village's kiosks never retry in step, and a log that says
// the first failure of a run loudly and the thousandth of a days-long
// unplug quietly.
package retry

import (
	"context"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Backoff is one device's retry state. Not safe for concurrent use: each
// loop has its own.
type Backoff struct {
	bo       backoff.ExponentialBackOff
	failures int
}

// New returns a backoff from min, doubling to max, each wait jittered ±50 %.
func New(min, max time.Duration) *Backoff {
	b := &Backoff{bo: backoff.ExponentialBackOff{InitialInterval: min, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: max}}
	b.bo.Reset()
	return b
}

// Succeeded starts the backoff again from its shortest wait and returns
// how many failures came before, for a "ready again" log line.
func (b *Backoff) Succeeded() int {
	n := b.failures
	b.failures = 0
	b.bo.Reset()
	return n
}

// Wait logs err as msg and waits the next backoff step. It returns
// ctx.Err() if ctx ends first, nil otherwise.
func (b *Backoff) Wait(ctx context.Context, log *slog.Logger, msg string, err error) error {
	b.failures++
	delay := b.bo.NextBackOff()
	level := slog.LevelDebug
	if b.failures == 1 {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, msg, "err", err, "attempt", b.failures, "retry_in", delay.Round(time.Millisecond))
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
