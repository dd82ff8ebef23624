package localapi

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/golden"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mqttlink"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/sealed"
	"github.com/fengqiao/kiosk/agent/township"
)

var update = flag.Bool("update", false, "rewrite the golden record files in ../schema/testdata/")

// goldenDir holds one file per record type and version, the message exactly
// as the township receives it. The schema package validates the same files
// against docs/schemas/, so the producers, the Go types and the published
// schemas are held to one form.
const goldenDir = "../schema/testdata"

// goldenHardware is a kiosk whose sensors and cameras report every field
// telemetry can carry, and whose consent camera returns a fixed frame.
type goldenHardware struct{ jpg []byte }

func (h *goldenHardware) Status() apitype.Hardware {
	checked := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	frame := checked.Add(time.Second)
	return apitype.Hardware{
		PIR:    apitype.InputStatus{State: apitype.DeviceReady, Active: true, Changed: checked, Since: checked.Add(-time.Hour)},
		Tamper: apitype.InputStatus{State: apitype.DeviceReady, Since: checked.Add(-time.Hour), Polling: true},
		LED:    apitype.LEDStatus{State: apitype.DeviceReady, Pattern: "offline"},
		Cameras: []apitype.CameraStatus{
			{Name: "kiosk-front", State: apitype.DeviceReady, Checked: &checked, LastFrame: &frame, Width: 1280, Height: 720},
			{Name: "village-gate", State: apitype.DeviceFailed, Checked: &checked, LastError: "camera: village-gate: HTTP 401 Unauthorized", Failures: 3},
		},
	}
}
func (h *goldenHardware) WaitPresence(context.Context, uint64, time.Duration) (uint64, time.Time) {
	return 0, time.Time{}
}
func (h *goldenHardware) Photo(context.Context) ([]byte, error) { return h.jpg, nil }
func (h *goldenHardware) PhotoCamera() apitype.DeviceStatus {
	return apitype.DeviceStatus{State: apitype.DeviceReady}
}

// mustProduceEveryRecord drives every producer of a township record, as
// TestRecordsGolden describes, and leaves the records queued in f.ob.
func mustProduceEveryRecord(t *testing.T) *fixture {
	t.Helper()
	f := mustServeWith(t, serveOptions{hardware: &goldenHardware{jpg: mustJPEG(t, 16, 9)}})
	cards := f.cards
	ctx := context.Background()
	step := func() { f.clock.Advance(time.Minute) }

	cards.put("villager-card", villagerCard)
	if _, err := f.client.Book(ctx, apitype.BookingRequest{
		Service: "legal-checkup", Topic: "婚姻家庭", Phone: "139 0599 1234", Slot: "2026-11-24T10:30:00+08:00",
		Card:    "villager-card",
		Checkup: []apitype.CheckupAnswer{{Question: "family-land", Yes: true}, {Question: "family-will", Yes: false}},
	}); err != nil {
		t.Fatal(err)
	}
	step()
	cards.put("villager-card", villagerCard)
	if _, err := f.client.BookMediation(ctx, apitype.MediationRequest{
		Venue: "tea-room", Category: "邻里",
		Applicant: apitype.Party{Card: "villager-card", Phone: "13905991234"},
		Other:     &apitype.Party{Name: "李大伯", Phone: "13800001111"},
		Slots:     []string{"2026-11-24T14:30:00+08:00", "2026-11-25T19:30:00+08:00"},
	}); err != nil {
		t.Fatal(err)
	}
	step()
	token := mustSignIn(t, f, cards)
	caseID := mustCaseID(t, f, token)
	step()
	// A settled red-line session: both its record and an escalation, with
	// a follow-up date, a note and a party added at the session.
	s, err := f.client.LogSession(ctx, token, caseID, apitype.SessionRequest{
		Parties:  []apitype.Party{{Name: "李小明"}},
		Category: "邻里", Line: apitype.LineRed, Phrases: []string{"双方陈述了各自诉求", "签订书面调解协议"},
		Note: "约定三月内拆除违建围墙", Outcome: apitype.OutcomeSettled, Agreement: true, FollowUp: "2026-12-24",
	})
	if err != nil {
		t.Fatal(err)
	}
	step()
	if _, err := f.client.Photo(ctx, token, caseID, apitype.PhotoRequest{Session: s.ID, Consent: true}); err != nil {
		t.Fatal(err)
	}
	step()
	if err := f.agent.Alert(ctx, core.AlertBody{Kind: "store_corrupt",
		Message: "the record store was found damaged by the background check and was replaced; 4180 records were salvaged and will still be delivered, 0 could not be read",
		Detail:  "outbox: store is corrupt: page 7: unreachable; old store kept at /var/lib/fengqiao/kiosk.db.corrupt-20261124T021500.000Z"}); err != nil {
		t.Fatal(err)
	}
	step()
	if err := f.agent.Telemetry(ctx); err != nil {
		t.Fatal(err)
	}
	// After telemetry, which counts the queue: a type added later leaves
	// the others' golden files as they were.
	step()
	// A request with every optional field: a card and a phone, a place
	// and a photo of the problem.
	cards.put("villager-card", villagerCard)
	if _, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{
		Kind: "help", Category: "dispute", Phrases: []string{"茶山承包边界有争议", "工钱或货款没有结清"},
		Place: "group-3", Card: "villager-card", Phone: "13905991234", Photo: &apitype.RequestPhoto{Consent: true},
	}); err != nil {
		t.Fatal(err)
	}

	return f
}

// TestRecordsGolden drives every producer of a township record through the
// local API (or, for telemetry and alerts, kioskd's own calls) at a fixed
// time, with fixed cards, and compares each type's first record with its
// golden file. Each request uses every optional field it can, so a renamed,
// added or dropped field of any record shows in review. Ids are random
// UUIDv7s; they are replaced, in order of first appearance, by fixed ones
// so that references between records (case, session) stay visible.
func TestRecordsGolden(t *testing.T) {
	f := mustProduceEveryRecord(t)
	items, err := f.ob.Peek(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	got := map[string][]byte{}
	township := sealed.NewOpener(mustDevRecordsKey(t))
	for _, it := range items {
		payload := mustOpenSealed(t, township, it.Payload)
		payload = fixedIDs(ids, payload)
		// The store's size on disk follows bbolt's growth and the machine's
		// page size, not the wire format: pinned to the value seen on amd64.
		payload = fileBytesRE.ReplaceAll(payload, []byte(`"file_bytes":290816`))
		var env struct{ Schema string }
		if err := json.Unmarshal(payload, &env); err != nil {
			t.Fatal(err)
		}
		if _, ok := got[env.Schema]; !ok {
			got[env.Schema] = payload
		}
	}
	want := []string{"booking/v2", "mediation_booking/v2", "mediation_session/v2", "escalation/v2",
		"mediation_photo/v1", "request/v1", "alert/v1", "telemetry/v1"}
	if len(got) != len(want) {
		t.Errorf("produced %d record schemas, the golden files cover %d: a new record type needs a golden file", len(got), len(want))
	}
	for _, schema := range want {
		payload, ok := got[schema]
		if !ok {
			t.Errorf("no %s record was produced", schema)
			continue
		}
		mustMatchGolden(t, goldenName(schema), payload)
	}
}

// devRecordsKey is the dev township's records key, whose public half the
// dev site seals to.
const devRecordsKey = "../../packaging/dev/dev-township-records.key"

func mustDevRecordsKey(t *testing.T) *sealed.PrivateKey {
	t.Helper()
	// Read as it is: git does not keep the file's 0600 (run.sh installs a
	// private copy), so ReadPrivateKeyFile would refuse it.
	data, err := os.ReadFile(devRecordsKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sealed.DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sealedBox is what a golden file shows for a sealed value's ciphertext,
// base64 of "SEALED FOR THE TOWNSHIP": the ciphertext is random, so the
// test opens it with the dev township's key first, and pins the rest.
const sealedBox = "U0VBTEVEIEZPUiBUSEUgVE9XTlNISVA="

// sealedEnc is what a golden file shows for an epoch's encapsulated key,
// base64 of 32 bytes of "AN EPOCH KEY FOR THE TOWNSHIP...": it is random
// too.
const sealedEnc = "QU4gRVBPQ0ggS0VZIEZPUiBUSEUgVE9XTlNISVAuLi4="

var (
	sealedBoxRE = regexp.MustCompile(`"sealed":"[A-Za-z0-9+/=]*"`)
	sealedEncRE = regexp.MustCompile(`"enc":"[A-Za-z0-9+/=]*"`)
)

// mustOpenSealed opens every sealed value of a record with the township's
// key, bound to the record's own id, and returns the record with each
// ciphertext replaced by sealedBox and each epoch's key by sealedEnc. No ID number may be in the record in
// clear.
func mustOpenSealed(t *testing.T, township *sealed.Opener, payload []byte) []byte {
	t.Helper()
	var env struct {
		ID   string
		Body json.RawMessage
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(payload), villagerCard.IDNumber) {
		t.Errorf("a record carries the ID number in clear: %s", payload)
	}
	if _, errs := township.OpenBody(env.ID, env.Body); len(errs) > 0 {
		t.Errorf("record %s: %v", env.ID, errs)
	}
	payload = sealedEncRE.ReplaceAll(payload, []byte(`"enc":"`+sealedEnc+`"`))
	return sealedBoxRE.ReplaceAll(payload, []byte(`"sealed":"`+sealedBox+`"`))
}

// goldenName is a schema's file name: booking/v1 → booking.v1.json, the
// name of its JSON Schema in docs/schemas/ too.
func goldenName(schema string) string {
	return regexp.MustCompile(`/v(\d+)$`).ReplaceAllString(schema, ".v$1") + ".json"
}

var fileBytesRE = regexp.MustCompile(`"file_bytes":\d+`)

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// fixedIDs replaces every UUID in payload by a fixed one, the same for the
// same UUID across calls sharing ids.
func fixedIDs(ids map[string]string, payload []byte) []byte {
	return uuidRE.ReplaceAllFunc(payload, func(u []byte) []byte {
		fixed, ok := ids[string(u)]
		if !ok {
			fixed = fmt.Sprintf("01900000-0000-7000-8000-%012d", len(ids)+1)
			ids[string(u)] = fixed
		}
		return []byte(fixed)
	})
}

// mustMatchGolden compares a payload with its golden file.
func mustMatchGolden(t *testing.T, name string, payload []byte) {
	t.Helper()
	golden.JSON(t, filepath.Join(goldenDir, name), payload, *update, "the township's "+name)
}

// TestNoIDNumberOnTheWire: every record type the kiosk makes, published by
// the real link to a real Mosquitto, reaches a subscriber without the
// township's records key with no ID number and no phone number in it, while
// the township's watcher with the key reads the parties' ID numbers and
// phones in the records that must carry them.
func TestNoIDNumberOnTheWire(t *testing.T) {
	f := mustProduceEveryRecord(t)
	items, err := f.ob.Peek(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	broker := mosquittotest.Start(t)
	raw := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var keyed lockedBuffer
	watched := make(chan error, 1)
	go func() {
		watched <- township.Watch(ctx, township.WatchOptions{Broker: broker.URL, Township: "dev-township",
			Opener: sealed.NewOpener(mustDevRecordsKey(t)), Log: slog.New(slog.DiscardHandler)}, &keyed)
	}()
	// The watcher is subscribed once it has seen a probe.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(keyed.String(), "probe"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the watcher never subscribed")
		}
		if err := township.Push(ctx, township.Conn{Broker: broker.URL}, mqtttopic.Record("dev-township", "probe", "alert"), []byte(`{"id":"probe"}`)); err != nil {
			t.Fatal(err)
		}
	}
	link := mqttlink.New(mqttlink.Options{Broker: broker.URL, Source: record.Source{Kiosk: "dev-kiosk-01", Township: "dev-township", Village: "dev-village"}, Version: "test", ConnectTimeout: 2 * time.Second,
		PublishTimeout: 5 * time.Second, MinBackoff: 50 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}, f.ob)
	linked := make(chan error, 1)
	go func() { linked <- link.Run(ctx) }()

	numbers := []string{villagerCard.IDNumber, "13905991234", "13800001111"}
	types, seen := map[string]bool{}, map[string]bool{}
	for len(seen) < len(items) {
		var m mqtt.Message
		select {
		case m = <-raw:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d records arrived", len(seen), len(items))
		}
		if strings.Contains(m.Topic(), "/probe/") {
			continue
		}
		var env record.Envelope
		if err := json.Unmarshal(m.Payload(), &env); err != nil {
			t.Fatal(err)
		}
		types[env.Schema], seen[env.ID] = true, true
		for _, n := range numbers {
			if strings.Contains(string(m.Payload()), n) {
				t.Errorf("%s record %s carries %s in clear", env.Type, env.ID, n)
			}
		}
		if idRE.Match(m.Payload()) {
			t.Errorf("%s record %s carries something shaped like an ID number: %s", env.Type, env.ID, idRE.Find(m.Payload()))
		}
	}
	for _, want := range []string{"booking/v2", "mediation_booking/v2", "mediation_session/v2", "escalation/v2",
		"mediation_photo/v1", "alert/v1", "telemetry/v1"} {
		if !types[want] {
			t.Errorf("no %s record reached the broker (got %v)", want, types)
		}
	}

	// With the key, the township reads what each record must carry.
	var session, booking string
	for deadline := time.Now().Add(10 * time.Second); session == "" || booking == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the watcher did not print the records:\n%s", keyed.String())
		}
		for l := range strings.Lines(keyed.String()) {
			switch {
			case strings.Contains(l, `"schema":"mediation_session/v2"`):
				session = l
			case strings.Contains(l, `"schema":"booking/v2"`):
				booking = l
			}
		}
	}
	if !strings.Contains(session, `"id_number":"`+villagerCard.IDNumber+`"`) || !strings.Contains(session, `"phone":"13905991234"`) {
		t.Errorf("the township's watcher with the key:\n%s", session)
	}
	if !strings.Contains(booking, `"phone":"13905991234"`) || strings.Contains(booking, villagerCard.IDNumber) {
		t.Errorf("the booking as the township reads it:\n%s", booking)
	}
	cancel()
	<-watched
	<-linked
}

// idRE matches an 18-character resident ID number anywhere.
var idRE = regexp.MustCompile(`[1-9][0-9]{16}[0-9Xx]`)

// lockedBuffer is the watcher's output, written from its MQTT callbacks.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
