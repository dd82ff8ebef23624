package core

import (
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// This file converts between the case book's stored form (sealed in
// cases.db, read back by every later version) and the local API's types
// (what the screen shows), so that either can change without the other.
// The site config's venue is the rules' own.

func caseVenue(v config.Venue) casebook.Venue {
	return casebook.Venue{ID: v.ID, Name: v.Name, Where: v.Where}
}

func apiVenue(v config.Venue) apitype.Venue {
	return apitype.Venue{ID: v.ID, Name: v.Name, Where: v.Where}
}

// caseParty keeps a party in full, with the masked id the screens show:
// the case book is where the mediator finds whom to call.
func caseParty(p mediation.Party) casebook.Party {
	return casebook.Party{Name: p.Name, Phone: p.Phone, IDNumber: p.IDNumber, IDType: p.IDType, IDMasked: p.IDMasked}
}

func caseMediator(m apitype.Mediator) casebook.Mediator {
	return casebook.Mediator{ID: m.ID, Name: m.Name}
}

func apiSession(s casebook.Session) apitype.Session {
	return apitype.Session{ID: s.ID, Seq: s.Seq, Mediator: apitype.Mediator{ID: s.Mediator.ID, Name: s.Mediator.Name},
		Held: s.Held, Category: s.Category, Line: s.Line, Phrases: s.Phrases, Note: s.Note, Outcome: s.Outcome,
		Agreement: s.Agreement, FollowUp: s.FollowUp, Escalated: s.Escalated}
}

// apiCaseStatus names a stored status for the screen. The two sets hold
// the same words today; an unknown one (a newer book read by an older
// kiosk) is shown as it is rather than hidden.
func apiCaseStatus(s string) string {
	switch s {
	case casebook.StatusBooked:
		return apitype.CaseBooked
	case casebook.StatusOpen:
		return apitype.CaseOpen
	case casebook.StatusSettled:
		return apitype.CaseSettled
	case casebook.StatusReferred:
		return apitype.CaseReferred
	}
	return s
}

// caseOutcome is the word the case book stores for a validated outcome:
// the book derives a case's status and the indicators from it.
func caseOutcome(o string) string {
	switch o {
	case mediation.OutcomeSettled:
		return casebook.OutcomeSettled
	case mediation.OutcomeUnsettled:
		return casebook.OutcomeUnsettled
	case mediation.OutcomeReferred:
		return casebook.OutcomeReferred
	}
	return o
}

func apiIndicators(i casebook.Indicators, asOf time.Time) apitype.Indicators {
	return apitype.Indicators{Sessions: i.Sessions, CasesClosed: i.CasesClosed, Settled: i.Settled,
		CasesWithOutcome: i.WithOutcome, SuccessRate: i.SuccessRate, FollowUpsDue: i.FollowUpsDue,
		FollowUpsOverdue: i.FollowUpsOverdue, FollowUpsDone: i.FollowUpsDone,
		FollowUpsOnTime: i.FollowUpsOnTime, OnTimeRate: i.OnTimeRate, BookingsByService: i.BookingsByService, Since: i.Since, AsOf: asOf}
}
