package config

import (
	"path/filepath"
	"slices"
)

// Printer drivers.
const (
	PrinterNone      = "none"      // no printer: the screen offers no receipt
	PrinterSerial    = "serial"    // an ESC/POS printer on a UART or USB-serial bridge
	PrinterSimulated = "simulated" // receipts go to receipts.txt in the data directory
)

// PrinterDrivers are the driver names a board profile may give its printer.
func PrinterDrivers() []string { return []string{PrinterNone, PrinterSimulated, PrinterSerial} }

// Printer says how the ESC/POS receipt printer is attached.
type Printer struct {
	Driver string `yaml:"driver"`
	Device string `yaml:"device"`
	Baud   int    `yaml:"baud"`
}

// printerBauds are the rates ESC/POS receipt printers' serial interfaces
// are set to by their DIP switches.
func printerBauds() []int { return []int{9600, 19200, 38400, 57600, 115200} }

// A board profile that says nothing of a printer has none: most village
// kiosks are built without one.
func (p *Printer) applyDefaults() {
	if p.Driver == "" {
		p.Driver = PrinterNone
	}
}

func (p *Printer) validate(c *checker) {
	c.oneOf("printer.driver", p.Driver, PrinterDrivers()...)
	if p.Driver != PrinterSerial {
		return
	}
	if !filepath.IsAbs(p.Device) {
		c.fail("printer.device", "%q must be an absolute device path, e.g. /dev/ttyUSB1", p.Device)
	}
	if !slices.Contains(printerBauds(), p.Baud) {
		c.fail("printer.baud", "%d is not a printer's serial rate (9600, 19200, 38400, 57600, 115200); see the DIP switches under the paper cover", p.Baud)
	}
}
