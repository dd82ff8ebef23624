package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqttlink"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/request"
)

// anonymousBodyKeys are all the keys an anonymous report's body may have:
// what was reported and where, and nothing of who.
var anonymousBodyKeys = []string{"anonymous", "category", "channel", "kind", "kind_name", "phrases", "place"}

// anonymousStoredKeys are all the keys of its local status: the same, its
// status, and the keyed hash of its check code.
var anonymousStoredKeys = []string{"anonymous", "category", "category_name", "code_proof", "created", "id", "kind",
	"kind_name", "number", "phrases", "place", "status", "v", "version"}

// TestAnonymousReportLeavesNoTrace: an anonymous report reaches the outbox,
// the kiosk's local status table and the township's broker (a real
// Mosquitto) with nothing that identifies the villager, while a signed
// report made just before, with a phone, carries it (masked and sealed,
// so the inspection would see one that leaked); the check code is in the answer only, and
// checks the report.
func TestAnonymousReportLeavesNoTrace(t *testing.T) {
	k := mustServeKiosk(t)
	ctx := context.Background()
	const tel = "13905991234"

	signed, err := k.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "report", Category: "sanitation",
		Phrases: []string{"有人往溪里倒垃圾"}, Phone: tel})
	if err != nil {
		t.Fatal(err)
	}
	anon, err := k.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "report", Category: "sanitation",
		Phrases: []string{"有人往溪里倒垃圾", "焚烧秸秆或垃圾"}, Place: "tea-factory", Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(anon.Code) != request.CodeDigits || !anon.Anonymous || anon.Via != "" || anon.Status != apitype.RequestSubmitted {
		t.Fatalf("anonymous receipt = %+v", anon)
	}
	// A report with any identity is refused, and nothing is stored.
	for _, bad := range []apitype.RequestSubmit{
		{Kind: "report", Category: "sanitation", Phrases: []string{"焚烧秸秆或垃圾"}, Anonymous: true, Phone: tel},
		{Kind: "report", Category: "sanitation", Phrases: []string{"焚烧秸秆或垃圾"}, Anonymous: true, Card: "some-card"},
		{Kind: "report", Category: "sanitation", Phrases: []string{"焚烧秸秆或垃圾"}, Anonymous: true, Photo: &apitype.RequestPhoto{Consent: true}},
	} {
		var apiErr *localclient.APIError
		if _, err := k.client.SubmitRequest(ctx, bad); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			t.Errorf("anonymous report with %+v: %v, want 400", bad, err)
		}
	}

	// In the outbox, as it will be published.
	items, err := k.ob.Peek(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d records queued, want 2", len(items))
	}
	mustCarry(t, "the signed report's queued record", items[0].Payload, `"phone_masked":"139********"`)
	mustBeAnonymous(t, "the queued record", items[1].Payload, anon.Code, tel)
	// Its time does not point at the minute the villager stood there: a
	// random (v4) id, not a v7 with the millisecond in it, and the hour.
	var anonEnv record.Envelope
	if err := json.Unmarshal(items[1].Payload, &anonEnv); err != nil {
		t.Fatal(err)
	}
	if id, err := uuid.Parse(anonEnv.ID); err != nil || id.Version() != 4 {
		t.Errorf("the anonymous report's id %s is not a random (v4) UUID: %v", anonEnv.ID, err)
	}
	if !anonEnv.TS.Equal(anonEnv.TS.Truncate(time.Hour)) || anonEnv.TS.Minute() != 0 {
		t.Errorf("the anonymous report's ts %v is not rounded to the hour", anonEnv.TS)
	}
	if anon.Created.Minute() != 0 || anon.Created.Second() != 0 || anon.Created.Nanosecond() != 0 {
		t.Errorf("the anonymous report's local status keeps its time %v, not the hour", anon.Created)
	}

	// In the local status table.
	raw, err := k.ob.GetKept(request.Table, anon.Seq)
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]any
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(stored)); !slices.Equal(keys, anonymousStoredKeys) {
		t.Errorf("the stored status has keys %v, want %v", keys, anonymousStoredKeys)
	}
	if strings.Contains(string(raw), anon.Code) {
		t.Error("the stored status holds the check code")
	}
	// The signed report's keeps a keyed hash of its phone's last four
	// digits, not the digits (hex hashes may hold "1234" by chance: the
	// keys are what is checked).
	raw, err = k.ob.GetKept(request.Table, signed.Seq)
	var signedStored map[string]any
	if err != nil || json.Unmarshal(raw, &signedStored) != nil || strings.Contains(string(raw), tel) ||
		signedStored["phone_proof"] == nil || signedStored["phone"] != nil || signedStored["phone4"] != nil {
		t.Errorf("the signed report's stored status: %s %v", raw, err)
	}

	// At the township's broker.
	broker := mosquittotest.Start(t)
	msgs := broker.Subscribe(t, mqtttopic.Records(k.cfg.Site.Kiosk.Township))
	link := mqttlink.New(mqttlink.Options{Broker: broker.URL, Source: record.Source{Kiosk: k.cfg.Site.Kiosk.ID,
		Township: k.cfg.Site.Kiosk.Township, Village: k.cfg.Site.Kiosk.Village}, Version: "test",
		KeepAlive: time.Second, ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, Log: slog.New(slog.DiscardHandler)}, k.ob)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { link.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	got := map[uint64][]byte{}
	deadline := time.After(20 * time.Second)
	for len(got) < 2 {
		select {
		case m := <-msgs:
			var env record.Envelope
			if err := json.Unmarshal(m.Payload(), &env); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(m.Topic(), "/request") {
				t.Errorf("a request published on %s", m.Topic())
			}
			got[env.Seq] = m.Payload()
		case <-deadline:
			t.Fatalf("%d of 2 requests reached the broker", len(got))
		}
	}
	mustCarry(t, "the signed report as published", got[signed.Seq], `"phone_masked":"139********"`)
	mustBeAnonymous(t, "the published record", got[anon.Seq], anon.Code, tel)

	// The receipt's number and code check it; a wrong code does not.
	r, err := k.client.CheckRequest(ctx, anon.Number, apitype.RequestProof{Code: anon.Code})
	if err != nil || r.Number != anon.Number || r.StatusText != "已提交，待受理" {
		t.Errorf("check with the code: %+v %v", r, err)
	}
	wrong := "00000000"
	if anon.Code == wrong {
		wrong = "11111111"
	}
	var apiErr *localclient.APIError
	if _, err := k.client.CheckRequest(ctx, anon.Number, apitype.RequestProof{Code: wrong}); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeNoMatch {
		t.Errorf("check with a wrong code: %v", err)
	}
	if _, err := k.client.CheckRequest(ctx, anon.Number, apitype.RequestProof{Phone4: "1234"}); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeNoMatch {
		t.Errorf("an anonymous report checked by phone digits: %v", err)
	}
}

// mustCarry fails unless payload holds s: the inspection can see it.
func mustCarry(t *testing.T, what string, payload []byte, s string) {
	t.Helper()
	if !strings.Contains(string(payload), s) {
		t.Errorf("%s does not carry %q: %s", what, s, payload)
	}
}

// mustBeAnonymous fails if an anonymous report's record carries any key
// beyond anonymousBodyKeys, the check code, or the phone given before.
func mustBeAnonymous(t *testing.T, what string, payload []byte, code, tel string) {
	t.Helper()
	var env struct {
		Type   string
		Schema string
		Body   map[string]any
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		t.Fatal(err)
	}
	if env.Schema != "request/v1" || env.Body["anonymous"] != true {
		t.Errorf("%s: %s", what, payload)
	}
	if keys := slices.Sorted(maps.Keys(env.Body)); !slices.Equal(keys, anonymousBodyKeys) {
		t.Errorf("%s has body keys %v, want only %v", what, keys, anonymousBodyKeys)
	}
	// The body alone: the envelope's id and time are random digits that
	// may hold four of the phone's by chance.
	body, err := json.Marshal(env.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{code, tel, tel[len(tel)-4:], "contact", "photo", "id_number", "via"} {
		if strings.Contains(string(body), s) {
			t.Errorf("%s carries %q: %s", what, s, payload)
		}
	}
}
