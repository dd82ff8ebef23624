package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
)

// CaseBook is where the kiosk keeps its mediation cases (*casebook.Book).
type CaseBook interface {
	Add(c casebook.Case) (casebook.Case, error)
	Get(id string) (casebook.Case, error)
	List() ([]casebook.Case, error)
	AddSession(caseID string, s casebook.Session, parties []casebook.Party) (casebook.Case, error)
	FollowUpDone(caseID, note string) (casebook.Case, casebook.FollowUp, error)
	Indicators(today string) (casebook.Indicators, error)
	PutDraft(d casebook.Draft) error
	Drafts(mediator string) ([]casebook.Draft, error)
	DeleteDraft(mediator, caseID string) error
}

// ErrNoCaseBook means mediation was asked of a core built without a case
// book (Options.CaseBook), which takes none; it is answered like a storage
// failure.
var ErrNoCaseBook = errors.New("core: no case book")

// content is the menu's villager content: events still to come, soonest first.
func (c *Core) content() apitype.Content {
	ct := c.live().cfg.Site.Content
	out := apitype.Content{
		Lecture:    apitype.Lecture{Theme: ct.Lecture.Theme, Schedule: c.upcoming(ct.Lecture.Schedule)},
		Fairs:      c.upcoming(ct.Fairs),
		Checkup:    []apitype.Checkup{},
		Publicity:  []apitype.Place{},
		Venues:     []apitype.Venue{},
		Categories: slices.Clone(ct.Categories),
	}
	for _, ck := range ct.Checkup {
		q := apitype.Checkup{Kind: ck.Kind, Title: ck.Title, Questions: []apitype.Question{}}
		for _, x := range ck.Questions {
			q.Questions = append(q.Questions, apitype.Question(x))
		}
		out.Checkup = append(out.Checkup, q)
	}
	for _, p := range ct.Publicity {
		out.Publicity = append(out.Publicity, apitype.Place(p))
	}
	for _, v := range ct.Venues {
		out.Venues = append(out.Venues, apiVenue(v))
	}
	if v, ok := ct.BookingVenue(); ok {
		out.BookingVenue = v.ID
	}
	return out
}

func (c *Core) upcoming(events []config.Event) []apitype.Event {
	now := c.now()
	out := []apitype.Event{}
	for _, e := range events {
		if at := e.At.In(c.live().cfg.Location); at.After(now) {
			out = append(out, apitype.Event{Title: e.Title, Place: e.Place, At: at})
		}
	}
	slices.SortStableFunc(out, func(a, b apitype.Event) int { return a.At.Compare(b.At) })
	return out
}

// tallyBookings prefixes the outbox tally of a service's bookings
// (legal-advisor, legal-checkup, mediation), counted in the booking's own
// commit.
const tallyBookings = "bookings/"

// lookup resolves card tokens for the mediation rules and remembers the ones
// used, to forget them once the record is committed.
func (c *Core) lookup(used *[]string) mediation.Lookup {
	return func(token string) (mediation.Party, bool) {
		if c.cards == nil {
			return mediation.Party{}, false
		}
		id, ok := c.cards.Lookup(token)
		if !ok {
			return mediation.Party{}, false
		}
		*used = append(*used, token)
		return mediation.Party{Name: id.Name, IDNumber: id.IDNumber, IDType: id.IDType, IDMasked: id.IDMasked}, true
	}
}

func (c *Core) forget(tokens []string) {
	for _, t := range tokens {
		c.cards.Forget(t)
	}
	c.dropHeld(tokens)
}

// caseBookFailed reports a case book write that failed after its record was
// committed. The villager or mediator is answered anyway: the record is on
// its way to the township, and a retry would only duplicate it there.
// Township IT hears of it through an alert.
func (c *Core) caseBookFailed(ctx context.Context, what, recordID string, err error) {
	c.log.Error("record committed but the case book was not updated", "what", what, "id", recordID, "err", err)
	if aerr := c.Alert(ctx, AlertBody{Kind: "casebook_write", Message: what + " committed but not kept in the kiosk's case book",
		Detail: "record " + recordID + ": " + err.Error()}); aerr != nil {
		c.log.Error("alert not queued", "err", aerr)
	}
}

// BookMediation validates a villager's mediation booking, commits the
// record, and opens a case for it. A *booking.FieldError means the request
// was wrong; any other error means nothing was stored.
func (c *Core) BookMediation(ctx context.Context, req apitype.MediationRequest) (apitype.Mediation, error) {
	if c.cases == nil {
		return apitype.Mediation{}, ErrNoCaseBook
	}
	now := c.now()
	var used []string
	lv := c.live()
	body, err := lv.rules.Booking(mediationRequest(req), now, c.lookup(&used))
	if err != nil {
		return apitype.Mediation{}, err
	}
	caseID, err := uuid.NewV7()
	if err != nil {
		return apitype.Mediation{}, fmt.Errorf("core: case id: %w", err)
	}
	body.Case = caseID.String()
	env, err := c.newSealedRecord(lv, now, func(s *sealer) schema.Body { return mediationBookingV2(body, s) })
	if err != nil {
		return apitype.Mediation{}, err
	}
	if env, err = c.outbox.Enqueue(ctx, env, tallyBookings+mediation.Service); err != nil {
		return apitype.Mediation{}, err
	}
	c.forget(used)
	number := BookingNumber(env.Seq)
	parties := []casebook.Party{caseParty(body.Applicant)}
	if body.Other != nil {
		parties = append(parties, caseParty(*body.Other))
	}
	_, err = c.cases.Add(casebook.Case{ID: body.Case, Number: number, Origin: casebook.OriginBooking,
		Status: casebook.StatusBooked, Category: body.Category, Venue: caseVenue(body.Venue), Parties: parties, Slots: body.Slots, Opened: now})
	if err != nil {
		c.caseBookFailed(ctx, "mediation booking", env.ID, err)
	}
	c.rememberReceipt(env.ID, c.mediationReceipt(number, body))
	c.log.Info("mediation booking committed", "id", env.ID, "seq", env.Seq, "case", body.Case,
		"venue", body.Venue.ID, "slots", len(body.Slots), "with_card", req.Applicant.Card != "")
	out := apitype.Mediation{ID: env.ID, Seq: env.Seq, Number: number, Venue: apiVenue(body.Venue), Category: body.Category,
		Applicant: partySummary(caseParty(body.Applicant)), Slots: body.Slots, Created: env.TS}
	if body.Other != nil {
		o := partySummary(caseParty(*body.Other))
		out.Other = &o
	}
	return out, nil
}

// MediatorSignIn signs a mediator in with the card just read and a PIN.
func (c *Core) MediatorSignIn(req apitype.MediatorSignIn) (apitype.MediatorSession, error) {
	if req.Card == "" {
		return apitype.MediatorSession{}, &booking.FieldError{Field: "card", Code: apitype.CodeRequired, Msg: "is required"}
	}
	if req.PIN == "" {
		return apitype.MediatorSession{}, &booking.FieldError{Field: "pin", Code: apitype.CodeRequired, Msg: "is required"}
	}
	id, err := c.cardRead(req.Card)
	if err != nil {
		return apitype.MediatorSession{}, err
	}
	s, err := c.auth.SignIn(id.IDNumber, req.PIN)
	if err != nil {
		return apitype.MediatorSession{}, err
	}
	c.cards.Forget(req.Card)
	c.dropHeldBy(s.Mediator.ID) // cards held in a session that lapsed
	return s, nil
}

// MediatorCheck returns the mediator of a live session, sliding its idle
// window; an error wraps mediatorauth.ErrNoSession.
func (c *Core) MediatorCheck(token string) (apitype.Mediator, error) { return c.auth.Check(token) }

// MediatorSignOut ends a session and drops the cards its mediator held.
func (c *Core) MediatorSignOut(token string) {
	if m, err := c.auth.Check(token); err == nil {
		c.dropHeldBy(m.ID)
	}
	c.auth.SignOut(token)
}

// Phrases are the preset session-summary phrases.
func (c *Core) Phrases() apitype.Phrases {
	return apitype.Phrases{Phrases: append([]string{}, c.live().cfg.Site.Content.Phrases...)}
}

// Cases lists the case book, most recent first.
func (c *Core) Cases() (apitype.Cases, error) {
	if c.cases == nil {
		return apitype.Cases{}, ErrNoCaseBook
	}
	cs, err := c.cases.List()
	if err != nil {
		return apitype.Cases{}, err
	}
	out := apitype.Cases{Cases: []apitype.CaseSummary{}}
	for _, k := range cs {
		out.Cases = append(out.Cases, c.caseSummary(k))
	}
	return out, nil
}

// Case returns one case in full, phones and ID numbers masked.
func (c *Core) Case(id string) (apitype.Case, error) {
	if c.cases == nil {
		return apitype.Case{}, ErrNoCaseBook
	}
	k, err := c.cases.Get(id)
	if err != nil {
		return apitype.Case{}, err
	}
	return c.caseDetail(k), nil
}

// NewCase opens a walk-in case: a dispute brought to the mediator without
// a booking. No record is sent yet; the first session's record carries it.
func (c *Core) NewCase(ctx context.Context, m apitype.Mediator, req apitype.NewCase) (apitype.Case, error) {
	if c.cases == nil {
		return apitype.Case{}, ErrNoCaseBook
	}
	if err := c.live().rules.Category("category", req.Category); err != nil {
		return apitype.Case{}, err
	}
	var venue casebook.Venue
	if req.Venue != "" {
		v, err := c.live().rules.Venue("venue", req.Venue)
		if err != nil {
			return apitype.Case{}, err
		}
		venue = caseVenue(v)
	}
	if len(req.Parties) == 0 {
		return apitype.Case{}, &booking.FieldError{Field: "parties", Code: apitype.CodeRequired, Msg: "needs at least one party"}
	}
	var used []string
	ps, err := c.live().rules.Parties("parties", partyRequests(req.Parties), c.mediatorLookup(m, &used))
	if err != nil {
		return apitype.Case{}, err
	}
	var parties []casebook.Party
	for _, p := range ps {
		parties = casebook.MergeParties(parties, []casebook.Party{caseParty(p)})
	}
	k, err := c.cases.Add(casebook.Case{Origin: casebook.OriginWalkIn, Status: casebook.StatusOpen,
		Category: req.Category, Venue: venue, Parties: parties, Opened: c.now()})
	if err != nil {
		return apitype.Case{}, err
	}
	c.forget(used)
	c.log.Info("walk-in case opened", "case", k.ID, "number", k.Number, "mediator", m.ID)
	return c.caseDetail(k), nil
}

// LogSession records a mediation session on a case: a mediation_session
// record, and for a red-line dispute or a referred case an escalation record
// too, both committed before the answer.
func (c *Core) LogSession(ctx context.Context, m apitype.Mediator, caseID string, req apitype.SessionRequest) (apitype.Session, error) {
	if c.cases == nil {
		return apitype.Session{}, ErrNoCaseBook
	}
	k, err := c.cases.Get(caseID)
	if err != nil {
		return apitype.Session{}, err
	}
	now := c.now()
	var used []string
	lv := c.live()
	v, err := lv.rules.Session(sessionRequest(req), now, c.mediatorLookup(m, &used))
	if err != nil {
		return apitype.Session{}, err
	}
	var added []casebook.Party
	for _, p := range v.Parties {
		added = append(added, caseParty(p))
	}
	all := casebook.MergeParties(k.Parties, added)
	why := v.Escalate()
	s := casebook.Session{Mediator: caseMediator(m), Held: now, Category: v.Category, Line: v.Line, Phrases: v.Phrases,
		Note: v.Note, Outcome: caseOutcome(v.Outcome), Agreement: v.Agreement, FollowUp: v.FollowUp, Escalated: len(why) > 0}
	sessEnv, err := c.newSealedRecord(lv, now, func(sl *sealer) schema.Body { return sessionV2(k, s, all, sl) })
	if err != nil {
		return apitype.Session{}, err
	}
	var escEnv record.Envelope
	if s.Escalated {
		escEnv, err = c.newSealedRecord(lv, now, func(sl *sealer) schema.Body { return escalationV2(k, s, sessEnv.ID, why, all, sl) })
		if err != nil {
			return apitype.Session{}, err
		}
	}
	// The session and its escalation are committed together, in one
	// transaction: both reach the township, or the mediator is told neither
	// was kept.
	envs := []record.Envelope{sessEnv}
	if s.Escalated {
		envs = append(envs, escEnv)
	}
	committed, err := c.outbox.EnqueueAll(ctx, envs)
	if err != nil {
		return apitype.Session{}, err
	}
	sessEnv = committed[0]
	s.ID, s.Seq = sessEnv.ID, sessEnv.Seq
	c.forget(used)
	if _, err := c.cases.AddSession(k.ID, s, added); err != nil {
		c.caseBookFailed(ctx, "mediation session", sessEnv.ID, err)
	}
	c.log.Info("mediation session committed", "id", s.ID, "seq", s.Seq, "case", k.ID, "mediator", m.ID,
		"line", s.Line, "outcome", s.Outcome, "escalated", s.Escalated)
	if s.Escalated {
		c.log.Warn("case escalated to the township", "case", k.ID, "id", escEnv.ID, "seq", escEnv.Seq, "reasons", why)
	}
	return apiSession(s), nil
}

// FollowUps lists the visits not yet done, soonest first.
func (c *Core) FollowUps() (apitype.FollowUps, error) {
	if c.cases == nil {
		return apitype.FollowUps{}, ErrNoCaseBook
	}
	cs, err := c.cases.List()
	if err != nil {
		return apitype.FollowUps{}, err
	}
	waiting, overdue := casebook.Waiting(cs, c.today())
	out := apitype.FollowUps{FollowUps: []apitype.FollowUp{}, Overdue: overdue}
	for _, v := range waiting {
		out.FollowUps = append(out.FollowUps, followUp(v.Case, v.FollowUp))
	}
	slices.SortStableFunc(out.FollowUps, func(a, b apitype.FollowUp) int { return cmp.Compare(a.Due, b.Due) })
	return out, nil
}

// maxFollowUpNote matches a session note: a line or two on a phone-sized form.
const maxFollowUpNote = mediation.MaxNoteRunes

// FollowUpDone marks the case's next due visit done, now.
func (c *Core) FollowUpDone(m apitype.Mediator, caseID string, req apitype.FollowUpDone) (apitype.FollowUp, error) {
	if c.cases == nil {
		return apitype.FollowUp{}, ErrNoCaseBook
	}
	if n := utf8.RuneCountInString(req.Note); n > maxFollowUpNote {
		return apitype.FollowUp{}, &booking.FieldError{Field: "note", Code: apitype.CodeTooLong, Msg: fmt.Sprintf("is %d characters; at most %d", n, maxFollowUpNote)}
	}
	k, f, err := c.cases.FollowUpDone(caseID, req.Note)
	if err != nil {
		return apitype.FollowUp{}, err
	}
	c.log.Info("follow-up visit done", "case", caseID, "mediator", m.ID, "due", f.Due, "on_time", f.OnTime)
	return followUp(k, f), nil
}

// Indicators are the mediation indicators from the case book, with the
// bookings per service as the outbox counted them. A kiosk upgraded from a
// version that counted bookings in the case book adds those counts.
func (c *Core) Indicators() (apitype.Indicators, error) {
	if c.cases == nil {
		return apitype.Indicators{}, ErrNoCaseBook
	}
	asOf := c.now()
	stored, err := c.cases.Indicators(c.today())
	ind := apiIndicators(stored, asOf)
	if err != nil {
		return ind, err
	}
	tallies, err := c.outbox.Tallies(tallyBookings)
	if err != nil {
		return ind, err
	}
	if ind.BookingsByService == nil {
		ind.BookingsByService = map[string]int{}
	}
	for service, n := range tallies {
		ind.BookingsByService[service] += int(n)
	}
	// 事件采集数: the requests, counted per category in their own commits.
	events, err := c.outbox.Tallies(tallyRequests)
	if err != nil {
		return ind, err
	}
	for category, n := range events {
		if ind.EventsByCategory == nil {
			ind.EventsByCategory = map[string]int{}
		}
		ind.EventsByCategory[category] += int(n)
		ind.EventsCollected += int(n)
	}
	if err := c.closingIndicators(&ind); err != nil {
		return ind, err
	}
	return ind, nil
}

// today is the site's date now, the day follow-up visits fall overdue on:
// the follow-ups list and the indicators count with the same one.
func (c *Core) today() string {
	return c.now().In(c.live().cfg.Location).Format(time.DateOnly)
}

func followUp(k casebook.Case, f casebook.FollowUp) apitype.FollowUp {
	return apitype.FollowUp{Case: k.ID, Number: k.Number, Due: f.Due, Done: f.Done, OnTime: f.OnTime, Name: applicant(k)}
}

func applicant(k casebook.Case) string {
	if len(k.Parties) == 0 {
		return ""
	}
	return k.Parties[0].Name
}

func partySummary(p casebook.Party) apitype.PartySummary {
	return apitype.PartySummary{Name: p.Name, Phone: phone.Mask(p.Phone), IDMasked: p.IDMasked}
}

func (c *Core) caseSummary(k casebook.Case) apitype.CaseSummary {
	s := apitype.CaseSummary{ID: k.ID, Number: k.Number, Status: apiCaseStatus(k.Status), Category: k.Category, Line: k.Line,
		Venue: k.Venue.Name, Applicant: applicant(k), Opened: k.Opened}
	if due, ok := k.NextFollowUp(); ok {
		if t, err := time.ParseInLocation(time.DateOnly, due, c.live().cfg.Location); err == nil {
			s.NextFollowUp = &t
		}
	}
	return s
}

func (c *Core) caseDetail(k casebook.Case) apitype.Case {
	out := apitype.Case{CaseSummary: c.caseSummary(k), Parties: []apitype.PartySummary{}, Slots: k.Slots,
		FollowUps: []apitype.FollowUp{}}
	if k.Sessions != nil {
		out.Sessions = make([]apitype.Session, 0, len(k.Sessions))
	}
	for _, s := range k.Sessions {
		out.Sessions = append(out.Sessions, apiSession(s))
	}
	for _, p := range k.Parties {
		out.Parties = append(out.Parties, partySummary(p))
	}
	for _, f := range k.FollowUps {
		out.FollowUps = append(out.FollowUps, followUp(k, f))
	}
	return out
}
