package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// fakeClock is the clock of the core, the case book and the sessions.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustCaseBook(t *testing.T, dir string, cfg *config.Config, clock *fakeClock) *casebook.Book {
	t.Helper()
	b, err := casebook.Open(casebook.Options{Path: filepath.Join(dir, casebook.File), Key: make([]byte, outbox.KeySize),
		Location: cfg.Location, Log: discard, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// fakeCards holds cards "read" by token, as the reader loop would.
type fakeCards struct {
	mu     sync.Mutex
	tokens map[string]core.Identity
}

func (c *fakeCards) put(token string, id core.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens[token] = id
}

func (c *fakeCards) Lookup(token string) (core.Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.tokens[token]
	return id, ok
}

func (c *fakeCards) Forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tokens, token)
}

func (c *fakeCards) Status() apitype.ReaderStatus {
	return apitype.ReaderStatus{State: apitype.ReaderReady}
}

// The dev roster's mediator is idcardsim fixture 0 with PIN 1234.
var (
	mediatorCard = core.Identity{Name: "测试一", IDNumber: "350782198506151236", IDMasked: "3507**********1236", IDType: "resident"}
	villagerCard = core.Identity{Name: "测试二", IDNumber: "35078219600301402X", IDMasked: "3507**********402X", IDType: "resident"}
)

// sessionLapse is how long the dev site's sessions last untouched: its
// ui.mediator_idle (10m) and the margin, which kioskd honours over its
// shorter mediators.idle (5m) so the screen warns and saves a draft first.
const sessionLapse = 10*time.Minute + config.MediatorLapseMargin

func mustSignIn(t *testing.T, f *fixture, cards *fakeCards) string {
	t.Helper()
	cards.put("mediator-card", mediatorCard)
	s, err := f.client.MediatorSignIn(context.Background(), "mediator-card", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if s.Mediator.ID != "dev-mediator" || s.Token == "" || !s.Expires.Equal(f.clock.Now().Add(sessionLapse)) {
		t.Fatalf("session = %+v", s)
	}
	return s.Token
}

// call sends a raw request and returns the status, the error body and the raw body.
func (f *fixture) call(t *testing.T, method, path, token, body string) (int, apitype.Error, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://kioskd"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var er apitype.ErrorResponse
	json.Unmarshal(raw, &er)
	return resp.StatusCode, er.Error, raw
}

func mustRecords(t *testing.T, ob *outbox.Outbox) []record.Envelope {
	t.Helper()
	items, err := ob.Peek(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []record.Envelope
	for _, it := range items {
		var env record.Envelope
		if err := json.Unmarshal(it.Payload, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// mustBookMediation books with the applicant's name and phone; returns the case id.
func mustBookMediation(t *testing.T, f *fixture) apitype.Mediation {
	t.Helper()
	m, err := f.client.BookMediation(context.Background(), apitype.MediationRequest{
		Venue: "tea-room", Category: "邻里", Applicant: apitype.Party{Name: "王女士", Phone: "13800001111"},
		Other: &apitype.Party{Name: "李大伯"}, Slots: []string{"2026-11-24T14:30:00+08:00", "2026-11-25T09:00:00+08:00"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustCaseID(t *testing.T, f *fixture, token string) string {
	t.Helper()
	cs, err := f.client.Cases(context.Background(), token)
	if err != nil || len(cs.Cases) == 0 {
		t.Fatalf("cases = %+v, %v", cs, err)
	}
	return cs.Cases[0].ID
}

var mediatorEndpoints = []struct{ method, path, body string }{
	{"POST", "/v1/mediator/signout", ""},
	{"GET", "/v1/mediator/cases", ""},
	{"POST", "/v1/mediator/cases", `{"category":"邻里","parties":[{"name":"王女士"}]}`},
	{"GET", "/v1/mediator/cases/x", ""},
	{"POST", "/v1/mediator/cases/x/sessions", `{}`},
	{"POST", "/v1/mediator/cases/x/followups", `{}`},
	{"POST", "/v1/mediator/cards", `{"card":"villager-card"}`},
	{"GET", "/v1/mediator/phrases", ""},
	{"GET", "/v1/mediator/followups", ""},
	{"GET", "/v1/mediator/indicators", ""},
	{"GET", "/v1/mediator/drafts", ""},
	{"PUT", "/v1/mediator/drafts/x", `{"session":{}}`},
	{"DELETE", "/v1/mediator/drafts/x", ""},
}

// TestMediatorRefusedWithoutSession: nothing of mediator mode is served,
// and nothing is read or written, without a live session.
func TestMediatorRefusedWithoutSession(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	lapsed := mustSignIn(t, f, cards)
	f.clock.Advance(sessionLapse) // idle for the whole idle time: lapsed
	signedOut := mustSignIn(t, f, cards)
	if err := f.client.MediatorSignOut(context.Background(), signedOut); err != nil {
		t.Fatal(err)
	}
	for _, token := range []struct{ name, token string }{{"none", ""}, {"unknown", "abc"}, {"lapsed", lapsed}, {"signed out", signedOut}} {
		for _, e := range mediatorEndpoints {
			t.Run(token.name+" "+e.method+" "+e.path, func(t *testing.T) {
				code, er, _ := f.call(t, e.method, e.path, token.token, e.body)
				if code != http.StatusUnauthorized || er.Code != apitype.CodeUnauthorized {
					t.Errorf("= %d %+v, want 401 unauthorized", code, er)
				}
			})
		}
	}
	if cs, _ := f.cases.List(); len(cs) != 0 {
		t.Errorf("a refused request opened a case: %+v", cs)
	}
}

// TestMediatorSessionSlides: each request restarts the idle time.
func TestMediatorSessionSlides(t *testing.T) {
	f := mustServe(t)
	token := mustSignIn(t, f, f.cards)
	ctx := context.Background()
	for range 3 {
		f.clock.Advance(sessionLapse - time.Minute)
		if _, err := f.client.Phrases(ctx, token); err != nil {
			t.Fatalf("after %v idle: %v", sessionLapse-time.Minute, err)
		}
	}
	f.clock.Advance(sessionLapse)
	var apiErr *localclient.APIError
	if _, err := f.client.Phrases(ctx, token); !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("after %v idle: %v, want 401", sessionLapse, err)
	}
}

func TestMediatorSignIn(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	cards.put("villager-card", villagerCard)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"unknown field", `{"card":"mediator-card","pin":"1234","id":"x"}`, 400, apitype.CodeUnknownField, "id"},
		{"pin not a string", `{"card":"mediator-card","pin":1234}`, 400, "invalid", "pin"},
		{"not json", `card=x`, 400, apitype.CodeBadJSON, ""},
		{"no card", `{"pin":"1234"}`, 400, "required", "card"},
		{"no pin", `{"card":"mediator-card"}`, 400, "required", "pin"},
		{"card expired", `{"card":"gone","pin":"1234"}`, 400, "card_expired", "card"},
		{"not on the roster", `{"card":"villager-card","pin":"1234"}`, 401, apitype.CodeUnauthorized, "card"},
		{"wrong pin", `{"card":"mediator-card","pin":"4321"}`, 401, apitype.CodeUnauthorized, "pin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cards.put("mediator-card", mediatorCard)
			code, er, _ := f.call(t, "POST", "/v1/mediator/signin", "", tt.body)
			if code != tt.status || er.Code != tt.code || er.Field != tt.field {
				t.Errorf("= %d %+v, want %d %s on %q", code, er, tt.status, tt.code, tt.field)
			}
		})
	}
	token := mustSignIn(t, f, cards)
	if _, ok := cards.Lookup("mediator-card"); ok {
		t.Error("the card token is still usable after sign-in")
	}
	if p, err := f.client.Phrases(context.Background(), token); err != nil || len(p.Phrases) != 10 {
		t.Errorf("phrases = %v, %v", p, err)
	}
}

// TestMediatorLockout: five wrong PINs lock the mediator for five minutes,
// even with the right PIN; then the right PIN works again.
func TestMediatorLockout(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	signIn := func(pin string) (int, apitype.Error) {
		cards.put("mediator-card", mediatorCard)
		code, er, _ := f.call(t, "POST", "/v1/mediator/signin", "", `{"card":"mediator-card","pin":"`+pin+`"}`)
		return code, er
	}
	for i := range 4 {
		if code, er := signIn("0000"); code != 401 || er.Field != "pin" {
			t.Fatalf("wrong PIN %d = %d %+v, want 401", i+1, code, er)
		}
	}
	if code, er := signIn("0000"); code != http.StatusTooManyRequests || er.Code != apitype.CodeLocked {
		t.Fatalf("fifth wrong PIN = %d %+v, want 429 locked", code, er)
	}
	f.clock.Advance(4 * time.Minute)
	if code, er := signIn("1234"); code != http.StatusTooManyRequests || er.Code != apitype.CodeLocked {
		t.Fatalf("right PIN while locked = %d %+v, want 429 locked", code, er)
	}
	f.clock.Advance(time.Minute)
	if code, er := signIn("1234"); code != http.StatusOK {
		t.Fatalf("right PIN after the lock = %d %+v", code, er)
	}
	// A success clears the count: four more wrong PINs do not lock.
	for range 4 {
		if code, _ := signIn("0000"); code != 401 {
			t.Fatalf("wrong PIN after a success = %d, want 401", code)
		}
	}
}

func TestMediationSlots(t *testing.T) {
	f := mustServe(t)
	s, err := f.client.Slots(context.Background(), "mediation")
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 10:10: today's 14:30 and 19:30, then three a day for six days.
	if len(s.Slots) != 2+6*3 || s.Slots[0].Format(time.RFC3339) != "2026-11-24T14:30:00+08:00" ||
		s.Slots[2].Format(time.RFC3339) != "2026-11-25T09:00:00+08:00" {
		t.Errorf("slots = %v", s.Slots)
	}
}

func TestBookMediation(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	cards.put("villager-card", villagerCard)
	m, err := f.client.BookMediation(context.Background(), apitype.MediationRequest{
		Venue: "red-station", Category: "房屋宅基地", Applicant: apitype.Party{Card: "villager-card", Phone: "139 0599 1234"},
		Other: &apitype.Party{Name: "王先生", Phone: "13800001111"}, Slots: []string{"2026-11-24T19:30:00+08:00"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq != 1 || m.Number != "00001" || m.Venue.Name != "红色评理站" || m.Applicant.Name != "测试二" ||
		m.Applicant.Phone != "139****1234" || m.Applicant.IDMasked == "" || m.Other == nil || m.Other.Phone != "138****1111" {
		t.Errorf("mediation = %+v", m)
	}
	recs := mustRecords(t, f.ob)
	// The booking carries whom to call back, not the card's ID number: the
	// session's record names the parties for the agreement.
	if len(recs) != 1 || recs[0].Type != "mediation_booking" || recs[0].Schema != "mediation_booking/v2" ||
		outbox.ClassOf(recs[0].Type) != outbox.Governance || strings.Contains(string(recs[0].Body), villagerCard.IDNumber) ||
		strings.Contains(string(recs[0].Body), "13905991234") {
		t.Errorf("records = %+v", recs)
	}
	cs, err := f.cases.List()
	if err != nil || len(cs) != 1 || cs[0].Status != apitype.CaseBooked || cs[0].Number != "00001" || len(cs[0].Parties) != 2 {
		t.Errorf("case book = %+v, %v", cs, err)
	}
	if _, ok := cards.Lookup("villager-card"); ok {
		t.Error("card token still usable after the booking")
	}
	ind, _ := f.agent.Indicators()
	if ind.BookingsByService["mediation"] != 1 {
		t.Errorf("bookings = %v", ind.BookingsByService)
	}
}

// TestBookMediationWithoutVenue: the kiosk's screens do not ask for a
// venue; the booking, its record and its case carry the site's venue for
// kiosk bookings, so the township still learns where the case is heard.
func TestBookMediationWithoutVenue(t *testing.T) {
	f := mustServe(t)
	m, err := f.client.BookMediation(context.Background(), apitype.MediationRequest{
		Category: "邻里", Applicant: apitype.Party{Name: "王女士", Phone: "13800001111"}, Slots: []string{"2026-11-24T19:30:00+08:00"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Venue.ID != "red-station" || m.Venue.Name != "红色评理站" {
		t.Errorf("venue = %+v, want dev.yaml's content.mediation.venue red-station", m.Venue)
	}
	recs := mustRecords(t, f.ob)
	if len(recs) != 1 || !strings.Contains(string(recs[0].Body), `"venue":{"id":"red-station"`) {
		t.Errorf("record does not carry the site's venue: %+v", recs)
	}
	cs, err := f.cases.List()
	if err != nil || len(cs) != 1 || cs[0].Venue.ID != "red-station" {
		t.Errorf("case book = %+v, %v", cs, err)
	}
}

func TestBookMediationRejects(t *testing.T) {
	f := mustServe(t)
	good := func(edit string) string {
		base := `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["2026-11-24T14:30:00+08:00"]` + edit + `}`
		return base
	}
	tests := []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"unknown field", good(`,"idcard":"1"`), apitype.CodeUnknownField, "idcard"},
		{"slots not a list", `{"venue":"tea-room","slots":"2026-11-24T14:30:00+08:00"}`, "invalid", "slots"},
		{"unknown venue", `{"venue":"pub","category":"邻里"}`, "unknown_venue", "venue"},
		{"no category", `{"venue":"tea-room"}`, "required", "category"},
		{"unknown category", `{"venue":"tea-room","category":"吵架"}`, "unknown_category", "category"},
		{"no applicant", `{"venue":"tea-room","category":"邻里","applicant":{}}`, "required", "applicant.name"},
		{"no applicant phone", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士"}}`, "required", "applicant.phone"},
		{"bad applicant phone", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"123"}}`, "invalid", "applicant.phone"},
		{"expired card", `{"venue":"tea-room","category":"邻里","applicant":{"card":"old"}}`, "card_expired", "applicant.card"},
		{"other by card", good(`,"other":{"card":"x"}`), "invalid", "other.card"},
		{"other without name", good(`,"other":{"phone":"13800001111"}`), "required", "other.name"},
		{"no slots", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":[]}`, "required", "slots"},
		{"four slots", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["2026-11-24T14:30:00+08:00","2026-11-24T19:30:00+08:00","2026-11-25T09:00:00+08:00","2026-11-25T14:30:00+08:00"]}`, "too_many", "slots"},
		{"same slot twice", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["2026-11-24T14:30:00+08:00","2026-11-24T06:30:00Z"]}`, "duplicate", "slots[1]"},
		{"slot not offered", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["2026-11-24T15:00:00+08:00"]}`, "slot_not_offered", "slots[0]"},
		{"slot past", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["2026-11-24T09:00:00+08:00"]}`, "slot_in_past", "slots[0]"},
		{"slot not a time", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["tomorrow"]}`, "invalid", "slots[0]"},
		{"slot beyond the horizon", `{"venue":"tea-room","category":"邻里","applicant":{"name":"王女士","phone":"13800001111"},"slots":["2026-12-24T09:00:00+08:00"]}`, "slot_not_offered", "slots[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, er, _ := f.call(t, "POST", "/v1/mediations", "", tt.body)
			if code != 400 || er.Code != tt.code || er.Field != tt.field {
				t.Errorf("= %d %+v, want 400 %s on %q", code, er, tt.code, tt.field)
			}
		})
	}
	if n := len(mustRecords(t, f.ob)); n != 0 {
		t.Errorf("%d records after refused bookings", n)
	}
}

func TestLogSessionRejects(t *testing.T) {
	f := mustServe(t)
	token := mustSignIn(t, f, f.cards)
	mustBookMediation(t, f)
	id := mustCaseID(t, f, token)
	good := `"category":"邻里","line":"blue","phrases":["已查看现场"],"outcome":"settled","follow_up":"2026-12-24"`
	long := strings.Repeat("调", 201)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		field  string
	}{
		{"unknown case", "/v1/mediator/cases/nope/sessions", `{` + good + `}`, 404, apitype.CodeNotFound, ""},
		{"unknown field", "", `{` + good + `,"mood":"calm"}`, 400, apitype.CodeUnknownField, "mood"},
		{"agreement not a bool", "", `{` + good + `,"agreement":"yes"}`, 400, "invalid", "agreement"},
		{"phrases not a list", "", `{"phrases":"已查看现场"}`, 400, "invalid", "phrases"},
		{"no category", "", `{"line":"blue","outcome":"settled"}`, 400, "required", "category"},
		{"unknown category", "", `{"category":"吵架","line":"blue","outcome":"settled"}`, 400, "unknown_category", "category"},
		{"no line", "", `{"category":"邻里","outcome":"settled"}`, 400, "required", "line"},
		{"bad line", "", `{"category":"邻里","line":"green","outcome":"settled"}`, 400, "invalid", "line"},
		{"unknown phrase", "", `{"category":"邻里","line":"blue","phrases":["随便聊聊"],"outcome":"settled"}`, 400, "unknown_phrase", "phrases[0]"},
		{"phrase twice", "", `{"category":"邻里","line":"blue","phrases":["已查看现场","已查看现场"],"outcome":"settled"}`, 400, "duplicate", "phrases[1]"},
		{"note too long", "", `{"category":"邻里","line":"blue","note":"` + long + `","outcome":"settled"}`, 400, "too_long", "note"},
		{"no outcome", "", `{"category":"邻里","line":"blue"}`, 400, "required", "outcome"},
		{"bad outcome", "", `{"category":"邻里","line":"blue","outcome":"won"}`, 400, "invalid", "outcome"},
		{"settled without follow-up", "", `{"category":"邻里","line":"blue","outcome":"settled"}`, 400, "required", "follow_up"},
		{"follow-up not a date", "", `{"category":"邻里","line":"blue","outcome":"settled","follow_up":"next week"}`, 400, "invalid", "follow_up"},
		{"follow-up today", "", `{"category":"邻里","line":"blue","outcome":"settled","follow_up":"2026-11-24"}`, 400, "follow_up_in_past", "follow_up"},
		{"party without name", "", `{"parties":[{"phone":"13800001111"}],` + good + `}`, 400, "required", "parties[0].name"},
		{"party bad phone", "", `{"parties":[{"name":"李大伯","phone":"12"}],` + good + `}`, 400, "invalid", "parties[0].phone"},
		{"party expired card", "", `{"parties":[{"card":"old"}],` + good + `}`, 400, "card_expired", "parties[0].card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/v1/mediator/cases/" + id + "/sessions"
			}
			code, er, _ := f.call(t, "POST", path, token, tt.body)
			if code != tt.status || er.Code != tt.code || er.Field != tt.field {
				t.Errorf("= %d %+v, want %d %s on %q", code, er, tt.status, tt.code, tt.field)
			}
		})
	}
	if n := len(mustRecords(t, f.ob)); n != 1 {
		t.Errorf("%d records after refused sessions, want only the booking", n)
	}
}

// TestSessionsAndEscalation: a red-line or referred session also sends an
// escalation, committed before the answer; a blue settled one does not.
func TestSessionsAndEscalation(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	token := mustSignIn(t, f, cards)
	ctx := context.Background()
	mustBookMediation(t, f)
	id := mustCaseID(t, f, token)
	tests := []struct {
		name      string
		req       apitype.SessionRequest
		escalated bool
		status    string
	}{
		{"yellow unsettled", apitype.SessionRequest{Category: "邻里", Line: "yellow", Outcome: "unsettled", Phrases: []string{"需进一步调查核实"}}, false, apitype.CaseOpen},
		{"red unsettled", apitype.SessionRequest{Category: "邻里", Line: "red", Outcome: "unsettled"}, true, apitype.CaseOpen},
		{"yellow referred", apitype.SessionRequest{Category: "房屋宅基地", Line: "yellow", Outcome: "referred"}, true, apitype.CaseReferred},
		{"blue settled", apitype.SessionRequest{Category: "邻里", Line: "blue", Outcome: "settled", Agreement: true, FollowUp: "2026-12-01",
			Parties: []apitype.Party{{Card: "villager-card"}}}, false, apitype.CaseSettled},
	}
	for _, tt := range tests {
		cards.put("villager-card", villagerCard)
		before := len(mustRecords(t, f.ob))
		s, err := f.client.LogSession(ctx, token, id, tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		recs := mustRecords(t, f.ob)[before:]
		if s.Escalated != tt.escalated || s.Mediator.ID != "dev-mediator" || s.ID != recs[0].ID ||
			recs[0].Type != "mediation_session" || recs[0].Schema != "mediation_session/v2" ||
			strings.Contains(string(recs[0].Body), villagerCard.IDNumber) {
			t.Errorf("%s: session %+v, records %+v", tt.name, s, recs)
		}
		if tt.escalated != (len(recs) == 2) {
			t.Errorf("%s: %d records, escalated %v", tt.name, len(recs), tt.escalated)
		}
		if len(recs) == 2 && (recs[1].Type != "escalation" || recs[1].Schema != "escalation/v2" ||
			!strings.Contains(string(recs[1].Body), s.ID) || outbox.ClassOf("escalation") != outbox.Governance) {
			t.Errorf("%s: escalation %+v", tt.name, recs[1])
		}
		k, err := f.client.Case(ctx, token, id)
		if err != nil || k.Status != tt.status {
			t.Errorf("%s: case %+v, %v", tt.name, k, err)
		}
	}
	k, _ := f.client.Case(ctx, token, id)
	if len(k.Sessions) != 4 || len(k.Parties) != 3 || len(k.FollowUps) != 1 || k.NextFollowUp == nil || k.Parties[0].Phone != "138****1111" {
		t.Errorf("case = %+v", k)
	}
}

// readCard is a card placed on the reader: like the real reader loop, the
// fake then answers only for that card.
func (c *fakeCards) readCard(token string, id core.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.tokens)
	c.tokens[token] = id
}

// TestHeldCards: a mediator logging a session with several carded parties
// holds each card as it is read, so the first is still good after the
// reader has moved on to the next; a held card is used once, and dropped
// at sign-out.
func TestHeldCards(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	token := mustSignIn(t, f, cards)
	ctx := context.Background()
	mustBookMediation(t, f)
	id := mustCaseID(t, f, token)
	partyB := core.Identity{Name: "测试三", IDNumber: "350782197001011234", IDMasked: "3507**********1234", IDType: "resident"}

	cards.readCard("card-a", villagerCard)
	a, err := f.client.HoldCard(ctx, token, "card-a")
	if err != nil || a.Name != villagerCard.Name || a.IDMasked != villagerCard.IDMasked || a.Token != "card-a" {
		t.Fatalf("hold a = %+v, %v", a, err)
	}
	cards.readCard("card-b", partyB)
	if _, err := f.client.HoldCard(ctx, token, "card-b"); err != nil {
		t.Fatal(err)
	}
	s, err := f.client.LogSession(ctx, token, id, apitype.SessionRequest{Category: "邻里", Line: "blue", Outcome: "unsettled",
		Parties: []apitype.Party{{Card: "card-a"}, {Card: "card-b"}}})
	if err != nil {
		t.Fatalf("session with two held cards: %v", err)
	}
	k, _ := f.client.Case(ctx, token, id)
	var masked []string
	for _, p := range k.Parties {
		masked = append(masked, p.IDMasked)
	}
	if !slices.Contains(masked, villagerCard.IDMasked) || !slices.Contains(masked, partyB.IDMasked) {
		t.Errorf("case parties %+v lack the held cards (session %s)", k.Parties, s.ID)
	}
	// The agreement names the parties: the session record carries both
	// ID numbers, sealed for the township.
	recs := mustRecords(t, f.ob)
	last := recs[len(recs)-1]
	opened, errs := sealed.NewOpener(mustDevRecordsKey(t)).OpenBody(last.ID, last.Body)
	if body := string(opened); len(errs) > 0 || !strings.Contains(body, villagerCard.IDNumber) || !strings.Contains(body, partyB.IDNumber) ||
		strings.Contains(string(last.Body), villagerCard.IDNumber) || strings.Contains(string(last.Body), partyB.IDNumber) {
		t.Errorf("session record lacks the parties' sealed ID numbers: %s (%v)", last.Body, errs)
	}

	tests := []struct {
		name, body, code, field string
	}{
		{"used once", `{"parties":[{"card":"card-a"}],"category":"邻里","line":"blue","outcome":"unsettled"}`, "card_expired", "parties[0].card"},
		{"hold unknown card", "", "card_expired", "card"},
		{"hold nothing", "", "required", "card"},
	}
	for _, tt := range tests {
		var code int
		var er apitype.Error
		switch tt.name {
		case "hold unknown card":
			code, er, _ = f.call(t, "POST", "/v1/mediator/cards", token, `{"card":"nope"}`)
		case "hold nothing":
			code, er, _ = f.call(t, "POST", "/v1/mediator/cards", token, `{}`)
		default:
			code, er, _ = f.call(t, "POST", "/v1/mediator/cases/"+id+"/sessions", token, tt.body)
		}
		if code != 400 || er.Code != tt.code || er.Field != tt.field {
			t.Errorf("%s: = %d %+v, want 400 %s on %s", tt.name, code, er, tt.code, tt.field)
		}
	}

	// Signing out drops what the mediator held.
	cards.readCard("card-c", villagerCard)
	if _, err := f.client.HoldCard(ctx, token, "card-c"); err != nil {
		t.Fatal(err)
	}
	if err := f.client.MediatorSignOut(ctx, token); err != nil {
		t.Fatal(err)
	}
	token = mustSignIn(t, f, cards)
	code, er, _ := f.call(t, "POST", "/v1/mediator/cases/"+id+"/sessions", token,
		`{"parties":[{"card":"card-c"}],"category":"邻里","line":"blue","outcome":"unsettled"}`)
	if code != 400 || er.Code != "card_expired" {
		t.Errorf("held card after sign-out: = %d %+v, want card_expired", code, er)
	}
}

// TestWalkInAndFollowUps: a walk-in case, a settled session, the follow-up
// list, and a visit done on time and one late.
func TestWalkInAndFollowUps(t *testing.T) {
	f := mustServe(t)
	cards := f.cards
	token := mustSignIn(t, f, cards)
	ctx := context.Background()
	code, er, _ := f.call(t, "POST", "/v1/mediator/cases", token, `{"category":"邻里","parties":[]}`)
	if code != 400 || er.Field != "parties" {
		t.Errorf("walk-in without parties = %d %+v", code, er)
	}
	code, er, _ = f.call(t, "POST", "/v1/mediator/cases", token, `{"category":"邻里","venue":"pub","parties":[{"name":"张大哥"}]}`)
	if code != 400 || er.Code != "unknown_venue" {
		t.Errorf("walk-in at an unknown venue = %d %+v", code, er)
	}
	var ids []string
	for i, due := range []string{"2026-11-26", "2026-11-28"} {
		k, err := f.client.NewCase(ctx, token, apitype.NewCase{Category: "合同", Parties: []apitype.Party{{Name: "张大哥", Phone: "13800002222"}}})
		if err != nil || k.Status != apitype.CaseOpen || k.Number != []string{"W0001", "W0002"}[i] {
			t.Fatalf("walk-in = %+v, %v", k, err)
		}
		if _, err := f.client.LogSession(ctx, token, k.ID, apitype.SessionRequest{Category: "合同", Line: "blue", Outcome: "settled", FollowUp: due}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	fu, err := f.client.FollowUps(ctx, token)
	if err != nil || len(fu.FollowUps) != 2 || fu.FollowUps[0].Due != "2026-11-26" || fu.Overdue != 0 || fu.FollowUps[0].Name != "张大哥" {
		t.Errorf("follow-ups = %+v, %v", fu, err)
	}
	f.clock.Advance(3 * 24 * time.Hour) // 2026-11-27: the first is overdue
	token = mustSignIn(t, f, cards)     // days later: the session has lapsed
	if fu, _ := f.client.FollowUps(ctx, token); fu.Overdue != 1 {
		t.Errorf("overdue = %d, want 1", fu.Overdue)
	}
	done, err := f.client.FollowUpDone(ctx, token, ids[1], apitype.FollowUpDone{Note: "协议已履行"})
	if err != nil || !done.OnTime || done.Done == nil {
		t.Errorf("visit on time = %+v, %v", done, err)
	}
	done, err = f.client.FollowUpDone(ctx, token, ids[0], apitype.FollowUpDone{})
	if err != nil || done.OnTime {
		t.Errorf("late visit = %+v, %v", done, err)
	}
	var apiErr *localclient.APIError
	if _, err := f.client.FollowUpDone(ctx, token, ids[0], apitype.FollowUpDone{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("second visit on a case with none due = %v", err)
	}
	code, er, _ = f.call(t, "POST", "/v1/mediator/cases/"+ids[0]+"/followups", token, `{"note":`+`"`+strings.Repeat("访", 201)+`"}`)
	if code != 400 || er.Code != "too_long" {
		t.Errorf("long note = %d %+v", code, er)
	}
}

func ptr(f float64) *float64 { return &f }

// TestIndicators: the arithmetic of the plan's indicators, zero cases
// included (a rate over nothing is nil, not 0 or NaN).
func TestIndicators(t *testing.T) {
	ctx := context.Background()
	type session struct {
		outcome, followUp string
	}
	tests := []struct {
		name    string
		cases   [][]session // per case, its sessions
		visits  []int       // cases whose visit is done, on the day it is due
		late    []int       // cases whose visit is done after the due day
		advance time.Duration
		want    apitype.Indicators
	}{
		{name: "no cases", want: apitype.Indicators{}},
		{name: "a case without a session", cases: [][]session{{}}, want: apitype.Indicators{}},
		{
			name:  "settled, unsettled, referred",
			cases: [][]session{{{"unsettled", ""}, {"settled", "2026-11-25"}}, {{"unsettled", ""}}, {{"referred", ""}}, {{"settled", "2026-11-26"}}},
			want: apitype.Indicators{Sessions: 5, CasesClosed: 3, Settled: 2, SuccessRate: ptr(0.5),
				FollowUpsDue: 2},
		},
		{
			name:    "visits on time, late and overdue",
			cases:   [][]session{{{"settled", "2026-11-25"}}, {{"settled", "2026-11-25"}}, {{"settled", "2026-11-25"}}, {{"settled", "2026-11-30"}}},
			visits:  []int{0},
			late:    []int{1},
			advance: 2 * 24 * time.Hour,
			// 2026-11-26: case 0 on time, case 1 late, case 2 overdue, case 3 not yet due.
			want: apitype.Indicators{Sessions: 4, CasesClosed: 4, Settled: 4, SuccessRate: ptr(1),
				FollowUpsDue: 2, FollowUpsDone: 2, FollowUpsOnTime: 1, OnTimeRate: ptr(1.0 / 3)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustServe(t)
			cards := f.cards
			token := mustSignIn(t, f, cards)
			var ids []string
			for _, ss := range tt.cases {
				k, err := f.client.NewCase(ctx, token, apitype.NewCase{Category: "邻里", Parties: []apitype.Party{{Name: "王女士"}}})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, k.ID)
				for _, s := range ss {
					if _, err := f.client.LogSession(ctx, token, k.ID, apitype.SessionRequest{Category: "邻里", Line: "blue", Outcome: s.outcome, FollowUp: s.followUp}); err != nil {
						t.Fatal(err)
					}
				}
			}
			f.clock.Advance(24 * time.Hour) // 2026-11-25, the first due day
			token = mustSignIn(t, f, cards)
			for _, i := range tt.visits {
				if _, err := f.client.FollowUpDone(ctx, token, ids[i], apitype.FollowUpDone{}); err != nil {
					t.Fatal(err)
				}
			}
			f.clock.Advance(tt.advance)
			token = mustSignIn(t, f, cards)
			for _, i := range tt.late {
				if _, err := f.client.FollowUpDone(ctx, token, ids[i], apitype.FollowUpDone{}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.client.Indicators(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			sameRate := func(a, b *float64) bool {
				if a == nil || b == nil {
					return a == b
				}
				return math.Abs(*a-*b) < 1e-9
			}
			w := tt.want
			if got.Sessions != w.Sessions || got.CasesClosed != w.CasesClosed || got.Settled != w.Settled ||
				got.FollowUpsDue != w.FollowUpsDue || got.FollowUpsDone != w.FollowUpsDone || got.FollowUpsOnTime != w.FollowUpsOnTime ||
				!sameRate(got.SuccessRate, w.SuccessRate) || !sameRate(got.OnTimeRate, w.OnTimeRate) {
				t.Errorf("indicators = %s\nwant %s", mustJSON(t, got), mustJSON(t, w))
			}
			if got.Since.IsZero() {
				t.Error("since is zero")
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBookingsCounted: consultation and check-up bookings count per service,
// and telemetry carries the indicators to the township.
func TestBookingsCounted(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	if _, err := f.client.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英", Phone: "13800001111", Slot: "2026-11-24T10:30:00+08:00"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Book(ctx, apitype.BookingRequest{Service: "legal-checkup", Name: "王秀英", Phone: "13800001111", Slot: "2026-11-24T11:00:00+08:00",
		Checkup: []apitype.CheckupAnswer{{Question: "family-land", Yes: true}, {Question: "family-will"}}}); err != nil {
		t.Fatal(err)
	}
	mustBookMediation(t, f)
	if err := f.agent.Telemetry(ctx); err != nil {
		t.Fatal(err)
	}
	recs := mustRecords(t, f.ob)
	tel := recs[len(recs)-1]
	var body schema.TelemetryV1
	if err := json.Unmarshal(tel.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"legal-advisor": 1, "legal-checkup": 1, "mediation": 1}
	if body.Indicators == nil || string(mustJSON(t, body.Indicators.BookingsByService)) != string(mustJSON(t, want)) {
		t.Errorf("telemetry indicators = %s", mustJSON(t, body.Indicators))
	}
	if !bytes.Contains(recs[1].Body, []byte(`"kind":"family"`)) || !bytes.Contains(recs[1].Body, []byte("承包地")) {
		t.Errorf("check-up booking body = %s", recs[1].Body)
	}
}

func TestCheckupBookingRejects(t *testing.T) {
	f := mustServe(t)
	base := `"name":"王秀英","phone":"13800001111","slot":"2026-11-24T10:30:00+08:00"`
	tests := []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"no answers", `{"service":"legal-checkup",` + base + `}`, "required", "checkup"},
		{"unknown question", `{"service":"legal-checkup",` + base + `,"checkup":[{"question":"family-car","yes":true}]}`, "unknown_question", "checkup[0].question"},
		{"two questionnaires", `{"service":"legal-checkup",` + base + `,"checkup":[{"question":"family-land"},{"question":"biz-labour"}]}`, "invalid", "checkup[1].question"},
		{"answered twice", `{"service":"legal-checkup",` + base + `,"checkup":[{"question":"family-land"},{"question":"family-land"}]}`, "invalid", "checkup[1].question"},
		{"yes not a bool", `{"service":"legal-checkup",` + base + `,"checkup":[{"question":"family-land","yes":"是"}]}`, "invalid", "checkup.yes"},
		{"answers on a consultation", `{"service":"legal-advisor","topic":"婚姻家庭",` + base + `,"checkup":[{"question":"family-land"}]}`, "invalid", "checkup"},
		{"unknown topic", `{"service":"legal-checkup","topic":"打官司",` + base + `,"checkup":[{"question":"family-land"}]}`, "unknown_topic", "topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, er := f.post(t, tt.body)
			if code != 400 || er.Code != tt.code || er.Field != tt.field {
				t.Errorf("= %d %+v, want 400 %s on %q", code, er, tt.code, tt.field)
			}
		})
	}
}

// TestMenuContent: the villager content, with past events dropped and the
// rest soonest first.
func TestMenuContent(t *testing.T) {
	f := mustServe(t)
	m, err := f.client.Menu(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := m.Content
	if c.Lecture.Theme == "" || len(c.Lecture.Schedule) != 3 || c.Lecture.Schedule[0].Title != "宅基地与农房继承" ||
		len(c.Fairs) != 2 || len(c.Checkup) != 2 || len(c.Publicity) != 3 || len(c.Venues) != 4 || len(c.Categories) != 14 {
		t.Fatalf("content = %s", mustJSON(t, c))
	}
	if c.BookingVenue != "red-station" {
		t.Errorf("booking venue %q, want dev.yaml's content.mediation.venue red-station", c.BookingVenue)
	}
	for i := 1; i < len(c.Lecture.Schedule); i++ {
		if !c.Lecture.Schedule[i].At.After(c.Lecture.Schedule[i-1].At) {
			t.Errorf("schedule not soonest first: %v", c.Lecture.Schedule)
		}
	}
	if got := c.Lecture.Schedule[0].At.Format(time.RFC3339); got != "2026-12-12T09:30:00+08:00" {
		t.Errorf("first lecture at %s", got)
	}
	f.clock.Advance(30 * 24 * time.Hour) // 2026-12-24: the December events are past
	m, _ = f.client.Menu(context.Background())
	if len(m.Content.Lecture.Schedule) != 2 || len(m.Content.Fairs) != 1 {
		t.Errorf("a month later: schedule %v fairs %v", m.Content.Lecture.Schedule, m.Content.Fairs)
	}
}

// TestMenuPanel: the menu carries the board profile's panel, diagonal and
// all, so the screen can size its type in points (the dev board stands in
// for the 10.1" 1280×800 kiosk).
func TestMenuPanel(t *testing.T) {
	f := mustServe(t)
	m, err := f.client.Menu(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Panel; p == nil || *p != (apitype.Panel{Width: 1280, Height: 800, Diagonal: 10.1}) {
		t.Errorf("panel = %s, want the dev board's 1280×800 10.1\"", mustJSON(t, p))
	}
}
