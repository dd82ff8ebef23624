package core

import (
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
)

// This file is the one way from the kiosk's own types (the rules', the case
// book's, the local API's) to the township's record bodies (agent/schema).
// Each body is built field by field, so a field renamed for the screen or
// in the case book does not change what the township receives; the golden
// files in agent/schema/testdata prove the result.

// newRecord wraps a body in an envelope whose type and schema are the
// body's own, so the two cannot disagree.
func (c *Core) newRecord(body schema.Body, now time.Time) (record.Envelope, error) {
	return record.New(c.source(), body.RecordType(), body.Schema(), body, now)
}

func bookingV1(b booking.Booking) schema.BookingV1 {
	out := schema.BookingV1{Service: b.Service, Topic: b.Topic, Name: b.Name, Phone: b.Phone, Slot: b.Slot,
		Advisor: b.Advisor, Channel: b.Channel, IDNumber: b.IDNumber, IDType: b.IDType}
	if b.Checkup != nil {
		out.Checkup = &schema.CheckupV1{Kind: b.Checkup.Kind}
		for _, a := range b.Checkup.Answers {
			out.Checkup.Answers = append(out.Checkup.Answers, schema.CheckupAnswerV1{Question: a.Question, Text: a.Text, Yes: a.Yes})
		}
	}
	return out
}

func mediationBookingV1(b mediation.Booking) schema.MediationBookingV1 {
	out := schema.MediationBookingV1{Case: b.Case, Venue: configVenueV1(b.Venue), Category: b.Category,
		Applicant: partyV1(b.Applicant), Slots: b.Slots, Channel: b.Channel}
	if b.Other != nil {
		o := partyV1(*b.Other)
		out.Other = &o
	}
	return out
}

// partyV1 leaves IDMasked behind: the township masks for itself.
func partyV1(p mediation.Party) schema.PartyV1 {
	return schema.PartyV1{Name: p.Name, Phone: p.Phone, IDNumber: p.IDNumber, IDType: p.IDType}
}

func casePartiesV1(ps []casebook.Party) []schema.PartyV1 {
	out := make([]schema.PartyV1, len(ps))
	for i, p := range ps {
		out[i] = schema.PartyV1{Name: p.Name, Phone: p.Phone, IDNumber: p.IDNumber, IDType: p.IDType}
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

// sessionV1 is the record of session s held on case k; parties are all
// the case's parties after it.
func sessionV1(k casebook.Case, s casebook.Session, parties []casebook.Party) schema.MediationSessionV1 {
	return schema.MediationSessionV1{Case: k.ID, CaseNumber: k.Number, Origin: k.Origin, Venue: caseVenueV1(k),
		Mediator: caseMediatorV1(s.Mediator), Held: s.Held, Category: s.Category, Line: s.Line, Phrases: s.Phrases,
		Note: s.Note, Outcome: s.Outcome, Agreement: s.Agreement, FollowUp: s.FollowUp,
		Parties: casePartiesV1(parties), Escalated: s.Escalated}
}

// escalationV1 is the escalation of session s (whose record's id is
// sessionID) on case k, for the reasons why.
func escalationV1(k casebook.Case, s casebook.Session, sessionID string, why []string, parties []casebook.Party) schema.EscalationV1 {
	return schema.EscalationV1{Case: k.ID, CaseNumber: k.Number, Session: sessionID, Reasons: why,
		Category: s.Category, Line: s.Line, Outcome: s.Outcome, Venue: caseVenueV1(k), Mediator: caseMediatorV1(s.Mediator),
		Parties: casePartiesV1(parties), Note: s.Note, Held: s.Held}
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
		EventsCollected: i.EventsCollected, EventsByCategory: i.EventsByCategory, Since: i.Since}
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
