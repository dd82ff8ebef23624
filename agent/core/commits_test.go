package core_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/request"
)

// requestSecret is the test kiosks' request secret.
var requestSecret = bytes.Repeat([]byte{9}, request.SecretSize)

type offlineLink struct{}

func (offlineLink) State() (string, time.Time, string) { return "disconnected", time.Time{}, "" }
func (offlineLink) Nudge()                             {}

// kiosk is the agent's core over a real outbox and case book, serving the
// real local API on a unix socket, as kioskd wires them.
type kiosk struct {
	cfg    *config.Config
	ob     *outbox.Outbox
	cases  *casebook.Book
	agent  *core.Core
	client *localclient.Client
}

func mustServeKiosk(tb testing.TB) *kiosk {
	tb.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	log := slog.New(slog.DiscardHandler)
	key := make([]byte, outbox.KeySize)
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dir, "kiosk.db"), Key: key, Log: log, Quota: 1 << 30})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ob.Close() })
	cases, err := casebook.Open(casebook.Options{Path: filepath.Join(dir, casebook.File), Key: key, Location: cfg.Location, Log: log, Now: time.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cases.Close() })
	agent := core.New(core.Options{Config: cfg, Version: "test", Outbox: ob, Link: offlineLink{}, CaseBook: cases,
		RequestSecret: requestSecret, Log: log, Now: time.Now})
	socket := filepath.Join(dir, "api.sock")
	ln, err := localapi.Listen(socket)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { localapi.Serve(ctx, ln, localapi.NewHandler(agent, offlineLink{}, nil, log)); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return &kiosk{cfg: cfg, ob: ob, cases: cases, agent: agent, client: localclient.New(socket)}
}

// TestBookingCostsOneCommit: a booking made through the local API costs one
// commit of the outbox and nothing else, and a mediation booking one of the
// outbox and one of the case book (its case). The indicators' booking
// counts come from the same commits. A second write per request, outside
// the group commit, halved the API's intake once; this keeps it from
// coming back quietly.
func TestBookingCostsOneCommit(t *testing.T) {
	k := mustServeKiosk(t)
	ctx := context.Background()
	ob, cases, agent, c, cfg := k.ob, k.cases, k.agent, k.client, k.cfg

	slots, err := c.Slots(ctx, "legal-advisor")
	if err != nil || len(slots.Slots) == 0 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	obBefore, casesBefore := ob.Stats().Commits, cases.Commits()
	const bookings = 12
	for i := range bookings {
		_, err := c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英",
			Phone: "13800001111", Slot: slots.Slots[i%len(slots.Slots)].Format(time.RFC3339)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := ob.Stats().Commits - obBefore; got != bookings {
		t.Errorf("%d bookings, one after another, took %d outbox commits", bookings, got)
	}
	if got := cases.Commits() - casesBefore; got != 0 {
		t.Errorf("%d bookings took %d case book commits besides", bookings, got)
	}

	mslots, err := c.Slots(ctx, "mediation")
	if err != nil || len(mslots.Slots) == 0 {
		t.Fatalf("mediation slots: %v %v", mslots, err)
	}
	obBefore, casesBefore = ob.Stats().Commits, cases.Commits()
	_, err = c.BookMediation(ctx, apitype.MediationRequest{Venue: cfg.Site.Content.Venues[0].ID, Category: "邻里",
		Applicant: apitype.Party{Name: "李德福", Phone: "13987654321"}, Slots: []string{mslots.Slots[0].Format(time.RFC3339)}})
	if err != nil {
		t.Fatal(err)
	}
	if ob, cb := ob.Stats().Commits-obBefore, cases.Commits()-casesBefore; ob != 1 || cb != 1 {
		t.Errorf("a mediation booking took %d outbox and %d case book commits; want 1 and 1 (the record, its case)", ob, cb)
	}

	ind, err := agent.Indicators()
	if err != nil {
		t.Fatal(err)
	}
	if ind.BookingsByService["legal-advisor"] != bookings || ind.BookingsByService["mediation"] != 1 {
		t.Errorf("bookings by service = %v", ind.BookingsByService)
	}
}

// TestRequestCostsOneCommit: a villager's request, its local status and
// its count for the indicators cost one outbox commit together, anonymous
// or not, and nothing of the case book.
func TestRequestCostsOneCommit(t *testing.T) {
	k := mustServeKiosk(t)
	ctx := context.Background()
	ob, cases, c := k.ob, k.cases, k.client

	obBefore, casesBefore := ob.Stats().Commits, cases.Commits()
	const requests = 12
	for i := range requests {
		req := apitype.RequestSubmit{Kind: "concern", Category: "roads", Phrases: []string{"路灯不亮"}, Place: "stone-bridge", Phone: "13905991234"}
		if i%2 == 1 {
			req = apitype.RequestSubmit{Kind: "report", Category: "sanitation", Phrases: []string{"有人往溪里倒垃圾"}, Anonymous: true}
		}
		if _, err := c.SubmitRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if got := ob.Stats().Commits - obBefore; got != requests {
		t.Errorf("%d requests, one after another, took %d outbox commits", requests, got)
	}
	if got := cases.Commits() - casesBefore; got != 0 {
		t.Errorf("%d requests took %d case book commits besides", requests, got)
	}
	tallies, err := ob.Tallies("requests/")
	if err != nil {
		t.Fatal(err)
	}
	if tallies["roads"] != requests/2 || tallies["sanitation"] != requests/2 {
		t.Errorf("requests counted %v", tallies)
	}
	ind, err := k.agent.Indicators()
	if err != nil {
		t.Fatal(err)
	}
	if ind.EventsCollected != requests || ind.EventsByCategory["roads"] != requests/2 {
		t.Errorf("事件采集数 = %d, by category %v", ind.EventsCollected, ind.EventsByCategory)
	}
	// The township reads it from telemetry without asking.
	if err := k.agent.Telemetry(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := ob.Peek(0, 100)
	if err != nil || len(items) == 0 {
		t.Fatal(items, err)
	}
	if last := items[len(items)-1].Payload; !strings.Contains(string(last), `"events_collected":12,"events_by_category":{"roads":6,"sanitation":6}`) {
		t.Errorf("telemetry without the events collected: %s", last)
	}
}
