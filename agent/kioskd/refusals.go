package kioskd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sync"

	"github.com/fengqiao/kiosk/agent/bundle"
)

// refusals is what a downlink bridge (answers to requests, points
// ledgers) remembers of the messages it refused, for its retained report:
// the latest refusals, each reported once, and how many replays came. A
// refused message retained on the broker comes again at every reconnect,
// and is not news.
type refusals[R any] struct {
	max     int // refusals kept for the report
	changed chan struct{}

	mu      sync.Mutex
	refused []R
	replays uint64
	seen    []string // reason and digest of each refusal reported
}

func newRefusals[R any](max int) *refusals[R] {
	return &refusals[R]{max: max, changed: make(chan struct{}, 1)}
}

// first records r, refused for reason, unless the same payload was refused
// for the same reason before.
func (f *refusals[R]) first(payload []byte, reason string, r R) bool {
	sum := sha256.Sum256(payload)
	key := reason + ":" + hex.EncodeToString(sum[:16])
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Contains(f.seen, key) {
		return false
	}
	f.seen = append(f.seen, key)
	f.refused = append(f.refused, r)
	if len(f.refused) > f.max {
		f.refused = f.refused[len(f.refused)-f.max:]
	}
	if len(f.seen) > 4*f.max {
		f.seen = f.seen[len(f.seen)-4*f.max:]
	}
	return true
}

// replay counts a message already in force coming again.
func (f *refusals[R]) replay() {
	f.mu.Lock()
	f.replays++
	f.mu.Unlock()
	f.notify()
}

// notify says the report should be published again.
func (f *refusals[R]) notify() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// snapshot is the refusals kept (never nil: the report lists none as []) and
// the replays counted.
func (f *refusals[R]) snapshot() ([]R, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.refused)
	if out == nil {
		out = []R{}
	}
	return out, f.replays
}

// errorCode is a refusal's code in a report, for the error it wraps.
type errorCode struct {
	err  error
	code string
}

// refusalReason is the code of the first of codes err wraps, else the
// bundle's own reason (bad_signature, wrong_target …), else "storage".
func refusalReason(err error, codes []errorCode) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	var be *bundle.Error
	if errors.As(err, &be) {
		return bundle.Reason(err)
	}
	return "storage"
}
