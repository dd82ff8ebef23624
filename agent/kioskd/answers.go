package kioskd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/request"
)

// answersBridge carries the township's answers to villagers' requests over
// the MQTT link (docs/requests.md): the kiosk's requests/+/status topics
// in, each a request-status bundle that the controller's trust state
// verifies and the core applies to the request's stored status; the
// requests/reported state out, retained, with the answer in force per
// request and the answers refused lately.
type answersBridge struct {
	ctl      *control.Controller
	agent    *core.Core
	township string
	kiosk    string
	in       chan []byte
	changed  chan struct{}
	log      *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	refused []request.Refusal
	replays uint64
	seen    []string // digest and reason of each refusal reported, so a retained one is reported once
}

// answersQueue bounds answers waiting to be handled. Each is retained on
// the broker, so one dropped here is delivered again on the next
// connection.
const answersQueue = 256

func newAnswersBridge(ctl *control.Controller, agent *core.Core, township, kiosk string, log *slog.Logger, now func() time.Time) *answersBridge {
	return &answersBridge{ctl: ctl, agent: agent, township: township, kiosk: kiosk, in: make(chan []byte, answersQueue),
		changed: make(chan struct{}, 1), log: log, now: now}
}

func (b *answersBridge) Topics() []string {
	return []string{mqtttopic.RequestStatuses(b.township, b.kiosk)}
}

func (b *answersBridge) Deliver(payload []byte) {
	select {
	case b.in <- append([]byte(nil), payload...):
	default:
		b.log.Warn("township answer dropped: too many waiting; it is retained and comes again on reconnect")
	}
}

// Run applies answers until ctx is done.
func (b *answersBridge) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-b.in:
			b.handle(ctx, p)
		}
	}
}

// handle verifies and applies one answer, or reports why not. Nothing
// changes on a refusal.
func (b *answersBridge) handle(ctx context.Context, payload []byte) {
	if len(payload) == 0 {
		return // a retained answer cleared by the township
	}
	var ch request.Change
	v, err := b.ctl.VerifyAnswer(payload, func(content []byte) error {
		var err error
		ch, err = request.ParseChange(content)
		return err
	})
	if err == nil {
		err = b.agent.ApplyAnswer(ctx, ch, v.Version)
	}
	if err == nil {
		if v.Operator != "" {
			b.log.Info("township answer signed by an operator", "number", core.BookingNumber(ch.Seq), "version", v.Version,
				"operator", v.Operator, "key_id", v.KeyID)
		}
		b.notify()
		return
	}
	r := request.Refusal{Reason: answerReason(err), Error: err.Error(), At: b.now().UTC()}
	var be *bundle.Error
	if v != nil {
		r.Number, r.Version = core.BookingNumber(ch.Seq), v.Version
	} else if errors.As(err, &be) && be.Version != 0 {
		r.Version = be.Version
	}
	if errors.Is(err, request.ErrReplay) {
		b.log.Debug("township answer already applied", "number", r.Number, "version", r.Version)
		b.mu.Lock()
		b.replays++
		b.mu.Unlock()
		b.notify()
		return
	}
	if !b.firstRefusal(payload, r) {
		b.log.Debug("township answer refused again; already reported", "reason", r.Reason)
		return
	}
	b.log.Warn("township answer refused", "number", r.Number, "version", r.Version, "reason", r.Reason, "err", err)
	b.notify()
}

// answerReason is the refusal's code for the report.
func answerReason(err error) string {
	for _, r := range []struct {
		err  error
		code string
	}{
		{request.ErrUnknownRequest, "unknown_request"},
		{request.ErrWrongRequest, "wrong_request"},
		{request.ErrStale, "stale"},
		{request.ErrReplay, "replay"},
	} {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	var be *bundle.Error
	if errors.As(err, &be) {
		return bundle.Reason(err)
	}
	return "storage"
}

// firstRefusal records r unless the same message was refused for the same
// reason before: a refused answer retained on the broker comes again at
// every reconnect, and is not news.
func (b *answersBridge) firstRefusal(payload []byte, r request.Refusal) bool {
	sum := sha256.Sum256(payload)
	key := r.Reason + ":" + hex.EncodeToString(sum[:16])
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(b.seen, key) {
		return false
	}
	b.seen = append(b.seen, key)
	b.refused = append(b.refused, r)
	if len(b.refused) > request.MaxRefused {
		b.refused = b.refused[len(b.refused)-request.MaxRefused:]
	}
	if len(b.seen) > 4*request.MaxRefused {
		b.seen = b.seen[len(b.seen)-4*request.MaxRefused:]
	}
	return true
}

func (b *answersBridge) notify() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

func (b *answersBridge) Report() (string, []byte, bool) {
	answered, err := b.agent.AnsweredRequests()
	if err != nil {
		b.log.Warn("answers report not made", "err", err)
		return "", nil, false
	}
	b.mu.Lock()
	refused, replays := slices.Clone(b.refused), b.replays
	b.mu.Unlock()
	if refused == nil {
		refused = []request.Refusal{}
	}
	payload, err := json.Marshal(request.Reported{Schema: request.ReportedSchema, Kiosk: b.kiosk, Township: b.township,
		Answered: answered, Refused: refused, Replays: replays, PublishedAt: b.now().UTC()})
	if err != nil {
		return "", nil, false
	}
	return mqtttopic.RequestsReported(b.township, b.kiosk), payload, true
}

func (b *answersBridge) ReportChanged() <-chan struct{} { return b.changed }
