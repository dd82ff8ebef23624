package ui

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// walkToConfirm books a consultation without a card up to the
// confirmation step, and returns the taps it took.
func walkToConfirm(t *testing.T, w fyne.Window) *tapper {
	t.Helper()
	p := &tapper{t: t, w: w}
	p.tap(labelBookAdvisor)
	mustSee(t, w, "第 1 步")
	p.tap("婚姻家庭")
	mustSee(t, w, "第 2 步")
	p.tap("11月26日 周四")
	mustSee(t, w, "第 3 步")
	p.tap("15:00")
	mustSee(t, w, "第 4 步")
	mustSee(t, w, labelTapCard)
	p.tap("王")
	p.tap("王" + labelMs)
	mustSee(t, w, "第 5 步")
	p.keys("13800001111")
	p.tap(labelNext)
	mustSee(t, w, "第 6 步")
	return p
}

// TestConsultationWithoutCard: eight taps, no Chinese typed, and the
// villager is addressed as 王女士.
func TestConsultationWithoutCard(t *testing.T) {
	agent := newFakeAgent()
	_, w, _ := mustUI(t, agent)
	mustSee(t, w, "星村镇综治服务一体机")
	p := walkToConfirm(t, w)
	for _, s := range []string{"婚姻家庭", "11月26日 周四 15:00", "王女士", "13800001111", "林晓明"} {
		mustSee(t, w, s)
	}
	p.tap(labelConfirm)
	mustSee(t, w, labelBooked)
	mustSee(t, w, "预约号 00007")
	if p.taps > 8 { // issue 17: at most 8 without a card
		t.Errorf("booking without a card took %d taps, want at most 8", p.taps)
	}
	t.Logf("consultation without a card: %d taps", p.taps)
	want := apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王女士", Phone: "13800001111", Slot: "2026-11-26T15:00:00+08:00"}
	if len(agent.booked) != 1 || agent.booked[0].Name != want.Name || agent.booked[0].Slot != want.Slot || agent.booked[0].Phone != want.Phone || agent.booked[0].Topic != want.Topic {
		t.Errorf("request = %+v, want %+v", agent.booked, want)
	}
	if onScreen(w, "13800001111") {
		t.Error("the done screen shows the full phone number")
	}
	test.Tap(mustButton(t, w, labelHome))
	mustTile(t, w, "法治集市")
}

// TestConsultationWithCard: the card answers the name step, which is then
// skipped; six taps in all.
func TestConsultationWithCard(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelBookAdvisor)
	u.onCardEvent(tappedCard) // placing the card is not a tap on the screen
	mustSee(t, w, "已读取身份证：陈桂英")
	p.tap("婚姻家庭")
	p.tap("11月26日 周四")
	p.tap("14:30")
	mustSee(t, w, "第 5 步")
	p.keys("13800001111")
	p.tap(labelNext)
	mustSee(t, w, "身份证：350782**********23")
	mustSee(t, w, txtf(wording.BookingFactName, wording.Args{"name": "陈桂英"}))
	p.tap(labelConfirm)
	mustSee(t, w, labelBooked)
	if p.taps > 6 {
		t.Errorf("booking with a card took %d taps, want at most 6", p.taps)
	}
	t.Logf("consultation with a card: %d taps", p.taps)
	if len(agent.booked) != 1 || agent.booked[0].Card != "tok-1" || agent.booked[0].Name != "" {
		t.Errorf("booked = %+v", agent.booked)
	}
	if u.draft.who.card != nil {
		t.Error("draft kept the card after the flow ended")
	}
}

// TestCardTapAtNameStepMovesOn: a card placed on the name step fills it.
func TestCardTapAtNameStepMovesOn(t *testing.T) {
	u, w, _ := mustUI(t, newFakeAgent())
	p := &tapper{t: t, w: w}
	p.tap(labelBookAdvisor)
	p.tap("婚姻家庭")
	p.tap("11月26日 周四")
	p.tap("14:30")
	mustSee(t, w, "第 4 步")
	u.onCardEvent(tappedCard)
	mustSee(t, w, "第 5 步")
	mustSee(t, w, "350782**********23")
	p.tap(labelBack)
	mustSee(t, w, "第 4 步")
	p.tap(labelWithoutCard)
	mustSee(t, w, labelTapCard)
}

func TestServicePagesShowTheirContent(t *testing.T) {
	_, w, _ := mustUI(t, newFakeAgent())
	for _, tc := range []struct {
		tile string
		want []string
	}{
		{"法律顾问", []string{labelInPerson, labelByPhone, labelCall, "村委会法律顾问室", labelScan, "12348", "林晓明", "周二、周五"}},
		{"法治讲堂", []string{"民法典与农村土地承包", "宅基地那些事", "12月12日"}},
		{"法律体检", []string{"家庭法律体检", "小微企业法律体检"}},
		{"学法律的地方", []string{"聊法亭", "村口大榕树下"}},
		{"法治集市", []string{"星村镇集市", "12月5日"}},
	} {
		test.Tap(mustTile(t, w, tc.tile))
		for _, s := range tc.want {
			mustSee(t, w, s)
		}
		test.Tap(mustButton(t, w, labelHome))
	}
	test.Tap(mustTile(t, w, "法治集市"))
	for _, o := range objects(w) {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, "预约") {
			t.Errorf("the legal fair takes no bookings but shows %q", b.Text)
		}
	}
}

// TestLegalCheckupEndsInBooking: yes/no questions, advice for the yes
// answers, then a booking that carries the answers.
func TestLegalCheckupEndsInBooking(t *testing.T) {
	agent := newFakeAgent()
	_, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tile("法律体检")
	p.tap("家庭法律体检")
	mustSee(t, w, "第 1 题，共 2 题")
	p.tap(labelYes)
	p.tap(labelNo)
	mustSee(t, w, "遗嘱和分家协议请律师把关")
	if onScreen(w, "尽快补写借条") {
		t.Error("advice shown for a question answered no")
	}
	p.tap(txt(wording.CheckupBook))
	mustSee(t, w, "第 1 步（共 5 步）")
	p.tap("11月27日 周五")
	p.tap("09:00")
	p.tap("林")
	p.tap("林" + labelMr)
	p.keys("05995317356")
	p.tap(labelNext)
	p.tap(labelConfirm)
	mustSee(t, w, labelBooked)
	b := agent.booked[0]
	if b.Service != "legal-checkup" || b.Name != "林先生" || len(b.Checkup) != 2 || !b.Checkup[0].Yes || b.Checkup[1].Yes {
		t.Errorf("booked %+v", b)
	}
}

// TestMediationBooking: category, applicant and phone, up to three
// preferred slots, the optional other party on the confirmation; no venue
// is asked or sent (kioskd books the site's); the confirmation has a
// number and a QR code, and the receipt prints.
func TestMediationBooking(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelBookMediation)
	mustSee(t, w, "第 1 步（共 4 步）")
	p.picto("邻里")
	mustSee(t, w, "第 2 步")
	u.onCardEvent(tappedCard) // answers the name half of the step
	mustSee(t, w, "已读取身份证：陈桂英")
	p.keys("13800001111")
	p.tap(labelNext)
	mustSee(t, w, "第 3 步")
	p.tap(labelNext)
	mustSee(t, w, "请至少选一个时间")
	for _, s := range []string{"11月26日 周四 上午", "11月26日 周四 晚上", "11月27日 周五 晚上", "11月27日 周五 上午"} {
		p.tap(s)
	}
	mustSee(t, w, "最多选 3 个时间")
	p.tap(labelNext)
	mustSee(t, w, "第 4 步")
	mustSee(t, w, txtf(wording.MediationFactVenue, wording.Args{"venue": "茶室评理室（村文化礼堂东侧）"}))
	mustSee(t, w, "您的电话：138 0000 1111")
	p.tap(labelAddOther)
	p.tap("吴")
	p.tap("吴" + labelMr)
	p.keys("13900002222")
	p.tap(labelNext)
	mustSee(t, w, "对方：吴先生　139 0000 2222")
	p.tap(labelConfirm)
	mustSee(t, w, "预约号 00008")
	if !hasQR(w) {
		t.Error("no QR code on the confirmation")
	}
	p.tap(labelPrint)
	mustSee(t, w, labelPrinted)
	if len(agent.printed) != 1 || agent.printed[0] != "0193-mediation" {
		t.Errorf("printed %v", agent.printed)
	}
	r := agent.mediated[0]
	if r.Venue != "" || r.Category != "邻里" || r.Applicant.Card != "tok-1" || r.Applicant.Phone != "13800001111" ||
		r.Other == nil || r.Other.Name != "吴先生" || r.Other.Phone != "13900002222" || len(r.Slots) != 3 {
		t.Errorf("request %+v other %+v", r, r.Other)
	}
	t.Logf("mediation booking with a card and the other party: %d taps", p.taps)
}

func hasQR(w fyne.Window) bool {
	for _, o := range objects(w) {
		if img, ok := o.(*canvas.Image); ok && img.MinSize().Width >= 200 {
			return true
		}
	}
	return false
}

func TestNoPrinterNoPrintButton(t *testing.T) {
	agent := newFakeAgent()
	agent.devices.Printer.State = apitype.DeviceAbsent
	_, w, _ := mustUI(t, agent)
	walkToConfirm(t, w).tap(labelConfirm)
	mustSee(t, w, labelBooked)
	if findButton(w, labelPrint) != nil {
		t.Error("a print button without a printer")
	}
}

func TestReadAloud(t *testing.T) {
	agent := newFakeAgent()
	_, w, _ := mustUI(t, agent)
	test.Tap(mustButton(t, w, labelReadAloud))
	test.Tap(mustButton(t, w, labelBookAdvisor))
	test.Tap(mustButton(t, w, labelReadAloud))
	if len(agent.spoken) != 2 || !strings.Contains(agent.spoken[0], "星村镇综治服务一体机") || !strings.Contains(agent.spoken[1], txt(wording.BookingTopicTitle)) {
		t.Errorf("spoken %q", agent.spoken)
	}
	// The choices are read too, and buttons are named by their words, not
	// their colour; nothing read is longer than kioskd takes.
	if len(agent.spoken) == 2 {
		if !strings.Contains(agent.spoken[1], "婚姻家庭") || !strings.Contains(agent.spoken[1], "征地拆迁") {
			t.Errorf("step 1 read without its choices: %q", agent.spoken[1])
		}
		if !strings.Contains(agent.spoken[0], labelBookAdvisor) || strings.Contains(agent.spoken[0], "红色") {
			t.Errorf("home read as %q", agent.spoken[0])
		}
		for _, s := range agent.spoken {
			if n := utf8.RuneCountInString(s); n > maxSpeechRunes {
				t.Errorf("%d characters to read, kioskd takes %d", n, maxSpeechRunes)
			}
		}
	}

	agent = newFakeAgent()
	agent.devices.Speech.State = apitype.DeviceAbsent
	_, w, _ = mustUI(t, agent)
	if findButton(w, labelReadAloud) != nil {
		t.Error("a read-aloud button on a kiosk that cannot speak")
	}
}

func TestLargerTextSwitch(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	test.Tap(mustButton(t, w, labelBookAdvisor))
	test.Tap(mustButton(t, w, labelLarger))
	if !kiosktheme.IsLarge(fyne.CurrentApp().Settings().Theme()) {
		t.Fatal("theme not switched")
	}
	mustSee(t, w, "第 1 步") // the same screen, redrawn larger
	if got := mustButton(t, w, "婚姻家庭").MinSize().Height; got < kiosktheme.LargeTextSize {
		t.Errorf("a button in large text is %.0f tall", got)
	}
	clock.t = clock.t.Add(u.opts.IdleTimeout)
	u.checkIdle()
	if kiosktheme.IsLarge(fyne.CurrentApp().Settings().Theme()) {
		t.Error("the next villager inherits large text")
	}
	mustButton(t, w, labelLarger)
}

func TestSlotTakenSendsVillagerBackToDates(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{&localclient.APIError{StatusCode: 400, Code: "slot_in_past", Field: "slot", Message: "has already passed"}}
	_, w, _ := mustUI(t, agent)
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, "第 2 步")
	mustSee(t, w, txt(wording.BookingFailSlot))
	test.Tap(mustButton(t, w, "11月27日 周五"))
	test.Tap(mustButton(t, w, "09:00"))
	// Name and number were kept: the villager does not enter them again.
	test.Tap(mustButton(t, w, "王"+labelMs))
	mustSee(t, w, "138 0000 1111")
	test.Tap(mustButton(t, w, labelNext))
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, labelBooked)
	if agent.booked[0].Slot != "2026-11-27T09:00:00+08:00" {
		t.Errorf("booked slot %s", agent.booked[0].Slot)
	}
}

func TestFailuresSayNothingWasBooked(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"storage", &localclient.APIError{StatusCode: 503, Code: "storage", Message: "could not save"}, txt(wording.CommonFailOther)},
		{"storage full", &localclient.APIError{StatusCode: 507, Code: apitype.CodeStorageFull, Message: "full"}, txt(wording.CommonFailStorage)},
		{"unreachable", localclient.ErrUnavailable, txt(wording.CommonFailOther)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := newFakeAgent()
			agent.bookErrs = []error{tc.err}
			_, w, _ := mustUI(t, agent)
			walkToConfirm(t, w)
			test.Tap(mustButton(t, w, labelConfirm))
			mustSee(t, w, tc.want)
			mustSee(t, w, "第 6 步")
			if onScreen(w, labelBooked) {
				t.Fatal("showed success without a committed record")
			}
			test.Tap(mustButton(t, w, labelConfirm))
			mustSee(t, w, labelBooked)
		})
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
	test.Tap(mustButton(t, w, txt(wording.BookingSaving)))
	for _, f := range pending {
		f()
	}
	mustSee(t, w, labelBooked)
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
	mustSee(t, w, txt(wording.CommonOffline))
	// How many records wait is for the staff, not the villager.
	if onScreen(w, "3 条") || onScreen(w, "待上报") {
		t.Errorf("the villager's banner counts the queue: %q", texts(w))
	}
	// Laid out below the header, not drawn over it.
	if header := u.top.Objects[0]; u.banner.Position().Y < header.Position().Y+header.Size().Height || u.banner.Size().Height < 40 {
		t.Errorf("banner at y %.0f (height %.0f) overlaps the header ending at %.0f",
			u.banner.Position().Y, u.banner.Size().Height, header.Position().Y+header.Size().Height)
	}
	// Offline is not an obstacle: the booking still succeeds.
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, labelBooked)
	// Offline the lawyer does not know yet: the screen says what is
	// true, not where the lawyer will wait.
	mustSee(t, w, txt(wording.BookingWaitsOffline))
	if onScreen(w, "律师会在") {
		t.Errorf("offline, the done screen promises a lawyer waiting: %q", texts(w))
	}

	agent.status.Broker.State = "connected"
	u.RefreshStatus()
	if onScreen(w, txt(wording.CommonOffline)) {
		t.Error("banner still shown after reconnect")
	}
	// Back online, the same screen says when and where.
	mustSee(t, w, "律师会在")
	if onScreen(w, txt(wording.BookingWaitsOffline)) {
		t.Errorf("online, the done screen still says the lawyer is not told: %q", texts(w))
	}
}

func TestIdleWipesDraft(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	if u.opts.IdleTimeout != 60*time.Second {
		t.Errorf("default idle %v, want 60 s", u.opts.IdleTimeout)
	}
	walkToConfirm(t, w)
	clock.t = clock.t.Add(u.opts.IdleTimeout - time.Second)
	u.checkIdle()
	mustSee(t, w, "第 6 步")
	clock.t = clock.t.Add(2 * time.Second)
	u.checkIdle()
	mustTile(t, w, "法律顾问")
	if u.draft.who.name() != "" || u.draft.who.phone != "" {
		t.Errorf("draft not wiped: %+v", u.draft)
	}
	test.Tap(mustButton(t, w, labelBookAdvisor))
	test.Tap(mustButton(t, w, "婚姻家庭"))
	test.Tap(mustButton(t, w, "11月26日 周四"))
	test.Tap(mustButton(t, w, "15:00"))
	mustSee(t, w, labelTapCard) // the surname grid again, nothing chosen
}

// TestIdleFromSiteConfig: township IT sets the idle time in the site
// config; the screen follows it once the menu has loaded.
func TestIdleFromSiteConfig(t *testing.T) {
	agent := newFakeAgent()
	agent.idleSeconds = 120
	u, w, clock := mustUI(t, agent)
	if u.opts.IdleTimeout != 2*time.Minute {
		t.Fatalf("idle %v, want the site's 2 min", u.opts.IdleTimeout)
	}
	walkToConfirm(t, w)
	clock.t = clock.t.Add(90 * time.Second)
	u.checkIdle()
	mustSee(t, w, "第 6 步") // past the default 60 s, within the site's 120 s
	clock.t = clock.t.Add(31 * time.Second)
	u.checkIdle()
	mustTile(t, w, "法律顾问")
}

// TestPushedContentReachesTheScreen: when the township's bundle changes
// the content in force, the home screen shows it without a restart; a flow
// under way is left alone until it ends.
func TestPushedContentReachesTheScreen(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	mustSee(t, w, "本村律师，免费问法律问题")
	agent.mu.Lock()
	agent.status.Control.ContentVersion = 7
	agent.editMenu = func(m *apitype.Menu) { m.Services[0].Summary = "乡镇新推送的内容" }
	agent.mu.Unlock()
	test.Tap(mustButton(t, w, labelBookAdvisor))
	u.RefreshStatus()
	mustSee(t, w, "第 1 步") // the villager's flow is not interrupted
	test.Tap(mustButton(t, w, labelCancel))
	mustSee(t, w, "乡镇新推送的内容")

	agent.mu.Lock()
	agent.status.Control.ContentVersion = 8
	agent.editMenu = func(m *apitype.Menu) { m.Services[0].Summary = "又一次推送" }
	agent.mu.Unlock()
	u.RefreshStatus()
	mustSee(t, w, "又一次推送") // on the home screen: at once

	// A menu load that fails is tried again at the next status poll.
	agent.mu.Lock()
	agent.status.Control.ContentVersion = 9
	agent.editMenu = func(m *apitype.Menu) { m.Services[0].Summary = "第三次推送" }
	agent.menuErrs = 1
	agent.mu.Unlock()
	u.RefreshStatus()
	mustSee(t, w, "又一次推送")
	u.RefreshStatus()
	mustSee(t, w, "第三次推送")
}

// TestDimAndWake: the home screen left alone dims; the presence sensor, a
// card on the reader or a touch lights it again. A flow under way never
// dims (it goes home first, on idle).
func TestDimAndWake(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	clock.t = clock.t.Add(u.dimAfter() - time.Second)
	u.checkDim()
	if u.Dimmed() {
		t.Fatal("dimmed too soon")
	}
	clock.t = clock.t.Add(2 * time.Second)
	u.checkDim()
	if !u.Dimmed() || w.Canvas().Overlays().Top() != u.dim {
		t.Fatal("the untouched home screen did not dim")
	}
	before := u.lastActivity
	u.undim() // what WatchPresence does on a sighting
	if u.Dimmed() {
		t.Fatal("presence did not wake the screen")
	}
	if u.lastActivity != before {
		t.Error("a passer-by counted as someone using the kiosk: a walked-away draft would never be wiped")
	}

	clock.t = clock.t.Add(u.dimAfter() + time.Second)
	u.checkDim()
	test.Tap(u.dim) // a touch anywhere
	if u.Dimmed() {
		t.Fatal("a touch did not wake the screen")
	}

	clock.t = clock.t.Add(u.dimAfter() + time.Second)
	u.checkDim()
	u.onCardEvent(tappedCard)
	if u.Dimmed() {
		t.Fatal("a card did not wake the screen")
	}
	mustSee(t, w, "第 1 步") // and the card still starts a booking

	clock.t = clock.t.Add(u.dimAfter() + time.Second)
	u.checkDim()
	if u.Dimmed() {
		t.Error("a flow under way was dimmed")
	}
}

func TestPhoneStepRejectsShortNumber(t *testing.T) {
	_, w, _ := mustUI(t, newFakeAgent())
	p := &tapper{t: t, w: w}
	p.tap(labelBookAdvisor)
	p.tap("其他")
	p.tap("11月27日 周五")
	p.tap("09:00")
	p.tap(labelOtherSurname)
	p.tap(labelMr) // no 村民先生: a surname not on the grid is left out
	p.keys("1380")
	p.tap(labelNext)
	mustSee(t, w, txt(wording.PhoneInvalid))
	mustSee(t, w, "第 5 步")
	mustSee(t, w, "138 0")
}

// TestCardTapOnHomeStartsBooking, and idle wipes the card's identity.
func TestCardTapOnHomeStartsBooking(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	u.onCardEvent(tappedCard)
	mustSee(t, w, "第 1 步")
	mustSee(t, w, "已读取身份证：陈桂英")
	clock.t = clock.t.Add(3 * time.Minute)
	u.checkIdle()
	if u.draft.who.card != nil || onScreen(w, "陈桂英") {
		t.Error("idle left the card's identity behind")
	}
}

// TestExpiredCardTokenAsksForAnotherTap: kioskd no longer knows the token.
func TestExpiredCardTokenAsksForAnotherTap(t *testing.T) {
	agent := newFakeAgent()
	agent.bookErrs = []error{&localclient.APIError{StatusCode: 400, Code: "card_expired", Field: "card", Message: "tap again"}}
	u, w, _ := mustUI(t, agent)
	u.onCardEvent(tappedCard)
	p := &tapper{t: t, w: w}
	p.tap("婚姻家庭")
	p.tap("11月26日 周四")
	p.tap("14:30")
	p.keys("13800001111")
	p.tap(labelNext)
	p.tap(labelConfirm)
	mustSee(t, w, txt(wording.BookingFailCard))
	mustSee(t, w, labelTapCard)
}

// TestPollEvery: the home screen, where an unattended kiosk spends its day,
// is polled slowly; a flow in progress at the pace Run was given, so its
// idle timeout and notice stay timely.
func TestPollEvery(t *testing.T) {
	u, w, _ := mustUI(t, newFakeAgent())
	tests := []struct {
		name  string
		every time.Duration
		want  time.Duration
	}{
		{"home", 5 * time.Second, homePollEvery},
		{"home, Run already slower", 2 * homePollEvery, 2 * homePollEvery},
	}
	for _, tt := range tests {
		if got := u.pollEvery(tt.every); got != tt.want {
			t.Errorf("%s: pollEvery(%v) = %v, want %v", tt.name, tt.every, got, tt.want)
		}
	}
	test.Tap(mustButton(t, w, labelBookAdvisor))
	if got := u.pollEvery(5 * time.Second); got != 5*time.Second {
		t.Errorf("in a flow: pollEvery(5s) = %v, want 5s", got)
	}
}

// TestClockShowsDate: the header shows the date and weekday, not the time
// of day, which would repaint the whole window every minute.
func TestClockShowsDate(t *testing.T) {
	u, _, _ := mustUI(t, newFakeAgent())
	if got, want := u.clock.Text, "11月25日 周三"; got != want {
		t.Errorf("header clock %q, want %q", got, want)
	}
}
