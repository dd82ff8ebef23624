package ui

import (
	"testing"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// txt is the catalogue's text of k, which a test's fake menu does not
// correct: tests tap and look for labels by key, so a rewording in
// zh-CN.yaml needs no test change.
func txt(k wording.Key) string { return wording.Default(k) }

// txtf is txt with the text's values filled in.
func txtf(k wording.Key, args wording.Args) string { return wording.Format(txt(k), args) }

// Labels the tests tap or look for, by the names they had as constants.
var (
	labelInPerson     = txt(wording.PlatformInPerson)
	labelByPhone      = txt(wording.PlatformByPhone)
	labelCall         = txt(wording.PlatformCall)
	labelSayDate      = txt(wording.EventSayDate)
	labelPrintDate    = txt(wording.EventPrintDate)
	labelDatePrinted  = txt(wording.EventPrinted)
	labelStillThere   = txt(wording.IdleStillThere)
	labelContinue     = txt(wording.IdleContinue)
	labelOtherSurname = txt(wording.IdentityOtherSurname)
	labelMr           = txt(wording.IdentityMr)
	labelMs           = txt(wording.IdentityMs)
	labelWithoutCard  = txt(wording.IdentityWithoutCard)
	labelAddOther     = txt(wording.MediationAddOther)

	labelReadAloud     = txt(wording.CommonReadAloud)
	labelLarger        = txt(wording.CommonLarger)
	labelStandard      = txt(wording.CommonStandard)
	labelHome          = txt(wording.CommonHome)
	labelBookAdvisor   = txt(wording.HomeBookAdvisor)
	labelBookMediation = txt(wording.MediationBook)
	labelHotline       = txt(wording.HomeHotlineTitle)
	labelMediator      = txt(wording.HomeMediator)
	labelYes           = txt(wording.CheckupYes)
	labelNo            = txt(wording.CheckupNo)
	labelBack          = txt(wording.BookingBack)
	labelCancel        = txt(wording.BookingCancel)
	labelNext          = txt(wording.BookingNext)
	labelConfirm       = txt(wording.BookingConfirm)
	labelClear         = txt(wording.BookingClear)
	labelDelete        = txt(wording.BookingDelete)
	labelPrint         = txt(wording.DonePrint)
	labelPrinted       = txt(wording.DonePrinted)
	labelBooked        = txt(wording.DoneBooked)
	labelTapCard       = txt(wording.IdentityTapCard)
	labelScan          = txt(wording.PlatformScan)
	titlePrefer        = txt(wording.MediationPreferTitle)

	labelMediatorHome     = txt(wording.MediatorHome)
	labelSignOut          = txt(wording.MediatorSignOut)
	labelSignIn           = txt(wording.MediatorSignIn)
	labelNewCase          = txt(wording.MediatorNewCase)
	labelFollowUps        = txt(wording.MediatorFollowUps)
	labelIndicators       = txt(wording.MediatorIndicators)
	labelLogSession       = txt(wording.MediatorLogSession)
	labelSaveSession      = txt(wording.MediatorSaveSession)
	labelFollowUpDone     = txt(wording.MediatorFollowUpDone)
	labelCreateCase       = txt(wording.MediatorCreateCase)
	labelAddBySurname     = txt(wording.MediatorAddBySurname)
	labelPhoto            = txt(wording.MediatorPhoto)
	labelPhotoAgreed      = txt(wording.MediatorPhotoAgreed)
	labelPhotoRefused     = txt(wording.MediatorPhotoRefused)
	labelWrittenAgreement = txt(wording.MediatorWrittenAgreement)
	labelOralAgreement    = txt(wording.MediatorOralAgreement)

	lineLabels = map[string]string{
		apitype.LineRed:    txt(wording.MediatorLineRed),
		apitype.LineYellow: txt(wording.MediatorLineYellow),
		apitype.LineBlue:   txt(wording.MediatorLineBlue),
	}
	outcomeLabels = map[string]string{
		apitype.OutcomeSettled:   txt(wording.MediatorOutcomeSettled),
		apitype.OutcomeUnsettled: txt(wording.MediatorOutcomeUnsettled),
		apitype.OutcomeReferred:  txt(wording.MediatorOutcomeReferred),
	}
)

// followUpIn is the label of the follow-up date days ahead, on date
// ("12-10").
func followUpIn(days int, date string) string {
	return txtf(wording.MediatorFollowUpIn, wording.Args{"days": days, "date": date})
}

// TestSiteWording: a township's correction (GET /v1/menu wording) is what
// the screen shows, in place of the catalogue's text; one that lost its
// {n} is not, since the villager would lose the number with it.
func TestSiteWording(t *testing.T) {
	agent := newFakeAgent()
	agent.editMenu = func(m *apitype.Menu) {
		m.Wording = map[string]string{
			string(wording.MediationCategoryTitle): "为了什么事？",
			string(wording.MediationPreferHint):    "最多选三个", // lost {n}
		}
	}
	_, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelBookMediation)
	mustSee(t, w, "为了什么事？")
	if onScreen(w, txt(wording.MediationCategoryTitle)) {
		t.Error("the catalogue's text is shown beside the site's")
	}
	p.picto("邻里")
	p.tap("王")
	p.tap("王" + labelMs)
	p.keys("13800001111")
	p.tap(labelNext)
	mustSee(t, w, txtf(wording.MediationPreferHint, wording.Args{"n": maxPreferred}))
}

// TestOtherSurnameNoHonorificNonsense: a villager whose surname is not
// on the grid is 先生 or 女士, never 村民先生.
func TestOtherSurnameNoHonorificNonsense(t *testing.T) {
	_, w, _ := mustUI(t, newFakeAgent())
	p := &tapper{t: t, w: w}
	p.tap(labelBookMediation)
	p.picto("邻里")
	p.tap(labelOtherSurname)
	p.tap(labelMs)
	mustSee(t, w, txtf(wording.MediationYourName, wording.Args{"name": labelMs}))
	if onScreen(w, "村民") {
		t.Errorf("村民 on screen: %q", texts(w))
	}
}

// TestSiteWordingMediator: mediator mode words its screens as the site
// corrects them too, a text with values as well as a button.
func TestSiteWordingMediator(t *testing.T) {
	agent := newFakeAgent()
	agent.editMenu = func(m *apitype.Menu) {
		m.Wording = map[string]string{
			string(wording.MediatorNewCase):         "来访的新案件",
			string(wording.MediatorReminderOverdue): "{n} 个回访过期了",
		}
	}
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelMediator)
	u.onCardEvent(mediatorCard)
	p.keys(mediatorPIN)
	p.tap(labelSignIn)
	mustSee(t, w, "提醒：1 个回访过期了")
	p.tap("来访的新案件")
	mustSee(t, w, txt(wording.MediatorTapParty))
	if onScreen(w, labelNewCase) {
		t.Error("the catalogue's text is shown beside the site's")
	}
}

// TestSiteWordingHeader: the header's 朗读 and 大字 are built before the
// menu arrives; the site's corrections must reach them too.
func TestSiteWordingHeader(t *testing.T) {
	agent := newFakeAgent()
	agent.editMenu = func(m *apitype.Menu) {
		m.Wording = map[string]string{
			string(wording.CommonReadAloud): "念给我听",
			string(wording.CommonLarger):    "字大一点",
		}
	}
	u, _, _ := mustUI(t, agent)
	if u.readAloud.Text != "念给我听" || u.textSwitch.Text != "字大一点" {
		t.Errorf("header reads %q and %q, want the site's corrections", u.readAloud.Text, u.textSwitch.Text)
	}
}
