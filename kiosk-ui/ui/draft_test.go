package ui

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// fakeDrafts is kioskd's draft store for the fake's one mediator: by case.
type fakeDrafts struct {
	kept  map[string]apitype.SessionDraft
	saves int
	err   error // SaveDraft fails with it when set
}

// logged is what kioskd does to a case's draft when its session is logged.
func (d *fakeDrafts) logged(caseID string) { delete(d.kept, caseID) }

func (f *fakeAgent) SaveDraft(_ context.Context, token, caseID string, form apitype.DraftForm) (apitype.SessionDraft, error) {
	if err := f.auth(token); err != nil {
		return apitype.SessionDraft{}, err // too late: the session is over
	}
	if f.drafts.err != nil {
		return apitype.SessionDraft{}, f.drafts.err
	}
	for _, p := range form.Session.Parties {
		if p.Card != "" {
			return apitype.SessionDraft{}, &localclient.APIError{StatusCode: 400, Code: apitype.CodeInvalid, Field: "session.parties[0].card"}
		}
	}
	// Through JSON, as over the socket: nothing of the screen's form is shared.
	raw, _ := json.Marshal(form)
	var kept apitype.DraftForm
	json.Unmarshal(raw, &kept)
	if f.drafts.kept == nil {
		f.drafts.kept = map[string]apitype.SessionDraft{}
	}
	d := apitype.SessionDraft{Case: caseID, Saved: time.Date(2026, 11, 25, 10, 5, 0, 0, cst), Form: kept}
	f.drafts.kept[caseID] = d
	f.drafts.saves++
	return d, nil
}

func (f *fakeAgent) Drafts(_ context.Context, token string) (apitype.SessionDrafts, error) {
	if err := f.auth(token); err != nil {
		return apitype.SessionDrafts{}, err
	}
	out := apitype.SessionDrafts{Drafts: []apitype.SessionDraft{}}
	for _, d := range f.drafts.kept {
		out.Drafts = append(out.Drafts, d)
	}
	return out, nil
}

func (f *fakeAgent) DeleteDraft(_ context.Context, token, caseID string) error {
	if err := f.auth(token); err != nil {
		return err
	}
	delete(f.drafts.kept, caseID)
	return nil
}

// fillHalfSession opens the fake's case and fills in part of a session:
// a party by card, the line and a phrase, no outcome yet.
func fillHalfSession(t *testing.T, u *UI, w fyne.Window) {
	t.Helper()
	p := &tapper{t: t, w: w}
	test.Tap(mustTile(t, w, "案件 00012"))
	p.tap(labelLogSession)
	u.onCardEvent(tappedCard)
	mustSee(t, w, "当事人：陈桂英")
	p.tap(lineLabels[apitype.LineYellow])
	p.tap("双方各退一步")
}

// mustChosen fails unless the choice labelled label is outlined and ticked.
func mustChosen(t *testing.T, w fyne.Window, label string) {
	t.Helper()
	mustButton(t, w, label)
	if chosenOptionOf(w, label) == nil {
		t.Errorf("%q is not ticked", label)
	}
}

// TestMediatorDraftRoundTrip: a mediator signed out with a half-filled
// session form, however it happens, finds it again at their next sign-in;
// logging the session ends the draft.
func TestMediatorDraftRoundTrip(t *testing.T) {
	const last = "双方当面说清事实"
	tests := []struct {
		name    string
		signOut func(t *testing.T, u *UI, w fyne.Window, agent *fakeAgent, clock *fakeClock)
		// keepsLast: the last change, whose save as the form changed did
		// not get through, is kept by the save at sign-out, which must come
		// before the token is revoked; a session that lapsed in kioskd
		// keeps only what was saved as the form changed.
		keepsLast bool
	}{
		{"idle", func(t *testing.T, u *UI, w fyne.Window, _ *fakeAgent, clock *fakeClock) {
			clock.t = clock.t.Add(u.opts.MediatorIdleTimeout)
			u.checkIdle()
		}, true},
		{"sign-out button", func(t *testing.T, u *UI, w fyne.Window, _ *fakeAgent, _ *fakeClock) {
			test.Tap(mustButton(t, w, labelSignOut))
		}, true},
		{"session lapsed in kioskd", func(t *testing.T, u *UI, w fyne.Window, agent *fakeAgent, _ *fakeClock) {
			agent.session = "" // kioskd restarted: the form can no longer be saved, only what was kept as it changed
			test.Tap(mustButton(t, w, labelMediatorHome))
			mustSee(t, w, "请把调解员本人的身份证放在读卡器上")
			u.goHome()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent()
			u, w, clock := mustUI(t, agent)
			mustSignIn(t, u, w)
			fillHalfSession(t, u, w)
			agent.drafts.err = errors.New("storage busy")
			(&tapper{t: t, w: w}).tap(last)
			agent.drafts.err = nil
			tt.signOut(t, u, w, agent, clock)
			if u.med.signedIn() || agent.session != "" {
				t.Fatal("still signed in")
			}
			mustTile(t, w, "法律顾问")
			d, ok := agent.drafts.kept["case-1"]
			if !ok {
				t.Fatalf("no draft kept; drafts %+v", agent.drafts.kept)
			}
			if d.Form.CardParties != 1 || len(d.Form.Session.Parties) != 0 {
				t.Errorf("a card party in the draft: %+v", d.Form)
			}

			p := &tapper{t: t, w: w}
			p.tap(labelMediator)
			u.onCardEvent(mediatorCard)
			p.keys(mediatorPIN)
			p.tap(labelSignIn)
			mustSee(t, w, "已恢复您 11月25日 10:05 没有保存的调解记录")
			mustSee(t, w, "刷过身份证的 1 位当事人请重新刷卡")
			mustChosen(t, w, lineLabels[apitype.LineYellow])
			mustChosen(t, w, "双方各退一步")
			mustButton(t, w, last)
			if ticked := chosenOptionOf(w, last) != nil; ticked != tt.keepsLast {
				t.Errorf("%q restored ticked: %v; kept at sign-out: %v", last, ticked, tt.keepsLast)
			}

			u.onCardEvent(tappedCard)
			p.tap(outcomeLabels[apitype.OutcomeUnsettled])
			p.tap(labelSaveSession)
			mustSee(t, w, "调解记录已保存")
			got := agent.sessions[len(agent.sessions)-1]
			want := "双方各退一步"
			if tt.keepsLast {
				want += "," + last
			}
			if got.Line != apitype.LineYellow || strings.Join(got.Phrases, ",") != want || len(got.Parties) != 1 {
				t.Errorf("session from the restored form: %+v", got)
			}
			if len(agent.drafts.kept) != 0 {
				t.Errorf("draft outlived its session: %+v", agent.drafts.kept)
			}
			test.Tap(mustButton(t, w, labelSignOut))
			mustSignIn(t, u, w) // straight to the mediator's home: nothing to restore
			if onScreen(w, "已恢复") {
				t.Error("a logged session came back as a draft")
			}
		})
	}
}

// TestRestoredDraftLeftUntouchedStays: the draft that opens at sign-in is
// not the mediator's choice to leave; going home from it without a change
// keeps it for the next sign-in, where it comes back again.
func TestRestoredDraftLeftUntouchedStays(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	mustSignIn(t, u, w)
	fillHalfSession(t, u, w)
	test.Tap(mustButton(t, w, labelSignOut))
	if len(agent.drafts.kept) != 1 {
		t.Fatalf("no draft kept at sign-out: %+v", agent.drafts.kept)
	}
	p := &tapper{t: t, w: w}
	signIn := func() {
		t.Helper()
		p.tap(labelMediator)
		u.onCardEvent(mediatorCard)
		p.keys(mediatorPIN)
		p.tap(labelSignIn)
	}
	signIn()
	mustSee(t, w, "已恢复您")
	test.Tap(mustButton(t, w, labelMediatorHome))
	if len(agent.drafts.kept) != 1 {
		t.Errorf("a restored draft left untouched was dropped: %+v", agent.drafts.kept)
	}
	test.Tap(mustButton(t, w, labelSignOut))
	signIn()
	mustSee(t, w, "已恢复您")
}

// TestDraftNotKeptStillSignsOut: kioskd cannot keep the draft; the
// mediator is signed out all the same, and nothing comes back.
func TestDraftNotKeptStillSignsOut(t *testing.T) {
	agent := newFakeAgent()
	agent.drafts.err = &localclient.APIError{StatusCode: 503, Code: apitype.CodeStorage, Message: "could not commit"}
	u, w, clock := mustUI(t, agent)
	mustSignIn(t, u, w)
	fillHalfSession(t, u, w)
	clock.t = clock.t.Add(u.opts.MediatorIdleTimeout)
	u.checkIdle()
	if u.med.signedIn() || agent.session != "" {
		t.Fatal("a failed draft kept the mediator signed in")
	}
	mustTile(t, w, "法律顾问")
	mustSignIn(t, u, w)
}

// TestLeavingTheFormDropsItsDraft: 调解员首页 is the mediator's choice to
// leave the form, not an interruption: its draft goes.
func TestLeavingTheFormDropsItsDraft(t *testing.T) {
	u, w, agent := mustSignIn2(t)
	fillHalfSession(t, u, w)
	if len(agent.drafts.kept) != 1 {
		t.Fatalf("the changed form was not kept as it changed: %+v", agent.drafts.kept)
	}
	test.Tap(mustButton(t, w, labelMediatorHome))
	if len(agent.drafts.kept) != 0 {
		t.Errorf("the form left by choice is still a draft: %+v", agent.drafts.kept)
	}
	// A form opened and left untouched is no draft at all.
	saves := agent.drafts.saves
	test.Tap(mustTile(t, w, "案件 00012"))
	test.Tap(mustButton(t, w, labelLogSession))
	test.Tap(mustButton(t, w, labelSignOut))
	if agent.drafts.saves != saves || len(agent.drafts.kept) != 0 {
		t.Errorf("an untouched form was kept: %d saves, %+v", agent.drafts.saves-saves, agent.drafts.kept)
	}
}
