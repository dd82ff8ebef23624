package ui

import (
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// mustSignIn signs the fake mediator in from the home screen.
func mustSignIn(t *testing.T, u *UI, w fyne.Window) *tapper {
	t.Helper()
	p := &tapper{t: t, w: w}
	p.tap(labelMediator)
	mustSee(t, w, txt(wording.MediatorSignInCard))
	u.onCardEvent(mediatorCard)
	mustSee(t, w, "调解员：张桂英")
	p.keys(mediatorPIN)
	p.tap(labelSignIn)
	mustSee(t, w, "调解员：张桂英")
	mustSee(t, w, labelNewCase)
	return p
}

func TestMediatorWrongPIN(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelMediator)
	u.onCardEvent(mediatorCard)
	p.keys("1111")
	p.tap(labelSignIn)
	mustSee(t, w, "密码不对")
	if onScreen(w, "＊＊＊＊") {
		t.Error("the wrong PIN is kept on the keypad")
	}
	p.keys(mediatorPIN)
	p.tap(labelSignIn)
	mustSee(t, w, labelNewCase)
}

// TestMediatorLogsSession: a red-line session that settles is escalated,
// schedules a follow-up, and the follow-up can be marked done.
func TestMediatorLogsSession(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := mustSignIn(t, u, w)
	test.Tap(mustTile(t, w, "案件 00012"))
	mustSee(t, w, "村民希望的时间：11月26日 周四 晚上")
	p.tap(labelLogSession)
	u.onCardEvent(tappedCard) // a party present taps their card
	mustSee(t, w, "当事人：陈桂英")
	p.tap(labelSaveSession)
	mustSee(t, w, "请选择红黄蓝分级")
	p.tap(lineLabels[apitype.LineRed])
	p.tap("双方当面说清事实")
	p.tap("双方各退一步")
	p.tap("双方当面说清事实") // ticked twice: off again
	p.tap(outcomeLabels[apitype.OutcomeSettled])
	p.tap(labelWrittenAgreement)
	p.tap(labelSaveSession)
	mustSee(t, w, "请选回访日期")
	p.tap(followUpIn(15, "12-10"))
	p.tap(labelSaveSession)
	mustSee(t, w, "已同时上报乡镇综治中心")
	mustSee(t, w, "回访日期：2026-12-10")
	got := agent.sessions[0]
	if got.Category != "邻里" || got.Line != apitype.LineRed || got.Outcome != apitype.OutcomeSettled || !got.Agreement ||
		got.FollowUp != "2026-12-10" || len(got.Phrases) != 1 || got.Phrases[0] != "双方各退一步" ||
		len(got.Parties) != 1 || got.Parties[0].Card != "tok-1" {
		t.Errorf("session %+v", got)
	}
	p.tap(labelFollowUpDone)
	mustSee(t, w, "回访已记录（按期完成）")
	if len(agent.followed) != 1 || agent.followed[0] != "case-1" {
		t.Errorf("follow-ups done %v", agent.followed)
	}
}

// TestMediatorSignInRefusals: a card not on the roster and a card read
// too long ago are turned away with words saying which, on the card page.
func TestMediatorSignInRefusals(t *testing.T) {
	for _, tt := range []struct {
		name string
		card apitype.CardEvent
		want string
	}{
		{"not on the roster", tappedCard, txt(wording.MediatorNotMediator)},
		{"expired", apitype.CardEvent{Seq: 9, Kind: apitype.CardRead, Card: &apitype.CardSummary{Token: expiredToken, Name: "测试一"}}, txt(wording.MediatorCardStale)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, w, _ := mustUI(t, newFakeAgent())
			p := &tapper{t: t, w: w}
			p.tap(labelMediator)
			u.onCardEvent(tt.card)
			p.keys(mediatorPIN)
			p.tap(labelSignIn)
			mustSee(t, w, tt.want)
			mustSee(t, w, txt(wording.MediatorSignInCard))
			// The right card then signs in.
			u.onCardEvent(mediatorCard)
			p.keys(mediatorPIN)
			p.tap(labelSignIn)
			mustSee(t, w, labelNewCase)
		})
	}
}

// TestMediatorSessionWithTwoCards: each party's card is held as it is
// read, so a session names both; a card kioskd no longer knows is not
// added and the mediator is told.
func TestMediatorSessionWithTwoCards(t *testing.T) {
	u, w, agent := mustSignIn2(t)
	p := &tapper{t: t, w: w}
	test.Tap(mustTile(t, w, "案件 00012"))
	p.tap(labelLogSession)
	u.onCardEvent(tappedCard)
	second := apitype.CardEvent{Seq: 5, Kind: apitype.CardRead, Card: &apitype.CardSummary{Token: "tok-2", Name: "李建国", IDMasked: "3507**********0011"}}
	u.onCardEvent(second)
	u.onCardEvent(apitype.CardEvent{Seq: 6, Kind: apitype.CardRead, Card: &apitype.CardSummary{Token: expiredToken, Name: "过期"}})
	mustSee(t, w, "没有读到这张身份证，请重新刷卡")
	mustSee(t, w, "当事人：陈桂英")
	mustSee(t, w, "当事人：李建国")
	if onScreen(w, "当事人：过期") {
		t.Error("a card kioskd refused was added as a party")
	}
	p.tap(lineLabels[apitype.LineBlue])
	p.tap("双方各退一步")
	p.tap(outcomeLabels[apitype.OutcomeUnsettled])
	p.tap(labelSaveSession)
	mustSee(t, w, "调解记录已保存")
	got := agent.sessions[0].Parties
	if len(got) != 2 || got[0].Card != "tok-1" || got[1].Card != "tok-2" || strings.Join(agent.held, ",") != "tok-1,tok-2" {
		t.Errorf("parties %+v, held %v", got, agent.held)
	}
}

// TestMediatorSeesFollowUpsOnSignIn: the reminder of due visits is the
// first thing on the mediator's home page.
func TestMediatorSeesFollowUpsOnSignIn(t *testing.T) {
	_, w, _ := mustSignIn2(t)
	mustSee(t, w, "提醒：有 1 个回访已经过期")
}

func TestMediatorWalkInCase(t *testing.T) {
	_, w, _ := mustSignIn2(t)
	p := &tapper{t: t, w: w}
	p.tap(labelNewCase)
	p.tap(labelCreateCase)
	mustSee(t, w, "请添加当事人")
	p.tap(labelAddBySurname)
	p.tap("黄")
	p.tap("黄" + labelMr)
	p.keys("13700003333")
	p.tap(labelNext)
	mustSee(t, w, "当事人：黄先生")
	p.tap("山林土地")
	p.tap(labelCreateCase)
	mustSee(t, w, "案件 00020")
}

// mustSignIn2 is a UI with a signed-in mediator.
func mustSignIn2(t *testing.T) (*UI, fyne.Window, *fakeAgent) {
	t.Helper()
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	mustSignIn(t, u, w)
	return u, w, agent
}

func TestMediatorSignedOutOnIdleAndLapse(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	mustSignIn(t, u, w)
	clock.t = clock.t.Add(u.opts.IdleTimeout)
	u.checkIdle()
	if agent.session == "" || !u.med.signedIn() {
		t.Fatal("a mediator signed out at the villagers' idle time")
	}
	clock.t = clock.t.Add(u.opts.MediatorIdleTimeout - u.opts.IdleTimeout)
	u.checkIdle()
	if agent.session != "" || u.med.signedIn() {
		t.Error("idle did not sign the mediator out")
	}
	mustTile(t, w, "法律顾问")

	mustSignIn(t, u, w)
	agent.session = "" // kioskd's session lapsed
	test.Tap(mustButton(t, w, labelFollowUps))
	mustSee(t, w, txt(wording.MediatorSignInCard))
}

// TestMediatorFollowUpsAndIndicators: the indicators screen says its
// period, draws the success rate and the bookings as bars, and words the
// visits waiting as the follow-ups screen does, from kioskd's counts.
func TestMediatorFollowUpsAndIndicators(t *testing.T) {
	_, w, agent := mustSignIn2(t)
	test.Tap(mustButton(t, w, labelFollowUps))
	mustSee(t, w, "有 1 个回访已经过期")
	mustSee(t, w, "王女士")
	mustSee(t, w, "待回访 1 个，其中 1 个已经过期。")
	test.Tap(mustButton(t, w, labelMediatorHome))
	rate := 0.75
	agent.indicator = apitype.Indicators{Sessions: 5, CasesClosed: 4, Settled: 3, CasesWithOutcome: 4, SuccessRate: &rate,
		FollowUpsDue: 1, FollowUpsOverdue: 1,
		BookingsByService: map[string]int{"mediation": 2, "legal-advisor": 7},
		Since:             time.Date(2026, 11, 1, 9, 0, 0, 0, cst), AsOf: time.Date(2026, 11, 25, 10, 0, 0, 0, cst)}
	test.Tap(mustButton(t, w, labelIndicators))
	mustSee(t, w, "统计期间：2026年11月1日 至 2026年11月25日 10:00（本机启用以来）")
	mustSee(t, w, "矛盾纠纷调解成功率：75.0%")
	mustSee(t, w, "回访按期完成率：暂无")
	mustSee(t, w, "待回访 1 个，其中 1 个已经过期。") // as on the follow-ups screen
	mustSee(t, w, "法律顾问咨询预约：7 次")
	mustSee(t, w, "调解成功 3 件")
	mustSee(t, w, "转交上级 1 件")
	mustSee(t, w, "还没有人在本机反映。")

	// With villagers' requests: 事件采集数, 事件办结率 and the time to close.
	closedRate, hours := 0.4, 30.5
	agent.indicator.EventsCollected, agent.indicator.EventsClosed = 5, 2
	agent.indicator.EventsClosedRate, agent.indicator.EventsCloseHours = &closedRate, &hours
	test.Tap(mustButton(t, w, labelMediatorHome))
	test.Tap(mustButton(t, w, labelIndicators))
	mustSee(t, w, "事件采集数：5 件（本机收到的求助、反映、咨询和举报）")
	mustSee(t, w, "事件办结率：40.0%（乡镇已办结 2 件，共 5 件）")
	mustSee(t, w, "办结用时（中位数）：30.5 小时")
	mustSee(t, w, "已办结 2 件")
	mustSee(t, w, "还在办 3 件")

	// The bars: one per row, the longest the largest value, each as long as
	// its share of it.
	var widths []float32
	for _, o := range objects(w) {
		if r, ok := o.(*canvas.Rectangle); ok && r.FillColor == barNeutral {
			widths = append(widths, r.Size().Width)
		}
	}
	// barNeutral: referred (1 case), then legal-advisor (7) and mediation (2).
	if len(widths) != 3 || widths[1] <= 0 || math.Abs(float64(widths[2]/widths[1])-2.0/7) > 0.01 {
		t.Errorf("neutral bars %v; want the referred bar and bookings 7 : 2", widths)
	}
}

func TestIndicatorLines(t *testing.T) {
	half, zero := 0.5, 0.0
	now := time.Date(2026, 12, 6, 9, 30, 0, 0, cst)
	for _, tc := range []struct {
		name string
		in   apitype.Indicators
		want []string
	}{
		{"nothing yet", apitype.Indicators{}, []string{"调解成功率：暂无", "按期完成率：暂无", "统计期间：本机启用以来，截至 2026年12月6日 09:30", "待回访 0 个。"}},
		{"zero is not nothing", apitype.Indicators{SuccessRate: &zero, CasesClosed: 2}, []string{"调解成功率：0.0%（成功 0 件，有结果 2 件，办结 2 件）"}},
		{"rates", apitype.Indicators{SuccessRate: &half, OnTimeRate: &half, FollowUpsOnTime: 1, FollowUpsDone: 1, FollowUpsOverdue: 1, FollowUpsDue: 3},
			[]string{"50.0%", "按期 1 次，完成 1 次，过期未回访 1 次", "待回访 3 个，其中 1 个已经过期。"}},
		{"older kioskd: denominator from the rate", apitype.Indicators{SuccessRate: &half, Settled: 2, CasesClosed: 3}, []string{"成功 2 件，有结果 4 件"}},
		{"period", apitype.Indicators{Since: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), AsOf: now}, []string{"统计期间：2026年10月1日 至 2026年12月6日 09:30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := strings.Join((&UI{}).indicatorLines(tc.in, now), "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("%q not in\n%s", w, all)
				}
			}
		})
	}
	bars := (&UI{}).serviceBars(apitype.Indicators{BookingsByService: map[string]int{"x-new": 1, "mediation": 4, "legal-advisor": 2}})
	var got []string
	for _, b := range bars {
		got = append(got, b.label)
	}
	if strings.Join(got, ",") != "法律顾问咨询预约：2 次,调解预约：4 次,x-new预约：1 次" {
		t.Errorf("service bars %v", got)
	}
}

// TestRedrawKeepsScrollPosition: ticking a choice far down the session form
// does not throw the mediator back to the top.
func TestRedrawKeepsScrollPosition(t *testing.T) {
	u, w, _ := mustSignIn2(t)
	test.Tap(mustTile(t, w, "案件 00012"))
	test.Tap(mustButton(t, w, labelLogSession))
	s := firstScroll(u.body.Objects[0])
	s.Offset = fyne.NewPos(0, 300)
	test.Tap(mustButton(t, w, outcomeLabels[apitype.OutcomeUnsettled]))
	if got := firstScroll(u.body.Objects[0]).Offset.Y; got != 300 {
		t.Errorf("offset after redraw = %.0f, want 300", got)
	}
}

// fillPlainSession opens the fake's case from the mediator's home and
// fills in a plain unsettled session, ready to save.
func fillPlainSession(t *testing.T, w fyne.Window) *tapper {
	t.Helper()
	p := &tapper{t: t, w: w}
	test.Tap(mustTile(t, w, "案件 00012"))
	p.tap(labelLogSession)
	p.tap(lineLabels[apitype.LineBlue])
	p.tap("双方各退一步")
	p.tap(outcomeLabels[apitype.OutcomeUnsettled])
	return p
}

// mustLogSession logs a plain unsettled session on the fake's case.
func mustLogSession(t *testing.T, u *UI, w fyne.Window) {
	t.Helper()
	fillPlainSession(t, w).tap(labelSaveSession)
	mustSee(t, w, "调解记录已保存")
}

// TestMediatorPhotoWithConsent: a photo of the session is offered only
// after it is saved and only on a kiosk with a consent camera; it is taken
// only after the consent screen's yes.
func TestMediatorPhotoWithConsent(t *testing.T) {
	u, w, agent := mustSignIn2(t)
	mustLogSession(t, u, w)
	p := &tapper{t: t, w: w}
	p.tap(labelPhoto)
	mustSee(t, w, txt(wording.MediatorPhotoAsk))
	p.tap(labelPhotoRefused)
	mustSee(t, w, txt(wording.MediatorPhotoNone))
	if len(agent.photos) != 0 {
		t.Fatalf("a photo was taken without consent: %+v", agent.photos)
	}
	if findButton(w, labelPhoto) != nil {
		t.Error("the photo is offered again after a no")
	}

	p.tap(labelMediatorHome)
	mustLogSession(t, u, w)
	p.tap(labelPhoto)
	p.tap(labelPhotoAgreed)
	mustSee(t, w, "照片已保存")
	if len(agent.photos) != 1 || !agent.photos[0].Consent || agent.photos[0].Session != "s1" {
		t.Errorf("photos %+v", agent.photos)
	}

	agent2 := newFakeAgent()
	agent2.devices.Camera.State = apitype.DeviceAbsent
	u2, w2, _ := mustUI(t, agent2)
	mustSignIn(t, u2, w2)
	mustLogSession(t, u2, w2)
	if findButton(w2, labelPhoto) != nil {
		t.Error("a photo offered on a kiosk without a consent camera")
	}
}

// TestLeavingAFormWhileItSaves: the mediator taps 调解员首页 while the
// session is on its way to kioskd; the answer, good or bad, is told on
// the page they are on instead of dragging them back (or crashing on the
// form they left).
func TestLeavingAFormWhileItSaves(t *testing.T) {
	for _, fail := range []bool{false, true} {
		u, w, agent := mustSignIn2(t)
		p := fillPlainSession(t, w)
		var later []func()
		u.opts.Go = func(f func()) { later = append(later, f) } // kioskd answers after the tap below
		if fail {
			agent.sessionErr = &localclient.APIError{StatusCode: 503, Code: apitype.CodeStorage, Message: "could not commit"}
		}
		p.tap(labelSaveSession)
		p.tap(labelMediatorHome)
		u.opts.Go = func(f func()) { f() }
		for len(later) > 0 { // in the order kioskd answered
			f := later[0]
			later = later[1:]
			f()
		}
		if fail {
			mustSee(t, w, labelNewCase)
			mustSee(t, w, "刚才的调解记录没有保存")
			continue
		}
		mustSee(t, w, labelNewCase) // still where they went,
		mustSee(t, w, "调解记录已保存")    // and told
	}
}
