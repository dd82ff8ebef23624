package core

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// TestRecordConversions: each conversion into a township body carries what
// the township is owed and nothing else (masked ids, screen-only fields),
// and keeps absent parts absent. The golden files pin the full bodies; this
// pins the choices a conversion makes.
func TestRecordConversions(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	held := time.Date(2026, 11, 24, 10, 13, 0, 0, loc)
	card := mediation.Party{Name: "测试二", Phone: "13905991234", IDNumber: "35078219600301402X", IDType: "resident", IDMasked: "3507**********402X"}
	walkIn := casebook.Case{ID: "c1", Number: "W0001", Origin: casebook.OriginWalkIn,
		Parties: []casebook.Party{{Name: "测试二", IDNumber: "35078219600301402X", IDType: "resident", IDMasked: "3507**********402X"}}}
	booked := walkIn
	booked.Origin, booked.Venue = casebook.OriginBooking, casebook.Venue{ID: "tea-room", Name: "茶室评理室", Where: "村部二楼茶室"}
	sess := casebook.Session{ID: "s1", Seq: 9, Mediator: casebook.Mediator{ID: "m", Name: "调解员"}, Held: held, Category: "邻里",
		Line: apitype.LineBlue, Phrases: []string{}, Outcome: casebook.OutcomeUnsettled}
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"booking without card or check-up", bookingV1(booking.Booking{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王", Phone: "13800001111",
			Slot: held, Advisor: "林", Channel: "kiosk"}),
			`{"service":"legal-advisor","topic":"婚姻家庭","name":"王","phone":"13800001111","slot":"2026-11-24T10:13:00+08:00","advisor":"林","channel":"kiosk"}`},
		{"check-up answers keep their text", bookingV1(booking.Booking{Service: "legal-checkup", Checkup: &booking.CheckupAnswers{Kind: "family",
			Answers: []booking.Answer{{Question: "q", Text: "问？", Yes: true}}}}).Checkup,
			`{"kind":"family","answers":[{"question":"q","text":"问？","yes":true}]}`},
		{"a party's masked id stays on the kiosk", partyV1(card),
			`{"name":"测试二","phone":"13905991234","id_number":"35078219600301402X","id_type":"resident"}`},
		{"mediation booking with no other party", mediationBookingV1(mediation.Booking{Case: "c1", Venue: config.Venue{ID: "v", Name: "n", Where: "w"},
			Category: "邻里", Applicant: card, Slots: []time.Time{held}, Channel: "kiosk"}),
			`{"case":"c1","venue":{"id":"v","name":"n","where":"w"},"category":"邻里","applicant":{"name":"测试二","phone":"13905991234","id_number":"35078219600301402X","id_type":"resident"},"slots":["2026-11-24T10:13:00+08:00"],"channel":"kiosk"}`},
		{"walk-in session has no venue", sessionV1(walkIn, sess, walkIn.Parties),
			`{"case":"c1","case_number":"W0001","origin":"walk_in","mediator":{"id":"m","name":"调解员"},"held":"2026-11-24T10:13:00+08:00","category":"邻里","line":"blue","phrases":[],"outcome":"unsettled","agreement":false,"parties":[{"name":"测试二","id_number":"35078219600301402X","id_type":"resident"}],"escalated":false}`},
		{"session on a booked case names its venue", sessionV1(booked, sess, nil).Venue,
			`{"id":"tea-room","name":"茶室评理室","where":"村部二楼茶室"}`},
		{"a case without parties sends an empty list", sessionV1(booked, sess, nil).Parties, `[]`},
		{"escalation names its session", escalationV1(booked, sess, "r1", []string{mediation.ReasonReferred}, nil),
			`{"case":"c1","case_number":"W0001","session":"r1","reasons":["referred"],"category":"邻里","line":"blue","outcome":"unsettled","venue":{"id":"tea-room","name":"茶室评理室","where":"村部二楼茶室"},"mediator":{"id":"m","name":"调解员"},"parties":[],"held":"2026-11-24T10:13:00+08:00"}`},
		{"alert", alertV1(AlertBody{Kind: "tamper_open", Message: "m"}), `{"kind":"tamper_open","message":"m"}`},
		{"empty queue", queueV1(apitype.QueueStatus{Quota: 10}),
			`{"depth":0,"dead_letters":0,"bytes":0,"quota":10,"file_bytes":0,"evicted":0}`},
		{"indicators with no rate yet", indicatorsV1(apitype.Indicators{BookingsByService: map[string]int{}, Since: held}),
			`{"sessions":0,"cases_closed":0,"settled":0,"success_rate":null,"follow_ups_due":0,"follow_ups_done":0,"follow_ups_on_time":0,"on_time_rate":null,"bookings_by_service":{},"since":"2026-11-24T10:13:00+08:00"}`},
		{"hardware without cameras", hardwareV1(apitype.Hardware{PIR: apitype.InputStatus{State: apitype.DeviceAbsent},
			Tamper: apitype.InputStatus{State: apitype.DeviceAbsent}, LED: apitype.LEDStatus{State: apitype.DeviceAbsent}}),
			`{"pir":{"state":"absent","active":false},"tamper":{"state":"absent","active":false},"led":{"state":"absent"},"cameras":null}`},
		{"hardware with an empty camera list", hardwareV1(apitype.Hardware{Cameras: []apitype.CameraStatus{}}).Cameras, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMarshal(t, tt.got); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBookingNumber: the number is the seq padded to five digits, as
// fmt's %05d writes it, and longer seqs in full.
func TestBookingNumber(t *testing.T) {
	for _, seq := range []uint64{0, 1, 9, 10, 99, 1234, 12345, 99999, 100000, 1 << 40, ^uint64(0)} {
		if got, want := BookingNumber(seq), fmt.Sprintf("%05d", seq); got != want {
			t.Errorf("BookingNumber(%d) = %q, want %q", seq, got, want)
		}
	}
}
