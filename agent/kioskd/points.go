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
	"github.com/fengqiao/kiosk/agent/points"
)

// pointsBridge carries the village's 美德银行 ledger over the MQTT link
// (docs/points.md): the kiosk's points/ledger topic in, a points-ledger
// bundle that the controller's trust state verifies and the book puts in
// force; the points/reported state out, retained, with the ledger in force
// and the ledgers refused lately. A ledger keyed with another points key
// than the kiosk's also raises a points_key_mismatch alert: no villager
// would find their account, and only a technician can fix the key file.
type pointsBridge struct {
	ctl      *control.Controller
	book     *points.Book
	township string
	kiosk    string
	// alert queues an alert record (the core's Alert); set before Run.
	alert func(ctx context.Context, a core.AlertBody) error
	in    chan []byte
	log   *slog.Logger
	now   func() time.Time

	*refusals[points.Refusal]
}

// pointsQueue bounds ledgers waiting: one topic, retained, so a few is
// plenty; one dropped comes again on the next connection.
const pointsQueue = 4

func newPointsBridge(ctl *control.Controller, book *points.Book, township, kiosk string, log *slog.Logger, now func() time.Time) *pointsBridge {
	return &pointsBridge{ctl: ctl, book: book, township: township, kiosk: kiosk, in: make(chan []byte, pointsQueue),
		refusals: newRefusals[points.Refusal](points.MaxRefused), log: log, now: now}
}

func (b *pointsBridge) Topics() []string {
	return []string{mqtttopic.PointsLedger(b.township, b.kiosk)}
}

func (b *pointsBridge) Deliver(payload []byte) {
	select {
	case b.in <- append([]byte(nil), payload...):
	default:
		b.log.Warn("points ledger dropped: too many waiting; it is retained and comes again on reconnect")
	}
}

// Run loads the ledger kept on disk, then applies ledgers until ctx is
// done. The load runs here, after the API serves: a multi-MB ledger must
// not delay the kiosk's start (issue 15); the API waits for it briefly.
func (b *pointsBridge) Run(ctx context.Context) error {
	b.book.Load()
	b.notify()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-b.in:
			b.handle(ctx, p)
		}
	}
}

// handle verifies and applies one ledger, or reports why not. Nothing
// changes on a refusal.
func (b *pointsBridge) handle(ctx context.Context, payload []byte) {
	if len(payload) == 0 {
		return // a retained ledger cleared by the township
	}
	var l *points.Ledger
	v, err := b.ctl.VerifyPoints(payload, func(content []byte) error {
		var err error
		l, err = points.Decode(content)
		return err
	})
	if err == nil {
		err = b.book.Apply(ctx, l, v.Content, v.Version)
	}
	if err == nil {
		if v.Operator != "" {
			b.log.Info("points ledger signed by an operator", "version", v.Version, "operator", v.Operator, "key_id", v.KeyID)
		}
		b.notify()
		return
	}
	if ctx.Err() != nil {
		return
	}
	r := points.Refusal{Reason: pointsReason(err), Error: err.Error(), At: b.now().UTC()}
	var be *bundle.Error
	if v != nil {
		r.Version = v.Version
	} else if errors.As(err, &be) && be.Version != 0 {
		r.Version = be.Version
	}
	if errors.Is(err, points.ErrReplay) {
		b.log.Debug("points ledger already in force", "version", r.Version)
		b.replay()
		return
	}
	if !b.first(payload, r.Reason, r) {
		b.log.Debug("points ledger refused again; already reported", "reason", r.Reason)
		return
	}
	b.log.Warn("points ledger refused", "version", r.Version, "reason", r.Reason, "err", err)
	if errors.Is(err, points.ErrKeyMismatch) && b.alert != nil {
		aerr := b.alert(ctx, core.AlertBody{Kind: "points_key_mismatch",
			Message: "the village's points ledger is keyed with another points key than this kiosk's: villagers' cards find no points until the key file is fixed",
			Detail:  err.Error() + " (install the township's points key as points.key_file; docs/points.md)"})
		if aerr != nil {
			b.log.Error("points key alert not queued", "err", aerr)
		}
	}
	b.notify()
}

// pointsReason is the refusal's code for the report.
func pointsReason(err error) string {
	return refusalReason(err, []errorCode{
		{points.ErrKeyMismatch, "points_key_mismatch"},
		{points.ErrStale, "stale"},
		{points.ErrReplay, "replay"},
		{points.ErrVersion, "version_mismatch"},
		{points.ErrStorage, "storage"},
	})
}

func (b *pointsBridge) Report() (string, []byte, bool) {
	version, asOf := b.book.InForce()
	refused, replays := b.snapshot()
	payload, err := json.Marshal(points.Reported{Schema: points.ReportedSchema, Kiosk: b.kiosk, Township: b.township,
		Version: version, AsOf: asOf.UTC(), KeyID: b.book.KeyID(), Refused: refused, Replays: replays, PublishedAt: b.now().UTC()})
	if err != nil {
		return "", nil, false
	}
	return mqtttopic.PointsReported(b.township, b.kiosk), payload, true
}

func (b *pointsBridge) ReportChanged() <-chan struct{} { return b.changed }
