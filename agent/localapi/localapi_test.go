package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/points"
)

type fakeLink struct{}

func (fakeLink) State() (string, time.Time, string) { return "disconnected", time.Time{}, "refused" }
func (fakeLink) Nudge()                             {}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// Tuesday 2026-11-24 10:10 in Wuyishan; the dev advisor is on duty until 12:00.
var now = time.Date(2026, 11, 24, 10, 10, 0, 0, time.FixedZone("CST", 8*3600))

type fixture struct {
	socket string
	ob     *outbox.Outbox
	raw    *http.Client
	client *localclient.Client
	agent  *core.Core
	clock  *fakeClock
	cases  *casebook.Book
	cards  *fakeCards
	dir    string
	// points is the 美德银行 book, keyed with pointsKey.
	points *points.Book
}

// mustServe runs the real core over a real outbox and case book behind the
// API on a unix socket, with fake cards and no other devices.
func mustServe(t *testing.T) *fixture { return mustServeWith(t, serveOptions{}) }

// mustServeQuota is mustServe with the outbox's byte quota (0: default).
func mustServeQuota(t *testing.T, quota int64) *fixture {
	return mustServeWith(t, serveOptions{quota: quota})
}

// serveOptions are what a test changes of mustServe's kiosk; a device left
// nil is absent.
type serveOptions struct {
	quota    int64
	speaker  core.Speaker
	printer  core.Printer
	hardware core.Hardware
}

func mustServeWith(t *testing.T, opts serveOptions) *fixture {
	t.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clock := &fakeClock{t: now}
	// The outbox keeps the core's clock, so a record's commit time (the age
	// telemetry reports) is the test's time, not the machine's.
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dir, "kiosk.db"), Key: make([]byte, outbox.KeySize), Quota: opts.quota, Log: discard, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	cases := mustCaseBook(t, dir, cfg, clock)
	cards := &fakeCards{tokens: map[string]core.Identity{}}
	book, err := points.New(points.Options{Dir: dir, SealKey: make([]byte, 32), Key: mustPointsKey(t), Log: discard, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	book.Load()
	agent := core.New(core.Options{Config: cfg, Version: "test", Outbox: ob, Link: fakeLink{},
		Cards: cards, CaseBook: cases, Speaker: opts.speaker, Printer: opts.printer, Hardware: opts.hardware,
		RequestSecret: requestSecret, Points: book, Log: discard, Now: clock.Now})
	socket := filepath.Join(dir, "api.sock")
	ln, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, NewHandler(agent, fakeLink{}, nil, discard)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Serve returned %v", err)
		}
	})
	raw := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	return &fixture{socket: socket, ob: ob, raw: raw, client: localclient.New(socket), agent: agent, clock: clock, cases: cases, cards: cards, dir: dir, points: book}
}

func (f *fixture) post(t *testing.T, body string) (int, apitype.Error) {
	t.Helper()
	resp, err := f.raw.Post("http://kioskd/v1/bookings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var er apitype.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&er)
	return resp.StatusCode, er.Error
}

const goodBody = `{"service":"legal-advisor","topic":"婚姻家庭","name":"王秀英","phone":"13800001111","slot":"2026-11-24T10:30:00+08:00"}`

func TestBookingCommitsBeforeAnswering(t *testing.T) {
	f := mustServe(t)
	b, err := f.client.Book(context.Background(), apitype.BookingRequest{
		Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英", Phone: "13800001111", Slot: "2026-11-24T10:30:00+08:00",
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == "" || b.Seq != 1 || b.Number != "00001" || b.Phone != "138****1111" || b.Advisor != "林晓明" {
		t.Errorf("booking = %+v", b)
	}
	items, err := f.ob.Peek(0, 10)
	if err != nil || len(items) != 1 || !strings.Contains(string(items[0].Payload), b.ID) {
		t.Fatalf("outbox after 201: %v %v", items, err)
	}
}

func TestBadRequests(t *testing.T) {
	f := mustServe(t)
	tests := []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"unknown field", `{"service":"legal-advisor","idcard":"350102199001011234"}`, apitype.CodeUnknownField, "idcard"},
		{"not json", `service=legal-advisor`, apitype.CodeBadJSON, ""},
		{"truncated", `{"service":"legal-advisor"`, apitype.CodeBadJSON, ""},
		{"empty", ``, apitype.CodeBadJSON, ""},
		{"two objects", goodBody + goodBody, apitype.CodeBadJSON, ""},
		{"wrong type", `{"service":"legal-advisor","phone":13800001111}`, "invalid", "phone"},
		{"too large", `{"name":"` + strings.Repeat("王", MaxBodyBytes) + `"}`, apitype.CodeTooLarge, ""},
		{"unknown service", strings.Replace(goodBody, "legal-advisor", "notary", 1), "unknown_service", "service"},
		{"bad phone", strings.Replace(goodBody, "13800001111", "12345", 1), "invalid", "phone"},
		{"slot in the past", strings.Replace(goodBody, "10:30", "09:30", 1), "slot_in_past", "slot"},
		{"slot not offered", strings.Replace(goodBody, "10:30", "10:45", 1), "slot_not_offered", "slot"},
		{"missing name", strings.Replace(goodBody, "王秀英", "", 1), "required", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := f.post(t, tt.body)
			if status != http.StatusBadRequest || e.Code != tt.code || e.Field != tt.field || e.Message == "" {
				t.Errorf("got %d %+v, want 400 %s/%s", status, e, tt.code, tt.field)
			}
		})
	}
	if f.ob.Depth() != 0 {
		t.Errorf("bad requests left %d records", f.ob.Depth())
	}
}

func TestStorageFailureIs503AndNotABooking(t *testing.T) {
	f := mustServe(t)
	f.ob.Close()
	status, e := f.post(t, goodBody)
	if status != http.StatusServiceUnavailable || e.Code != apitype.CodeStorage {
		t.Errorf("got %d %+v", status, e)
	}
	var apiErr *localclient.APIError
	_, err := f.client.Book(context.Background(), apitype.BookingRequest{})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("typed client error = %v", err)
	}
}

// TestStorageFullIs507: at the quota a booking is refused with a code the UI
// can explain, and the bookings already taken stay queued.
func TestStorageFullIs507(t *testing.T) {
	f := mustServeQuota(t, 2000)
	taken := 0
	for range 20 {
		status, e := f.post(t, goodBody)
		if status == http.StatusCreated {
			taken++
			continue
		}
		if status != http.StatusInsufficientStorage || e.Code != apitype.CodeStorageFull || e.Message == "" {
			t.Fatalf("at the quota got %d %+v, want 507 storage_full", status, e)
		}
		break
	}
	if taken == 0 || taken == 20 || f.ob.Depth() != taken {
		t.Errorf("taken %d, depth %d", taken, f.ob.Depth())
	}
	st, err := f.client.Status(context.Background())
	if err != nil || st.Queue.Depth != taken || st.Queue.Quota != 2000 || st.Queue.Bytes == 0 || st.Queue.OldestAt == nil {
		t.Errorf("status queue = %+v, %v", st.Queue, err)
	}
}

func TestDeadLetterEndpoints(t *testing.T) {
	f := mustServe(t)
	f.post(t, goodBody)
	f.post(t, goodBody)
	if _, err := f.ob.Fail(2, "broker closed the connection on it", true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := f.client.DeadLetters(ctx)
	if err != nil || len(d.DeadLetters) != 1 || d.DeadLetters[0].Seq != 2 || d.DeadLetters[0].Type != "booking" {
		t.Fatalf("dead letters = %+v, %v", d, err)
	}
	if st, _ := f.client.Status(ctx); st.Queue.DeadLetters != 1 || st.Queue.Depth != 1 {
		t.Errorf("status queue = %+v", st.Queue)
	}
	var apiErr *localclient.APIError
	if err := f.client.Requeue(ctx, 1); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("requeue of a live record = %v, want 404", err)
	}
	resp, err := f.raw.Post("http://kioskd/v1/outbox/dead/x/requeue", "", nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("requeue of seq x = %v %v", resp.StatusCode, err)
	}
	if err := f.client.Requeue(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.client.Status(ctx); st.Queue.DeadLetters != 0 || st.Queue.Depth != 2 {
		t.Errorf("after requeue status queue = %+v", st.Queue)
	}
	if err := f.client.RetryLink(ctx); err != nil {
		t.Error(err)
	}
}

func TestReadEndpoints(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	st, err := f.client.Status(ctx)
	if err != nil || st.Kiosk != "dev-kiosk-01" || st.Broker.State != "disconnected" || st.Broker.LastError != "refused" {
		t.Errorf("status = %+v, %v", st, err)
	}
	m, err := f.client.Menu(ctx)
	if err != nil || len(m.Services) != 5 || m.Advisor.Name != "林晓明" || len(m.Topics) != 5 {
		t.Fatalf("menu = %+v, %v", m, err)
	}
	for _, s := range m.Services {
		if len(s.Platforms) != 3 {
			t.Errorf("%s has %d platforms", s.ID, len(s.Platforms))
		}
		if s.Bookable != (s.ID == "legal-advisor" || s.ID == "legal-checkup") {
			t.Errorf("%s bookable = %v", s.ID, s.Bookable)
		}
		if on := s.Platforms[1]; on.ID != apitype.PlatformOnline || on.URL != "https://msl.dev-township.example/service/"+s.ID {
			t.Errorf("%s online platform = %+v, want its 闽事理 link", s.ID, on)
		}
	}
	if !m.Voice || m.BookingLookup != devLookup+"{number}" {
		t.Errorf("menu voice = %v, booking lookup = %q", m.Voice, m.BookingLookup)
	}
	slots, err := f.client.Slots(ctx, "legal-advisor")
	if err != nil || len(slots.Slots) == 0 || !slots.Slots[0].Equal(time.Date(2026, 11, 24, 10, 30, 0, 0, now.Location())) {
		t.Errorf("slots = %v, %v", slots, err)
	}
	_, err = f.client.Slots(ctx, "legal-fair")
	var apiErr *localclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "not_bookable" {
		t.Errorf("slots of a service without bookings: %v", err)
	}
	resp, err := f.raw.Get("http://kioskd/v2/everything")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown endpoint: %v %v", resp, err)
	}
}

func TestListen(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "run", "kioskd.sock")
	ln, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(socket)
	if err != nil || fi.Mode().Perm() != SocketMode {
		t.Errorf("socket mode = %v, %v", fi.Mode().Perm(), err)
	}
	if _, err := Listen(socket); !errors.Is(err, ErrInUse) {
		t.Errorf("second Listen = %v, want ErrInUse", err)
	}
	// A crash leaves the socket file behind; the next start replaces it.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln, err = Listen(socket)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()

	plain := filepath.Join(dir, "file")
	os.WriteFile(plain, nil, 0o600)
	if _, err := Listen(plain); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a regular file = %v", err)
	}
}
