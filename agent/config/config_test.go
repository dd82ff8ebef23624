package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustReadDev returns the dev site and board files, the base every case edits.
func mustReadDev(t *testing.T) (site, board string) {
	t.Helper()
	s, err := os.ReadFile("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../firmware-configs/boards/dev-sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(s), string(b)
}

// mustWriteConfig lays out sites/site.yaml and boards/dev-sim.yaml in a temp dir.
func mustWriteConfig(t *testing.T, site, board string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"sites/site.yaml": site, "boards/dev-sim.yaml": board} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "sites/site.yaml")
}

func TestLoadDev(t *testing.T) {
	cfg, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Site.Kiosk.ID != "dev-kiosk-01" || cfg.Board.Name != "dev-sim" {
		t.Errorf("loaded %q on %q", cfg.Site.Kiosk.ID, cfg.Board.Name)
	}
	if cfg.Location.String() != "Asia/Shanghai" {
		t.Errorf("location = %v", cfg.Location)
	}
	if got := cfg.Site.Content.Advisor.Duty[0].String(); got != "周二、周五 09:00–12:00" {
		t.Errorf("duty = %q", got)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name      string
		site      func(string) string
		board     func(string) string
		wantFile  string // "site" or "board"
		wantField string
		wantLine  int // 0: don't check
		wantMsg   string
	}{
		{
			name:      "unknown key suggests the right one",
			site:      replace("  keepalive: 30s", "  keepalive: 30s\n  brokr: tcp://x:1"),
			wantFile:  "site",
			wantField: "mqtt.brokr",
			wantLine:  17,
			wantMsg:   `unknown key (did you mean "broker"?)`,
		},
		{
			name:      "missing kiosk id",
			site:      replace("  id: dev-kiosk-01\n", ""),
			wantFile:  "site",
			wantField: "kiosk.id",
			wantMsg:   "is required",
		},
		{
			name:      "id unusable as a topic level",
			site:      replace("id: dev-kiosk-01", "id: Dev/Kiosk+1"),
			wantFile:  "site",
			wantField: "kiosk.id",
			wantLine:  9,
			wantMsg:   "lower-case letters",
		},
		{
			name:      "bad duration",
			site:      replace("keepalive: 30s", "keepalive: soon"),
			wantFile:  "site",
			wantField: "mqtt.keepalive",
			wantLine:  16,
			wantMsg:   `"soon" is not a duration`,
		},
		{
			name:      "wrong type",
			site:      replace("slot_minutes: 30", "slot_minutes: half-hour"),
			wantFile:  "site",
			wantField: "content.advisor.slot_minutes",
			wantMsg:   "cannot unmarshal",
		},
		{
			name:      "bad day",
			site:      replace("days: [thu]", "days: [thursday]"),
			wantFile:  "site",
			wantField: "content.advisor.duty[1].days[0]",
			wantMsg:   `"thursday" is not a day`,
		},
		{
			name:      "duty ends before it starts",
			site:      replace(`to: "17:30"`, `to: "13:00"`),
			wantFile:  "site",
			wantField: "content.advisor.duty[1].to",
			wantMsg:   "13:00 is not after from (14:30)",
		},
		{
			name:      "plain tcp in production",
			site:      replace("mode: dev ", "mode: production "),
			wantFile:  "site",
			wantField: "mqtt.broker",
			wantMsg:   "production sites must use TLS",
		},
		{
			name:      "broker without port",
			site:      replace("tcp://127.0.0.1:1883", "tcp://127.0.0.1"),
			wantFile:  "site",
			wantField: "mqtt.broker",
			wantMsg:   "needs a host and a port",
		},
		{
			name:      "unknown mode",
			site:      replace("mode: dev ", "mode: test "),
			wantFile:  "site",
			wantField: "mode",
			wantMsg:   `"test" is not one of dev, production`,
		},
		{
			name:      "bad advisor phone",
			site:      replace(`phone: "0599-5317356"`, `phone: "12345678"`),
			wantFile:  "site",
			wantField: "content.advisor.phone",
			wantMsg:   "want an 11-digit mobile",
		},
		{
			name:      "unknown time zone",
			site:      replace("timezone: Asia/Shanghai", "timezone: Asia/Wuyishan"),
			wantFile:  "site",
			wantField: "timezone",
			wantMsg:   "not a known time zone",
		},
		{
			name:      "a 513 service missing",
			site:      replace("    - id: legal-fair\n", "    - id: legal-fairs\n"),
			wantFile:  "site",
			wantField: "content.services",
			wantMsg:   `the 513 menu needs all five services (missing: legal-fair)`,
		},
		{
			name:      "duplicate topic",
			site:      replace("上学就医, 其他]", "上学就医, 婚姻家庭]"),
			wantFile:  "site",
			wantField: "content.topics[4]",
			wantMsg:   "listed twice",
		},
		{
			name:      "empty platform text",
			site:      replace("hotline: 打 12348 问\n", "hotline: \"\"\n"),
			wantFile:  "site",
			wantField: "content.services[3].platforms.hotline",
			wantMsg:   "is required",
		},
		{
			name:      "board file missing",
			site:      replace("board: ../boards/dev-sim.yaml", "board: ../boards/nope.yaml"),
			wantFile:  "site",
			wantField: "board",
			wantMsg:   "no such file",
		},
		{
			name:      "wrong schema",
			site:      replace("schema: fengqiao.site/v1", "schema: fengqiao.board/v1"),
			wantFile:  "site",
			wantField: "schema",
			wantMsg:   "is not a site file",
		},
		{
			name:      "board unknown key",
			board:     replace("  rotation: 0", "  rotation: 0\n  dpi: 96"),
			wantFile:  "board",
			wantField: "screen.dpi",
			wantMsg:   "unknown key",
		},
		{
			name:      "board bad rotation",
			board:     replace("rotation: 0", "rotation: 45"),
			wantFile:  "board",
			wantField: "screen.rotation",
			wantMsg:   "45 is not one of",
		},
		{
			name:      "board diagonal in centimetres",
			board:     replace("diagonal: 10.1", "diagonal: 256"),
			wantFile:  "board",
			wantField: "screen.diagonal",
			wantMsg:   "5 to 110",
		},
		{
			name:      "board diagonal too big for its pixels",
			board:     replace("diagonal: 10.1", "diagonal: 55"),
			wantFile:  "board",
			wantField: "screen.diagonal",
			wantMsg:   "27 pixels per inch",
		},
		{
			name:      "board diagonal not a number",
			board:     replace("diagonal: 10.1", "diagonal: .nan"),
			wantFile:  "board",
			wantField: "screen.diagonal",
			wantMsg:   "NaN is not a panel's diagonal",
		},
		{
			name:      "serial reader needs a device",
			board:     replace("driver: simulated", "driver: serial"),
			wantFile:  "board",
			wantField: "idcard.device",
			wantMsg:   "absolute device path",
		},
		{
			name:     "not yaml",
			site:     func(string) string { return "schema: [unclosed\n" },
			wantFile: "site",
			wantMsg:  "not valid YAML",
		},
		{
			name:     "empty file",
			site:     func(string) string { return "" },
			wantFile: "site",
			wantMsg:  "file is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			if tt.site != nil {
				site = tt.site(site)
			}
			if tt.board != nil {
				board = tt.board(board)
			}
			path := mustWriteConfig(t, site, board)
			_, err := Load(path)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error = %v, want *config.Error", err)
			}
			wantFile := path
			if tt.wantFile == "board" {
				wantFile = filepath.Join(filepath.Dir(path), "../boards/dev-sim.yaml")
			}
			for _, p := range ce.Problems {
				if p.File == wantFile && p.Field == tt.wantField && strings.Contains(p.Msg, tt.wantMsg) &&
					(tt.wantLine == 0 || p.Line == tt.wantLine) {
					if !strings.Contains(err.Error(), p.String()) {
						t.Errorf("error text %q does not include %q", err, p)
					}
					return
				}
			}
			t.Errorf("no problem %s:%d %s: %q in\n%v", tt.wantFile, tt.wantLine, tt.wantField, tt.wantMsg, err)
		})
	}
}

// TestLoadReportsEveryProblem: a technician fixes the file in one pass.
func TestLoadReportsEveryProblem(t *testing.T) {
	site, board := mustReadDev(t)
	site = strings.NewReplacer("mode: dev ", "mode: x ", "keepalive: 30s", "keepalive: 1s", "slot_minutes: 30", "slot_minutes: 1").Replace(site)
	_, err := Load(mustWriteConfig(t, site, board))
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

// TestLoadReportsDecodeAndValidationProblemsTogether: an unknown key in the
// site file must not hide a bad value elsewhere or a bad board profile, and a
// key of the wrong type is blamed once, not also as missing.
func TestLoadReportsDecodeAndValidationProblemsTogether(t *testing.T) {
	site, board := mustReadDev(t)
	site = replace("  broker:", "  brokr:")(site)
	site = replace("id: dev-kiosk-01", "id: Dev Kiosk")(site)
	site = replace("booking_days: 14", "booking_days: many")(site)
	board = replace("driver: simulated", "driver: usb")(board)
	_, err := Load(mustWriteConfig(t, site, board))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := map[string]int{"mqtt.brokr": 1, "mqtt.broker": 1, "kiosk.id": 1, "content.advisor.booking_days": 1, "idcard.driver": 1}
	got := map[string]int{}
	for _, p := range ce.Problems {
		got[p.Field]++
		if p.Line == 0 {
			t.Errorf("problem without a line: %v", p)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("problems by field = %v, want %v\n%v", got, want, err)
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}
