package core

import (
	"fmt"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// This file is the one way from the kiosk's own types (the rules', the case
// book's, the local API's) to the township's record bodies (agent/schema).
// Each body is built field by field, so a field renamed for the screen or
// in the case book does not change what the township receives; the golden
// files in agent/schema/testdata prove the result.

// newRecord wraps a body in an envelope whose type and schema are the
// body's own, so the two cannot disagree. Bodies that carry people are
// made by newSealedRecord instead.
func (c *Core) newRecord(body schema.Body, now time.Time) (record.Envelope, error) {
	return record.New(c.source(), body.RecordType(), body.Schema(), body, now)
}

// newSealedRecord is newRecord for a body that seals fields for the
// township: the record's id is taken first, because each sealed field is
// bound to it, and build makes the body with a sealer for that id and the
// records key of lv, the configuration the request was validated under.
func (c *Core) newSealedRecord(lv *liveConfig, now time.Time, build func(*sealer) schema.Body) (record.Envelope, error) {
	id, err := record.NewID()
	if err != nil {
		return record.Envelope{}, err
	}
	return c.newSealedRecordWithID(lv, id, now, build)
}

// newSealedRecordWithID is newSealedRecord with the record's id and time
// chosen by the caller (an anonymous report's: random, and to the hour).
func (c *Core) newSealedRecordWithID(lv *liveConfig, id string, now time.Time, build func(*sealer) schema.Body) (record.Envelope, error) {
	s := &sealer{key: lv.sealer, recordID: id}
	body := build(s)
	if s.err != nil {
		return record.Envelope{}, fmt.Errorf("core: %s record: %w", body.RecordType(), s.err)
	}
	return record.NewWithID(id, c.source(), body.RecordType(), body.Schema(), body, now)
}

// sealer seals the full numbers of one record to the township's records
// key. Without a key it withholds them: a number is never sent in clear,
// and the record's withheld list tells the township which are missing.
type sealer struct {
	key      *sealed.Sealer
	recordID string
	withheld []string
	err      error
}

// seal is plaintext sealed as field path of the record; nil for an empty
// plaintext (the field is absent), or when withheld.
func (s *sealer) seal(path, plaintext string) *schema.Sealed {
	if plaintext == "" || s.err != nil {
		return nil
	}
	if s.key == nil {
		s.withheld = append(s.withheld, path)
		return nil
	}
	v, err := s.key.Seal(s.recordID, path, plaintext)
	if err != nil {
		s.err = err
		return nil
	}
	return &v
}

// masked is a phone number as lists show it, empty for none.
func masked(tel string) string {
	if tel == "" {
		return ""
	}
	return phone.Mask(tel)
}

// bookingV2 is a consultation booking as the township receives it: no ID
// number, even when the villager used a card (calling back does not need
// it), and the phone sealed.
func bookingV2(b booking.Booking, s *sealer) schema.BookingV2 {
	out := schema.BookingV2{Service: b.Service, Topic: b.Topic, Name: b.Name, PhoneMasked: masked(b.Phone),
		Phone: s.seal("phone", b.Phone), Slot: b.Slot, Advisor: b.Advisor, Channel: b.Channel}
	if b.Checkup != nil {
		out.Checkup = &schema.CheckupV1{Kind: b.Checkup.Kind}
		for _, a := range b.Checkup.Answers {
			out.Checkup.Answers = append(out.Checkup.Answers, schema.CheckupAnswerV1{Question: a.Question, Text: a.Text, Yes: a.Yes})
		}
	}
	out.Withheld = s.withheld
	return out
}

// mediationBookingV2 carries whom the mediator calls back; the parties'
// identity for the agreement travels with the session.
func mediationBookingV2(b mediation.Booking, s *sealer) schema.MediationBookingV2 {
	out := schema.MediationBookingV2{Case: b.Case, Venue: configVenueV1(b.Venue), Category: b.Category,
		Applicant: contactV2(s, "applicant", b.Applicant.Name, b.Applicant.Phone), Slots: b.Slots, Channel: b.Channel}
	if b.Other != nil {
		o := contactV2(s, "other", b.Other.Name, b.Other.Phone)
		out.Other = &o
	}
	out.Withheld = s.withheld
	return out
}

// contactV2 is a person to call back, at path in the body.
func contactV2(s *sealer, path, name, tel string) schema.ContactV2 {
	return schema.ContactV2{Name: name, PhoneMasked: masked(tel), Phone: s.seal(path+".phone", tel)}
}

// casePartiesV2 are the case's parties as an agreement names them, their
// numbers sealed.
func casePartiesV2(s *sealer, ps []casebook.Party) []schema.PartyV2 {
	out := make([]schema.PartyV2, len(ps))
	for i, p := range ps {
		at := fmt.Sprintf("parties[%d].", i)
		out[i] = schema.PartyV2{Name: p.Name, PhoneMasked: masked(p.Phone), Phone: s.seal(at+"phone", p.Phone),
			IDNumber: s.seal(at+"id_number", p.IDNumber), IDType: p.IDType}
	}
	return out
}

// caseContactsV2 are the case's parties to call, without their identity.
func caseContactsV2(s *sealer, ps []casebook.Party) []schema.ContactV2 {
	out := make([]schema.ContactV2, len(ps))
	for i, p := range ps {
		out[i] = contactV2(s, fmt.Sprintf("parties[%d]", i), p.Name, p.Phone)
	}
	return out
}

func configVenueV1(v config.Venue) schema.VenueV1 {
	return schema.VenueV1{ID: v.ID, Name: v.Name, Where: v.Where}
}

// caseVenueV1 is nil for a walk-in case opened without a venue.
func caseVenueV1(k casebook.Case) *schema.VenueV1 {
	if k.Venue.ID == "" {
		return nil
	}
	return &schema.VenueV1{ID: k.Venue.ID, Name: k.Venue.Name, Where: k.Venue.Where}
}

func mediatorV1(m apitype.Mediator) schema.MediatorV1 {
	return schema.MediatorV1{ID: m.ID, Name: m.Name}
}

func caseMediatorV1(m casebook.Mediator) schema.MediatorV1 {
	return schema.MediatorV1{ID: m.ID, Name: m.Name}
}

// sessionV2 is the record of session s held on case k; parties are all
// the case's parties after it.
func sessionV2(k casebook.Case, s casebook.Session, parties []casebook.Party, sl *sealer) schema.MediationSessionV2 {
	out := schema.MediationSessionV2{Case: k.ID, CaseNumber: k.Number, Origin: k.Origin, Venue: caseVenueV1(k),
		Mediator: caseMediatorV1(s.Mediator), Held: s.Held, Category: s.Category, Line: s.Line, Phrases: s.Phrases,
		Note: s.Note, Outcome: s.Outcome, Agreement: s.Agreement, FollowUp: s.FollowUp,
		Parties: casePartiesV2(sl, parties), Escalated: s.Escalated}
	out.Withheld = sl.withheld
	return out
}

// escalationV2 is the escalation of session s (whose record's id is
// sessionID) on case k, for the reasons why.
func escalationV2(k casebook.Case, s casebook.Session, sessionID string, why []string, parties []casebook.Party, sl *sealer) schema.EscalationV2 {
	out := schema.EscalationV2{Case: k.ID, CaseNumber: k.Number, Session: sessionID, Reasons: why,
		Category: s.Category, Line: s.Line, Outcome: s.Outcome, Venue: caseVenueV1(k), Mediator: caseMediatorV1(s.Mediator),
		Parties: caseContactsV2(sl, parties), Note: s.Note, Held: s.Held}
	out.Withheld = sl.withheld
	return out
}

func alertV1(a AlertBody) schema.AlertV1 {
	return schema.AlertV1{Kind: a.Kind, Message: a.Message, Detail: a.Detail}
}

func queueV1(q apitype.QueueStatus) schema.QueueV1 {
	return schema.QueueV1{Depth: q.Depth, OldestAt: q.OldestAt, DeadLetters: q.DeadLetters, LastDelivery: q.LastDelivery,
		Bytes: q.Bytes, Quota: q.Quota, FileBytes: q.FileBytes, Evicted: q.Evicted}
}

func indicatorsV1(i apitype.Indicators) schema.IndicatorsV1 {
	return schema.IndicatorsV1{Sessions: i.Sessions, CasesClosed: i.CasesClosed, Settled: i.Settled,
		SuccessRate: i.SuccessRate, FollowUpsDue: i.FollowUpsDue, FollowUpsDone: i.FollowUpsDone,
		FollowUpsOnTime: i.FollowUpsOnTime, OnTimeRate: i.OnTimeRate, BookingsByService: i.BookingsByService,
		EventsCollected: i.EventsCollected, EventsByCategory: i.EventsByCategory,
		EventsClosed: i.EventsClosed, EventsClosedRate: i.EventsClosedRate, EventsCloseHours: i.EventsCloseHours, Since: i.Since}
}

func hardwareV1(h apitype.Hardware) schema.HardwareV1 {
	input := func(s apitype.InputStatus) schema.InputV1 {
		return schema.InputV1{State: s.State, Active: s.Active, Changed: s.Changed, Since: s.Since, Polling: s.Polling, LastError: s.LastError}
	}
	out := schema.HardwareV1{PIR: input(h.PIR), Tamper: input(h.Tamper),
		LED: schema.LEDV1{State: h.LED.State, Pattern: h.LED.Pattern, LastError: h.LED.LastError}}
	// An empty list stays empty rather than null, as the API's encodes.
	if h.Cameras != nil {
		out.Cameras = []schema.CameraV1{}
	}
	for _, c := range h.Cameras {
		out.Cameras = append(out.Cameras, schema.CameraV1{Name: c.Name, State: c.State, Checked: c.Checked, LastFrame: c.LastFrame,
			Width: c.Width, Height: c.Height, LastError: c.LastError, Failures: c.Failures})
	}
	return out
}
