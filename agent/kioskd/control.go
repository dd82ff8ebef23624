package kioskd

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
)

// ControlDir is the directory of the data dir where the township's trust
// state and the bundles in force are kept.
const ControlDir = "control"

// controlBridge carries township control over the MQTT link: the kiosk's
// and its township's config topics in, the reported state out. Bundles are
// handed to the controller on a goroutine of its own, since applying one
// writes files and runs the health check, and paho's dispatch must not wait.
type controlBridge struct {
	ctl      *control.Controller
	township string
	kiosk    string
	in       chan []byte
	log      *slog.Logger
}

// bridgeQueue bounds bundles waiting to be handled. Each is retained on the
// broker, so one dropped here is delivered again on the next connection.
const bridgeQueue = 8

func newControlBridge(ctl *control.Controller, township, kiosk string, log *slog.Logger) *controlBridge {
	return &controlBridge{ctl: ctl, township: township, kiosk: kiosk, in: make(chan []byte, bridgeQueue), log: log}
}

func (b *controlBridge) Topics() []string {
	return []string{
		mqtttopic.TownshipKey(b.township), // first: a rotation must be known before bundles signed with the new key
		mqtttopic.TownshipConfig(b.township),
		mqtttopic.ConfigSet(b.township, b.kiosk),
	}
}

func (b *controlBridge) Deliver(payload []byte) {
	select {
	case b.in <- append([]byte(nil), payload...):
	default:
		b.log.Warn("township bundle dropped: too many waiting; it is retained and comes again on reconnect")
	}
}

func (b *controlBridge) Report() (string, []byte, bool) {
	r, ok := b.ctl.Reported()
	if !ok {
		return "", nil, false
	}
	// Stamped here, at each publish (every connect and every change), so
	// the township sees how fresh the report is even when nothing changed.
	r.PublishedAt = time.Now().UTC()
	payload, err := json.Marshal(r)
	if err != nil {
		return "", nil, false
	}
	return mqtttopic.ConfigReported(b.township, b.kiosk), payload, true
}

func (b *controlBridge) ReportChanged() <-chan struct{} { return b.ctl.Changed() }

// earlyRetry is how often a bundle refused as not yet valid is tried
// again, in case the kiosk's clock was the one that was wrong.
const earlyRetry = time.Minute

// Run hands bundles to the controller until ctx is done.
func (b *controlBridge) Run(ctx context.Context) error {
	t := time.NewTicker(earlyRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-b.in:
			b.ctl.Handle(p)
		case <-t.C:
			b.ctl.RetryEarly()
		}
	}
}

// lastOutcome is the controller's reported state as /v1/status shows it.
func lastOutcome(ctl *control.Controller) func() (apitype.ControlOutcome, bool) {
	return func() (apitype.ControlOutcome, bool) {
		r, ok := ctl.Reported()
		if !ok {
			return apitype.ControlOutcome{}, false
		}
		return apitype.ControlOutcome{Version: r.Version, Status: r.Status, Reason: r.Reason, Error: r.Error, At: r.At}, true
	}
}
