package kioskd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/printer"
	"github.com/fengqiao/kiosk/drivers/escpos/escpostest"
	"github.com/fengqiao/kiosk/drivers/serialport"
)

// ReceiptsFile, in the data directory, is where the simulated printer
// writes what it would print.
const ReceiptsFile = "receipts.txt"

// receiptColumns is a 58 mm roll's width in ASCII columns (384 dots of
// 12-dot characters); a hanzi takes two.
const receiptColumns = 32

// printerOpener returns how to open the board's printer, or nil for a board
// without one.
func printerOpener(c config.Printer, dataDir string, log *slog.Logger) printer.Opener {
	switch c.Driver {
	case config.PrinterSerial:
		return func(context.Context) (io.WriteCloser, error) {
			return serialport.Open(c.Device, c.Baud)
		}
	case config.PrinterSimulated:
		sim := &simPrinter{path: filepath.Join(dataDir, ReceiptsFile), log: log}
		return func(context.Context) (io.WriteCloser, error) { return sim, nil }
	}
	return nil
}

// simPrinter is the dev board's printer: it parses the ESC/POS bytes back
// with the fake printer's parser and appends the receipt as text to
// receipts.txt, so a developer sees what a villager would take home. The
// text holds a masked phone number, so it goes to a 0600 file in the data
// directory and not to the log.
type simPrinter struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex
}

// Write takes one whole receipt (escpos.Print writes each in one Write).
func (s *simPrinter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, err := escpostest.Parse(b)
	text := doc.Text(receiptColumns)
	if err != nil {
		// A bug in the encoder would print garbage on a real printer too.
		text += fmt.Sprintf("[printer would not understand: %v]\n", err)
		s.log.Warn("simulated printer got bytes it does not understand", "err", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := io.WriteString(f, text+"\n"); err != nil {
		return 0, err
	}
	s.log.Info("simulated printer printed a receipt", "file", s.path, "lines", len(doc.Lines), "qr_codes", len(doc.QRs))
	return len(b), nil
}

// Close does nothing: the file is opened per receipt.
func (s *simPrinter) Close() error { return nil }
