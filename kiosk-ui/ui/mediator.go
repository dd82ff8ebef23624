package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// The two buttons of every mediator page (mpage), in the catalogue's
// words: mpage is laid out elsewhere and names them so. The tests tap them
// by these names too.
var ()

// Line labels carry the colour's name and meaning in words: colour is never
// the only cue.
var lineKeys = map[string]wording.Key{
	apitype.LineRed:    wording.MediatorLineRed,
	apitype.LineYellow: wording.MediatorLineYellow,
	apitype.LineBlue:   wording.MediatorLineBlue,
}

var outcomeKeys = map[string]wording.Key{
	apitype.OutcomeSettled:   wording.MediatorOutcomeSettled,
	apitype.OutcomeUnsettled: wording.MediatorOutcomeUnsettled,
	apitype.OutcomeReferred:  wording.MediatorOutcomeReferred,
}

var caseStatusKeys = map[string]wording.Key{
	apitype.CaseBooked:   wording.MediatorStatusBooked,
	apitype.CaseOpen:     wording.MediatorStatusOpen,
	apitype.CaseSettled:  wording.MediatorStatusSettled,
	apitype.CaseReferred: wording.MediatorStatusReferred,
}

// label is the text of the key keys gives s, "" for a value it does not
// know (a status or line of a newer kioskd).
func (u *UI) label(keys map[string]wording.Key, s string) string {
	k, ok := keys[s]
	if !ok {
		return ""
	}
	return u.t(k)
}

// mediatorState is mediator mode: signing in, and what a signed-in mediator
// is entering. It is wiped at sign-out and on idle.
type mediatorState struct {
	waitingCard bool // the sign-in screen waits for the mediator's card
	card        *apitype.CardSummary
	pin         string
	session     *apitype.MediatorSession
	phrases     []string
	form        *sessionForm // a session being logged, or a walk-in case being opened
	photoFor    *photoTarget // the session just saved, which may be photographed
	err         string
	notice      string // shown once on the next mediator page

	drafts map[string]apitype.SessionDraft // by case: forms kept from an earlier sign-in (mediator_draft.go)

	lastCall time.Time // the last request with the session's token: kioskd's idle clock starts there
}

func (m *mediatorState) signedIn() bool { return m.session != nil }

// photoTarget is a session just saved on a case.
type photoTarget struct{ caseID, session string }

// sessionForm is a session being logged (caseID set) or a walk-in case
// being opened (caseID empty).
type sessionForm struct {
	caseID    string
	onCase    []apitype.PartySummary // parties already on the case, as kioskd shows them
	parties   []apitype.Party        // parties added by this session
	shown     []string               // what the screen shows of each party added
	req       apitype.SessionRequest
	agreement *bool   // a written agreement signed: asked only of a settled session
	adding    *person // a party without a card being added by surname
	saving    bool
	checked   bool // 保存 was tapped: each missing field is marked beside it
	scroll    bool // the next draw scrolls to the first field marked

	base     apitype.SessionRequest // what the form opened with: a form still like it is not worth a draft
	kept     string                 // the draft last kept in kioskd, encoded; "" for none
	restored string                 // the line saying the form came back from a draft
	drafting sync.WaitGroup         // draft saves on their way: the session waits for them
}

// primaryOr is the form's primary action for the band: save, except while
// a party's phone is being typed, when the keypad's 下一步 is the step to
// take and goes in the band instead (frame.go liftPrimary). Below the
// keypad, on a small panel in larger text, it is out of view.
func (f *sessionForm) primaryOr(save fyne.CanvasObject) []fyne.CanvasObject {
	if f.adding != nil && f.adding.named() {
		return nil
	}
	return []fyne.CanvasObject{save}
}

// onCard takes a card read for mediator mode, and says whether it did.
func (m *mediatorState) onCard(u *UI, c *apitype.CardSummary) bool {
	switch {
	case m.waitingCard:
		m.waitingCard, m.card, m.pin, m.err = false, c, "", ""
		u.showPIN()
		return true
	case m.form != nil:
		u.holdCard(c)
		return true
	}
	return m.signedIn() // a stray card while signed in is not a villager's booking
}

// holdCard adds a party by the card just read. kioskd answers only for the
// card it read last, so the form asks it to hold each card as it comes:
// the parties' cards are all still good when the session is saved.
func (u *UI) holdCard(c *apitype.CardSummary) {
	form := u.med.form
	mcall(u, func(ctx context.Context, token string) (apitype.CardSummary, error) {
		return u.opts.Agent.HoldCard(ctx, token, c.Token)
	}, func(h apitype.CardSummary, err error) {
		if u.med.form != form {
			return // the form was left meanwhile
		}
		if err != nil {
			u.med.err = u.holdFailure(err)
		} else {
			u.med.err = ""
			form.parties = append(form.parties, apitype.Party{Card: h.Token})
			form.shown = append(form.shown, c.Name+"　"+c.IDMasked)
		}
		u.screen.redraw()
	})
}

func (u *UI) holdFailure(err error) string {
	var apiErr *localclient.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeCardExpired:
		return u.t(wording.MediatorCardUnread)
	case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeTooMany:
		return u.t(wording.MediatorTooManyParties)
	}
	return u.t(wording.MediatorCardFailed)
}

// startSignIn waits for a mediator's card. A sign-in that failed with the
// card (not on the roster, read too long ago) comes back here with its
// reason in u.med.err, which the page shows.
func (u *UI) startSignIn() {
	u.draft = draft{}
	reason := ""
	if u.med.waitingCard {
		reason = u.med.err
	}
	u.med = mediatorState{waitingCard: true, err: reason}
	rows := container.NewVBox()
	if reason != "" {
		rows.Add(errorText(reason))
	}
	ask := u.t(wording.MediatorSignInCard)
	rows.Add(bigText(ask, theme.SizeNameSubHeadingText, kiosktheme.Foreground))
	u.page(u.t(wording.MediatorSignInTitle), rows, reason+ask+"。", u.startSignIn)
}

func (u *UI) showPIN() {
	m := &u.med
	dots := bigText(strings.Repeat("＊", len(m.pin))+"＿", theme.SizeNameHeadingText, kiosktheme.Foreground)
	pad := u.keypad(&m.pin, 8, func() {
		dots.Text = strings.Repeat("＊", len(m.pin)) + "＿"
		dots.Refresh()
	})
	above := []fyne.CanvasObject{widget.NewLabel(u.tf(wording.MediatorPinPrompt, wording.Args{"name": m.card.Name}))}
	if m.err != "" {
		above = append(above, errorText(m.err))
	}
	above = append(above, container.NewCenter(dots))
	u.page(u.t(wording.MediatorSignInTitle), container.NewVBox(u.padScreen(pad, above, primary(u.t(wording.MediatorSignIn), u.signIn))),
		u.t(wording.MediatorPinSpeech), u.showPIN)
}

func (u *UI) signIn() {
	m := &u.med
	card, pin := m.card.Token, m.pin
	m.pin = ""
	call(u, func(ctx context.Context) (apitype.MediatorSession, error) {
		return u.opts.Agent.MediatorSignIn(ctx, card, pin)
	}, func(s apitype.MediatorSession, err error) {
		if m.card == nil {
			return // signed out meanwhile
		}
		if err != nil {
			var apiErr *localclient.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeLocked:
				m.err = u.t(wording.MediatorPinLocked)
			case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeCardExpired:
				u.med = mediatorState{waitingCard: true, err: u.t(wording.MediatorCardStale)}
				u.startSignIn()
				return
			case errors.As(err, &apiErr) && apiErr.StatusCode == 401 && apiErr.Field == "card":
				u.med = mediatorState{waitingCard: true, err: u.t(wording.MediatorNotMediator)}
				u.startSignIn()
				return
			case errors.As(err, &apiErr) && apiErr.StatusCode == 401:
				m.err = u.t(wording.MediatorPinWrong)
			default:
				m.err = u.failureText(err)
			}
			u.showPIN()
			return
		}
		u.med = mediatorState{session: &s, lastCall: u.opts.Now()}
		u.opts.Log.Info("mediator signed in", "mediator", s.Mediator.ID)
		u.resumeDrafts()
	})
}

// signOut ends the mediator's session in kioskd and wipes mediator mode. A
// half-filled session form is kept as a draft first, while the token is
// still good; if that fails the sign-out goes ahead all the same.
func (u *UI) signOut() {
	if s := u.med.session; s != nil {
		token := s.Token
		keep := u.draftToKeep()
		do(u, func(ctx context.Context) error {
			if keep != nil {
				keep(ctx, token)
			}
			return u.opts.Agent.MediatorSignOut(ctx, token)
		}, func(error) {})
	}
	u.med = mediatorState{}
}

// mcall is call for a signed-in mediator: a lapsed session (401) signs out
// and asks for the card again.
func mcall[T any](u *UI, fn func(ctx context.Context, token string) (T, error), done func(T, error)) {
	if !u.med.signedIn() {
		u.startSignIn()
		return
	}
	token := u.med.session.Token
	u.med.lastCall = u.opts.Now()
	call(u, func(ctx context.Context) (T, error) { return fn(ctx, token) }, func(v T, err error) {
		if !u.med.signedIn() || u.med.session.Token != token {
			return
		}
		var apiErr *localclient.APIError
		if errors.As(err, &apiErr) && apiErr.Code == apitype.CodeUnauthorized {
			u.med = mediatorState{}
			u.startSignIn()
			return
		}
		done(v, err)
	})
}

// mediatorPing is how long a signed-in screen may be touched without kioskd
// hearing of it. The screen's idle reset counts from the last touch and
// kioskd's session from the last request: a mediator ticking choices and
// scrolling the form (no request) or answering the idle warning would
// otherwise find kioskd had signed them out before the screen warned them.
// kioskd keeps the session config.MediatorLapseMargin longer than the
// screen's reset, more than this.
const mediatorPing = 30 * time.Second

// keepMediatorAlive tells kioskd a signed-in mediator is still at the
// screen, when it last heard from them over mediatorPing ago. Any request
// with the token slides kioskd's idle window; the phrases are the
// cheapest, and read only.
func (u *UI) keepMediatorAlive() {
	m := &u.med
	if !m.signedIn() || u.opts.Now().Sub(m.lastCall) < mediatorPing {
		return
	}
	m.lastCall = u.opts.Now()
	token := m.session.Token
	do(u, func(ctx context.Context) error {
		_, err := u.opts.Agent.Phrases(ctx, token)
		return err
	}, func(err error) {
		if err != nil {
			// A lapsed session shows at the next real request, which
			// asks for the card again.
			u.opts.Log.Warn("mediator session not kept alive", "err", err)
		}
	})
}

// mpage is a mediator page: the way back to the mediator's home and sign-out.
func (u *UI) mpage(title string, rows *fyne.Container, redraw func(), actions ...fyne.CanvasObject) {
	nav := []fyne.CanvasObject{widget.NewButton(u.t(wording.MediatorHome), u.showMediatorHome)}
	nav = append(nav, actions...)
	nav = append(nav, widget.NewButton(u.t(wording.MediatorSignOut), u.goHome))
	body := container.NewVBox()
	if u.med.err != "" {
		body.Add(errorText(u.med.err))
	}
	if u.med.notice != "" {
		body.Add(paragraph(u.med.notice))
		u.med.notice = ""
	}
	body.Objects = append(body.Objects, rows.Objects...)
	u.framePage(title, nil, body, nav, title, redraw)
}

// showMediatorHome lists the cases, and first of all the follow-up visits
// that are due: the reminder a mediator sees on signing in.
func (u *UI) showMediatorHome() {
	u.dropDraft()
	u.med.form = nil
	mcall(u, u.opts.Agent.FollowUps, func(fs apitype.FollowUps, ferr error) {
		mcall(u, u.opts.Agent.Cases, func(cs apitype.Cases, err error) {
			u.drawMediatorHome(fs, ferr, cs, err)
		})
	})
}

func (u *UI) drawMediatorHome(fs apitype.FollowUps, ferr error, cs apitype.Cases, err error) {
	rows := container.NewVBox()
	if ferr == nil {
		if reminder := u.followUpReminder(fs); reminder != "" {
			rows.Add(errorText(reminder))
		}
	}
	rows.Add(container.New(u.grid(3).Layout,
		primary(u.t(wording.MediatorNewCase), u.startWalkIn),
		widget.NewButton(u.t(wording.MediatorFollowUps), u.showFollowUps),
		widget.NewButton(u.t(wording.MediatorIndicators), u.showIndicators)))
	if err != nil {
		rows.Add(errorText(u.failureText(err)))
	}
	if len(cs.Cases) == 0 && err == nil {
		rows.Add(paragraph(u.t(wording.MediatorNoCases)))
	}
	for _, c := range cs.Cases {
		rows.Add(newTile(u.caseTitle(c), u.caseLine(c), kiosktheme.Card, func() { u.showCase(c.ID) }))
	}
	u.mpage(u.tf(wording.MediatorHomeTitle, wording.Args{"name": u.med.session.Mediator.Name}), rows, u.showMediatorHome)
}

// followUpReminder words the visits overdue or due today, or "".
func (u *UI) followUpReminder(fs apitype.FollowUps) string {
	today := u.opts.Now().Format(time.DateOnly)
	dueToday := 0
	for _, f := range fs.FollowUps {
		if f.Due == today {
			dueToday++
		}
	}
	var parts []string
	if fs.Overdue > 0 {
		parts = append(parts, u.tf(wording.MediatorReminderOverdue, wording.Args{"n": fs.Overdue}))
	}
	if dueToday > 0 {
		parts = append(parts, u.tf(wording.MediatorReminderDueToday, wording.Args{"n": dueToday}))
	}
	if len(parts) == 0 {
		return ""
	}
	return u.tf(wording.MediatorReminder, wording.Args{"items": strings.Join(parts, "；")})
}

func (u *UI) caseTitle(c apitype.CaseSummary) string {
	return u.tf(wording.MediatorCaseTitle, wording.Args{"number": c.Number, "category": c.Category, "status": u.label(caseStatusKeys, c.Status)})
}

func (u *UI) caseLine(c apitype.CaseSummary) string {
	s := u.tf(wording.MediatorApplicant, wording.Args{"name": c.Applicant}) + "　" + c.Opened.Format("1月2日")
	if c.Venue != "" {
		s += "　" + c.Venue
	}
	if c.Line != "" {
		s += "　" + u.label(lineKeys, c.Line)
	}
	if c.NextFollowUp != nil {
		s += "　" + u.tf(wording.MediatorCaseFollowUp, wording.Args{"day": dayLabel(*c.NextFollowUp)})
	}
	return s
}

func (u *UI) showCase(id string) {
	mcall(u, func(ctx context.Context, token string) (apitype.Case, error) {
		return u.opts.Agent.Case(ctx, token, id)
	}, func(c apitype.Case, err error) {
		if err != nil {
			u.med.err = u.failureText(err)
			u.showMediatorHome()
			return
		}
		u.med.err = ""
		rows := container.NewVBox(paragraph(u.caseLine(c.CaseSummary)))
		for _, p := range c.Parties {
			line := u.tf(wording.MediatorParty, wording.Args{"name": p.Name})
			if p.Phone != "" {
				line += "　" + p.Phone
			}
			if p.IDMasked != "" {
				line += "　" + p.IDMasked
			}
			rows.Add(paragraph(line))
		}
		if len(c.Slots) > 0 {
			rows.Add(paragraph(u.tf(wording.MediatorCaseTimes, wording.Args{"times": u.preferredLabel(c.Slots)})))
		}
		for _, s := range c.Sessions {
			line := fmt.Sprintf("%s　%s　%s　%s", s.Held.Format("1月2日 15:04"), s.Mediator.Name, u.label(outcomeKeys, s.Outcome), strings.Join(s.Phrases, "，"))
			if s.Note != "" {
				line += "　" + s.Note
			}
			rows.Add(paragraph(line))
		}
		var actions []fyne.CanvasObject
		for _, f := range c.FollowUps {
			if f.Done == nil {
				rows.Add(paragraph(u.tf(wording.MediatorFollowUpDue, wording.Args{"date": f.Due})))
				actions = append(actions, widget.NewButton(u.t(wording.MediatorFollowUpDone), func() { u.followUpDone(c.ID) }))
				break
			}
		}
		if c.Status != apitype.CaseReferred {
			actions = append(actions, primary(u.t(wording.MediatorLogSession), func() { u.startSession(c) }))
		}
		if pt := u.med.photoFor; pt != nil && pt.caseID == c.ID && u.devices.Camera.State == apitype.DeviceReady {
			actions = append(actions, widget.NewButtonWithIcon(u.t(wording.MediatorPhoto), theme.MediaPhotoIcon(), func() { u.askPhotoConsent(*pt) }))
		}
		u.mpage(u.caseTitle(c.CaseSummary), rows, func() { u.showCase(id) }, actions...)
	})
}

func (u *UI) followUpDone(caseID string) {
	mcall(u, func(ctx context.Context, token string) (apitype.FollowUp, error) {
		return u.opts.Agent.FollowUpDone(ctx, token, caseID, apitype.FollowUpDone{})
	}, func(f apitype.FollowUp, err error) {
		switch {
		case err != nil:
			u.med.err = u.failureText(err)
		case f.OnTime:
			u.med.notice = u.t(wording.MediatorFollowUpOnTime)
		default:
			u.med.notice = u.t(wording.MediatorFollowUpLate)
		}
		u.showCase(caseID)
	})
}

// startSession opens the session form for case c, with its category.
func (u *UI) startSession(c apitype.Case) {
	base := apitype.SessionRequest{Category: c.Category, Line: c.Line}
	u.med.form = &sessionForm{caseID: c.ID, req: base, base: base}
	if d, ok := u.med.drafts[c.ID]; ok {
		u.med.form = u.formFromDraft(c.ID, base, d)
	}
	u.med.form.onCase = c.Parties
	mcall(u, u.opts.Agent.Phrases, func(p apitype.Phrases, err error) {
		if err != nil {
			u.med.err = u.failureText(err)
		}
		u.med.phrases = p.Phrases
		u.showSessionForm()
	})
}

func (u *UI) startWalkIn() {
	u.med.form = &sessionForm{}
	u.showSessionForm()
}

// showSessionForm is one scrolling form: the parties already on the case,
// parties present added by card (or surname), category, line, preset
// phrases, outcome, for a settled session whether a written agreement was
// signed and the follow-up date. A walk-in case needs only the first two.
// Once 保存 was tapped, every field still missing is marked under its
// heading, and the form scrolls to the first of them.
func (u *UI) showSessionForm() {
	f := u.med.form
	r := &f.req
	redraw := u.showSessionForm
	missing := map[string]string{}
	if f.checked {
		for _, p := range u.formProblems(f) {
			missing[p.field] = p.msg
		}
	}
	var first fyne.CanvasObject // the heading of the first field marked
	rows := container.NewVBox()
	section := func(field, title string) {
		h := heading(title)
		rows.Add(h)
		if msg, ok := missing[field]; ok {
			rows.Add(errorText(msg))
			if first == nil {
				first = h
			}
		}
	}
	if f.restored != "" {
		rows.Add(paragraph(f.restored))
	}
	if len(f.onCase) > 0 {
		section("", u.t(wording.MediatorOnCase))
		for _, p := range f.onCase {
			line := p.Name
			if p.Phone != "" {
				line += "　" + p.Phone
			}
			if p.IDMasked != "" {
				line += "　" + p.IDMasked
			}
			rows.Add(paragraph(line))
		}
		if f.caseID != "" {
			section("", u.t(wording.MediatorOthersPresent))
		}
	}
	if f.caseID == "" {
		section("parties", u.t(wording.MediatorParties))
	}
	rows.Add(paragraph(u.t(wording.MediatorTapParty)))
	for _, s := range f.shown {
		rows.Add(paragraph(u.tf(wording.MediatorParty, wording.Args{"name": s})))
	}
	if f.adding != nil {
		p := f.adding
		if !p.named() {
			rows.Add(u.nameChooser(p, u.t(wording.MediatorPartySurname), redraw, redraw))
		} else {
			rows.Add(u.phoneEntry(p, func(e string) { u.med.err = e; redraw() }, func() {
				f.parties = append(f.parties, p.party())
				f.shown = append(f.shown, partyLine(p.name(), p.phone))
				f.adding = nil
				redraw()
			}))
		}
	} else {
		rows.Add(widget.NewButton(u.t(wording.MediatorAddBySurname), func() { f.adding = &person{}; redraw() }))
	}
	section("category", u.t(wording.MediatorCategory))
	cats := u.grid(4)
	for _, c := range u.menu.Content.Categories {
		cats.Add(choice(c, r.Category == c, func() { r.Category = c; redraw() }))
	}
	rows.Add(cats)
	if f.caseID == "" {
		u.mpage(u.t(wording.MediatorNewCase), rows, redraw, f.primaryOr(primary(u.t(wording.MediatorCreateCase), u.createCase))...)
		u.scrollToMark(f, first)
		return
	}
	section("line", u.t(wording.MediatorLine))
	lines := u.grid(3)
	for _, l := range []string{apitype.LineRed, apitype.LineYellow, apitype.LineBlue} {
		lines.Add(lineChoice(l, u.label(lineKeys, l), r.Line == l, func() { r.Line = l; redraw() }))
	}
	rows.Add(lines)
	section("phrases", u.t(wording.MediatorPhrases))
	phrases := u.grid(2)
	for _, p := range u.med.phrases {
		on := slices.Contains(r.Phrases, p)
		phrases.Add(choice(p, on, func() {
			if on {
				r.Phrases = slices.DeleteFunc(r.Phrases, func(x string) bool { return x == p })
			} else {
				r.Phrases = append(r.Phrases, p)
			}
			redraw()
		}))
	}
	rows.Add(phrases)
	if r.Note != "" {
		// Typed on a kiosk of an earlier version, which had a note field:
		// kept and saved with the session, not editable here.
		rows.Add(paragraph(u.tf(wording.MediatorOldNote, wording.Args{"note": r.Note})))
	}
	section("outcome", u.t(wording.MediatorOutcome))
	outcomes := u.grid(3)
	for _, o := range []string{apitype.OutcomeSettled, apitype.OutcomeUnsettled, apitype.OutcomeReferred} {
		outcomes.Add(choice(u.label(outcomeKeys, o), r.Outcome == o, func() { r.Outcome = o; redraw() }))
	}
	rows.Add(outcomes)
	if r.Outcome == apitype.OutcomeSettled {
		// Only a settled session has an agreement to speak of; what is left
		// to learn is whether it was written down and signed.
		section("agreement", u.t(wording.MediatorAgreement))
		rows.Add(container.New(u.grid(2).Layout,
			choice(u.t(wording.MediatorWrittenAgreement), f.agreement != nil && *f.agreement, func() { yes := true; f.agreement = &yes; redraw() }),
			choice(u.t(wording.MediatorOralAgreement), f.agreement != nil && !*f.agreement, func() { no := false; f.agreement = &no; redraw() })))
		section("follow_up", u.t(wording.MediatorFollowUp))
		dates := u.grid(3)
		for _, days := range []int{7, 15, 30} {
			d := u.opts.Now().AddDate(0, 0, days).Format(time.DateOnly)
			dates.Add(choice(u.tf(wording.MediatorFollowUpIn, wording.Args{"days": days, "date": d[5:]}), r.FollowUp == d, func() { r.FollowUp = d; redraw() }))
		}
		rows.Add(dates)
	}
	save := primary(u.t(wording.MediatorSaveSession), u.saveSession)
	if f.saving {
		save.SetText(u.t(wording.MediatorSaving))
		save.Disable()
	}
	u.mpage(u.t(wording.MediatorLogSession), rows, redraw, f.primaryOr(save)...)
	u.scrollToMark(f, first)
	u.keepDraft()
}

// scrollToMark scrolls the form just drawn to first, the heading of the
// first field marked, once after 保存 (or 建立案件) was tapped: later
// redraws keep the mediator's own scrolling.
func (u *UI) scrollToMark(f *sessionForm, first fyne.CanvasObject) {
	if f.scroll && first != nil && len(u.body.Objects) == 1 {
		scrollTo(firstScroll(u.body.Objects[0]), first)
	}
	f.scroll = false
}

// formProblem is a field the form still lacks: its name in the session
// request, and what to do, in words.
type formProblem struct{ field, msg string }

// formProblems is everything the session form (or the walk-in case form)
// still lacks, in the order of the form.
func (u *UI) formProblems(f *sessionForm) []formProblem {
	r := f.req
	var out []formProblem
	add := func(missing bool, field string, msg wording.Key) {
		if missing {
			out = append(out, formProblem{field, u.t(msg)})
		}
	}
	if f.caseID == "" { // a walk-in case: its parties and category
		add(len(f.parties) == 0, "parties", wording.MediatorMissingParties)
		add(r.Category == "", "category", wording.MediatorMissingCategory)
		return out
	}
	add(r.Category == "", "category", wording.MediatorMissingCategory)
	add(r.Line == "", "line", wording.MediatorMissingLine)
	add(len(r.Phrases) == 0, "phrases", wording.MediatorMissingPhrases)
	add(r.Outcome == "", "outcome", wording.MediatorMissingOutcome)
	settled := r.Outcome == apitype.OutcomeSettled
	add(settled && f.agreement == nil, "agreement", wording.MediatorMissingAgreement)
	add(settled && r.FollowUp == "", "follow_up", wording.MediatorMissingFollowUp)
	return out
}

func (u *UI) saveSession() {
	f := u.med.form
	if f.saving {
		return
	}
	if len(u.formProblems(f)) > 0 {
		f.checked, f.scroll = true, true
		u.showSessionForm()
		return
	}
	f.saving, u.med.err = true, ""
	u.showSessionForm()
	req := f.req
	// Agreement means a written agreement was signed: only a settled
	// session can have one.
	req.Agreement = req.Outcome == apitype.OutcomeSettled && f.agreement != nil && *f.agreement
	req.Parties = f.parties
	if req.Outcome != apitype.OutcomeSettled {
		req.FollowUp = ""
	}
	mcall(u, func(ctx context.Context, token string) (apitype.Session, error) {
		// A draft save still on its way could otherwise land after the
		// session and bring the form back as a draft at the next sign-in.
		f.drafting.Wait()
		return u.opts.Agent.LogSession(ctx, token, f.caseID, req)
	}, func(s apitype.Session, err error) {
		f.saving = false
		// The mediator may have left the form while it was saving: say how
		// it went on the next page, without taking them back.
		left := u.med.form != f
		if err != nil {
			if left {
				u.med.notice = u.tf(wording.MediatorNotSaved, wording.Args{"reason": u.sessionFailure(err)})
				return
			}
			u.med.err = u.sessionFailure(err)
			u.showSessionForm()
			return
		}
		msg := u.t(wording.MediatorSaved)
		if s.Escalated {
			msg = u.t(wording.MediatorSavedReported)
		}
		u.med.notice = msg
		u.med.photoFor = &photoTarget{caseID: f.caseID, session: s.ID}
		delete(u.med.drafts, f.caseID) // kioskd dropped it with the session
		if left {
			return
		}
		u.med.form, u.med.err = nil, ""
		u.showCase(f.caseID)
	})
}

// sessionFailure words a refused session or case for the mediator. The
// screen offers only valid choices, so a field error means something
// changed under the form (a card expired, the site's content was updated).
func (u *UI) sessionFailure(err error) string {
	var apiErr *localclient.APIError
	if errors.As(err, &apiErr) {
		switch {
		case strings.Contains(apiErr.Field, "card"):
			return u.t(wording.MediatorFailCard)
		case strings.HasPrefix(apiErr.Field, "parties"):
			return u.t(wording.MediatorFailParty)
		case apiErr.Field == "category", apiErr.Field == "venue", strings.HasPrefix(apiErr.Field, "phrases"):
			return u.t(wording.MediatorFailOptions)
		case apiErr.Field != "":
			return u.t(wording.MediatorFailField)
		case apiErr.Code == apitype.CodeStorageFull:
			return u.t(wording.MediatorFailStorage)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return u.t(wording.MediatorFailTimeout)
	}
	return u.t(wording.MediatorFailOther)
}

func (u *UI) createCase() {
	f := u.med.form
	if len(u.formProblems(f)) > 0 {
		f.checked, f.scroll = true, true
		u.showSessionForm()
		return
	}
	req := apitype.NewCase{Category: f.req.Category, Parties: f.parties}
	mcall(u, func(ctx context.Context, token string) (apitype.Case, error) {
		return u.opts.Agent.NewCase(ctx, token, req)
	}, func(c apitype.Case, err error) {
		if u.med.form != f {
			return // left meanwhile; the case, if made, is in the list
		}
		if err != nil {
			u.med.err = u.sessionFailure(err)
			u.showSessionForm()
			return
		}
		u.med.err = ""
		u.med.form = nil
		u.showCase(c.ID)
	})
}

// askPhotoConsent asks the parties present before any photo is taken: the
// kiosk takes none without a yes on this screen.
func (u *UI) askPhotoConsent(pt photoTarget) {
	rows := container.NewVBox(
		paragraph(u.t(wording.MediatorPhotoAsk)),
		paragraph(u.t(wording.MediatorPhotoWhy)),
		container.New(u.grid(2).Layout,
			primary(u.t(wording.MediatorPhotoAgreed), func() { u.takePhoto(pt) }),
			widget.NewButton(u.t(wording.MediatorPhotoRefused), func() {
				u.med.photoFor, u.med.notice = nil, u.t(wording.MediatorPhotoNone)
				u.showCase(pt.caseID)
			})))
	u.mpage(u.t(wording.MediatorPhotoTitle), rows, func() { u.askPhotoConsent(pt) })
}

func (u *UI) takePhoto(pt photoTarget) {
	if u.med.photoFor == nil || *u.med.photoFor != pt {
		return // taken already (a second tap), or the mediator moved on
	}
	u.med.photoFor = nil
	mcall(u, func(ctx context.Context, token string) (apitype.Photo, error) {
		return u.opts.Agent.Photo(ctx, token, pt.caseID, apitype.PhotoRequest{Session: pt.session, Consent: true})
	}, func(_ apitype.Photo, err error) {
		if err != nil {
			u.opts.Log.Warn("photo not taken", "err", err)
			u.med.photoFor, u.med.notice = &pt, u.t(wording.MediatorPhotoFailed) // may be tried again
		} else {
			u.med.notice = u.t(wording.MediatorPhotoSaved)
		}
		u.showCase(pt.caseID)
	})
}

func (u *UI) showFollowUps() {
	mcall(u, u.opts.Agent.FollowUps, func(fs apitype.FollowUps, err error) {
		rows := container.NewVBox()
		if err != nil {
			rows.Add(errorText(u.failureText(err)))
		}
		if fs.Overdue > 0 {
			rows.Add(errorText(u.tf(wording.MediatorOverdue, wording.Args{"n": fs.Overdue})))
		}
		if len(fs.FollowUps) == 0 && err == nil {
			rows.Add(paragraph(u.t(wording.MediatorFollowUpsNone)))
		} else if err == nil {
			rows.Add(paragraph(u.waitingLine(len(fs.FollowUps), fs.Overdue)))
		}
		for _, f := range fs.FollowUps {
			rows.Add(newTile(u.tf(wording.MediatorFollowUpTile, wording.Args{"number": f.Number, "due": f.Due}),
				u.tf(wording.MediatorApplicant, wording.Args{"name": f.Name}), kiosktheme.Card, func() { u.showCase(f.Case) }))
		}
		u.mpage(u.t(wording.MediatorFollowUps), rows, u.showFollowUps)
	})
}

// waitingLine words the visits waiting, the same on the follow-ups screen
// and the indicators screen: kioskd counts both from one list on one day.
func (u *UI) waitingLine(waiting, overdue int) string {
	if overdue > 0 {
		return u.tf(wording.MediatorWaitingOverdue, wording.Args{"n": waiting, "overdue": overdue})
	}
	return u.tf(wording.MediatorWaiting, wording.Args{"n": waiting})
}

// Colours of the indicators' bars: each bar's words say what it counts.
var (
	barGood    = color.NRGBA{R: 0x2E, G: 0x7D, B: 0x32, A: 0xFF}
	barMiddle  = color.NRGBA{R: 0xF9, G: 0xA8, B: 0x25, A: 0xFF}
	barBad     = color.NRGBA{R: 0xC6, G: 0x28, B: 0x28, A: 0xFF}
	barNeutral = color.NRGBA{R: 0x15, G: 0x65, B: 0xC0, A: 0xFF}
)

// showIndicators shows the plan's indicators for the period kioskd counted
// (the case book's start to now), with a bar chart for the success rate
// and one for the bookings per service, and the visits waiting worded as
// the follow-ups screen words them.
func (u *UI) showIndicators() {
	mcall(u, u.opts.Agent.Indicators, func(in apitype.Indicators, err error) {
		rows := container.NewVBox()
		if err != nil {
			rows.Add(errorText(u.failureText(err)))
			u.mpage(u.t(wording.MediatorIndicators), rows, u.showIndicators)
			return
		}
		lines := u.indicatorLines(in, u.opts.Now())
		rows.Add(paragraph(lines[0])) // the period
		rows.Add(heading(lines[1]))   // the success rate
		if withOutcome(in) > 0 {
			rows.Add(barChart(u.outcomeBars(in)))
		}
		rows.Add(heading(lines[2])) // sessions
		rows.Add(heading(lines[3])) // follow-ups on time
		rows.Add(paragraph(lines[4]))
		if in.FollowUpsDone+in.FollowUpsOverdue > 0 {
			rows.Add(barChart([]bar{
				{u.tf(wording.MediatorBarOnTime, wording.Args{"n": in.FollowUpsOnTime}), in.FollowUpsOnTime, barGood},
				{u.tf(wording.MediatorBarLate, wording.Args{"n": in.FollowUpsDone - in.FollowUpsOnTime}), in.FollowUpsDone - in.FollowUpsOnTime, barMiddle},
				{u.tf(wording.MediatorBarOverdue, wording.Args{"n": in.FollowUpsOverdue}), in.FollowUpsOverdue, barBad},
			}))
		}
		rows.Add(heading(u.t(wording.MediatorBookingsTitle)))
		if services := u.serviceBars(in); len(services) > 0 {
			rows.Add(barChart(services))
		} else {
			rows.Add(paragraph(u.t(wording.MediatorNoBookings)))
		}
		rows.Add(heading(u.t(wording.MediatorEventsTitle)))
		if in.EventsCollected == 0 {
			rows.Add(paragraph(u.t(wording.MediatorNoEvents)))
		} else {
			for _, l := range u.eventLines(in) {
				rows.Add(paragraph(l))
			}
			open := max(in.EventsCollected-in.EventsClosed, 0)
			rows.Add(barChart([]bar{
				{u.tf(wording.MediatorBarEventsClosed, wording.Args{"n": in.EventsClosed}), in.EventsClosed, barGood},
				{u.tf(wording.MediatorBarEventsOpen, wording.Args{"n": open}), open, barMiddle},
			}))
		}
		u.mpage(u.t(wording.MediatorIndicators), rows, u.showIndicators)
	})
}

// withOutcome is the success rate's denominator; a kioskd before issue 17
// does not send it, and it is then had back from the rate.
func withOutcome(in apitype.Indicators) int {
	if in.CasesWithOutcome > 0 || in.SuccessRate == nil || *in.SuccessRate == 0 {
		return max(in.CasesWithOutcome, in.CasesClosed)
	}
	return int(math.Round(float64(in.Settled) / *in.SuccessRate))
}

// outcomeBars are the cases with an outcome by their outcome: the success
// rate as a chart.
func (u *UI) outcomeBars(in apitype.Indicators) []bar {
	n := withOutcome(in)
	referred := in.CasesClosed - in.Settled
	unsettled := max(n-in.CasesClosed, 0)
	return []bar{
		{u.tf(wording.MediatorBarSettled, wording.Args{"n": in.Settled}), in.Settled, barGood},
		{u.tf(wording.MediatorBarUnsettled, wording.Args{"n": unsettled}), unsettled, barMiddle},
		{u.tf(wording.MediatorBarReferred, wording.Args{"n": referred}), referred, barNeutral},
	}
}

var serviceKeys = map[string]wording.Key{
	advisorService:   wording.MediatorServiceAdvisor,
	checkupService:   wording.MediatorServiceCheckup,
	mediationService: wording.MediatorServiceMediation,
}

// serviceBars are the bookings per service, the known services first in
// the menu's order, any other by its id.
func (u *UI) serviceBars(in apitype.Indicators) []bar {
	keys := make([]string, 0, len(in.BookingsByService))
	for k := range in.BookingsByService {
		keys = append(keys, k)
	}
	order := []string{advisorService, checkupService, mediationService}
	slices.SortFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	var out []bar
	for _, k := range keys {
		name := u.label(serviceKeys, k)
		if name == "" {
			name = k
		}
		out = append(out, bar{u.tf(wording.MediatorBarBookings, wording.Args{"service": name, "n": in.BookingsByService[k]}), in.BookingsByService[k], barNeutral})
	}
	return out
}

// eventLines words the grid indicators of villagers' requests (issue 20):
// 事件采集数, 事件办结率 and the median time to close, from the kiosk's own
// records and the township's answers. A rate without requests reads 暂无.
func (u *UI) eventLines(in apitype.Indicators) []string {
	rate := u.t(wording.MediatorRateNone)
	if in.EventsClosedRate != nil {
		rate = fmt.Sprintf("%.1f%%", *in.EventsClosedRate*100)
	}
	lines := []string{
		u.tf(wording.MediatorEventsCollected, wording.Args{"n": in.EventsCollected}),
		u.tf(wording.MediatorEventsClosedRate, wording.Args{"rate": rate, "closed": in.EventsClosed, "n": in.EventsCollected}),
	}
	if in.EventsCloseHours != nil {
		lines = append(lines, u.tf(wording.MediatorEventsCloseTime, wording.Args{"hours": fmt.Sprintf("%.1f", *in.EventsCloseHours)}))
	}
	return lines
}

// indicatorLines words the indicators: the period, the success rate, the
// sessions, the on-time rate and the visits waiting. A rate without cases
// reads 暂无, not 0%.
func (u *UI) indicatorLines(in apitype.Indicators, now time.Time) []string {
	rate := func(r *float64) string {
		if r == nil {
			return u.t(wording.MediatorRateNone)
		}
		return fmt.Sprintf("%.1f%%", *r*100)
	}
	until := in.AsOf
	if until.IsZero() {
		until = now
	}
	untilText := until.In(now.Location()).Format("2006年1月2日 15:04")
	period := u.tf(wording.MediatorPeriodStart, wording.Args{"until": untilText})
	if !in.Since.IsZero() {
		period = u.tf(wording.MediatorPeriod, wording.Args{"since": in.Since.In(now.Location()).Format("2006年1月2日"), "until": untilText})
	}
	return []string{
		period,
		u.tf(wording.MediatorSuccessRate, wording.Args{"rate": rate(in.SuccessRate), "settled": in.Settled, "with_outcome": withOutcome(in), "closed": in.CasesClosed}),
		u.tf(wording.MediatorSessions, wording.Args{"n": in.Sessions}),
		u.tf(wording.MediatorOnTimeRate, wording.Args{"rate": rate(in.OnTimeRate), "on_time": in.FollowUpsOnTime, "done": in.FollowUpsDone, "overdue": in.FollowUpsOverdue}),
		u.waitingLine(in.FollowUpsDue, in.FollowUpsOverdue),
	}
}
