// Package serialport owns opening serial devices (UARTs, USB-serial
// bridges, ptys) for the kiosk's drivers. It is the only package that
// imports github.com/tarm/serial; drivers take the io.ReadWriter it returns
// and never open device paths themselves.
package serialport

import (
	"fmt"
	"io"
	"time"

	"github.com/tarm/serial"
)

// ReadTimeout is the read timeout set on every port: a Read with no data
// returns 0, io.EOF after it (tarm's VTIME behaviour), so a reading
// goroutine wakes up at least this often and notices a Close. tarm's
// resolution is 100 ms, its shortest non-blocking setting.
const ReadTimeout = 100 * time.Millisecond

// Open opens device at baud, 8N1, raw, with ReadTimeout. Errors name the
// device.
func Open(device string, baud int) (io.ReadWriteCloser, error) {
	if baud <= 0 {
		return nil, fmt.Errorf("serialport: open %s: invalid baud rate %d", device, baud)
	}
	p, err := serial.OpenPort(&serial.Config{Name: device, Baud: baud, ReadTimeout: ReadTimeout})
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s at %d baud: %w", device, baud, err)
	}
	// Read and Write errors are *os.PathError values: they name the device
	// already.
	return p, nil
}
