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
)

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
