package printer_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/printer"
	"github.com/fengqiao/kiosk/drivers/escpos/escpostest"
)

// flakyPort opens after the first fails attempts, each time handing out a
// new fake printer.
type flakyPort struct {
	mu       sync.Mutex
	fails    int
	opened   []*escpostest.Printer
	attempts int
}

func (f *flakyPort) open(context.Context) (io.WriteCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.attempts <= f.fails {
		return nil, errors.New("open /dev/ttyUSB1: no such file or directory")
	}
	p := escpostest.NewPrinter()
	f.opened = append(f.opened, p)
	return p, nil
}

func (f *flakyPort) last() *escpostest.Printer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened[len(f.opened)-1]
}

func mustRun(t *testing.T, p *printer.Printer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	})
}

func mustState(t *testing.T, p *printer.Printer, state string) apitype.DeviceStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := p.Status()
		if st.State == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status = %+v, want %s", st, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var receipt = core.Receipt{Title: "预约回执", Lines: []string{"预约号：00007"}, QR: "00007", Footer: "开发村"}

func TestAbsent(t *testing.T) {
	p := printer.New(printer.Options{})
	if st := p.Status(); st.State != apitype.DeviceAbsent {
		t.Errorf("status = %+v", st)
	}
	if err := p.Print(context.Background(), receipt); !errors.Is(err, printer.ErrNotReady) {
		t.Errorf("Print = %v", err)
	}
}

// TestOpenFailureIsRetried: a port that does not open makes the printer
// failed with the error, and it becomes ready once the port opens.
func TestOpenFailureIsRetried(t *testing.T) {
	port := &flakyPort{fails: 2}
	p := printer.New(printer.Options{Open: port.open, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if st := p.Status(); st.State != apitype.DeviceFailed {
		t.Errorf("before Run: %+v", st)
	}
	if err := p.Print(context.Background(), receipt); !errors.Is(err, printer.ErrNotReady) {
		t.Errorf("Print before open = %v", err)
	}
	mustRun(t, p)
	mustState(t, p, apitype.DeviceReady)
	if err := p.Print(context.Background(), receipt); err != nil {
		t.Fatal(err)
	}
	d, err := port.last().Doc()
	if err != nil || len(d.Lines) < 2 || d.Lines[1].Text != "预约号：00007" || len(d.QRs) != 1 || d.QRs[0].Data != "00007" {
		t.Errorf("printed %+v, %v", d, err)
	}
}

// TestWriteFailureReopens: a failed write (cable pulled) marks the printer
// failed and the port is opened again.
func TestWriteFailureReopens(t *testing.T) {
	port := &flakyPort{}
	p := printer.New(printer.Options{Open: port.open, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	mustRun(t, p)
	mustState(t, p, apitype.DeviceReady)
	first := port.last()
	first.Fail(errors.New("write /dev/ttyUSB1: input/output error"))
	if err := p.Print(context.Background(), receipt); err == nil {
		t.Fatal("Print succeeded on a failing port")
	}
	deadline := time.Now().Add(5 * time.Second)
	for port.last() == first {
		if time.Now().After(deadline) {
			t.Fatal("port not reopened")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mustState(t, p, apitype.DeviceReady)
	if err := p.Print(context.Background(), receipt); err != nil {
		t.Fatal(err)
	}
}

func TestCanceledPrintWritesNothing(t *testing.T) {
	port := &flakyPort{}
	p := printer.New(printer.Options{Open: port.open})
	mustRun(t, p)
	mustState(t, p, apitype.DeviceReady)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Print(ctx, receipt); !errors.Is(err, context.Canceled) {
		t.Errorf("Print = %v", err)
	}
	if n := len(port.last().Bytes()); n != 0 {
		t.Errorf("%d bytes written", n)
	}
}
