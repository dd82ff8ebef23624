// Package booking owns consultation bookings with the village legal advisor:
// which time slots the advisor's duty hours offer and what makes a booking
// request valid. A valid booking is a Booking, the kiosk's own; the core
// converts it into the township's schema.BookingV1.
package booking

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Bookable lists the services that take a booking at the kiosk today. A
// legal check-up is a consultation with the same advisor, in the same slots,
// that carries the villager's questionnaire answers.
var Bookable = []string{"legal-advisor", "legal-checkup"}

// Checkup is the service whose bookings carry check-up answers.
const Checkup = "legal-checkup"

// maxNameRunes fits the longest Chinese names (including ethnic-minority names
// written in Han characters) with room to spare.
const maxNameRunes = 30

// FieldError says which field of a request is wrong and why.
type FieldError struct {
	Field string
	Code  string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Request is a booking as the villager entered it.
type Request struct {
	Service string
	Topic   string
	Name    string
	Phone   string
	Slot    string // RFC 3339
	Checkup []RequestAnswer
}

// RequestAnswer is a check-up question answered, by the question's id.
type RequestAnswer struct {
	Question string
	Yes      bool
}

// Booking is a valid consultation booking.
type Booking struct {
	Service string
	Topic   string
	Name    string
	Phone   string // normalized
	Slot    time.Time
	Advisor string
	Channel string // how it was booked: "kiosk"
	// No ID number, even when the villager used a card: the card proves
	// the name, and a consultation needs nothing more (docs/mqtt.md).
	// Checkup is set on a legal-checkup booking: the questionnaire answered
	// and each answer with its question, so the advisor can prepare.
	Checkup *CheckupAnswers
}

// CheckupAnswers is a legal check-up's answers.
type CheckupAnswers struct {
	Kind    string // family | business
	Answers []Answer
}

// Answer is one answered question, with its text as asked.
type Answer struct {
	Question string
	Text     string
	Yes      bool
}

// Planner knows the advisor's schedule and the site's topics and services.
type Planner struct {
	content config.Content
	loc     *time.Location
}

// NewPlanner returns a planner for a validated site's content.
func NewPlanner(content config.Content, loc *time.Location) *Planner {
	return &Planner{content: content, loc: loc}
}

// Slots returns the bookable slot start times from now to the end of the
// booking horizon, in the site's time zone, earliest first.
func (p *Planner) Slots(now time.Time) []time.Time {
	a := p.content.Advisor
	now = now.In(p.loc)
	var out []time.Time
	for day := range a.BookingDays {
		// time.Date normalises day overflow and keeps wall-clock times right
		// across any DST change (none in China today, but the zone is config).
		d := time.Date(now.Year(), now.Month(), now.Day()+day, 0, 0, 0, 0, p.loc)
		for _, w := range a.Duty {
			if !slices.Contains(w.Days, config.Weekday(d.Weekday())) {
				continue
			}
			for m := w.From.Minutes(); m+a.SlotMinutes <= w.To.Minutes(); m += a.SlotMinutes {
				s := time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, p.loc)
				if s.After(now) {
					out = append(out, s)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, time.Time.Equal)
}

// Offers reports whether slot is one of Slots(now), without building the
// list: every booking asks, and the list is a fortnight of duty slots.
func (p *Planner) Offers(slot, now time.Time) bool {
	a := p.content.Advisor
	if !slot.After(now) || a.SlotMinutes <= 0 {
		return false
	}
	now, s := now.In(p.loc), slot.In(p.loc)
	m := s.Hour()*60 + s.Minute()
	for day := range a.BookingDays {
		d := time.Date(now.Year(), now.Month(), now.Day()+day, 0, 0, 0, 0, p.loc)
		if d.Year() != s.Year() || d.YearDay() != s.YearDay() {
			continue
		}
		for _, w := range a.Duty {
			from := w.From.Minutes()
			if !slices.Contains(w.Days, config.Weekday(d.Weekday())) || m < from ||
				m+a.SlotMinutes > w.To.Minutes() || (m-from)%a.SlotMinutes != 0 {
				continue
			}
			// Built as Slots builds it, so that a wall-clock time a zone
			// change skips or repeats is judged the same way.
			if time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, p.loc).Equal(slot) {
				return true
			}
		}
		return false
	}
	return false
}

// Validate checks a request against the site's content and schedule at time
// now and returns the booking. The error is a *FieldError.
func (p *Planner) Validate(req Request, now time.Time) (Booking, error) {
	fail := func(field, code, format string, args ...any) (Booking, error) {
		return Booking{}, &FieldError{Field: field, Code: code, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case req.Service == "":
		return fail("service", apitype.CodeRequired, "is required")
	case !slices.Contains(config.ServiceIDs[:], req.Service):
		return fail("service", apitype.CodeUnknownService, "%q is not a service of this kiosk", req.Service)
	case !slices.Contains(Bookable, req.Service):
		return fail("service", apitype.CodeNotBookable, "%q cannot be booked here (bookable: %s)", req.Service, strings.Join(Bookable, ", "))
	}
	// A check-up booking may leave the topic to the questionnaire.
	if req.Topic == "" && req.Service != Checkup {
		return fail("topic", apitype.CodeRequired, "is required")
	}
	if req.Topic != "" && !slices.Contains(p.content.Topics, req.Topic) {
		return fail("topic", apitype.CodeUnknownTopic, "%q is not a topic of this kiosk", req.Topic)
	}
	name := strings.TrimSpace(req.Name)
	switch {
	case name == "":
		return fail("name", apitype.CodeRequired, "is required")
	case utf8.RuneCountInString(name) > maxNameRunes:
		return fail("name", apitype.CodeTooLong, "is longer than %d characters", maxNameRunes)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fail("name", apitype.CodeInvalid, "contains characters that are not part of a name")
	}
	tel := phone.Normalize(req.Phone)
	if tel == "" {
		return fail("phone", apitype.CodeRequired, "is required")
	}
	if err := phone.Check(tel); err != nil {
		return fail("phone", apitype.CodeInvalid, "%v", err)
	}
	if req.Slot == "" {
		return fail("slot", apitype.CodeRequired, "is required")
	}
	slot, err := time.Parse(time.RFC3339, req.Slot)
	if err != nil {
		return fail("slot", apitype.CodeInvalid, "%q is not an RFC 3339 time", req.Slot)
	}
	if !slot.After(now) {
		return fail("slot", apitype.CodeSlotInPast, "%s has already passed", slot.In(p.loc).Format("2006-01-02 15:04"))
	}
	if !p.Offers(slot, now) {
		return fail("slot", apitype.CodeSlotNotOffered, "%s is not one of the advisor's duty slots", slot.In(p.loc).Format("2006-01-02 15:04"))
	}
	checkup, err := p.checkup(req)
	if err != nil {
		return Booking{}, err
	}
	return Booking{
		Checkup: checkup,
		Service: req.Service,
		Topic:   req.Topic,
		Name:    name,
		Phone:   tel,
		Slot:    slot.In(p.loc),
		Advisor: p.content.Advisor.Name,
		Channel: "kiosk",
	}, nil
}

// checkup validates the answers of a legal-checkup booking against the
// site's questionnaires: all from one questionnaire, each question once.
func (p *Planner) checkup(req Request) (*CheckupAnswers, error) {
	if req.Service != Checkup {
		if len(req.Checkup) > 0 {
			return nil, &FieldError{Field: "checkup", Code: apitype.CodeInvalid, Msg: "only a " + Checkup + " booking carries check-up answers"}
		}
		return nil, nil
	}
	if len(req.Checkup) == 0 {
		return nil, &FieldError{Field: "checkup", Code: apitype.CodeRequired, Msg: "a check-up booking needs the questionnaire's answers"}
	}
	out := &CheckupAnswers{}
	for i, a := range req.Checkup {
		field := fmt.Sprintf("checkup[%d].question", i)
		q, kind, ok := p.content.QuestionByID(a.Question)
		switch {
		case a.Question == "":
			return nil, &FieldError{Field: field, Code: apitype.CodeRequired, Msg: "is required"}
		case !ok:
			return nil, &FieldError{Field: field, Code: apitype.CodeUnknownQuestion, Msg: fmt.Sprintf("%q is not a question of this kiosk's check-up", a.Question)}
		case out.Kind != "" && kind != out.Kind:
			return nil, &FieldError{Field: field, Code: apitype.CodeInvalid, Msg: fmt.Sprintf("%q belongs to the %s questionnaire, not %s", a.Question, kind, out.Kind)}
		case slices.ContainsFunc(out.Answers, func(b Answer) bool { return b.Question == a.Question }):
			return nil, &FieldError{Field: field, Code: apitype.CodeInvalid, Msg: fmt.Sprintf("%q is answered twice", a.Question)}
		}
		out.Kind = kind
		out.Answers = append(out.Answers, Answer{Question: q.ID, Text: q.Text, Yes: a.Yes})
	}
	return out, nil
}
