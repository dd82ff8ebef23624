// Package mediation owns the rules of mediation at the kiosk (百姓说理之家): the
// preferred slots a villager may ask for, what makes a mediation booking or a
// mediator's session log valid, and when a session is escalated. The core
// converts what these rules return into the township's record bodies
// (agent/schema).
//
// Errors are *booking.FieldError, so the local API maps them like a
// consultation booking's.
package mediation

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Service is the id GET /v1/slots and the booking counters use for mediation.
const Service = "mediation"

// Mediation lines (红/黄/蓝): red is urgent and escalated at once.
const (
	LineRed    = "red"
	LineYellow = "yellow"
	LineBlue   = "blue"
)

// Outcomes of a session.
const (
	OutcomeSettled   = "settled"   // 调解成功
	OutcomeUnsettled = "unsettled" // 未成功
	OutcomeReferred  = "referred"  // 转交, referred upward
)

// PartyRequest is a party as a request gives one: a card token (the
// party is the card's holder) or a name and phone.
type PartyRequest struct {
	Card  string
	Name  string
	Phone string
}

// BookingRequest is a villager's mediation booking as entered.
type BookingRequest struct {
	Venue     string // a venue id; empty for the site's kiosk venue
	Category  string
	Applicant PartyRequest
	Other     *PartyRequest
	Slots     []string // RFC 3339
}

// SessionRequest is a mediator's session log as entered.
type SessionRequest struct {
	Parties   []PartyRequest // parties present, added to the case
	Category  string
	Line      string
	Phrases   []string
	Note      string
	Outcome   string
	Agreement bool
	FollowUp  string // 2006-01-02
}

// Limits of a request.
const (
	MaxSlots     = 3
	MaxNoteRunes = 200
	maxNameRunes = 30
	maxParties   = 10
)

// Party is a person in a dispute, in full, as the kiosk's case book keeps
// them. IDMasked is for screens only and never sent; the records carry the
// phone and ID number sealed for the township (core/records.go).
type Party struct {
	Name     string
	Phone    string
	IDNumber string
	IDType   string
	IDMasked string
}

// Lookup resolves a card token to the card holder; false when the token is
// unknown, used or too old.
type Lookup func(token string) (Party, bool)

// Booking is a valid mediation booking: the case the kiosk opens for it.
type Booking struct {
	Case      string // the case's id, which is also the record's
	Venue     config.Venue
	Category  string
	Applicant Party
	Other     *Party
	Slots     []time.Time // site time
	Channel   string      // "kiosk"
}

// Escalation reasons.
const (
	ReasonRedLine  = "red_line"
	ReasonReferred = "referred"
)

// Rules knows the site's venues, categories, phrases and session times.
type Rules struct {
	content config.Content
	loc     *time.Location
}

// NewRules returns the rules of a validated site's content.
func NewRules(content config.Content, loc *time.Location) *Rules {
	return &Rules{content: content, loc: loc}
}

func fail(field, code, format string, args ...any) error {
	return &booking.FieldError{Field: field, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Slots are the preferred-slot starts a villager may pick: each configured
// daily session start over the next booking_days days, future only.
func (r *Rules) Slots(now time.Time) []time.Time {
	now = now.In(r.loc)
	var out []time.Time
	for day := range r.content.Mediation.BookingDays {
		for _, s := range r.content.Mediation.Sessions {
			t := time.Date(now.Year(), now.Month(), now.Day()+day, s.Hour, s.Minute, 0, 0, r.loc)
			if t.After(now) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// Venue checks a venue id.
func (r *Rules) Venue(field, id string) (config.Venue, error) {
	if id == "" {
		return config.Venue{}, fail(field, apitype.CodeRequired, "is required")
	}
	v, ok := r.content.VenueByID(id)
	if !ok {
		return config.Venue{}, fail(field, apitype.CodeUnknownVenue, "%q is not a venue of this kiosk", id)
	}
	return v, nil
}

// bookingVenue is the venue a villager's booking names, or, when it names
// none, the site's venue for kiosk bookings: the kiosk no longer asks a
// villager to choose between venues they cannot tell apart, and the
// township's record still says where the case is heard.
func (r *Rules) bookingVenue(id string) (config.Venue, error) {
	if id != "" {
		return r.Venue("venue", id)
	}
	v, ok := r.content.BookingVenue()
	if !ok {
		return config.Venue{}, fail("venue", apitype.CodeRequired, "is required: the site names no venue for kiosk bookings")
	}
	return v, nil
}

// Category checks a dispute category.
func (r *Rules) Category(field, cat string) error {
	if cat == "" {
		return fail(field, apitype.CodeRequired, "is required")
	}
	if !slices.Contains(r.content.Categories, cat) {
		return fail(field, apitype.CodeUnknownCategory, "%q is not a dispute category of this kiosk", cat)
	}
	return nil
}

// CheckParty checks a party given by card token or by name and phone. Without a
// card the phone is required when phoneRequired: someone must be able to
// call the applicant back. A name may be a surname and an honorific (王女士):
// villagers do not always give their full name to a screen.
func CheckParty(field string, p PartyRequest, phoneRequired bool, lookup Lookup) (Party, error) {
	var out Party
	if p.Card != "" {
		id, ok := lookup(p.Card)
		if !ok {
			return Party{}, fail(field+".card", apitype.CodeCardExpired, "the card was read too long ago; tap it again")
		}
		out = id
	} else {
		name := strings.TrimSpace(p.Name)
		switch {
		case name == "":
			return Party{}, fail(field+".name", apitype.CodeRequired, "is required (or a card)")
		case utf8.RuneCountInString(name) > maxNameRunes:
			return Party{}, fail(field+".name", apitype.CodeTooLong, "is longer than %d characters", maxNameRunes)
		case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
			return Party{}, fail(field+".name", apitype.CodeInvalid, "contains characters that are not part of a name")
		}
		out.Name = name
	}
	tel := phone.Normalize(p.Phone)
	switch {
	case tel == "" && phoneRequired && p.Card == "":
		return Party{}, fail(field+".phone", apitype.CodeRequired, "is required")
	case tel != "":
		if err := phone.Check(tel); err != nil {
			return Party{}, fail(field+".phone", apitype.CodeInvalid, "%v", err)
		}
	}
	out.Phone = tel
	return out, nil
}

// Booking validates a villager's mediation booking at time now.
func (r *Rules) Booking(req BookingRequest, now time.Time, lookup Lookup) (Booking, error) {
	venue, err := r.bookingVenue(req.Venue)
	if err != nil {
		return Booking{}, err
	}
	if err := r.Category("category", req.Category); err != nil {
		return Booking{}, err
	}
	body := Booking{Venue: venue, Category: req.Category, Channel: "kiosk"}
	if body.Applicant, err = CheckParty("applicant", req.Applicant, true, lookup); err != nil {
		return Booking{}, err
	}
	if req.Other != nil {
		// Only the card read last can be claimed, and that is the applicant's.
		if req.Other.Card != "" {
			return Booking{}, fail("other.card", apitype.CodeInvalid, "the other party is given by name and phone")
		}
		other, err := CheckParty("other", *req.Other, false, lookup)
		if err != nil {
			return Booking{}, err
		}
		body.Other = &other
	}
	switch n := len(req.Slots); {
	case n == 0:
		return Booking{}, fail("slots", apitype.CodeRequired, "needs 1 to %d preferred slots", MaxSlots)
	case n > MaxSlots:
		return Booking{}, fail("slots", apitype.CodeTooMany, "has %d slots; at most %d", n, MaxSlots)
	}
	offered := r.Slots(now)
	for i, s := range req.Slots {
		field := fmt.Sprintf("slots[%d]", i)
		t, err := time.Parse(time.RFC3339, s)
		switch {
		case err != nil:
			return Booking{}, fail(field, apitype.CodeInvalid, "%q is not an RFC 3339 time", s)
		case !t.After(now):
			return Booking{}, fail(field, apitype.CodeSlotInPast, "%s has already passed", t.In(r.loc).Format("2006-01-02 15:04"))
		case !slices.ContainsFunc(offered, t.Equal):
			return Booking{}, fail(field, apitype.CodeSlotNotOffered, "%s is not one of the offered mediation slots", t.In(r.loc).Format("2006-01-02 15:04"))
		case slices.ContainsFunc(body.Slots, t.Equal):
			return Booking{}, fail(field, apitype.CodeDuplicate, "%s is listed twice", t.In(r.loc).Format("2006-01-02 15:04"))
		}
		body.Slots = append(body.Slots, t.In(r.loc))
	}
	return body, nil
}

// Parties checks a list of parties given to a mediator's request.
func (r *Rules) Parties(field string, ps []PartyRequest, lookup Lookup) ([]Party, error) {
	if len(ps) > maxParties {
		return nil, fail(field, apitype.CodeTooMany, "has %d parties; at most %d", len(ps), maxParties)
	}
	var out []Party
	for i, p := range ps {
		// At a session the mediator may not have every phone number.
		party, err := CheckParty(fmt.Sprintf("%s[%d]", field, i), p, false, lookup)
		if err != nil {
			return nil, err
		}
		out = append(out, party)
	}
	return out, nil
}

// Session is a validated session log.
type Session struct {
	Parties   []Party
	Category  string
	Line      string
	Phrases   []string
	Note      string
	Outcome   string
	Agreement bool
	FollowUp  string
}

// Escalate says why a session goes to the township at once, if it does: a
// red-line dispute, or a case referred upward.
func (s Session) Escalate() []string {
	var why []string
	if s.Line == LineRed {
		why = append(why, ReasonRedLine)
	}
	if s.Outcome == OutcomeReferred {
		why = append(why, ReasonReferred)
	}
	return why
}

// Session validates a mediator's session log at time now.
func (r *Rules) Session(req SessionRequest, now time.Time, lookup Lookup) (Session, error) {
	parties, err := r.Parties("parties", req.Parties, lookup)
	if err != nil {
		return Session{}, err
	}
	if err := r.Category("category", req.Category); err != nil {
		return Session{}, err
	}
	lines := []string{LineRed, LineYellow, LineBlue}
	switch {
	case req.Line == "":
		return Session{}, fail("line", apitype.CodeRequired, "is required")
	case !slices.Contains(lines, req.Line):
		return Session{}, fail("line", apitype.CodeInvalid, "%q is not one of %s", req.Line, strings.Join(lines, ", "))
	}
	for i, p := range req.Phrases {
		field := fmt.Sprintf("phrases[%d]", i)
		if !slices.Contains(r.content.Phrases, p) {
			return Session{}, fail(field, apitype.CodeUnknownPhrase, "%q is not one of the preset phrases", p)
		}
		if slices.Contains(req.Phrases[:i], p) {
			return Session{}, fail(field, apitype.CodeDuplicate, "%q is listed twice", p)
		}
	}
	note := strings.TrimSpace(req.Note)
	switch {
	case utf8.RuneCountInString(note) > MaxNoteRunes:
		return Session{}, fail("note", apitype.CodeTooLong, "is %d characters; at most %d", utf8.RuneCountInString(note), MaxNoteRunes)
	case !utf8.ValidString(note) || strings.IndexFunc(note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
		return Session{}, fail("note", apitype.CodeInvalid, "contains control characters")
	}
	outcomes := []string{OutcomeSettled, OutcomeUnsettled, OutcomeReferred}
	switch {
	case req.Outcome == "":
		return Session{}, fail("outcome", apitype.CodeRequired, "is required")
	case !slices.Contains(outcomes, req.Outcome):
		return Session{}, fail("outcome", apitype.CodeInvalid, "%q is not one of %s", req.Outcome, strings.Join(outcomes, ", "))
	}
	if req.FollowUp == "" && req.Outcome == OutcomeSettled {
		return Session{}, fail("follow_up", apitype.CodeRequired, "a settled case needs a follow-up visit date (回访)")
	}
	if req.FollowUp != "" {
		d, err := time.ParseInLocation(time.DateOnly, req.FollowUp, r.loc)
		if err != nil {
			return Session{}, fail("follow_up", apitype.CodeInvalid, "%q is not a date (2006-01-02)", req.FollowUp)
		}
		// The visit is after the session: today is too early to learn whether
		// the agreement holds.
		if today := now.In(r.loc).Format(time.DateOnly); d.Format(time.DateOnly) <= today {
			return Session{}, fail("follow_up", apitype.CodeFollowUpInPast, "%s is not after today (%s)", req.FollowUp, today)
		}
	}
	phrases := req.Phrases
	if phrases == nil {
		phrases = []string{}
	}
	return Session{Parties: parties, Category: req.Category, Line: req.Line, Phrases: phrases, Note: note,
		Outcome: req.Outcome, Agreement: req.Agreement, FollowUp: req.FollowUp}, nil
}
