package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/printer"
	"github.com/fengqiao/kiosk/agent/speech/speechtest"
	"github.com/fengqiao/kiosk/drivers/escpos/escpostest"
)

type deviceFixture struct {
	*fixture
	speech  *speechtest.Fake    // nil: no speech
	paper   *escpostest.Printer // nil: no printer
	printer *printer.Printer
}

// mustServeDevices is mustServe with a fake speech device and a printer
// loop over a fake ESC/POS printer, each left out when its flag is false.
func mustServeDevices(t *testing.T, withSpeech, withPrinter bool) *deviceFixture {
	t.Helper()
	df := &deviceFixture{}
	var opts serveOptions
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	if withSpeech {
		df.speech = &speechtest.Fake{}
		opts.speaker = df.speech
	}
	if withPrinter {
		df.paper = escpostest.NewPrinter()
		df.printer = printer.New(printer.Options{Log: discard, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
			Open: func(context.Context) (io.WriteCloser, error) {
				df.paper.Reopen() // the driver closes a port that failed and opens it again
				return df.paper, nil
			}})
		opts.printer = df.printer
		wg.Go(func() { df.printer.Run(ctx) })
		for df.printer.Status().State != apitype.DeviceReady {
			time.Sleep(time.Millisecond)
		}
	}
	df.fixture = mustServeWith(t, opts)
	return df
}

// mustPost posts body to path and returns the status and the error, if any.
func mustPost(t *testing.T, socket, path, body string) (int, apitype.Error) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	resp, err := hc.Post("http://kioskd"+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var er apitype.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&er)
	return resp.StatusCode, er.Error
}

func mustBook(t *testing.T, f *deviceFixture) apitype.Booking {
	t.Helper()
	b, err := f.client.Book(context.Background(), apitype.BookingRequest{
		Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英", Phone: "13800001111", Slot: "2026-11-24T10:30:00+08:00",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDevicesStatus(t *testing.T) {
	tests := []struct {
		name                  string
		speech, printer       bool
		failSpeech            error
		wantSpeech, wantPrint string
	}{
		{name: "none", wantSpeech: apitype.DeviceAbsent, wantPrint: apitype.DeviceAbsent},
		{name: "both", speech: true, printer: true, wantSpeech: apitype.DeviceReady, wantPrint: apitype.DeviceReady},
		{name: "speech failing", speech: true, failSpeech: errors.New("no sound card"), wantSpeech: apitype.DeviceFailed, wantPrint: apitype.DeviceAbsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustServeDevices(t, tt.speech, tt.printer)
			if tt.failSpeech != nil {
				f.speech.SetFailing(tt.failSpeech)
			}
			d, err := f.client.Devices(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if d.Speech.State != tt.wantSpeech || d.Printer.State != tt.wantPrint {
				t.Errorf("devices = %+v, want speech %s, printer %s", d, tt.wantSpeech, tt.wantPrint)
			}
			if tt.failSpeech != nil && d.Speech.LastError != tt.failSpeech.Error() {
				t.Errorf("speech last error = %q", d.Speech.LastError)
			}
		})
	}
}

func TestSpeak(t *testing.T) {
	tests := []struct {
		name       string
		speech     bool
		failing    bool
		body       string
		wantStatus int
		wantCode   string
		wantField  string
		wantSpoken string
	}{
		{name: "spoken", speech: true, body: `{"text":"你好，请选择服务"}`, wantStatus: http.StatusAccepted, wantSpoken: "你好，请选择服务"},
		{name: "longest", speech: true, body: `{"text":"` + strings.Repeat("好", core.MaxSpeakRunes) + `"}`, wantStatus: http.StatusAccepted, wantSpoken: strings.Repeat("好", core.MaxSpeakRunes)},
		{name: "no speech", body: `{"text":"你好"}`, wantStatus: http.StatusConflict, wantCode: apitype.CodeNoDevice},
		{name: "speech failing", speech: true, failing: true, body: `{"text":"你好"}`, wantStatus: http.StatusConflict, wantCode: apitype.CodeNoDevice},
		{name: "empty text", speech: true, body: `{"text":""}`, wantStatus: http.StatusBadRequest, wantCode: "required", wantField: "text"},
		{name: "blank text", speech: true, body: `{"text":"  \n "}`, wantStatus: http.StatusBadRequest, wantCode: "required", wantField: "text"},
		{name: "no text", speech: true, body: `{}`, wantStatus: http.StatusBadRequest, wantCode: "required", wantField: "text"},
		{name: "too long", speech: true, body: `{"text":"` + strings.Repeat("好", core.MaxSpeakRunes+1) + `"}`, wantStatus: http.StatusBadRequest, wantCode: "too_long", wantField: "text"},
		{name: "unknown field", speech: true, body: `{"text":"你好","voice":"en"}`, wantStatus: http.StatusBadRequest, wantCode: apitype.CodeUnknownField, wantField: "voice"},
		{name: "not json", speech: true, body: `text=你好`, wantStatus: http.StatusBadRequest, wantCode: apitype.CodeBadJSON},
		{name: "wrong type", speech: true, body: `{"text":42}`, wantStatus: http.StatusBadRequest, wantCode: "invalid", wantField: "text"},
		{name: "bad body before no device", body: `{`, wantStatus: http.StatusBadRequest, wantCode: apitype.CodeBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustServeDevices(t, tt.speech, false)
			if tt.failing {
				f.speech.SetFailing(errors.New("espeak-ng: exit status 1"))
			}
			status, e := mustPost(t, f.socket, "/v1/speak", tt.body)
			if status != tt.wantStatus || e.Code != tt.wantCode || e.Field != tt.wantField {
				t.Errorf("got %d %+v, want %d %s/%s", status, e, tt.wantStatus, tt.wantCode, tt.wantField)
			}
			if tt.speech {
				spoken := f.speech.Spoken()
				if (tt.wantSpoken == "") != (len(spoken) == 0) || (len(spoken) > 0 && spoken[0] != tt.wantSpoken) {
					t.Errorf("spoken %q, want %q", spoken, tt.wantSpoken)
				}
			}
		})
	}
}

func TestSpeakThroughClient(t *testing.T) {
	f := mustServeDevices(t, true, false)
	if err := f.client.Speak(context.Background(), "请按预约时间前来"); err != nil {
		t.Fatal(err)
	}
	if got := f.speech.Spoken(); len(got) != 1 || got[0] != "请按预约时间前来" {
		t.Errorf("spoken %q", got)
	}
	none := mustServeDevices(t, false, false)
	var apiErr *localclient.APIError
	if err := none.client.Speak(context.Background(), "你好"); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeNoDevice {
		t.Errorf("Speak without speech = %v", err)
	}
}

func TestPrint(t *testing.T) {
	tests := []struct {
		name       string
		printer    bool
		body       func(id string) string
		advance    time.Duration // clock moved after booking
		failPort   bool
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{name: "printed", printer: true, body: idBody, wantStatus: http.StatusOK},
		{name: "just in time", printer: true, body: idBody, advance: core.ReceiptTTL - time.Second, wantStatus: http.StatusOK},
		{name: "no printer", body: idBody, wantStatus: http.StatusConflict, wantCode: apitype.CodeNoDevice},
		{name: "unknown id", printer: true, body: func(string) string { return `{"id":"0190a8e2-0000-7000-8000-000000000000"}` }, wantStatus: http.StatusNotFound, wantCode: apitype.CodeNotFound, wantField: "id"},
		{name: "too old", printer: true, body: idBody, advance: core.ReceiptTTL, wantStatus: http.StatusNotFound, wantCode: apitype.CodeNotFound, wantField: "id"},
		{name: "empty id", printer: true, body: func(string) string { return `{"id":""}` }, wantStatus: http.StatusBadRequest, wantCode: "required", wantField: "id"},
		{name: "unknown field", printer: true, body: func(id string) string { return `{"id":"` + id + `","copies":2}` }, wantStatus: http.StatusBadRequest, wantCode: apitype.CodeUnknownField, wantField: "copies"},
		{name: "empty body", printer: true, body: func(string) string { return `` }, wantStatus: http.StatusBadRequest, wantCode: apitype.CodeBadJSON},
		{name: "printer fails", printer: true, failPort: true, body: idBody, wantStatus: http.StatusConflict, wantCode: apitype.CodeNoDevice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustServeDevices(t, false, tt.printer)
			b := mustBook(t, f)
			f.clock.Advance(tt.advance)
			if tt.failPort {
				f.paper.Fail(errors.New("write /dev/ttyUSB1: input/output error"))
			}
			status, e := mustPost(t, f.socket, "/v1/print", tt.body(b.ID))
			if status != tt.wantStatus || e.Code != tt.wantCode || e.Field != tt.wantField {
				t.Errorf("got %d %+v, want %d %s/%s", status, e, tt.wantStatus, tt.wantCode, tt.wantField)
			}
			if !tt.printer {
				return
			}
			printed := len(f.paper.Bytes()) > 0
			if printed != (tt.wantStatus == http.StatusOK) {
				t.Errorf("printed = %v after %d", printed, status)
			}
			if tt.failPort && !strings.Contains(e.Message, "input/output error") {
				t.Errorf("message %q does not say why the printer failed", e.Message)
			}
		})
	}
}

// devLookup is the dev site's booking lookup page (content.booking_lookup)
// up to the booking number.
const devLookup = "https://dev-township.example/kiosk/lookup?k=dev-kiosk-01&n="

func idBody(id string) string { return `{"id":"` + id + `"}` }

// TestPrintedReceipt: what the printer gets is the booking's receipt, with
// the masked phone and a QR code of the booking's page on the township's
// lookup site, and never the name or the full phone number.
func TestPrintedReceipt(t *testing.T) {
	f := mustServeDevices(t, false, true)
	b := mustBook(t, f)
	if err := f.client.Print(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	d, err := f.paper.Doc()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range d.Lines {
		lines = append(lines, l.Text)
	}
	want := []string{"预约回执", "预约号：00001", "服务：法律顾问 · 婚姻家庭", "时间：2026年11月24日 周二 10:30", "顾问：林晓明", "电话：138****1111", "开发村综治服务一体机"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("printed lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !d.Lines[0].Double || !d.Lines[0].Bold {
		t.Errorf("title not in large bold type: %+v", d.Lines[0])
	}
	if want := devLookup + b.Number; len(d.QRs) != 1 || d.QRs[0].Data != want {
		t.Errorf("QR codes = %+v, want one of %q", d.QRs, want)
	}
	if d.Cuts != 1 {
		t.Errorf("%d cuts", d.Cuts)
	}
	all := string(f.paper.Bytes()) + strings.Join(lines, "")
	for _, secret := range []string{"王秀英", "13800001111"} {
		if strings.Contains(all, secret) {
			t.Errorf("receipt carries %q", secret)
		}
	}
	// A second copy prints too: the villager may ask for one.
	if err := f.client.Print(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.paper.Doc(); d.Cuts != 2 {
		t.Errorf("second copy: %d cuts", d.Cuts)
	}
}

// TestPrintedMediationReceipt: a mediation booking's confirmation prints
// too, with the venue and the preferred times, and nothing that names the
// villager.
func TestPrintedMediationReceipt(t *testing.T) {
	f := mustServeDevices(t, false, true)
	m := mustBookMediation(t, f.fixture)
	if err := f.client.Print(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
	d, err := f.paper.Doc()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range d.Lines {
		lines = append(lines, l.Text)
	}
	want := []string{"调解预约回执", "预约号：" + m.Number, "服务：预约调解 · 邻里", "地点：茶室评理室", "　　　村部二楼茶室",
		"希望时间：2026年11月24日 周二 14:30", "　　　　　2026年11月25日 周三 09:00", "电话：138****1111",
		"调解员会打电话和您约定时间。", "开发村综治服务一体机"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("printed lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if want := devLookup + m.Number; len(d.QRs) != 1 || d.QRs[0].Data != want {
		t.Errorf("QR codes = %+v, want one of %q", d.QRs, want)
	}
	all := string(f.paper.Bytes()) + strings.Join(lines, "")
	for _, secret := range []string{"王女士", "李大伯", "13800001111"} {
		if strings.Contains(all, secret) {
			t.Errorf("receipt carries %q", secret)
		}
	}
}

// TestReceiptsAreBounded: only the newest ReceiptsKept confirmations can
// be printed; memory does not grow with the day's bookings.
func TestReceiptsAreBounded(t *testing.T) {
	f := mustServeDevices(t, false, true)
	first := mustBookAt(t, f, 0)
	var last apitype.Booking
	for i := 1; i <= core.ReceiptsKept; i++ {
		last = mustBookAt(t, f, i)
	}
	if status, e := mustPost(t, f.socket, "/v1/print", idBody(first.ID)); status != http.StatusNotFound {
		t.Errorf("oldest receipt: %d %+v, want 404", status, e)
	}
	if status, e := mustPost(t, f.socket, "/v1/print", idBody(last.ID)); status != http.StatusOK {
		t.Errorf("newest receipt: %d %+v, want 200", status, e)
	}
}

// mustBookAt books slot i of the dev advisor's duty windows.
func mustBookAt(t *testing.T, f *deviceFixture, i int) apitype.Booking {
	t.Helper()
	slots, err := f.client.Slots(context.Background(), "legal-advisor")
	if err != nil || len(slots.Slots) <= i {
		t.Fatalf("slots: %v, %d", err, len(slots.Slots))
	}
	b, err := f.client.Book(context.Background(), apitype.BookingRequest{
		Service: "legal-advisor", Topic: "其他", Name: "王秀英", Phone: "13800001111", Slot: slots.Slots[i].Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
