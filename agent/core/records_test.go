package core

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/sealed"
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
		{"booking without a records key withholds the phone", bookingV2(booking.Booking{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王", Phone: "13800001111",
			Slot: held, Advisor: "林", Channel: "kiosk"}, withhold()),
			`{"service":"legal-advisor","topic":"婚姻家庭","name":"王","phone_masked":"138****1111","slot":"2026-11-24T10:13:00+08:00","advisor":"林","channel":"kiosk","withheld":["phone"]}`},
		{"check-up answers keep their text", bookingV2(booking.Booking{Service: "legal-checkup", Checkup: &booking.CheckupAnswers{Kind: "family",
			Answers: []booking.Answer{{Question: "q", Text: "问？", Yes: true}}}}, withhold()).Checkup,
			`{"kind":"family","answers":[{"question":"q","text":"问？","yes":true}]}`},
		{"mediation booking: a card's ID number stays on the kiosk", mediationBookingV2(mediation.Booking{Case: "c1", Venue: config.Venue{ID: "v", Name: "n", Where: "w"},
			Category: "邻里", Applicant: card, Slots: []time.Time{held}, Channel: "kiosk"}, withhold()),
			`{"case":"c1","venue":{"id":"v","name":"n","where":"w"},"category":"邻里","applicant":{"name":"测试二","phone_masked":"139****1234"},"slots":["2026-11-24T10:13:00+08:00"],"channel":"kiosk","withheld":["applicant.phone"]}`},
		{"walk-in session has no venue; the agreement's ID number is withheld without a key", sessionV2(walkIn, sess, walkIn.Parties, withhold()),
			`{"case":"c1","case_number":"W0001","origin":"walk_in","mediator":{"id":"m","name":"调解员"},"held":"2026-11-24T10:13:00+08:00","category":"邻里","line":"blue","phrases":[],"outcome":"unsettled","agreement":false,"parties":[{"name":"测试二","id_type":"resident"}],"escalated":false,"withheld":["parties[0].id_number"]}`},
		{"session on a booked case names its venue", sessionV2(booked, sess, nil, withhold()).Venue,
			`{"id":"tea-room","name":"茶室评理室","where":"村部二楼茶室"}`},
		{"a case without parties sends an empty list", sessionV2(booked, sess, nil, withhold()).Parties, `[]`},
		{"escalation names its session, and whom to call without their ID", escalationV2(booked, sess, "r1", []string{mediation.ReasonReferred}, booked.Parties, withhold()),
			`{"case":"c1","case_number":"W0001","session":"r1","reasons":["referred"],"category":"邻里","line":"blue","outcome":"unsettled","venue":{"id":"tea-room","name":"茶室评理室","where":"村部二楼茶室"},"mediator":{"id":"m","name":"调解员"},"parties":[{"name":"测试二"}],"held":"2026-11-24T10:13:00+08:00"}`},
		{"request without a records key withholds the name and the phone, never the card's ID number", requestV1(request.Request{Kind: config.RequestKind{ID: "help", Name: "求助"},
			Category: config.GridCategory{ID: "roads", Name: "道路设施", Phrases: []string{"路灯不亮", "桥梁护栏损坏"}}, Phrases: []string{"路灯不亮"},
			Contact: &request.Contact{Name: "测试二", Phone: "13905991234", Via: request.ViaCard}}, withhold()),
			`{"kind":"help","kind_name":"求助","category":{"id":"roads","name":"道路设施"},"phrases":["路灯不亮"],"anonymous":false,"contact":{"via":"card","phone_masked":"139********"},"channel":"kiosk","withheld":["contact.name","contact.phone"]}`},
		{"an anonymous report has nothing to seal or withhold", requestV1(request.Request{Kind: config.RequestKind{ID: "report", Name: "举报"},
			Category: config.GridCategory{ID: "roads", Name: "道路设施"}, Phrases: []string{"路灯不亮"},
			Place: &config.VillagePlace{ID: "stone-bridge", Name: "溪上石拱桥", Kind: config.PlaceLandmark}, Anonymous: true}, withhold()),
			`{"kind":"report","kind_name":"举报","category":{"id":"roads","name":"道路设施"},"phrases":["路灯不亮"],"place":{"id":"stone-bridge","name":"溪上石拱桥","kind":"landmark"},"anonymous":true,"channel":"kiosk"}`},
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

// withhold is the sealer of a kiosk without a records key.
func withhold() *sealer { return &sealer{recordID: "r"} }

// TestSealedConversions: with a records key, every full number a body
// carries is sealed at the path it has in the body, bound to the record,
// and opens with the township's key; none is in the body in clear.
func TestSealedConversions(t *testing.T) {
	key, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	township := sealed.NewOpener(key)
	held := time.Date(2026, 11, 24, 10, 13, 0, 0, time.UTC)
	parties := []casebook.Party{{Name: "测试二", Phone: "13905991234", IDNumber: "35078219600301402X", IDType: "resident"}, {Name: "李大伯", Phone: "13800001111"}}
	k := casebook.Case{ID: "c1", Number: "00001", Origin: casebook.OriginBooking, Parties: parties}
	sess := casebook.Session{Held: held, Phrases: []string{}}
	tests := []struct {
		name  string
		build func(*sealer) any
		want  map[string]string // path: plaintext
	}{
		{"booking", func(s *sealer) any {
			return bookingV2(booking.Booking{Name: "测试二", Phone: "13905991234", Slot: held}, s)
		}, map[string]string{"phone": "13905991234"}},
		{"mediation booking", func(s *sealer) any {
			return mediationBookingV2(mediation.Booking{Applicant: mediation.Party{Name: "测试二", Phone: "13905991234", IDNumber: "35078219600301402X"},
				Other: &mediation.Party{Name: "李大伯", Phone: "13800001111"}}, s)
		}, map[string]string{"applicant.phone": "13905991234", "other.phone": "13800001111"}},
		{"session", func(s *sealer) any { return sessionV2(k, sess, parties, s) },
			map[string]string{"parties[0].phone": "13905991234", "parties[0].id_number": "35078219600301402X", "parties[1].phone": "13800001111"}},
		{"escalation", func(s *sealer) any { return escalationV2(k, sess, "s1", nil, parties, s) },
			map[string]string{"parties[0].phone": "13905991234", "parties[1].phone": "13800001111"}},
		{"request", func(s *sealer) any {
			return requestV1(request.Request{Phrases: []string{"路灯不亮"}, Contact: &request.Contact{Name: "测试二", Phone: "13905991234", Via: request.ViaCard}}, s)
		}, map[string]string{"contact.phone": "13905991234", "contact.name": "测试二"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sealer{key: sealed.NewSealer(key.Public(), nil, 0), recordID: "rec-1"}
			body := []byte(mustMarshal(t, tt.build(s)))
			if s.err != nil || len(s.withheld) > 0 {
				t.Fatalf("sealer: %v, withheld %v", s.err, s.withheld)
			}
			for _, n := range []string{"13905991234", "13800001111", "35078219600301402X"} {
				if strings.Contains(string(body), n) {
					t.Errorf("%s in clear: %s", n, body)
				}
			}
			paths, err := sealed.Fields(body)
			if err != nil || len(paths) != len(tt.want) {
				t.Fatalf("sealed fields %v, %v; want %v", paths, err, tt.want)
			}
			opened, errs := township.OpenBody("rec-1", body)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var flat map[string]any
			json.Unmarshal(opened, &flat)
			for path, want := range tt.want {
				if got := lookup(flat, path); got != want {
					t.Errorf("%s opens to %v, want %s", path, got, want)
				}
			}
			if _, errs := township.OpenBody("rec-2", body); len(errs) != len(tt.want) {
				t.Errorf("moved to another record, %d of %d fields opened", len(tt.want)-len(errs), len(tt.want))
			}
		})
	}
}

// lookup follows a sealed field's path (a.b, parties[1].phone) in a
// decoded body.
func lookup(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		name, idx, isElem := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		v = v.(map[string]any)[name]
		if isElem {
			i, _ := strconv.Atoi(idx)
			v = v.([]any)[i]
		}
	}
	return v
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
