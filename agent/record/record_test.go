package record

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNew(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	env, err := New(Source{Kiosk: "k1", Township: "t1", Village: "v1"}, "booking", "booking/v1", map[string]string{"topic": "婚姻家庭"}, now)
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(env.ID)
	if err != nil || id.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7: %v", env.ID, err)
	}
	if !env.TS.Equal(now) || env.TS.Location() != time.UTC {
		t.Errorf("ts = %v, want %v in UTC", env.TS, now)
	}
	raw, _ := json.Marshal(env)
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "seq", "kiosk", "township", "village", "type", "schema", "ts", "body"} {
		if _, ok := top[k]; !ok {
			t.Errorf("envelope JSON lacks %q: %s", k, raw)
		}
	}
}

func TestNewRejectsUnencodableBody(t *testing.T) {
	if _, err := New(Source{}, "x", "x/v1", make(chan int), time.Now()); err == nil {
		t.Fatal("want error")
	}
}
