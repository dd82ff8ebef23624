package ui

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// A mediator's half-filled session form outlives a sign-out: the screen
// keeps it in kioskd as a draft (sealed there, under the mediator's roster
// id) and reopens it at their next sign-in. It is kept on every change, not
// only at sign-out, because a session kioskd ended on its own (a restart,
// a lapse) can no longer save anything; at sign-out it is kept once more
// if the last save as it changed did not get through.

// draftForm is the form as kioskd keeps it. A party who tapped a card is
// counted, not kept: the card's token dies with the session, so they tap
// it again.
func draftForm(f *sessionForm) apitype.DraftForm {
	out := apitype.DraftForm{Session: f.req, Agreement: f.agreement}
	// Encoded on another goroutine while the form goes on changing: the
	// draft must not share the form's slices.
	out.Session.Phrases = slices.Clone(f.req.Phrases)
	out.Session.Parties = nil
	for _, p := range f.parties {
		if p.Card != "" {
			out.CardParties++
			continue
		}
		out.Session.Parties = append(out.Session.Parties, p)
	}
	return out
}

// worthKeeping says whether the form holds anything the mediator entered:
// one opened and left as it was is not a draft.
func worthKeeping(f *sessionForm) bool {
	r := f.req
	return f.caseID != "" && (len(f.parties) > 0 || len(r.Phrases) > 0 || r.Note != "" || r.Outcome != "" ||
		f.agreement != nil || r.FollowUp != "" || r.Category != f.base.Category || r.Line != f.base.Line)
}

// encodedDraft is the form's draft as compared with the one kept, or "" if
// it is not worth keeping.
func encodedDraft(f *sessionForm) string {
	if f == nil || !worthKeeping(f) {
		return ""
	}
	raw, err := json.Marshal(draftForm(f))
	if err != nil {
		return "" // plain strings and slices: cannot fail
	}
	return string(raw)
}

// keepDraft saves the form on screen as a draft when it changed since it
// was last kept. A failure is only logged: the mediator is still filling
// it in, and the next change or the sign-out tries again.
func (u *UI) keepDraft() {
	f := u.med.form
	enc := encodedDraft(f)
	if enc == "" || enc == f.kept || f.saving || !u.med.signedIn() {
		return
	}
	token, form := u.med.session.Token, draftForm(f)
	u.med.lastCall = u.opts.Now()
	f.drafting.Add(1)
	call(u, func(ctx context.Context) (apitype.SessionDraft, error) {
		defer f.drafting.Done()
		return u.opts.Agent.SaveDraft(ctx, token, f.caseID, form)
	}, func(_ apitype.SessionDraft, err error) {
		if err != nil {
			u.opts.Log.Warn("mediation draft not kept", "case", f.caseID, "err", err)
			return
		}
		f.kept = enc
	})
}

// draftToKeep is the last save of the form at sign-out, to run before the
// session ends, or nil when there is nothing new to keep. A form being saved
// as a session is not kept again: that save could land after the session;
// if the session fails, the draft kept as the form changed is still there.
func (u *UI) draftToKeep() func(ctx context.Context, token string) {
	f := u.med.form
	enc := encodedDraft(f)
	if enc == "" || enc == f.kept || f.saving {
		return nil
	}
	caseID, form, log := f.caseID, draftForm(f), u.opts.Log
	return func(ctx context.Context, token string) {
		f.drafting.Wait() // an older save still on its way must not land after this one
		if _, err := u.opts.Agent.SaveDraft(ctx, token, caseID, form); err != nil {
			log.Warn("mediation draft not kept at sign-out", "case", caseID, "err", err)
			return
		}
		log.Info("mediation draft kept at sign-out", "case", caseID)
	}
}

// dropDraft forgets the form's draft when the mediator leaves the form
// themselves (调解员首页): that is a choice, not an interruption. Not a
// draft that came back at sign-in and was left as it came: the mediator
// only looked at it (or went past it to another), and it waits for them.
func (u *UI) dropDraft() {
	f := u.med.form
	if f == nil || f.caseID == "" || !u.med.signedIn() {
		return
	}
	if f.restored != "" && encodedDraft(f) == f.kept {
		return
	}
	_, had := u.med.drafts[f.caseID]
	delete(u.med.drafts, f.caseID)
	if f.kept == "" && !had {
		return
	}
	token, caseID := u.med.session.Token, f.caseID
	do(u, func(ctx context.Context) error { return u.opts.Agent.DeleteDraft(ctx, token, caseID) }, func(err error) {
		if err != nil {
			u.opts.Log.Warn("mediation draft not dropped", "case", caseID, "err", err)
		}
	})
}

// resumeDrafts follows a sign-in: the mediator's most recent draft reopens
// as the form it was; the others wait until their case's form is opened.
// Without drafts, or if they cannot be had, it is the mediator's home.
func (u *UI) resumeDrafts() {
	mcall(u, u.opts.Agent.Drafts, func(ds apitype.SessionDrafts, err error) {
		if err != nil || len(ds.Drafts) == 0 {
			if err != nil {
				u.opts.Log.Warn("mediation drafts not loaded", "err", err)
			}
			u.showMediatorHome()
			return
		}
		u.med.drafts = map[string]apitype.SessionDraft{}
		for _, d := range ds.Drafts {
			u.med.drafts[d.Case] = d
		}
		u.opts.Log.Info("mediation draft restored", "case", ds.Drafts[0].Case, "drafts", len(ds.Drafts))
		u.reopenCase(ds.Drafts[0].Case)
	})
}

// reopenCase opens the session form of a case that has a draft.
func (u *UI) reopenCase(id string) {
	mcall(u, func(ctx context.Context, token string) (apitype.Case, error) {
		return u.opts.Agent.Case(ctx, token, id)
	}, func(c apitype.Case, err error) {
		if err != nil {
			u.opts.Log.Warn("case of a mediation draft not loaded", "case", id, "err", err)
			delete(u.med.drafts, id)
			u.showMediatorHome()
			return
		}
		u.startSession(c)
	})
}

// formFromDraft is the session form of case caseID as draft d left it.
func (u *UI) formFromDraft(caseID string, base apitype.SessionRequest, d apitype.SessionDraft) *sessionForm {
	f := &sessionForm{caseID: caseID, base: base, req: d.Form.Session, agreement: d.Form.Agreement}
	f.req.Phrases = slices.Clone(f.req.Phrases)
	f.parties = slices.Clone(d.Form.Session.Parties)
	f.req.Parties = nil
	for _, p := range f.parties {
		f.shown = append(f.shown, partyLine(p.Name, p.Phone))
	}
	f.restored = u.tf(wording.MediatorDraftRestored, wording.Args{"saved": d.Saved.Format("1月2日 15:04")})
	if n := d.Form.CardParties; n > 0 {
		f.restored += u.tf(wording.MediatorDraftCards, wording.Args{"n": n})
	}
	f.kept = encodedDraft(f)
	return f
}
