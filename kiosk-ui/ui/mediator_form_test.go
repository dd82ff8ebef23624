package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// openSessionForm signs in and opens the session form of the fake's case.
func openSessionForm(t *testing.T) (*UI, fyne.Window, *fakeAgent, *tapper) {
	t.Helper()
	u, w, agent := mustSignIn2(t)
	test.Tap(mustTile(t, w, "案件 00012"))
	p := &tapper{t: t, w: w}
	p.tap(labelLogSession)
	return u, w, agent, p
}

// findLabel is the label on screen reading text.
func findLabel(w fyne.Window, text string) *widget.Label {
	for _, o := range objects(w) {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			return l
		}
	}
	return nil
}

// TestSessionFormMarksEveryMissingField: 保存 on an incomplete form marks
// every field still missing beside its heading at once, scrolls to the
// first, and a mark goes as its field is filled in.
func TestSessionFormMarksEveryMissingField(t *testing.T) {
	u, w, agent, p := openSessionForm(t)
	p.tap(outcomeLabels[apitype.OutcomeSettled]) // asks for the agreement and the date too
	p.tap(labelSaveSession)
	marks := []string{"请选择红黄蓝分级", "请至少选一条调解摘要", "请选择是否签订了书面协议", "调解成功的案件请选回访日期"}
	for _, m := range marks {
		mustSee(t, w, m)
	}
	if onScreen(w, "请选择纠纷类型") || onScreen(w, "请选择调解结果") {
		t.Error("a field already filled in is marked")
	}
	if len(agent.sessions) != 0 {
		t.Fatal("an incomplete session was sent")
	}
	s := firstScroll(u.body.Objects[0])
	h := findLabel(w, "红黄蓝分级")
	if h == nil {
		t.Fatal("no 红黄蓝分级 heading")
	}
	at, ok := offsetIn(s.Content, h)
	if !ok || at.Y <= 0 {
		t.Fatalf("heading at %v (%v)", at, ok)
	}
	if s.Offset.Y != min(at.Y, s.Content.Size().Height-s.Size().Height) || s.Offset.Y <= 0 {
		t.Errorf("scrolled to %.0f; the first mark's heading is at %.0f", s.Offset.Y, at.Y)
	}

	p.tap(lineLabels[apitype.LineBlue])
	if onScreen(w, "请选择红黄蓝分级") {
		t.Error("the line's mark stays once a line is chosen")
	}
	mustSee(t, w, "请至少选一条调解摘要")
	p.tap("双方各退一步")
	p.tap(labelOralAgreement)
	p.tap(followUpIn(15, "12-10"))
	p.tap(labelSaveSession)
	mustSee(t, w, "调解记录已保存")
	if got := agent.sessions[0]; got.Agreement || got.Outcome != apitype.OutcomeSettled {
		t.Errorf("an oral agreement sent as %+v", got)
	}
}

// TestAgreementAskedOnlyWhenSettled: an unsettled or referred session has
// no agreement to speak of; the form does not ask, and sends none.
func TestAgreementAskedOnlyWhenSettled(t *testing.T) {
	_, w, agent, p := openSessionForm(t)
	p.tap(outcomeLabels[apitype.OutcomeSettled])
	p.tap(labelWrittenAgreement)
	p.tap(outcomeLabels[apitype.OutcomeReferred]) // changed their mind
	if findButton(w, labelWrittenAgreement) != nil || findButton(w, labelOralAgreement) != nil {
		t.Error("the agreement is asked of a referred session")
	}
	p.tap(lineLabels[apitype.LineBlue])
	p.tap("双方各退一步")
	p.tap(labelSaveSession)
	mustSee(t, w, "调解记录已保存")
	if got := agent.sessions[0]; got.Agreement || got.FollowUp != "" {
		t.Errorf("a referred session sent with %+v", got)
	}
}

// TestSessionFormListsCaseParties: the parties already on the case are on
// the form, as kioskd shows them, before anyone taps a card.
func TestSessionFormListsCaseParties(t *testing.T) {
	_, w, _, _ := openSessionForm(t)
	mustSee(t, w, "案件中的当事人")
	mustSee(t, w, "王女士　138****1111")
}

// TestTriageChoicesCarryColour: each line's choice has a chip of its colour
// beside its words, and the chosen one is ticked.
func TestTriageChoicesCarryColour(t *testing.T) {
	_, w, _, p := openSessionForm(t)
	p.tap(lineLabels[apitype.LineYellow])
	for _, l := range []string{apitype.LineRed, apitype.LineYellow, apitype.LineBlue} {
		b := mustButton(t, w, lineLabels[l])
		if b.Icon == nil || !strings.Contains(string(b.Icon.Content()), lineColours[l]) {
			t.Errorf("%s: no chip of its colour", l)
			continue
		}
		ticked := strings.Contains(string(b.Icon.Content()), "<path")
		outlined := chosenOptionOf(w, lineLabels[l]) != nil
		if chosen := l == apitype.LineYellow; ticked != chosen || outlined != chosen {
			t.Errorf("%s: ticked %v, outlined %v; chosen %v", l, ticked, outlined, chosen)
		}
	}
}

// TestRestoredDraftMasksPhones: a party added by surname comes back from a
// draft with their number masked, as everywhere else.
func TestRestoredDraftMasksPhones(t *testing.T) {
	u, w, agent, p := openSessionForm(t)
	p.tap(labelAddBySurname)
	p.tap("黄")
	p.tap("黄" + labelMr)
	p.keys("13800002222")
	p.tap(labelNext)
	mustSee(t, w, "当事人：黄先生　138****2222")
	test.Tap(mustButton(t, w, labelSignOut))
	if len(agent.drafts.kept) != 1 {
		t.Fatalf("no draft kept: %+v", agent.drafts.kept)
	}
	p.tap(labelMediator)
	u.onCardEvent(mediatorCard)
	p.keys(mediatorPIN)
	p.tap(labelSignIn)
	mustSee(t, w, "已恢复")
	mustSee(t, w, "当事人：黄先生　138****2222")
	if onScreen(w, "13800002222") {
		t.Error("a restored party's phone is shown in full")
	}
}

// TestTouchKeepsMediatorSessionAlive: a touch that sends kioskd nothing
// (answering the idle warning, ticking through a form already drawn) tells
// kioskd the mediator is there once its last request is mediatorPing old,
// so kioskd, counting from the last request, does not sign them out before
// the screen, counting from the last touch, has warned them.
func TestTouchKeepsMediatorSessionAlive(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	agent := u.opts.Agent.(*fakeAgent)
	mustSignIn(t, u, w)
	before := agent.phrased

	clock.t = clock.t.Add(mediatorPing - time.Second)
	u.touch()
	if agent.phrased != before {
		t.Fatal("a touch right after a request pinged kioskd")
	}

	clock.t = clock.t.Add(u.idleTimeout() - IdleWarning) // from the touch above
	u.checkIdle()
	if !u.IdleWarned() {
		t.Fatal("no idle warning")
	}
	u.keepUsing() // the mediator answers the warning
	if agent.phrased != before+1 {
		t.Fatalf("answering the warning sent kioskd %d requests, want 1", agent.phrased-before)
	}
	if !u.med.signedIn() || agent.session == "" {
		t.Fatal("signed out")
	}
	u.touch()
	if agent.phrased != before+1 {
		t.Error("a second touch at once pinged kioskd again")
	}
}

// TestWalkInMarksMissingFields: 建立案件 with nothing chosen marks both the
// parties and the category, each under its heading.
func TestWalkInMarksMissingFields(t *testing.T) {
	u, w, agent := mustSignIn2(t)
	p := &tapper{t: t, w: w}
	p.tap(labelNewCase)
	p.tap(labelCreateCase)
	mustSee(t, w, "请添加当事人：刷身份证，或选姓氏添加。")
	mustSee(t, w, "请选择纠纷类型。")
	u.onCardEvent(tappedCard)
	mustSee(t, w, "当事人：陈桂英")
	if onScreen(w, "请添加当事人") {
		t.Error("the parties' mark stays once a party is added")
	}
	p.tap("合同")
	p.tap(labelCreateCase)
	if len(agent.cases) != 2 {
		t.Errorf("walk-in case not made: %d cases", len(agent.cases))
	}
}
