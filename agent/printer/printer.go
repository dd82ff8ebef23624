// Package printer owns the kiosk's receipt printer at run time: opening
// its port, reopening it with backoff after a failure (a USB-serial printer
// unplugged and plugged back), printing one receipt at a time through
// drivers/escpos, and reporting the printer's health for GET /v1/devices.
//
// A printer that cannot be opened is "failed", never fatal: the kiosk
// keeps taking bookings without receipts.
package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/internal/retry"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/drivers/escpos"
)

// Opener opens the printer's port.
type Opener func(ctx context.Context) (io.WriteCloser, error)

// Options configure a Printer.
type Options struct {
	Open                   Opener // nil: the board has no printer
	Device                 string // for logs only
	MinBackoff, MaxBackoff time.Duration
	Log                    *slog.Logger
}

// ErrNotReady is returned by Print while the port is not open.
var ErrNotReady = errors.New("printer: not ready")

// Printer is the receipt printer. Its methods are safe for concurrent use.
type Printer struct {
	opts   Options
	broken chan struct{} // a Print failure asks Run to reopen the port

	mu   sync.Mutex // one receipt at a time; guards port
	port io.WriteCloser

	statusMu sync.Mutex
	status   apitype.DeviceStatus
}

// New returns a printer; Run opens it.
func New(opts Options) *Printer {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	p := &Printer{opts: opts, broken: make(chan struct{}, 1),
		status: apitype.DeviceStatus{State: apitype.DeviceAbsent}}
	if opts.Open != nil {
		// There is no "connecting" device state: until the port opens the
		// printer cannot print, which is what failed tells the screen.
		p.status = apitype.DeviceStatus{State: apitype.DeviceFailed, LastError: "not opened yet"}
	}
	return p
}

// Status is the printer's health.
func (p *Printer) Status() apitype.DeviceStatus {
	p.statusMu.Lock()
	defer p.statusMu.Unlock()
	return p.status
}

func (p *Printer) setStatus(state string, err error) {
	p.statusMu.Lock()
	defer p.statusMu.Unlock()
	p.status = apitype.DeviceStatus{State: state}
	if err != nil {
		p.status.LastError = err.Error()
	}
}

// Run opens the port, and reopens it with backoff whenever it fails to
// open or a print fails, until ctx ends. It returns ctx.Err().
func (p *Printer) Run(ctx context.Context) error {
	if p.opts.Open == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	defer p.closePort()
	bo := retry.New(p.opts.MinBackoff, p.opts.MaxBackoff)
	log := p.opts.Log.With("device", p.opts.Device)
	for {
		port, err := p.opts.Open(ctx)
		if err == nil {
			p.mu.Lock()
			p.port = port
			p.mu.Unlock()
			p.setStatus(apitype.DeviceReady, nil)
			if failures := bo.Succeeded(); failures > 0 {
				log.Info("printer ready again", "after_attempts", failures)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-p.broken:
				continue // Print closed the port and recorded why
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.setStatus(apitype.DeviceFailed, err)
		if err := bo.Wait(ctx, log, "printer port not opening", err); err != nil {
			return err
		}
	}
}

func (p *Printer) closePort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.port != nil {
		p.port.Close()
		p.port = nil
	}
}

// Print writes r to the printer and returns once the port has taken its
// bytes. A write error closes the port, marks the printer failed and
// wakes Run to reopen it. A serial write is not interruptible, so ctx is
// checked only before writing; a receipt is a few hundred bytes.
func (p *Printer) Print(ctx context.Context, r core.Receipt) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.port == nil {
		return fmt.Errorf("%w: %s", ErrNotReady, p.Status().LastError)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := escpos.Print(p.port, escpos.Receipt(r))
	if err == nil || errors.Is(err, escpos.ErrQRTooLong) {
		return err
	}
	p.port.Close()
	p.port = nil
	p.setStatus(apitype.DeviceFailed, err)
	p.opts.Log.Warn("printer failed; reopening", "device", p.opts.Device, "err", err)
	select {
	case p.broken <- struct{}{}:
	default:
	}
	return err
}
