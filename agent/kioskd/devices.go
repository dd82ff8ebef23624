package kioskd

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/printer"
	"github.com/fengqiao/kiosk/drivers/escpos/escpossim"
	"github.com/fengqiao/kiosk/drivers/serialport"
)

// ReceiptsFile, in the data directory, is where the simulated printer
// writes what it would print.
const ReceiptsFile = "receipts.txt"

// printerOpener returns how to open the board's printer, nil for a board
// without one, or an error wrapping ErrUnknownDriver.
func printerOpener(c config.Printer, boardPath, dataDir string, log *slog.Logger) (printer.Opener, error) {
	switch c.Driver {
	case config.PrinterNone:
		return nil, nil
	case config.PrinterSerial:
		return func(context.Context) (io.WriteCloser, error) {
			return serialport.Open(c.Device, c.Baud)
		}, nil
	case config.PrinterSimulated:
		sim := escpossim.NewPrinter(filepath.Join(dataDir, ReceiptsFile), escpossim.Columns58mm, log)
		return func(context.Context) (io.WriteCloser, error) { return sim, nil }, nil
	}
	return nil, unknownDriver(boardPath, "printer.driver", c.Driver)
}
