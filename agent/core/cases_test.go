package core

import (
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// TestCaseConversions: what the screen is given of a stored case, and what
// the book stores of the API's and the config's values, field by field.
func TestCaseConversions(t *testing.T) {
	held := time.Date(2026, 11, 24, 10, 13, 0, 0, time.FixedZone("CST", 8*3600))
	rate := 0.5
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"stored session for the screen", apiSession(casebook.Session{ID: "s1", Seq: 3, Mediator: casebook.Mediator{ID: "m", Name: "调解员"},
			Held: held, Category: "邻里", Line: "red", Phrases: []string{"p"}, Note: "n", Outcome: "settled", Agreement: true,
			FollowUp: "2026-12-24", Escalated: true}),
			`{"id":"s1","seq":3,"mediator":{"id":"m","name":"调解员"},"held":"2026-11-24T10:13:00+08:00","category":"邻里","line":"red","phrases":["p"],"note":"n","outcome":"settled","agreement":true,"follow_up":"2026-12-24","escalated":true}`},
		{"a party as stored, in full", caseParty(mediation.Party{Name: "测试二", Phone: "13905991234", IDNumber: "35078219600301402X", IDType: "resident", IDMasked: "3507**********402X"}),
			`{"name":"测试二","phone":"13905991234","id_number":"35078219600301402X","id_type":"resident","id_masked":"3507**********402X"}`},
		{"signed-in mediator as stored", caseMediator(apitype.Mediator{ID: "m", Name: "调解员"}), `{"id":"m","name":"调解员"}`},
		{"config venue as stored", caseVenue(config.Venue{ID: "v", Name: "n", Where: "w"}), `{"id":"v","name":"n","where":"w"}`},
		{"config venue for the screen", apiVenue(config.Venue{ID: "v", Name: "n", Where: "w"}), `{"id":"v","name":"n","where":"w"}`},
		{"indicators for the screen", apiIndicators(casebook.Indicators{Sessions: 2, CasesClosed: 1, Settled: 1, WithOutcome: 2, SuccessRate: &rate,
			FollowUpsDue: 1, FollowUpsOverdue: 1, BookingsByService: map[string]int{"mediation": 1}, Since: held}, held.Add(time.Hour)),
			`{"sessions":2,"cases_closed":1,"settled":1,"cases_with_outcome":2,"success_rate":0.5,"follow_ups_due":1,"follow_ups_overdue":1,"follow_ups_done":0,"follow_ups_on_time":0,"on_time_rate":null,"bookings_by_service":{"mediation":1},"since":"2026-11-24T10:13:00+08:00","as_of":"2026-11-24T11:13:00+08:00"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMarshal(t, tt.got); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestCaseOutcome(t *testing.T) {
	tests := []struct{ rules, stored string }{
		{mediation.OutcomeSettled, casebook.OutcomeSettled},
		{mediation.OutcomeUnsettled, casebook.OutcomeUnsettled},
		{mediation.OutcomeReferred, casebook.OutcomeReferred},
	}
	for _, tt := range tests {
		if got := caseOutcome(tt.rules); got != tt.stored {
			t.Errorf("caseOutcome(%q) = %q, want %q", tt.rules, got, tt.stored)
		}
	}
}

func TestAPICaseStatus(t *testing.T) {
	tests := []struct{ stored, api string }{
		{casebook.StatusBooked, apitype.CaseBooked},
		{casebook.StatusOpen, apitype.CaseOpen},
		{casebook.StatusSettled, apitype.CaseSettled},
		{casebook.StatusReferred, apitype.CaseReferred},
		{"archived", "archived"}, // written by a newer kiosk: shown, not hidden
	}
	for _, tt := range tests {
		if got := apiCaseStatus(tt.stored); got != tt.api {
			t.Errorf("apiCaseStatus(%q) = %q, want %q", tt.stored, got, tt.api)
		}
	}
}

// TestRequestConversions: the API's requests reach the mediation rules
// whole, an absent other party staying absent.
func TestRequestConversions(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"booking", mediationRequest(apitype.MediationRequest{Venue: "v", Category: "邻里", Applicant: apitype.Party{Card: "t"},
			Other: &apitype.Party{Name: "李", Phone: "13800001111"}, Slots: []string{"2026-11-24T14:30:00+08:00"}}),
			`{"Venue":"v","Category":"邻里","Applicant":{"Card":"t","Name":"","Phone":""},"Other":{"Card":"","Name":"李","Phone":"13800001111"},"Slots":["2026-11-24T14:30:00+08:00"]}`},
		{"booking without other party", mediationRequest(apitype.MediationRequest{Venue: "v"}).Other, `null`},
		{"session", sessionRequest(apitype.SessionRequest{Parties: []apitype.Party{{Name: "王"}}, Category: "邻里", Line: "red",
			Phrases: []string{"p"}, Note: "n", Outcome: "settled", Agreement: true, FollowUp: "2026-12-24"}),
			`{"Parties":[{"Card":"","Name":"王","Phone":""}],"Category":"邻里","Line":"red","Phrases":["p"],"Note":"n","Outcome":"settled","Agreement":true,"FollowUp":"2026-12-24"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMarshal(t, tt.got); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}
