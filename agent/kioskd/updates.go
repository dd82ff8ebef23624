package kioskd

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/updater"
)

// UpdateSpoolDir is the directory of the data dir where kioskd spools the
// update bundles it receives for fengqiao-updater.
const UpdateSpoolDir = "update-spool"

// updateBridge carries software updates over the MQTT link for
// fengqiao-updater, which kioskd neither runs nor trusts with anything but
// bytes: bundles in (spooled as they come, unverified: the updater verifies
// them with its own keys), the updater's report out, retained on the
// kiosk's update/reported topic.
type updateBridge struct {
	township, kiosk string
	spool           string // where bundles go
	report          string // the updater's reported.json
	in              chan []byte
	changed         chan struct{}
	log             *slog.Logger

	mu   sync.Mutex
	last []byte // the report last seen
}

// reportPoll is how often the updater's report is read for a change.
const reportPoll = 5 * time.Second

func newUpdateBridge(township, kiosk, spool, report string, log *slog.Logger) *updateBridge {
	return &updateBridge{township: township, kiosk: kiosk, spool: spool, report: report,
		in: make(chan []byte, bridgeQueue), changed: make(chan struct{}, 1), log: log}
}

func (b *updateBridge) Topics() []string {
	return []string{
		mqtttopic.TownshipKey(b.township), // the updater follows rotations itself
		mqtttopic.TownshipUpdate(b.township),
		mqtttopic.UpdateSet(b.township, b.kiosk),
	}
}

func (b *updateBridge) Deliver(payload []byte) {
	select {
	case b.in <- append([]byte(nil), payload...):
	default:
		b.log.Warn("update bundle dropped: too many waiting; it is retained and comes again on reconnect")
	}
}

func (b *updateBridge) Report() (string, []byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		return "", nil, false
	}
	return mqtttopic.UpdateReported(b.township, b.kiosk), b.last, true
}

func (b *updateBridge) ReportChanged() <-chan struct{} { return b.changed }

// readReport takes the updater's report if it changed.
func (b *updateBridge) readReport() {
	data, err := os.ReadFile(b.report)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			b.log.Warn("updater report unreadable", "file", b.report, "err", err)
		}
		return
	}
	data = bytes.TrimSpace(data)
	b.mu.Lock()
	same := bytes.Equal(data, b.last)
	if !same {
		b.last = data
	}
	b.mu.Unlock()
	if !same {
		select {
		case b.changed <- struct{}{}:
		default:
		}
	}
}

// Run spools bundles and watches the report until ctx is done.
func (b *updateBridge) Run(ctx context.Context) error {
	b.readReport()
	t := time.NewTicker(reportPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-b.in:
			if len(p) == 0 {
				continue // a retained message cleared
			}
			if err := updater.Spool(b.spool, p); err != nil {
				b.log.Warn("update bundle not spooled; it comes again on reconnect", "err", err)
			}
		case <-t.C:
			b.readReport()
		}
	}
}

// updateSpool is the spool in the data dir.
func updateSpool(dataDir string) string { return filepath.Join(dataDir, UpdateSpoolDir) }
