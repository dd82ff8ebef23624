package kioskd

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
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
	log      *slog.Logger
	now      func() time.Time

	*refusals[request.Refusal]
}

// answersQueue bounds answers waiting to be handled. Each is retained on
// the broker, so one dropped here is delivered again on the next
// connection.
const answersQueue = 256

func newAnswersBridge(ctl *control.Controller, agent *core.Core, township, kiosk string, log *slog.Logger, now func() time.Time) *answersBridge {
	return &answersBridge{ctl: ctl, agent: agent, township: township, kiosk: kiosk, in: make(chan []byte, answersQueue),
		refusals: newRefusals[request.Refusal](request.MaxRefused), log: log, now: now}
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
		b.replay()
		return
	}
	if !b.first(payload, r.Reason, r) {
		b.log.Debug("township answer refused again; already reported", "reason", r.Reason)
		return
	}
	b.log.Warn("township answer refused", "number", r.Number, "version", r.Version, "reason", r.Reason, "err", err)
	b.notify()
}

// answerReason is the refusal's code for the report.
func answerReason(err error) string {
	return refusalReason(err, []errorCode{
		{request.ErrUnknownRequest, "unknown_request"},
		{request.ErrWrongRequest, "wrong_request"},
		{request.ErrStale, "stale"},
		{request.ErrReplay, "replay"},
	})
}

func (b *answersBridge) Report() (string, []byte, bool) {
	answered, err := b.agent.AnsweredRequests()
	if err != nil {
		b.log.Warn("answers report not made", "err", err)
		return "", nil, false
	}
	refused, replays := b.snapshot()
	payload, err := json.Marshal(request.Reported{Schema: request.ReportedSchema, Kiosk: b.kiosk, Township: b.township,
		Answered: answered, Refused: refused, Replays: replays, PublishedAt: b.now().UTC()})
	if err != nil {
		return "", nil, false
	}
	return mqtttopic.RequestsReported(b.township, b.kiosk), payload, true
}

func (b *answersBridge) ReportChanged() <-chan struct{} { return b.changed }
