package ui

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

var cst = time.FixedZone("CST", 8*3600)

// fakeAgent stands in for kioskd.
type fakeAgent struct {
	mu       sync.Mutex
	status   apitype.Status
	slots    []time.Time
	bookErrs []error // returned, in order, before bookings succeed
	booked   []apitype.BookingRequest
	calls    int
}

func newFakeAgent() *fakeAgent {
	return &fakeAgent{
		status: apitype.Status{Kiosk: "k1", Broker: apitype.BrokerStatus{State: "connected"}},
		slots: []time.Time{
			time.Date(2026, 11, 26, 14, 30, 0, 0, cst),
			time.Date(2026, 11, 26, 15, 0, 0, 0, cst),
			time.Date(2026, 11, 27, 9, 0, 0, 0, cst),
		},
	}
}

func (f *fakeAgent) Status(context.Context) (apitype.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *fakeAgent) Menu(context.Context) (apitype.Menu, error) { return testMenu(), nil }

func (f *fakeAgent) Slots(_ context.Context, service string) (apitype.Slots, error) {
	return apitype.Slots{Service: service, Slots: f.slots}, nil
}

func (f *fakeAgent) Book(_ context.Context, req apitype.BookingRequest) (apitype.Booking, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.bookErrs) > 0 {
		err := f.bookErrs[0]
		f.bookErrs = f.bookErrs[1:]
		return apitype.Booking{}, err
	}
	f.booked = append(f.booked, req)
	slot, _ := time.Parse(time.RFC3339, req.Slot)
	return apitype.Booking{ID: "0193", Seq: 7, Number: "00007", Service: req.Service, Topic: req.Topic,
		Name: req.Name, Phone: "138****1111", Slot: slot, Advisor: "林晓明"}, nil
}

func (f *fakeAgent) CardEvents(ctx context.Context, after uint64, wait time.Duration) (apitype.CardEvents, error) {
	<-ctx.Done()
	return apitype.CardEvents{Next: after}, ctx.Err()
}

func testMenu() apitype.Menu {
	svc := func(id, title, summary string, bookable bool) apitype.Service {
		return apitype.Service{ID: id, Title: title, Summary: summary, Bookable: bookable, Platforms: []apitype.Platform{
			{ID: apitype.PlatformInPerson, Name: "实体", How: "村委会法律顾问室"},
			{ID: apitype.PlatformOnline, Name: "网络", How: "“闽事理”小程序"},
			{ID: apitype.PlatformHotline, Name: "热线", How: "拨打 12348"},
		}}
	}
	return apitype.Menu{
		KioskName: "星村镇综治服务一体机",
		Services: []apitype.Service{
			svc("legal-advisor", "法律顾问", "一村一法律顾问", true),
			svc("legal-lecture", "法治讲堂", "一月一法治主题", false),
			svc("legal-checkup", "法律体检", "家庭和小微企业法律体检", false),
			svc("publicity", "法治宣传阵地", "普法工作站、聊法亭", false),
			svc("legal-fair", "法治集市", "法律服务下乡坐诊", false),
		},
		Advisor: apitype.Advisor{Name: "林晓明", Firm: "某某律师事务所", Phone: "0599-5317356", Duty: []string{"周二、周五 09:00–12:00"}},
		Topics:  []string{"征地拆迁", "土地权属", "婚姻家庭", "上学就医", "其他"},
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func mustUI(t *testing.T, agent Agent) (*UI, fyne.Window, *fakeClock) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(kiosktheme.New())
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, cst)}
	u := New(w, Options{
		Agent: agent,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:   clock.Now,
		Go:    func(f func()) { f() },
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
	return out
}

func mustButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	for _, o := range objects(w) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q on screen; texts: %q", text, texts(w))
	return nil
}

func mustTile(t *testing.T, w fyne.Window, title string) *tile {
	t.Helper()
	for _, o := range objects(w) {
		if tl, ok := o.(*tile); ok && tl.Title == title {
			return tl
		}
	}
	t.Fatalf("no tile %q on screen", title)
	return nil
}

func mustEntry(t *testing.T, w fyne.Window) *widget.Entry {
	t.Helper()
	for _, o := range objects(w) {
		if e, ok := o.(*widget.Entry); ok {
			return e
		}
	}
	t.Fatal("no entry on screen")
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

func tapKeys(t *testing.T, w fyne.Window, digits string) {
	t.Helper()
	for _, d := range digits {
		test.Tap(mustButton(t, w, string(d)))
	}
}

// walkToConfirm taps through the flow up to the confirmation step.
func walkToConfirm(t *testing.T, w fyne.Window) {
	t.Helper()
	test.Tap(mustButton(t, w, labelBookAdvisor))
	mustSee(t, w, "第 1 步")
	test.Tap(mustButton(t, w, "婚姻家庭"))
	mustSee(t, w, "第 2 步")
	test.Tap(mustButton(t, w, "11月26日 周四"))
	mustSee(t, w, "第 3 步")
	test.Tap(mustButton(t, w, "15:00"))
	mustSee(t, w, "第 4 步")
	test.Type(mustEntry(t, w), "王秀英")
	test.Tap(mustButton(t, w, labelNext))
	mustSee(t, w, "第 5 步")
	tapKeys(t, w, "138000011119")
	test.Tap(mustButton(t, w, labelDelete)) // a slip of the finger, corrected
	test.Tap(mustButton(t, w, labelNext))
	mustSee(t, w, "第 6 步")
}

func TestBookingFlow(t *testing.T) {
	agent := newFakeAgent()
	_, w, _ := mustUI(t, agent)

	mustSee(t, w, "星村镇综治服务一体机")
	for _, title := range []string{"法律顾问", "法治讲堂", "法律体检", "法治宣传阵地", "法治集市"} {
		mustTile(t, w, title)
	}
	walkToConfirm(t, w)
	for _, s := range []string{"婚姻家庭", "11月26日 周四 15:00", "王秀英", "13800001111", "林晓明"} {
		mustSee(t, w, s)
	}
	test.Tap(mustButton(t, w, labelConfirm))

	mustSee(t, w, "预约成功")
	mustSee(t, w, "预约号 00007")
	if len(agent.booked) != 1 {
		t.Fatalf("booked %d times", len(agent.booked))
	}
	want := apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英", Phone: "13800001111", Slot: "2026-11-26T15:00:00+08:00"}
	if agent.booked[0] != want {
		t.Errorf("request = %+v, want %+v", agent.booked[0], want)
	}
	if onScreen(w, "13800001111") {
		t.Error("the done screen shows the full phone number")
	}
	test.Tap(mustButton(t, w, labelHome))
	mustTile(t, w, "法治集市")
}

func TestServicePageShowsThreePlatforms(t *testing.T) {
	_, w, _ := mustUI(t, newFakeAgent())
	test.Tap(mustTile(t, w, "法律顾问"))
	for _, s := range []string{"实体", "网络", "热线", "村委会法律顾问室", "拨打 12348"} {
		mustSee(t, w, s)
	}
	test.Tap(mustButton(t, w, "预约法律顾问"))
	mustSee(t, w, "第 1 步")
	test.Tap(mustButton(t, w, labelCancel))
	test.Tap(mustTile(t, w, "法治集市"))
	for _, o := range objects(w) {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, "预约") {
			t.Errorf("the legal fair takes no bookings but shows %q", b.Text)
		}
	}
}

func TestSlotTakenSendsVillagerBackToDates(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{&localclient.APIError{StatusCode: 400, Code: "slot_in_past", Field: "slot", Message: "has already passed"}}
	_, w, _ := mustUI(t, agent)
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "第 2 步")
	mustSee(t, w, "这个时间已经不能预约了")
	test.Tap(mustButton(t, w, "11月27日 周五"))
	test.Tap(mustButton(t, w, "09:00"))
	// Name and number were kept: the villager does not type them again.
	if got := mustEntry(t, w).Text; got != "王秀英" {
		t.Errorf("name entry = %q", got)
	}
	test.Tap(mustButton(t, w, labelNext))
	test.Tap(mustButton(t, w, labelNext))
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "预约成功")
	if agent.booked[0].Slot != "2026-11-27T09:00:00+08:00" {
		t.Errorf("booked slot %s", agent.booked[0].Slot)
	}
}

func TestStorageFailureKeepsDraftAndSaysNothingWasBooked(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{&localclient.APIError{StatusCode: 503, Code: "storage", Message: "could not save"}}
	_, w, _ := mustUI(t, agent)
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "您的预约没有提交")
	mustSee(t, w, "第 6 步")
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "预约成功")
}

// TestStorageFullTellsVillagerWhereElseToBook: at the kiosk's quota the
// villager learns the booking was not saved and how else to book.
func TestStorageFullTellsVillagerWhereElseToBook(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{&localclient.APIError{StatusCode: 507, Code: apitype.CodeStorageFull, Message: "full"}}
	_, w, _ := mustUI(t, agent)
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "本机存储已满")
	mustSee(t, w, "12348")
	if onScreen(w, "预约成功") {
		t.Fatal("showed success without a committed record")
	}
}

func TestUnreachableKioskdIsNotABooking(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{localclient.ErrUnavailable}
	_, w, _ := mustUI(t, agent)
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "您的预约没有提交")
	if onScreen(w, "预约成功") {
		t.Fatal("showed success without a committed record")
	}
}

func TestDoubleTapBooksOnce(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	walkToConfirm(t, w)
	// Hold calls to kioskd as if it were busy committing, and tap again.
	var pending []func()
	u.opts.Go = func(f func()) { pending = append(pending, f) }
	confirm := mustButton(t, w, labelConfirm)
	test.Tap(confirm)
	test.Tap(confirm)
	test.Tap(mustButton(t, w, "正在保存……"))
	for _, f := range pending {
		f()
	}
	mustSee(t, w, "预约成功")
	if agent.calls != 1 || len(pending) != 1 {
		t.Errorf("Book called %d times (%d pending), want 1", agent.calls, len(pending))
	}
}

func TestOfflineBanner(t *testing.T) {
	agent := newFakeAgent()
	agent.status.Broker.State = "disconnected"
	agent.status.Queue.Depth = 3
	u, w, _ := mustUI(t, agent)
	u.RefreshStatus()
	mustSee(t, w, "暂时连不上乡镇综治中心")
	mustSee(t, w, "待上报 3 条")
	// Offline is not an obstacle: the booking still succeeds.
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "预约成功")
	mustSee(t, w, "网络恢复后会自动上报")

	agent.status.Broker.State = "connected"
	u.RefreshStatus()
	if onScreen(w, "暂时连不上") {
		t.Error("banner still shown after reconnect")
	}
}

func TestIdleWipesDraft(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	walkToConfirm(t, w)
	clock.t = clock.t.Add(u.opts.IdleTimeout - time.Second)
	u.checkIdle()
	mustSee(t, w, "第 6 步")
	clock.t = clock.t.Add(2 * time.Second)
	u.checkIdle()
	mustTile(t, w, "法律顾问")
	if u.draft.name != "" || u.draft.phone != "" {
		t.Errorf("draft not wiped: %+v", u.draft)
	}
	test.Tap(mustButton(t, w, labelBookAdvisor))
	test.Tap(mustButton(t, w, "婚姻家庭"))
	test.Tap(mustButton(t, w, "11月26日 周四"))
	test.Tap(mustButton(t, w, "15:00"))
	if got := mustEntry(t, w).Text; got != "" {
		t.Errorf("a new villager sees the previous name %q", got)
	}
}

func TestPhoneStepRejectsShortNumber(t *testing.T) {
	_, w, _ := mustUI(t, newFakeAgent())
	test.Tap(mustButton(t, w, labelBookAdvisor))
	test.Tap(mustButton(t, w, "其他"))
	test.Tap(mustButton(t, w, "11月27日 周五"))
	test.Tap(mustButton(t, w, "09:00"))
	test.Tap(mustButton(t, w, labelNext))
	mustSee(t, w, "请填写您的姓名")
	test.Type(mustEntry(t, w), "李")
	test.Tap(mustButton(t, w, labelNext))
	tapKeys(t, w, "1380")
	test.Tap(mustButton(t, w, labelNext))
	mustSee(t, w, "请输入11位手机号码")
	mustSee(t, w, "第 5 步")
}

// TestTouchTargets: every button on every screen of the flow is at least
// 60×60 on the kiosk's 1280×800 panel.
func TestTouchTargets(t *testing.T) {
	_, w, _ := mustUI(t, newFakeAgent())
	check := func(screen string) {
		t.Helper()
		for _, o := range objects(w) {
			var size fyne.Size
			var name string
			switch v := o.(type) {
			case *widget.Button:
				size, name = v.Size(), v.Text
			case *tile:
				size, name = v.Size(), v.Title
			default:
				continue
			}
			if size.Width < kiosktheme.MinTouch || size.Height < kiosktheme.MinTouch {
				t.Errorf("%s: %q is %.0f×%.0f, smaller than %d×%d", screen, name, size.Width, size.Height, kiosktheme.MinTouch, kiosktheme.MinTouch)
			}
		}
	}
	check("home")
	test.Tap(mustButton(t, w, labelBookAdvisor))
	check("topic")
	test.Tap(mustButton(t, w, "婚姻家庭"))
	check("day")
	test.Tap(mustButton(t, w, "11月26日 周四"))
	check("time")
	test.Tap(mustButton(t, w, "15:00"))
	check("name")
	test.Type(mustEntry(t, w), "王")
	test.Tap(mustButton(t, w, labelNext))
	check("phone")
	if kiosktheme.New().Size(theme.SizeNameText) < 24 {
		t.Error("main text is smaller than 18 pt")
	}
}

var tappedCard = apitype.CardEvent{Seq: 1, Kind: apitype.CardRead, Card: &apitype.CardSummary{
	Token: "tok-1", Type: "resident", Name: "陈桂英", Sex: "女", IDMasked: "350782**********23"}}

// TestCardTapFillsIdentity: a card tapped at the name step fills the name and
// moves on; the booking carries the token, never a typed ID number, and the
// screen shows only the masked number.
func TestCardTapFillsIdentity(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	test.Tap(mustButton(t, w, labelBookAdvisor))
	test.Tap(mustButton(t, w, "婚姻家庭"))
	test.Tap(mustButton(t, w, "11月26日 周四"))
	test.Tap(mustButton(t, w, "14:30"))
	mustSee(t, w, "第 4 步")
	mustSee(t, w, labelTapCard)
	u.onCardEvent(tappedCard)
	mustSee(t, w, "第 5 步")
	mustSee(t, w, "350782**********23")
	for _, d := range "13800001111" {
		test.Tap(mustButton(t, w, string(d)))
	}
	test.Tap(mustButton(t, w, labelNext))
	mustSee(t, w, "身份证：350782**********23")
	mustSee(t, w, "您的姓名：陈桂英")
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "预约成功")
	if len(agent.booked) != 1 || agent.booked[0].Card != "tok-1" || agent.booked[0].Name != "" {
		t.Errorf("booked = %+v", agent.booked)
	}
	if u.draft.card != nil || u.draft.name != "" {
		t.Error("draft kept the card after the flow ended")
	}
}

// TestCardTapOnHomeStartsBooking, and idle wipes the card's identity.
func TestCardTapOnHomeStartsBooking(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	u.onCardEvent(tappedCard)
	mustSee(t, w, "第 1 步")
	mustSee(t, w, "已读取身份证：陈桂英")
	clock.t = clock.t.Add(3 * time.Minute)
	u.checkIdle()
	if u.draft.card != nil || onScreen(w, "陈桂英") {
		t.Error("idle left the card's identity behind")
	}
}

// TestExpiredCardTokenAsksForAnotherTap: kioskd no longer knows the token.
func TestExpiredCardTokenAsksForAnotherTap(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{&localclient.APIError{StatusCode: 400, Code: "card_expired", Field: "card", Message: "tap again"}}
	u, w, _ := mustUI(t, agent)
	u.onCardEvent(tappedCard)
	test.Tap(mustButton(t, w, "婚姻家庭"))
	test.Tap(mustButton(t, w, "11月26日 周四"))
	test.Tap(mustButton(t, w, "14:30"))
	mustSee(t, w, "第 4 步")
	test.Tap(mustButton(t, w, labelNext))
	for _, d := range "13800001111" {
		test.Tap(mustButton(t, w, string(d)))
	}
	test.Tap(mustButton(t, w, labelNext))
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "请重新刷卡")
	mustSee(t, w, labelTapCard)
}
