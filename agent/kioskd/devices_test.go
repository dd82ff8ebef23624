package kioskd

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/drivers/escpos"
)

func TestPrinterOpener(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name    string
		cfg     config.Printer
		absent  bool
		openErr string
	}{
		{name: "none", cfg: config.Printer{Driver: config.PrinterNone}, absent: true},
		{name: "serial port missing", cfg: config.Printer{Driver: config.PrinterSerial, Device: "/dev/no-such-printer", Baud: 9600}, openErr: "/dev/no-such-printer"},
		{name: "simulated", cfg: config.Printer{Driver: config.PrinterSimulated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			open, err := printerOpener(tt.cfg, "board.yaml", dir, log)
			if err != nil {
				t.Fatal(err)
			}
			if (open == nil) != tt.absent {
				t.Fatalf("opener = %v, want absent %v", open, tt.absent)
			}
			if open == nil {
				return
			}
			port, err := open(context.Background())
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) {
					t.Errorf("open = %v, want an error naming %s", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer port.Close()
			r := escpos.Receipt{Title: "预约回执", Lines: []string{"预约号：00003"}, QR: "00003", Footer: "开发村"}
			for range 2 {
				if err := escpos.Print(port, r); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, ReceiptsFile)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			if strings.Count(text, "【预约回执】") != 2 || strings.Count(text, "[QR: 00003]") != 2 || !strings.Contains(text, "预约号：00003") {
				t.Errorf("%s:\n%s", path, text)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode = %v, %v; want 0600", path, fi.Mode(), err)
			}
			t.Logf("%s:\n%s", path, text)
		})
	}
}
