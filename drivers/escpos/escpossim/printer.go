package escpossim

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// Columns58mm is a 58 mm roll's width in ASCII columns (384 dots of
// 12-dot characters); a hanzi takes two.
const Columns58mm = 32

// Printer is the dev board's printer: it parses the ESC/POS bytes back and
// appends the receipt as text to a file, so a developer sees what a
// villager would take home. The text holds a masked phone number, so the
// file is created 0600 and the text never goes to the log. It is safe for
// concurrent use.
type Printer struct {
	path    string
	columns int
	log     *slog.Logger

	mu sync.Mutex // one receipt's text lands whole in the file
}

// NewPrinter returns a simulated printer appending to the file at path,
// laid out columns wide (0: Columns58mm). A nil log discards.
func NewPrinter(path string, columns int, log *slog.Logger) *Printer {
	if columns <= 0 {
		columns = Columns58mm
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Printer{path: path, columns: columns, log: log}
}

// Write takes one whole receipt (escpos.Print writes each in one Write).
func (s *Printer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, err := Parse(b)
	text := doc.Text(s.columns)
	if err != nil {
		// A bug in the encoder would print garbage on a real printer too.
		text += fmt.Sprintf("[printer would not understand: %v]\n", err)
		s.log.Warn("simulated printer got bytes it does not understand", "err", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("escpossim: %w", err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, text+"\n"); err != nil {
		return 0, fmt.Errorf("escpossim: %w", err)
	}
	s.log.Info("simulated printer printed a receipt", "file", s.path, "lines", len(doc.Lines), "qr_codes", len(doc.QRs))
	return len(b), nil
}

// Close does nothing: the file is opened per receipt, so a developer may
// delete it while kioskd runs.
func (s *Printer) Close() error { return nil }
