package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

var (
	labelRaise        = txt(wording.RequestRaise)
	labelCheck        = txt(wording.RequestCheck)
	labelSubmit       = txt(wording.RequestSubmit)
	labelAnonymous    = txt(wording.RequestAnonymous)
	labelPlaceSkip    = txt(wording.RequestPlaceSkip)
	labelReqPhoto     = txt(wording.RequestPhotoAdd)
	labelReqPhotoOK   = txt(wording.RequestPhotoAgreed)
	labelReqPhotoNo   = txt(wording.RequestPhotoRefused)
	labelCheckNumber  = txt(wording.CheckByNumber)
	labelCheckPhone4  = txt(wording.CheckByPhone4)
	labelCheckCode    = txt(wording.CheckByCode)
	labelCheckSearch  = txt(wording.CheckSearch)
	labelReqDone      = txt(wording.RequestDone)
	labelWithoutCardR = txt(wording.RequestWithoutCard)
)

// TestRequestWithCardTaps: 我要反映 with a card, at most seven taps
// (issue 20): the key, kind, category, a phrase, 下一步, a place, 提交.
// The card is placed on the last step, as the API asks (its token lasts
// five minutes).
func TestRequestWithCardTaps(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	mustSee(t, w, "第 1 步（共 5 步）")
	p.picto("反映诉求")
	p.picto("道路设施")
	p.tap("路灯不亮")
	p.tap(labelNext)
	mustSee(t, w, "第 4 步")
	p.tap("溪上石拱桥")
	mustSee(t, w, "第 5 步")
	u.onCardEvent(tappedCard) // placing the card is not a tap on the screen
	mustSee(t, w, "已读取身份证：陈桂英")
	mustSee(t, w, "反映诉求：道路设施。路灯不亮")
	p.tap(labelSubmit)
	mustSee(t, w, labelReqDone)
	mustSee(t, w, "编号 00042")
	mustSee(t, w, "已提交，待受理")
	if p.taps > 7 {
		t.Errorf("a request with a card took %d taps, want at most 7", p.taps)
	}
	t.Logf("request with a card: %d taps", p.taps)
	want := apitype.RequestSubmit{Kind: "concern", Category: "roads", Phrases: []string{"路灯不亮"}, Place: "stone-bridge", Card: "tok-1"}
	if got := agent.req.submitted; len(got) != 1 || got[0].Kind != want.Kind || got[0].Category != want.Category ||
		!slices.Equal(got[0].Phrases, want.Phrases) || got[0].Place != want.Place || got[0].Card != want.Card ||
		got[0].Phone != "" || got[0].Anonymous || got[0].Photo != nil {
		t.Errorf("submitted %+v, want %+v", got, want)
	}
	if u.rq != nil {
		t.Error("the request draft (with the card) outlived the submission")
	}
	p.tap(txt(wording.RequestPrint))
	if len(agent.printed) != 1 || agent.printed[0] != "0194-request-42" {
		t.Errorf("printed %v", agent.printed)
	}
	test.Tap(mustButton(t, w, labelHome))
	mustButton(t, w, labelRaise)
}

// TestRequestByPhoneWithoutPlaces: a village that lists no places is not
// asked where; without a card the phone is typed on the keypad, and two
// phrases can be chosen.
func TestRequestByPhoneWithoutPlaces(t *testing.T) {
	agent := newFakeAgent()
	m := testRequestMenu()
	m.Places, m.Photo = nil, false
	agent.req.menu = &m
	_, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	mustSee(t, w, "第 1 步（共 4 步）")
	p.picto("求助")
	p.picto("环境卫生")
	p.tap(labelNext)
	mustSee(t, w, txt(wording.RequestPhrasesNone)) // none chosen yet
	p.tap("有人往溪里倒垃圾")
	p.tap("养殖场气味很大")
	p.tap(labelNext)
	mustSee(t, w, "第 4 步（共 4 步）")
	if findButton(w, labelReqPhoto) != nil || findButton(w, txt(wording.RequestPhotoShort)) != nil {
		t.Error("a photo is offered on a kiosk whose camera is not ready")
	}
	p.tap(labelSubmit)
	mustSee(t, w, txt(wording.RequestFailContact))
	p.keys("13900001234")
	p.tap(labelSubmit)
	mustSee(t, w, labelReqDone)
	got := agent.req.submitted
	if len(got) != 1 || got[0].Phone != "13900001234" || got[0].Card != "" || got[0].Place != "" ||
		!slices.Equal(got[0].Phrases, []string{"有人往溪里倒垃圾", "养殖场气味很大"}) {
		t.Errorf("submitted %+v", got)
	}
	if onScreen(w, "13900001234") {
		t.Error("the receipt shows the full phone number")
	}
}

// TestAnonymousReport: a 举报 made anonymously asks for no card and no
// phone, says that nothing identifying is kept or sent, ignores a card
// placed meanwhile, sends nothing identifying, and shows the check code.
func TestAnonymousReport(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	p.picto("咨询")
	if findButton(w, labelAnonymous) != nil {
		t.Fatal("anonymity offered before the kind is chosen")
	}
	p.tap(labelBack)
	p.picto("举报")
	p.picto("环境卫生")
	p.tap("有人往溪里倒垃圾")
	p.tap(labelNext)
	p.tap(labelPlaceSkip)
	p.tap(labelAnonymous)
	mustSee(t, w, txt(wording.RequestAnonymousWhat))
	mustSee(t, w, txt(wording.RequestAnonymousCode))
	if findButton(w, "1") != nil || findButton(w, labelReqPhoto) != nil || findButton(w, txt(wording.RequestPhotoShort)) != nil {
		t.Error("the anonymous report still asks for a phone or a photo")
	}
	u.onCardEvent(tappedCard)
	if onScreen(w, "陈桂英") || u.rq.who.card != nil {
		t.Error("a card placed during an anonymous report was taken")
	}
	p.tap(labelSubmit)
	mustSee(t, w, labelReqDone)
	mustSee(t, w, "查询码 27182818")
	mustSee(t, w, txt(wording.RequestDoneCodeOnce))
	mustSee(t, w, txt(wording.RequestDoneAnonymous))
	if s := u.readAloudText(); onlyContains(s, "27182818") {
		t.Errorf("the check code is read aloud: %q", s)
	}
	got := agent.req.submitted
	if len(got) != 1 || !got[0].Anonymous || got[0].Card != "" || got[0].Phone != "" || got[0].Photo != nil || got[0].Kind != "report" {
		t.Errorf("submitted %+v", got)
	}
	t.Logf("anonymous report: %d taps", p.taps)
	// Not anonymous after all: the contact is asked again.
	test.Tap(mustButton(t, w, labelHome))
	p.tap(labelRaise)
	p.picto("举报")
	p.picto("其他")
	p.tap("其他问题，请回电")
	p.tap(labelNext)
	p.tap(labelPlaceSkip)
	p.tap(labelAnonymous)
	p.tap(txt(wording.RequestNotAnonymous))
	mustButton(t, w, "1")
}

func onlyContains(s, sub string) bool { return len(sub) > 0 && len(s) >= len(sub) && contains(s, sub) }

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestRequestPhotoWithConsent: a photo is asked for only on a kiosk whose
// camera is ready, and requested only after the villager's yes.
func TestRequestPhotoWithConsent(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	p.picto("求助")
	p.picto("安全隐患")
	p.tap("危房有倒塌危险")
	p.tap(labelNext)
	p.tap("一组")
	u.onCardEvent(tappedCard)
	p.tap(labelReqPhoto)
	mustSee(t, w, txt(wording.RequestPhotoAsk))
	p.tap(labelReqPhotoNo)
	p.tap(labelSubmit)
	if s := agent.req.submitted; len(s) != 1 || s[0].Photo != nil {
		t.Fatalf("a photo was asked for without consent: %+v", s)
	}
	test.Tap(mustButton(t, w, labelHome))
	p.tap(labelRaise)
	p.picto("求助")
	p.picto("安全隐患")
	p.tap("危房有倒塌危险")
	p.tap(labelNext)
	p.tap("一组")
	u.onCardEvent(tappedCard)
	p.tap(labelReqPhoto)
	p.tap(labelReqPhotoOK)
	mustSee(t, w, txt(wording.RequestPhotoYes))
	p.tap(labelSubmit)
	if s := agent.req.submitted; len(s) != 2 || s[1].Photo == nil || !s[1].Photo.Consent {
		t.Fatalf("the photo agreed to was not asked for: %+v", s)
	}
	// Beside the keypad: the short key, chosen once agreed, and taken
	// back by a second tap.
	test.Tap(mustButton(t, w, labelHome))
	p.tap(labelRaise)
	p.picto("求助")
	p.picto("安全隐患")
	p.tap("危房有倒塌危险")
	p.tap(labelNext)
	p.tap("一组")
	p.keys("13900001234")
	p.tap(txt(wording.RequestPhotoShort))
	mustSee(t, w, txt(wording.RequestPhotoAsk))
	p.tap(labelReqPhotoOK)
	if u.rq == nil || !u.rq.photo {
		t.Fatal("the yes was not kept")
	}
	p.tap(txt(wording.RequestPhotoShort))
	p.tap(labelSubmit)
	if s := agent.req.submitted; len(s) != 3 || s[2].Photo != nil || s[2].Phone != "13900001234" {
		t.Fatalf("a photo taken back was still asked for: %+v", s)
	}
}

// TestRequestFailuresShown: what kioskd refuses is said on the step that
// needs fixing, and nothing is pretended submitted.
func TestRequestFailuresShown(t *testing.T) {
	agent := newFakeAgent()
	agent.req.submitErr = []error{
		&localclient.APIError{StatusCode: 400, Code: apitype.CodeCardExpired, Field: "card"},
		&localclient.APIError{StatusCode: 507, Code: apitype.CodeStorageFull},
		&localclient.APIError{StatusCode: 409, Code: apitype.CodeNoDevice},
		&localclient.APIError{StatusCode: 400, Code: apitype.CodeUnknownPlace, Field: "place"},
	}
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	p.picto("反映诉求")
	p.picto("道路设施")
	p.tap("路灯不亮")
	p.tap(labelNext)
	p.tap("一组")
	u.onCardEvent(tappedCard)
	p.tap(labelSubmit)
	mustSee(t, w, txt(wording.RequestFailCard))
	if onScreen(w, "陈桂英") {
		t.Error("the expired card is still shown as read")
	}
	u.onCardEvent(tappedCard)
	p.tap(labelSubmit)
	mustSee(t, w, txt(wording.RequestFailStorage))
	p.tap(labelReqPhoto)
	p.tap(labelReqPhotoOK)
	p.tap(labelSubmit)
	mustSee(t, w, txt(wording.RequestFailPhoto))
	p.tap(txt(wording.RequestPhotoCancel))
	p.tap(labelSubmit)
	mustSee(t, w, txt(wording.RequestFailOptions))
	mustSee(t, w, "第 4 步") // the place, asked again
	p.tap("二组")
	p.tap(labelSubmit)
	mustSee(t, w, labelReqDone)
	if s := agent.req.submitted; len(s) != 1 || s[0].Place != "group-2" || s[0].Photo != nil {
		t.Errorf("submitted %+v", s)
	}

	// The menu cannot be loaded: said, with a way to try again.
	agent2 := newFakeAgent()
	agent2.req.menuErr = &localclient.APIError{StatusCode: 503, Code: apitype.CodeStorage}
	_, w2, _ := mustUI(t, agent2)
	test.Tap(mustButton(t, w2, labelRaise))
	mustSee(t, w2, txt(wording.RequestLoadFailed))
	agent2.req.menuErr = nil
	test.Tap(mustButton(t, w2, txt(wording.RequestRetry)))
	mustPicto(t, w2, "举报")
}

// TestCheckByCard: a card placed on the check screen lists what was raised
// with it, newest first, with the status and, once the township answers,
// the reply.
func TestCheckByCard(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelCheck)
	mustSee(t, w, txt(wording.CheckHowCard))
	u.onCardEvent(tappedCard)
	mustSee(t, w, txt(wording.CheckNone))
	test.Tap(mustButton(t, w, labelHome))
	for _, cat := range []string{"道路设施", "环境卫生"} {
		p.tap(labelRaise)
		p.picto("反映诉求")
		p.picto(cat)
		p.tap(agentPhrase(agent, cat))
		p.tap(labelNext)
		p.tap("一组")
		u.onCardEvent(tappedCard)
		p.tap(labelSubmit)
		test.Tap(mustButton(t, w, labelHome))
	}
	agent.req.reply = "路灯已于12月5日修复。"
	p.tap(labelCheck)
	u.onCardEvent(tappedCard)
	mustSee(t, w, "您反映的事（2 件）")
	mustSee(t, w, "编号 00043　反映诉求：环境卫生")
	mustSee(t, w, "进度：已办结")
	mustSee(t, w, "乡镇回复：路灯已于12月5日修复。")
	if s := u.readAloudText(); !contains(s, "已办结") || !contains(s, "路灯已于12月5日修复") {
		t.Errorf("reads aloud %q", s)
	}
	// An expired token is said plainly.
	u.onCardEvent(apitype.CardEvent{Seq: 9, Kind: apitype.CardRead, Card: &apitype.CardSummary{Token: expiredToken, Name: "陈桂英"}})
	mustSee(t, w, txt(wording.CheckFailCard))
}

// agentPhrase is the first phrase of the test menu's category named name.
func agentPhrase(_ *fakeAgent, name string) string {
	for _, c := range testRequestMenu().Categories {
		if c.Name == name {
			return c.Phrases[0]
		}
	}
	return ""
}

// TestCheckByNumber: the number and the phone's last four digits, or an
// anonymous report's code; a wrong one, or too many, said plainly; a
// request without a reply shows none (the downlink is item 2).
func TestCheckByNumber(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	p.picto("咨询")
	p.picto("其他")
	p.tap("其他问题，请回电")
	p.tap(labelNext)
	p.tap(labelPlaceSkip)
	p.keys("13900001234")
	p.tap(labelSubmit)
	test.Tap(mustButton(t, w, labelHome))

	p.tap(labelCheck)
	p.tap(labelCheckNumber)
	p.tap(labelNext)
	mustSee(t, w, txt(wording.CheckNumberInvalid))
	p.keys("42")
	p.tap(labelNext)
	mustSee(t, w, "编号 00042：用什么查？")
	p.tap(labelCheckPhone4)
	p.keys("9999")
	p.tap(labelCheckSearch)
	mustSee(t, w, txt(wording.CheckFailNoMatch))
	p.keys("1234")
	p.tap(labelCheckSearch)
	mustSee(t, w, "进度：已提交，待受理")
	mustSee(t, w, txt(wording.CheckNoReply))
	if s := u.readAloudText(); !contains(s, "已提交，待受理") {
		t.Errorf("reads aloud %q", s)
	}
	if got := agent.req.checks; len(got) != 2 || got[1].Phone4 != "1234" || got[1].Code != "" {
		t.Errorf("checks %+v", got)
	}

	// Locked after too many wrong proofs.
	p.tap(txt(wording.CheckAgain))
	agent.req.checkErr = &localclient.APIError{StatusCode: 429, Code: apitype.CodeLocked}
	p.tap(labelCheckNumber)
	p.keys("42")
	p.tap(labelNext)
	p.tap(labelCheckCode)
	p.keys("12345678")
	p.tap(labelCheckSearch)
	mustSee(t, w, txt(wording.CheckFailLocked))
	if got := agent.req.checks; got[len(got)-1].Code != "12345678" || got[len(got)-1].Phone4 != "" {
		t.Errorf("checks %+v", got)
	}

	// A request made before the kiosk lost its request secret cannot be
	// checked here: the village office can (kioskd's 410 uncheckable).
	agent.req.checkErr = &localclient.APIError{StatusCode: 410, Code: apitype.CodeUncheckable}
	p.tap("清除")
	p.keys("12345678")
	p.tap(labelCheckSearch)
	mustSee(t, w, txt(wording.CheckFailLost))
}

// TestAnonymousReportCheckedByCode: the receipt's code finds the report.
func TestAnonymousReportCheckedByCode(t *testing.T) {
	agent := newFakeAgent()
	_, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelRaise)
	p.picto("举报")
	p.picto("环境卫生")
	p.tap("焚烧秸秆或垃圾")
	p.tap(labelNext)
	p.tap("三组")
	p.tap(labelAnonymous)
	p.tap(labelSubmit)
	test.Tap(mustButton(t, w, labelHome))
	p.tap(labelCheck)
	p.tap(labelCheckNumber)
	p.keys("00042")
	p.tap(labelNext)
	p.tap(labelCheckCode)
	p.keys("27182818")
	p.tap(labelCheckSearch)
	mustSee(t, w, "编号 00042　举报：环境卫生")
	mustSee(t, w, "进度：已提交，待受理")
}

// TestRequestStepsAnnounced: with voice guidance each step says its
// question and its options' hint once; ticking a phrase redraws the step
// without saying it again.
func TestRequestStepsAnnounced(t *testing.T) {
	agent := newFakeAgent()
	agent.editMenu = func(m *apitype.Menu) { m.Voice = true }
	_, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	last := func() string {
		agent.mu.Lock()
		defer agent.mu.Unlock()
		if len(agent.spoken) == 0 {
			return ""
		}
		return agent.spoken[len(agent.spoken)-1]
	}
	p.tap(labelRaise)
	if s := last(); !contains(s, "求助、反映诉求、咨询、举报") {
		t.Errorf("the kind step says %q", s)
	}
	p.picto("反映诉求")
	p.picto("道路设施")
	if s := last(); !contains(s, "选 1 到 3 条") {
		t.Errorf("the phrases step says %q", s)
	}
	agent.mu.Lock()
	n := len(agent.spoken)
	agent.mu.Unlock()
	p.tap("路灯不亮")
	agent.mu.Lock()
	again := len(agent.spoken) != n
	agent.mu.Unlock()
	if again {
		t.Errorf("ticking a phrase announced the step again: %q", last())
	}
}
