package record

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestEncodeIsMarshal: Encode gives json.Marshal's bytes for envelopes it
// writes itself and for those it leaves to json.Marshal.
func TestEncodeIsMarshal(t *testing.T) {
	ts := time.Date(2026, 12, 6, 20, 45, 14, 123456000, time.UTC)
	bodies := []string{
		`{"service":"legal-advisor","topic":"婚姻家庭","name":"王秀英","slot":"2026-12-07T09:00:00+08:00"}`,
		`{"a":"x \"y\" \\ z","b":[1,2.5,-3e2,true,false,null],"c":{}}`,
		`{"a": 1}`, "{\n\"a\":1}", `{"a":"<b>&</b>"}`, "{\"a\":\"\u2028\u2029\"}", `{"a":"—·"}`,
		`{"a":"x y"}`, `{`, `{"a":}`, `"str"`, `17`, `null`, "", `{"a":"\u00e9\t"}`,
		"{\"a\":\"\xff\"}",
	}
	strs := []string{"", "k-01", "上游镇", "a\"b", `a\b`, "a<b", "a>b", "a&b", "tab\there", "nl\n", "\x01", "\u2028", "\u2029",
		"bad\xffutf8", "é", "—", "0193a3f2-0000-7000-8000-000000000000"}
	times := []time.Time{ts, ts.Truncate(time.Second), ts.In(time.FixedZone("CST", 8*3600)), {}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), ts.Local()}
	n := 0
	strs = append(strs, "k-01", "booking", "booking/v1", "k-02", "上游镇", "k-03")
	for _, body := range bodies {
		for i, s := range strs {
			for j, at := range times {
				env := Envelope{ID: strs[(i+1)%len(strs)], Seq: uint64(i * j * 977), Kiosk: s, Township: strs[(i+3)%len(strs)],
					Village: strs[(i+5)%len(strs)], Type: strs[(i+7)%len(strs)], Schema: strs[(i+11)%len(strs)], TS: at}
				if body != "" {
					env.Body = json.RawMessage(body)
				}
				want, wantErr := json.Marshal(env)
				got, err := Encode(env)
				if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
					t.Fatalf("Encode(%+v) = %s, %v\njson.Marshal gives %s, %v", env, got, err, want, wantErr)
				}
				if _, fast := appendEnvelope(nil, env); fast {
					n++
				}
			}
		}
	}
	if n == 0 {
		t.Error("no envelope took the direct path")
	}
	booking := Envelope{ID: "0193a3f2-0000-7000-8000-000000000000", Seq: 12, Kiosk: "k-01", Township: "上游镇", Village: "枫桥村",
		Type: "booking", Schema: "booking/v1", TS: ts, Body: json.RawMessage(bodies[0])}
	if _, fast := appendEnvelope(nil, booking); !fast {
		t.Error("a booking took json.Marshal's path")
	}
}

func FuzzEncodeIsMarshal(f *testing.F) {
	f.Add("0193a3f2", "k-01", "上游镇", "booking", `{"a":"b","n":[1,2]}`, int64(1765000000123456789))
	f.Add("x", "a<b", "", "t", `{"a": 1}`, int64(0))
	f.Fuzz(func(t *testing.T, id, kiosk, village, typ, body string, ns int64) {
		env := Envelope{ID: id, Seq: uint64(ns), Kiosk: kiosk, Township: kiosk + village, Village: village, Type: typ, Schema: typ + "/v1",
			TS: time.Unix(0, ns).UTC()}
		if body != "" {
			env.Body = json.RawMessage(body)
		}
		want, wantErr := json.Marshal(env)
		got, err := Encode(env)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("Encode = %q, %v\njson.Marshal %q, %v", got, err, want, wantErr)
		}
	})
}
