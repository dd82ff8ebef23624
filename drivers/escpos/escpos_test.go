package escpos_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/drivers/escpos"
	"github.com/fengqiao/kiosk/drivers/escpos/escpossim"
	"github.com/fengqiao/kiosk/drivers/escpos/escpostest"
)

func sampleReceipt() escpos.Receipt {
	return escpos.Receipt{
		Title:  "预约回执",
		Lines:  []string{"预约号：00042", "服务：法律顾问 · 婚姻家庭", "时间：11月24日 周二 10:30", "顾问：林晓明", "电话：138****1111"},
		QR:     "00042",
		Footer: "开发村综治服务一体机",
	}
}

func mustParse(t *testing.T, b []byte) escpossim.Doc {
	t.Helper()
	d, err := escpossim.Parse(b)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, hex.Dump(b))
	}
	return d
}

// TestReceiptGolden pins one receipt's bytes: a change to them is a change
// to what every kiosk prints. ESCPOS_UPDATE_GOLDEN=1 rewrites the file.
func TestReceiptGolden(t *testing.T) {
	got, err := escpos.Encode(sampleReceipt())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "receipt.golden.hex")
	if os.Getenv("ESCPOS_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, []byte(hex.Dump(got)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if hex.Dump(got) != string(want) {
		t.Errorf("receipt bytes differ from %s:\n%s", path, hex.Dump(got))
	}
}

func TestReceiptPrintsBack(t *testing.T) {
	r := sampleReceipt()
	p := escpostest.NewPrinter()
	if err := escpos.Print(p, r); err != nil {
		t.Fatal(err)
	}
	d := mustParse(t, p.Bytes())
	wantCmds := []string{"init", "chinese", "align", "bold", "size", "chinese-size", "lf"}
	if !reflect.DeepEqual(d.Commands[:len(wantCmds)], wantCmds) {
		t.Errorf("commands start %v, want %v", d.Commands[:len(wantCmds)], wantCmds)
	}
	title := d.Lines[0]
	if title != (escpossim.Line{Text: "预约回执", Align: escpos.Center, Bold: true, Double: true}) {
		t.Errorf("title = %+v", title)
	}
	var body []string
	for _, l := range d.Lines[1:] {
		if l.Bold || l.Double {
			t.Errorf("body line %q is emphasised", l.Text)
		}
		body = append(body, l.Text)
	}
	want := append(append([]string{}, r.Lines...), r.Footer)
	if !reflect.DeepEqual(body, want) {
		t.Errorf("lines = %q, want %q", body, want)
	}
	if len(d.QRs) != 1 || d.QRs[0] != (escpossim.QRCode{Data: "00042", Model: 50, Size: 6, Level: escpos.QRLevelM}) {
		t.Errorf("QR codes = %+v", d.QRs)
	}
	if d.Cuts != 1 || !d.Partial || d.Feeds == 0 || d.Pending != "" || !d.Chinese {
		t.Errorf("doc = cuts %d partial %v feeds %d pending %q chinese %v", d.Cuts, d.Partial, d.Feeds, d.Pending, d.Chinese)
	}
	text := d.Text(32)
	for _, s := range []string{"【预约回执】", "预约号：00042", "[QR: 00042]", strings.Repeat("-", 32)} {
		if !strings.Contains(text, s) {
			t.Errorf("rendered text lacks %q:\n%s", s, text)
		}
	}
}

// TestTextNeverFails: whatever text a receipt carries prints, with what
// cannot be printed replaced, and never as a printer command.
func TestTextNeverFails(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"hanzi", "你好，请选择服务", "你好，请选择服务"},
		{"ascii", "No. 00042", "No. 00042"},
		{"rare hanzi outside GBK", "𠮷野家", "𠮷野家"},
		{"emoji", "好👍", "好👍"},
		{"escape injection", "a\x1b@b\x1dV\x00c", "a?@b?V?c"},
		{"newline inside", "一\n二", "一?二"},
		{"invalid utf-8", "a\xff\xfeb", "a?b"},
		{"delete", "x\x7fy", "x?y"},
		{"c1 control", "x\u0085y", "x?y"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b escpos.Builder
			b.Init().Line(tt.in)
			d := mustParse(t, b.Bytes())
			if len(d.Lines) != 1 || d.Lines[0].Text != tt.want {
				t.Errorf("printed %+v, want %q", d.Lines, tt.want)
			}
		})
	}
}

func TestQRTooLong(t *testing.T) {
	r := sampleReceipt()
	r.QR = strings.Repeat("9", escpos.MaxQRBytes+1)
	p := escpostest.NewPrinter()
	if err := escpos.Print(p, r); !errors.Is(err, escpos.ErrQRTooLong) {
		t.Fatalf("Print = %v, want ErrQRTooLong", err)
	}
	if len(p.Bytes()) != 0 {
		t.Errorf("a receipt that could not be built sent %d bytes", len(p.Bytes()))
	}
	r.QR = strings.Repeat("9", escpos.MaxQRBytes)
	if err := escpos.Print(p, r); err != nil {
		t.Fatal(err)
	}
	if d := mustParse(t, p.Bytes()); len(d.QRs) != 1 || d.QRs[0].Data != r.QR {
		t.Errorf("largest QR did not print back: %d codes", len(d.QRs))
	}
}

func TestPrintWriteError(t *testing.T) {
	p := escpostest.NewPrinter()
	cable := errors.New("input/output error")
	p.Fail(cable)
	if err := escpos.Print(p, sampleReceipt()); !errors.Is(err, cable) {
		t.Errorf("Print = %v, want the port's error", err)
	}
}

func TestQueryPaper(t *testing.T) {
	tests := []struct {
		paper escpos.Paper
	}{{escpos.PaperOK}, {escpos.PaperLow}, {escpos.PaperOut}}
	for _, tt := range tests {
		t.Run(tt.paper.String(), func(t *testing.T) {
			p := escpostest.NewPrinter()
			p.SetPaper(tt.paper)
			got, err := escpos.QueryPaper(p)
			if err != nil || got != tt.paper {
				t.Errorf("QueryPaper = %v, %v; want %v", got, err, tt.paper)
			}
			if len(p.Bytes()) != 0 {
				t.Errorf("the query was recorded as printed bytes")
			}
		})
	}
}

// silentPort is a write-only printer: reads time out forever.
type silentPort struct{ bytes.Buffer }

func (*silentPort) Read([]byte) (int, error) { return 0, nil }

func TestQueryPaperErrors(t *testing.T) {
	if _, err := escpos.QueryPaper(&silentPort{}); !errors.Is(err, escpos.ErrNoAnswer) {
		t.Errorf("silent printer: %v, want ErrNoAnswer", err)
	}
	tests := []struct {
		b    byte
		want escpos.Paper
		err  error
	}{
		{0x12, escpos.PaperOK, nil},
		{0x1E, escpos.PaperLow, nil},
		{0x72, escpos.PaperOut, nil},
		{0x7E, escpos.PaperOut, nil},
		{0x00, 0, escpos.ErrBadStatus},
		{0x93, 0, escpos.ErrBadStatus},
		{'A', 0, escpos.ErrBadStatus},
	}
	for _, tt := range tests {
		got, err := escpos.ParsePaperStatus(tt.b)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParsePaperStatus(%#02x) = %v, %v; want %v, %v", tt.b, got, err, tt.want, tt.err)
		}
	}
}
