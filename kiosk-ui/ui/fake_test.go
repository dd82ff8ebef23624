package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

var cst = time.FixedZone("CST", 8*3600)

// The mediator the fake kioskd knows: this card token and PIN.
const (
	expiredToken  = "tok-expired" // a card kioskd no longer knows
	mediatorToken = "tok-med"
	mediatorPIN   = "2468"
)

// fakeAgent stands in for kioskd.
type fakeAgent struct {
	mu          sync.Mutex
	status      apitype.Status
	devices     apitype.Devices
	slots       []time.Time
	medSlots    []time.Time
	bookErrs    []error // returned, in order, before bookings succeed
	booked      []apitype.BookingRequest
	mediated    []apitype.MediationRequest
	calls       int
	spoken      []string
	printed     []string
	signIns     int
	session     string // the valid mediator session token
	cases       []apitype.Case
	sessions    []apitype.SessionRequest
	followed    []string
	indicator   apitype.Indicators
	held        []string // card tokens a mediator held
	photos      []apitype.PhotoRequest
	sessionErr  error               // LogSession fails with it when set
	holdErr     error               // returned by HoldCard when set
	idleSeconds int                 // the site's ui.idle in the menu; 0 leaves it out
	editMenu    func(*apitype.Menu) // township content pushed since start
	menuErrs    int                 // Menu fails this many more times
	panel       *apitype.Panel      // the menu's panel; mustUI sets the board's for its window
	drafts      fakeDrafts          // mediators' drafts (draft_test.go)
	phrased     int                 // GET phrases asked, with a token good or not
	inUse       []time.Duration     // POST /v1/screen/in-use marks (inuse_test.go)
	req         fakeRequests        // 我要反映 (fake_requests_test.go)
	pts         fakePoints          // 美德银行 (fake_points_test.go)

	// printedEvents are the event slips printed: "service RFC3339-start".
	printedEvents []string
}

func newFakeAgent() *fakeAgent {
	f := &fakeAgent{
		status: apitype.Status{Kiosk: "k1", Broker: apitype.BrokerStatus{State: "connected"}},
		devices: apitype.Devices{Printer: apitype.DeviceStatus{State: apitype.DeviceReady}, Speech: apitype.DeviceStatus{State: apitype.DeviceReady},
			Camera: apitype.DeviceStatus{State: apitype.DeviceReady}},
		slots: []time.Time{
			time.Date(2026, 11, 26, 14, 30, 0, 0, cst),
			time.Date(2026, 11, 26, 15, 0, 0, 0, cst),
			time.Date(2026, 11, 27, 9, 0, 0, 0, cst),
		},
		medSlots: []time.Time{
			time.Date(2026, 11, 26, 9, 0, 0, 0, cst),
			time.Date(2026, 11, 26, 14, 30, 0, 0, cst),
			time.Date(2026, 11, 26, 19, 30, 0, 0, cst),
			time.Date(2026, 11, 27, 9, 0, 0, 0, cst),
			time.Date(2026, 11, 27, 19, 30, 0, 0, cst),
		},
		cases: []apitype.Case{{
			CaseSummary: apitype.CaseSummary{ID: "case-1", Number: "00012", Status: apitype.CaseBooked, Category: "邻里",
				Venue: "茶室评理室", Applicant: "王女士", Opened: time.Date(2026, 11, 24, 10, 0, 0, 0, cst)},
			Parties: []apitype.PartySummary{{Name: "王女士", Phone: "138****1111"}},
			Slots:   []time.Time{time.Date(2026, 11, 26, 19, 30, 0, 0, cst)},
		}},
		// As kioskd would count them beside FollowUps below: one visit
		// waiting, and overdue.
		indicator: apitype.Indicators{Sessions: 6, CasesClosed: 4, Settled: 3, CasesWithOutcome: 5, SuccessRate: ptr(0.6),
			FollowUpsDue: 1, FollowUpsOverdue: 1, FollowUpsDone: 2, FollowUpsOnTime: 1, OnTimeRate: ptr(1.0 / 3),
			BookingsByService: map[string]int{"legal-advisor": 12, "legal-checkup": 3, "mediation": 4},
			Since:             time.Date(2026, 11, 1, 9, 0, 0, 0, cst), AsOf: time.Date(2026, 11, 25, 10, 0, 0, 0, cst)},
	}
	f.pushLedger(1, 128, testEntries...) // 美德银行: the village's ledger, 陈桂英 with 128 points
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fakeAgent) Status(context.Context) (apitype.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *fakeAgent) Devices(context.Context) (apitype.Devices, error) { return f.devices, nil }

func (f *fakeAgent) Speak(_ context.Context, text string) error {
	f.spoken = append(f.spoken, text)
	return nil
}

func (f *fakeAgent) Print(_ context.Context, id string) error {
	f.printed = append(f.printed, id)
	return nil
}

func (f *fakeAgent) PrintEvent(_ context.Context, service string, at time.Time) error {
	f.printedEvents = append(f.printedEvents, service+" "+at.Format(time.RFC3339))
	return nil
}

func (f *fakeAgent) Menu(context.Context) (apitype.Menu, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.menuErrs > 0 {
		f.menuErrs--
		return apitype.Menu{}, errors.New("kioskd restarting")
	}
	m := testMenu()
	m.Content.BookingVenue = "tea" // the site's venue for kiosk mediation bookings
	m.IdleSeconds = f.idleSeconds
	m.Panel = f.panel
	if f.editMenu != nil {
		f.editMenu(&m)
	}
	return m, nil
}

func (f *fakeAgent) Slots(_ context.Context, service string) (apitype.Slots, error) {
	if service == mediationService {
		return apitype.Slots{Service: service, Slots: f.medSlots}, nil
	}
	return apitype.Slots{Service: service, Slots: f.slots}, nil
}

// nextErr pops the next error to return, if any.
func (f *fakeAgent) nextErr() error {
	f.calls++
	if len(f.bookErrs) > 0 {
		err := f.bookErrs[0]
		f.bookErrs = f.bookErrs[1:]
		return err
	}
	return nil
}

func (f *fakeAgent) Book(_ context.Context, req apitype.BookingRequest) (apitype.Booking, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextErr(); err != nil {
		return apitype.Booking{}, err
	}
	f.booked = append(f.booked, req)
	slot, _ := time.Parse(time.RFC3339, req.Slot)
	return apitype.Booking{ID: "0193-booking", Seq: 7, Number: "00007", Service: req.Service, Topic: req.Topic,
		Name: req.Name, Phone: "138****1111", Slot: slot, Advisor: "林晓明"}, nil
}

func (f *fakeAgent) BookMediation(_ context.Context, req apitype.MediationRequest) (apitype.Mediation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextErr(); err != nil {
		return apitype.Mediation{}, err
	}
	f.mediated = append(f.mediated, req)
	m := apitype.Mediation{ID: "0193-mediation", Seq: 8, Number: "00008", Category: req.Category,
		Venue: apitype.Venue{ID: req.Venue, Name: "茶室评理室", Where: "村文化礼堂东侧"}, Applicant: apitype.PartySummary{Name: "王女士", Phone: "138****1111"}}
	for _, s := range req.Slots {
		t, _ := time.Parse(time.RFC3339, s)
		m.Slots = append(m.Slots, t)
	}
	return m, nil
}

func (f *fakeAgent) CardEvents(ctx context.Context, after uint64, wait time.Duration) (apitype.CardEvents, error) {
	<-ctx.Done()
	return apitype.CardEvents{Next: after}, ctx.Err()
}

func (f *fakeAgent) Presence(ctx context.Context, after uint64, wait time.Duration) (apitype.PresenceEvents, error) {
	<-ctx.Done()
	return apitype.PresenceEvents{Seq: after}, ctx.Err()
}

var errUnauthorized = &localclient.APIError{StatusCode: 401, Code: apitype.CodeUnauthorized, Message: "sign in"}

func (f *fakeAgent) auth(token string) error {
	if f.session == "" || token != f.session {
		return errUnauthorized
	}
	return nil
}

// errCardExpired is kioskd's answer to a card token it no longer knows.
var errCardExpired = &localclient.APIError{StatusCode: 400, Code: apitype.CodeCardExpired, Field: "card", Message: "tap again"}

// MediatorSignIn answers as kioskd does: 401 on field card for a card not on
// the roster, on field pin for a wrong PIN.
func (f *fakeAgent) MediatorSignIn(_ context.Context, card, pin string) (apitype.MediatorSession, error) {
	f.signIns++
	switch {
	case card == expiredToken:
		return apitype.MediatorSession{}, errCardExpired
	case card != mediatorToken:
		return apitype.MediatorSession{}, &localclient.APIError{StatusCode: 401, Code: apitype.CodeUnauthorized, Field: "card", Message: "not on the roster"}
	case pin != mediatorPIN:
		return apitype.MediatorSession{}, &localclient.APIError{StatusCode: 401, Code: apitype.CodeUnauthorized, Field: "pin", Message: "wrong PIN"}
	}
	f.session = fmt.Sprintf("sess-%d", f.signIns)
	return apitype.MediatorSession{Token: f.session, Mediator: apitype.Mediator{ID: "m01", Name: "张桂英"}}, nil
}

func (f *fakeAgent) MediatorSignOut(_ context.Context, token string) error {
	if token == f.session {
		f.session = ""
	}
	return nil
}

func (f *fakeAgent) Cases(_ context.Context, token string) (apitype.Cases, error) {
	if err := f.auth(token); err != nil {
		return apitype.Cases{}, err
	}
	var out apitype.Cases
	for _, c := range f.cases {
		out.Cases = append(out.Cases, c.CaseSummary)
	}
	return out, nil
}

func (f *fakeAgent) Case(_ context.Context, token, id string) (apitype.Case, error) {
	if err := f.auth(token); err != nil {
		return apitype.Case{}, err
	}
	for _, c := range f.cases {
		if c.ID == id {
			return c, nil
		}
	}
	return apitype.Case{}, &localclient.APIError{StatusCode: 404, Code: apitype.CodeNotFound}
}

func (f *fakeAgent) NewCase(_ context.Context, token string, req apitype.NewCase) (apitype.Case, error) {
	if err := f.auth(token); err != nil {
		return apitype.Case{}, err
	}
	c := apitype.Case{CaseSummary: apitype.CaseSummary{ID: fmt.Sprintf("case-%d", len(f.cases)+1), Number: "00020",
		Status: apitype.CaseOpen, Category: req.Category, Applicant: "来访"}}
	f.cases = append(f.cases, c)
	return c, nil
}

func (f *fakeAgent) LogSession(_ context.Context, token, caseID string, req apitype.SessionRequest) (apitype.Session, error) {
	if err := f.auth(token); err != nil {
		return apitype.Session{}, err
	}
	if f.sessionErr != nil {
		return apitype.Session{}, f.sessionErr
	}
	f.sessions = append(f.sessions, req)
	f.drafts.logged(caseID) // kioskd drops the form's draft with the session
	s := apitype.Session{ID: "s1", Outcome: req.Outcome, Phrases: req.Phrases, Held: time.Date(2026, 11, 25, 10, 0, 0, 0, cst),
		Escalated: req.Line == apitype.LineRed || req.Outcome == apitype.OutcomeReferred, Mediator: apitype.Mediator{Name: "张桂英"}}
	for i := range f.cases {
		if f.cases[i].ID == caseID {
			f.cases[i].Sessions = append(f.cases[i].Sessions, s)
			if req.FollowUp != "" {
				f.cases[i].FollowUps = append(f.cases[i].FollowUps, apitype.FollowUp{Case: caseID, Due: req.FollowUp})
			}
		}
	}
	return s, nil
}

func (f *fakeAgent) HoldCard(_ context.Context, token, card string) (apitype.CardSummary, error) {
	if err := f.auth(token); err != nil {
		return apitype.CardSummary{}, err
	}
	if f.holdErr != nil {
		return apitype.CardSummary{}, f.holdErr
	}
	if card == expiredToken {
		return apitype.CardSummary{}, errCardExpired
	}
	f.held = append(f.held, card)
	return apitype.CardSummary{Token: card}, nil
}

func (f *fakeAgent) Photo(_ context.Context, token, caseID string, req apitype.PhotoRequest) (apitype.Photo, error) {
	if err := f.auth(token); err != nil {
		return apitype.Photo{}, err
	}
	if !req.Consent {
		return apitype.Photo{}, &localclient.APIError{StatusCode: 400, Code: "consent_required", Field: "consent"}
	}
	f.photos = append(f.photos, req)
	return apitype.Photo{ID: "photo-1", Width: 800, Height: 450}, nil
}

func (f *fakeAgent) Phrases(_ context.Context, token string) (apitype.Phrases, error) {
	f.phrased++
	if err := f.auth(token); err != nil {
		return apitype.Phrases{}, err
	}
	return apitype.Phrases{Phrases: []string{"双方当面说清事实", "依据村规民约劝解", "双方各退一步"}}, nil
}

func (f *fakeAgent) FollowUps(_ context.Context, token string) (apitype.FollowUps, error) {
	if err := f.auth(token); err != nil {
		return apitype.FollowUps{}, err
	}
	return apitype.FollowUps{FollowUps: []apitype.FollowUp{{Case: "case-1", Number: "00012", Due: "2026-11-20", Name: "王女士"}}, Overdue: 1}, nil
}

func (f *fakeAgent) FollowUpDone(_ context.Context, token, caseID string, _ apitype.FollowUpDone) (apitype.FollowUp, error) {
	if err := f.auth(token); err != nil {
		return apitype.FollowUp{}, err
	}
	f.followed = append(f.followed, caseID)
	return apitype.FollowUp{Case: caseID, OnTime: true}, nil
}

func (f *fakeAgent) Indicators(_ context.Context, token string) (apitype.Indicators, error) {
	if err := f.auth(token); err != nil {
		return apitype.Indicators{}, err
	}
	return f.indicator, nil
}

func testMenu() apitype.Menu {
	svc := func(id, title, summary string, bookable bool) apitype.Service {
		return apitype.Service{ID: id, Title: title, Summary: summary, Bookable: bookable, Platforms: []apitype.Platform{
			{ID: apitype.PlatformInPerson, Name: "实体", How: "村委会法律顾问室"},
			{ID: apitype.PlatformOnline, Name: "网络", How: "“闽事理”小程序", URL: testServiceURL(id)},
			{ID: apitype.PlatformHotline, Name: "热线", How: "拨打 12348"},
		}}
	}
	return apitype.Menu{
		KioskName: "星村镇综治服务一体机",
		Services: []apitype.Service{
			svc("legal-advisor", "法律顾问", "本村律师，免费问法律问题", true),
			svc("legal-lecture", "法治讲堂", "每月有人来村里讲法律，免费听", false),
			svc("legal-checkup", "法律体检", "回答几个问题，看看家里或生意上有没有法律上的麻烦", true),
			svc("publicity", "学法律的地方", "村里能看法律知识、问法律问题的地方", false),
			svc("legal-fair", "法治集市", "律师到集市上摆摊，免费问", false),
		},
		Advisor: apitype.Advisor{Name: "林晓明", Firm: "某某律师事务所", Phone: "0599-5317356", Duty: []string{"周二、周五 09:00–12:00"}},
		Topics:  []string{"征地拆迁", "土地权属", "婚姻家庭", "上学就医", "其他"},
		Content: apitype.Content{
			Lecture: apitype.Lecture{Theme: "民法典与农村土地承包", Schedule: []apitype.Event{
				{Title: "巡回法治讲堂：宅基地那些事", Place: "村文化礼堂", At: time.Date(2026, 12, 12, 9, 0, 0, 0, cst)}}},
			Checkup: []apitype.Checkup{{Kind: "family", Title: "家庭法律体检", Questions: []apitype.Question{
				{ID: "will", Text: "家里老人是否想立遗嘱或分家？", Advice: "遗嘱和分家协议请律师把关"},
				{ID: "loan", Text: "是否借钱给别人而没有写借条？", Advice: "尽快补写借条"},
			}}, {Kind: "business", Title: "小微企业法律体检", Questions: []apitype.Question{
				{ID: "contract", Text: "是否有口头约定没有签合同？", Advice: "重要交易请签书面合同"},
			}}},
			Publicity:  []apitype.Place{{Name: "聊法亭", Where: "村口大榕树下", Hours: "每天"}},
			Fairs:      []apitype.Event{{Title: "法治集市", Place: "星村镇集市", At: time.Date(2026, 12, 5, 8, 30, 0, 0, cst)}},
			Venues:     []apitype.Venue{{ID: "tea", Name: "茶室评理室", Where: "村文化礼堂东侧"}, {ID: "red", Name: "红色评理站", Where: "党群服务中心"}},
			Categories: []string{"婚姻家庭", "邻里", "房屋宅基地", "合同", "损害赔偿", "山林土地", "其他"},
		},
		BookingLookup: testLookup + apitype.LookupNumber,
	}
}

// The fake site's links: each service's 闽事理 page, and the booking
// lookup page up to the booking number.
const testLookup = "https://xingcun.example/kiosk/lookup?k=k1&n="

func testServiceURL(id string) string { return "https://msl.xingcun.example/s/" + id }

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// mustUI builds the UI in a test window of size (1280×800 when zero).
func mustUI(t testing.TB, agent Agent, size ...fyne.Size) (*UI, fyne.Window, *fakeClock) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(kiosktheme.New())
	w := test.NewTempWindow(t, nil)
	sz := fyne.NewSize(1280, 800)
	if len(size) > 0 {
		sz = size[0]
	}
	w.Resize(sz)
	if fa, ok := agent.(*fakeAgent); ok && fa.panel == nil {
		fa.panel = boardPanel(sz)
	}
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, cst)}
	u := New(w, Options{
		Agent:    agent,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      clock.Now,
		Go:       func(f func()) { f() },
		SetTheme: a.Settings().SetTheme,
	})
	return u, w, clock
}

// objects lists what a villager could see or tap: everything under the
// window's content except the subtrees of hidden objects.
func objects(w fyne.Window) []fyne.CanvasObject {
	test.LaidOutObjects(w.Content()) // lays everything out at its real size
	var out []fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		out = append(out, o)
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(w.Content())
	for _, o := range w.Canvas().Overlays().List() { // the dimmer, the idle warning
		test.LaidOutObjects(o)
		walk(o)
	}
	return out
}

func findButton(w fyne.Window, text string) *widget.Button {
	for _, o := range objects(w) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

func mustButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	if b := findButton(w, text); b != nil {
		return b
	}
	t.Fatalf("no button %q on screen; texts: %q", text, texts(w))
	return nil
}

func mustTile(t *testing.T, w fyne.Window, title string) fyne.Tappable {
	t.Helper()
	for _, o := range objects(w) {
		if tl, ok := o.(*tile); ok && strings.HasPrefix(tl.Title, title) {
			return tl
		}
	}
	t.Fatalf("no tile %q on screen", title)
	return nil
}

// texts is every piece of text on screen.
func texts(w fyne.Window) []string {
	var out []string
	for _, o := range objects(w) {
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
		case *canvas.Text:
			out = append(out, v.Text)
		case *widget.Button:
			out = append(out, v.Text)
		case *stepIndicator:
			out = append(out, v.String()) // what its numbered, highlighted cells say
		}
	}
	return out
}

func onScreen(w fyne.Window, substr string) bool {
	for _, s := range texts(w) {
		if strings.Contains(s, substr) {
			return true
		}
	}
	return false
}

func mustSee(t *testing.T, w fyne.Window, substr string) {
	t.Helper()
	if !onScreen(w, substr) {
		t.Fatalf("%q not on screen; texts: %q", substr, texts(w))
	}
}

// tapper taps buttons and tiles by their text and counts the taps, except
// digits typed on a keypad, which the tap budgets do not count.
type tapper struct {
	t    *testing.T
	w    fyne.Window
	taps int
}

func (p *tapper) tap(label string) {
	p.t.Helper()
	p.taps++
	test.Tap(mustButton(p.t, p.w, label))
}

func (p *tapper) tile(title string) {
	p.t.Helper()
	p.taps++
	test.Tap(mustTile(p.t, p.w, title))
}

func (p *tapper) keys(digits string) {
	p.t.Helper()
	for _, d := range digits {
		test.Tap(mustButton(p.t, p.w, string(d)))
	}
}

var tappedCard = apitype.CardEvent{Seq: 1, Kind: apitype.CardRead, Card: &apitype.CardSummary{
	Token: "tok-1", Type: "resident", Name: "陈桂英", Sex: "女", IDMasked: "350782**********23"}}

var mediatorCard = apitype.CardEvent{Seq: 2, Kind: apitype.CardRead, Card: &apitype.CardSummary{
	Token: mediatorToken, Type: "resident", Name: "张桂英", Sex: "女", IDMasked: "350782**********45"}}
