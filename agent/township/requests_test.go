package township

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/schema"
)

func mustRequestRecord(t *testing.T, township, kiosk string, seq uint64) []byte {
	t.Helper()
	body, err := json.Marshal(schema.RequestV1{Kind: "concern", KindName: "反映诉求", Category: schema.CategoryV1{ID: "roads", Name: "道路设施"},
		Phrases: []string{"路灯不亮"}, Channel: "kiosk"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(record.Envelope{ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", seq), Seq: seq, Kiosk: kiosk,
		Township: township, Village: "v", Type: schema.RequestType, Schema: schema.RequestV1Schema, TS: time.Unix(1796600000, 0).UTC(), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRequestStore(t *testing.T) {
	s := RequestStore{Dir: t.TempDir()}
	topic := func(kiosk string) string { return mqtttopic.Record("t1", kiosk, schema.RequestType) }
	tests := []struct {
		name    string
		topic   string
		payload []byte
		added   bool
		want    error
	}{
		{"a request", topic("k2"), mustRequestRecord(t, "t1", "k2", 3), true, nil},
		{"another kiosk's", topic("k1"), mustRequestRecord(t, "t1", "k1", 7), true, nil},
		{"redelivered", topic("k2"), mustRequestRecord(t, "t1", "k2", 3), false, nil},
		{"naming another kiosk than its topic's", topic("k1"), mustRequestRecord(t, "t1", "k2", 4), false, ErrNotOurs},
		{"a kiosk id that is a path", mqtttopic.Record("t1", "..", schema.RequestType), mustRequestRecord(t, "t1", "..", 5), false, ErrNotOurs},
		{"not a record", topic("k1"), []byte("hello"), false, ErrNotOurs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, err := s.PutRecord(tt.topic, tt.payload)
			if added != tt.added || !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("PutRecord = %v, %v; want %v, %v", added, err, tt.added, tt.want)
			}
		})
	}
	rs, err := s.List("t1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Ref() != "k1/00007" || rs[1].Ref() != "k2/00003" || rs[1].Status() != request.StatusSubmitted {
		t.Fatalf("List = %+v", rs)
	}

	answer := func(version uint64) Answer {
		return Answer{Version: version, Change: request.Change{Format: request.StatusFormat, Request: rs[1].Record.ID, Seq: 3,
			Status: request.StatusClosed, At: time.Unix(1796600000, 0).UTC()}}
	}
	if err := s.PutAnswer("t1", "k2", answer(10)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{10, 9} {
		if err := s.PutAnswer("t1", "k2", answer(v)); !errors.Is(err, ErrNotNewer) {
			t.Errorf("PutAnswer(v%d) after v10 = %v, want ErrNotNewer", v, err)
		}
	}
	rep, _ := json.Marshal(request.Reported{Schema: request.ReportedSchema, Kiosk: "k2", Township: "t1", Answered: map[string]uint64{"00003": 10}})
	if err := s.PutReported(mqtttopic.RequestsReported("t1", "k1"), rep); !errors.Is(err, ErrNotOurs) {
		t.Errorf("a report on another kiosk's topic: %v", err)
	}
	if err := s.PutReported(mqtttopic.RequestsReported("t1", "k2"), rep); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get("t1", "k2", 3)
	if err != nil || r.Status() != request.StatusClosed || r.Answer.Version != 10 || r.Applied != 10 {
		t.Errorf("Get = %+v, %v", r, err)
	}
	if _, err := s.Get("t1", "k2", 4); !errors.Is(err, ErrNoRequest) {
		t.Errorf("Get of a request never synced: %v", err)
	}
}
