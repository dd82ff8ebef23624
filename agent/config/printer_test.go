package config

import (
	"errors"
	"strings"
	"testing"
)

const devPrinter = "printer:\n  # \"simulated\": kioskd writes each receipt as text to receipts.txt in its\n"

// mustBoardWithPrinter returns the dev board with its printer block
// replaced by block ("" leaves the printer out).
func mustBoardWithPrinter(t *testing.T, block string) string {
	t.Helper()
	_, board := mustReadDev(t)
	i := strings.Index(board, devPrinter)
	if i < 0 {
		t.Fatal("dev-sim.yaml has no printer block to replace")
	}
	return board[:i] + block
}

func TestBoardPrinter(t *testing.T) {
	tests := []struct {
		name      string
		block     string
		want      Printer
		wantField string
		wantMsg   string
	}{
		{name: "left out means none", block: "", want: Printer{Driver: PrinterNone}},
		{name: "none", block: "printer: {driver: none}\n", want: Printer{Driver: PrinterNone}},
		{name: "simulated", block: "printer: {driver: simulated}\n", want: Printer{Driver: PrinterSimulated}},
		{name: "serial", block: "printer: {driver: serial, device: /dev/ttyUSB1, baud: 9600}\n",
			want: Printer{Driver: PrinterSerial, Device: "/dev/ttyUSB1", Baud: 9600}},
		{name: "unknown driver", block: "printer: {driver: usb}\n", wantField: "printer.driver", wantMsg: `"usb" is not one of none, simulated, serial`},
		{name: "serial without device", block: "printer: {driver: serial, baud: 9600}\n", wantField: "printer.device", wantMsg: "absolute device path"},
		{name: "serial relative device", block: "printer: {driver: serial, device: ttyUSB1, baud: 9600}\n", wantField: "printer.device", wantMsg: "absolute device path"},
		{name: "serial odd baud", block: "printer: {driver: serial, device: /dev/ttyUSB1, baud: 4800}\n", wantField: "printer.baud", wantMsg: "4800 is not a printer's serial rate"},
		{name: "serial no baud", block: "printer: {driver: serial, device: /dev/ttyUSB1}\n", wantField: "printer.baud", wantMsg: "0 is not"},
		{name: "misspelt key", block: "printer: {driver: simulated, devce: /dev/x}\n", wantField: "printer.devce", wantMsg: `unknown key (did you mean "device"?)`},
		{name: "baud not a number", block: "printer: {driver: serial, device: /dev/ttyUSB1, baud: fast}\n", wantField: "printer.baud", wantMsg: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, _ := mustReadDev(t)
			cfg, err := Load(mustWriteConfig(t, site, mustBoardWithPrinter(t, tt.block)))
			if tt.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Board.Printer != tt.want {
					t.Errorf("printer = %+v, want %+v", cfg.Board.Printer, tt.want)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() = %v, want *config.Error", err)
			}
			for _, p := range ce.Problems {
				if p.Field == tt.wantField && strings.Contains(p.Msg, tt.wantMsg) && p.Line > 0 {
					if len(ce.Problems) != 1 {
						t.Errorf("more than the one problem: %v", err)
					}
					return
				}
			}
			t.Errorf("no problem %s: %q in\n%v", tt.wantField, tt.wantMsg, err)
		})
	}
}

func TestDevBoardHasSimulatedPrinter(t *testing.T) {
	b, err := LoadBoard("../../firmware-configs/boards/dev-sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b.Printer.Driver != PrinterSimulated {
		t.Errorf("dev-sim printer = %+v", b.Printer)
	}
}
