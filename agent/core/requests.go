package core

import (
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// This file hands the local API's requests to the mediation rules in the
// rules' own types, so a field renamed in the API's JSON stays a matter of
// the API.

func partyRequest(p apitype.Party) mediation.PartyRequest {
	return mediation.PartyRequest{Card: p.Card, Name: p.Name, Phone: p.Phone}
}

func partyRequests(ps []apitype.Party) []mediation.PartyRequest {
	var out []mediation.PartyRequest
	for _, p := range ps {
		out = append(out, partyRequest(p))
	}
	return out
}

func mediationRequest(req apitype.MediationRequest) mediation.BookingRequest {
	out := mediation.BookingRequest{Venue: req.Venue, Category: req.Category, Applicant: partyRequest(req.Applicant), Slots: req.Slots}
	if req.Other != nil {
		o := partyRequest(*req.Other)
		out.Other = &o
	}
	return out
}

func sessionRequest(req apitype.SessionRequest) mediation.SessionRequest {
	return mediation.SessionRequest{Parties: partyRequests(req.Parties), Category: req.Category, Line: req.Line,
		Phrases: req.Phrases, Note: req.Note, Outcome: req.Outcome, Agreement: req.Agreement, FollowUp: req.FollowUp}
}
