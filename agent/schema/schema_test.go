package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fengqiao/kiosk/agent/schema"
)

// schemaDir holds the JSON Schema files the township validates with.
const schemaDir = "../../docs/schemas"

// fileName is a schema id's file name: booking/v1 → booking.v1.json, both
// in docs/schemas/ and in testdata/.
func fileName(id string) string { return strings.Replace(id, "/v", ".v", 1) + ".json" }

// message is a golden file: an envelope and its body.
type message struct {
	Type   string          `json:"type"`
	Schema string          `json:"schema"`
	Body   json.RawMessage `json:"body"`
}

func mustCompiler(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats (date-time, date, uuid) are annotations by default in
	// 2020-12; the kiosk's own messages must meet them.
	c.AssertFormat()
	return c
}

func mustSchema(t *testing.T, file string) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	c := mustCompiler(t)
	path := filepath.Join(schemaDir, file)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s, doc.(map[string]any)
}

func mustGolden(t *testing.T, file string) ([]byte, message) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatalf("testdata/%s: %v", file, err)
	}
	var m message
	if err := json.Unmarshal(compact.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return compact.Bytes(), m
}

// TestGoldenMessagesMeetTheSchemas: each record type and version has a
// golden message (written from the producers by agent/localapi's
// TestRecordsGolden), and that message is valid against the published
// envelope and body schemas, whose every property it uses is declared
// there, and which is exactly what its Go type encodes.
func TestGoldenMessagesMeetTheSchemas(t *testing.T) {
	envelope, _ := mustSchema(t, "envelope.v1.json")
	// Retired bodies keep their golden files: older kiosks' queued
	// records still arrive in them.
	for _, b := range append(schema.Bodies(), schema.Retired()...) {
		t.Run(b.Schema(), func(t *testing.T) {
			file := fileName(b.Schema())
			raw, m := mustGolden(t, file)
			if m.Type != b.RecordType() || m.Schema != b.Schema() {
				t.Errorf("testdata/%s is a %s (%s) record, want %s (%s)", file, m.Type, m.Schema, b.RecordType(), b.Schema())
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := envelope.Validate(inst); err != nil {
				t.Errorf("envelope: %v", err)
			}
			body, doc := mustSchema(t, file)
			bodyInst, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			if err := body.Validate(bodyInst); err != nil {
				t.Errorf("body: %v", err)
			}
			// The schemas are open (a v1 reader ignores what it does not
			// know), so a property the schema forgot would still validate.
			for _, p := range undeclared(doc, doc, bodyInst, "body") {
				t.Errorf("%s is not declared in docs/schemas/%s", p, file)
			}
			mustRoundTrip(t, b, m.Body)
		})
	}
}

// mustRoundTrip decodes a golden body into its Go type, refusing unknown
// fields, and encodes it again: the type must give back the same bytes.
func mustRoundTrip(t *testing.T, b schema.Body, body []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(b); err != nil {
		t.Fatalf("%T: %v", b, err)
	}
	got, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("%T does not encode its golden body as it is.\n got: %s\nwant: %s", b, got, body)
	}
}

// undeclared lists the properties of inst that sch (a subschema of root)
// does not declare, following $ref into root's $defs, items and
// additionalProperties.
func undeclared(sch, root map[string]any, inst any, at string) []string {
	if ref, ok := sch["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		sch = root["$defs"].(map[string]any)[name].(map[string]any)
	}
	var out []string
	switch v := inst.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		extra, _ := sch["additionalProperties"].(map[string]any)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := at + "." + k
			switch sub, ok := props[k].(map[string]any); {
			case ok:
				out = append(out, undeclared(sub, root, v[k], p)...)
			case extra != nil:
				out = append(out, undeclared(extra, root, v[k], p)...)
			default:
				out = append(out, p)
			}
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, x := range v {
				out = append(out, undeclared(items, root, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return out
}

// TestEverySchemaFileHasABody: no schema is published for a record the
// kiosk does not send, and each declares draft 2020-12 and its own name.
func TestEverySchemaFileHasABody(t *testing.T) {
	// The envelope, and the downlinks' documents and the kiosk's reports
	// on them, which are not record bodies (agent/request and agent/points
	// check their golden files against them).
	want := []string{"envelope.v1.json", "request-status.v1.json", "requests-reported.v1.json",
		"points-ledger.v1.json", "points-reported.v1.json"}
	for _, b := range append(schema.Bodies(), schema.Retired()...) {
		want = append(want, fileName(b.Schema()))
	}
	files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.Contains(want, name) {
			t.Errorf("docs/schemas/%s describes no record body the kiosk publishes (schema.Bodies) nor an answer's document", name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if head.Schema != "https://json-schema.org/draft/2020-12/schema" || !strings.HasSuffix(head.ID, "/docs/schemas/"+name) {
			t.Errorf("%s: $schema %q, $id %q", name, head.Schema, head.ID)
		}
	}
	if len(files) != len(want) {
		t.Errorf("docs/schemas has %d files, want %d (%v)", len(files), len(want), want)
	}
}

// TestSchemaRejectsWrongMessages: the schemas do catch what a township
// reader must not accept, so a golden file passing them means something.
func TestSchemaRejectsWrongMessages(t *testing.T) {
	tests := []struct {
		name, file, body string
	}{
		{"booking without a phone", "booking.v1.json", `{"service":"legal-advisor","topic":"t","name":"n","slot":"2026-11-24T10:30:00+08:00","advisor":"a","channel":"kiosk"}`},
		{"booking for a service not bookable", "booking.v1.json", `{"service":"notary","topic":"t","name":"n","phone":"13905991234","slot":"2026-11-24T10:30:00+08:00","advisor":"a","channel":"kiosk"}`},
		{"slot not a time", "booking.v1.json", `{"service":"legal-advisor","topic":"t","name":"n","phone":"13905991234","slot":"tomorrow","advisor":"a","channel":"kiosk"}`},
		{"four preferred slots", "mediation_booking.v1.json", `{"case":"01900000-0000-7000-8000-000000000003","venue":{"id":"v","name":"n","where":"w"},"category":"c","applicant":{"name":"n"},"slots":["2026-11-24T14:30:00+08:00","2026-11-24T14:30:00+08:00","2026-11-24T14:30:00+08:00","2026-11-24T14:30:00+08:00"],"channel":"kiosk"}`},
		{"session with an unknown line", "mediation_session.v1.json", `{"case":"01900000-0000-7000-8000-000000000003","case_number":"1","origin":"walk_in","mediator":{"id":"m","name":"n"},"held":"2026-11-24T10:13:00+08:00","category":"c","line":"green","phrases":[],"outcome":"settled","agreement":true,"parties":[],"escalated":false}`},
		{"escalation without a reason", "escalation.v1.json", `{"case":"01900000-0000-7000-8000-000000000003","case_number":"1","session":"01900000-0000-7000-8000-000000000004","reasons":[],"category":"c","line":"red","outcome":"settled","mediator":{"id":"m","name":"n"},"parties":[],"held":"2026-11-24T10:13:00+08:00"}`},
		{"telemetry rate above one", "telemetry.v1.json", `{"version":"v","broker":"connected","queue":{"depth":0,"dead_letters":0,"bytes":0,"quota":1,"file_bytes":0,"evicted":0},"oldest_age_seconds":0,"indicators":{"sessions":0,"cases_closed":0,"settled":0,"success_rate":1.5,"follow_ups_due":0,"follow_ups_done":0,"follow_ups_on_time":0,"on_time_rate":null,"bookings_by_service":{},"since":"2026-11-24T02:10:00Z"}}`},
		{"alert without a message", "alert.v1.json", `{"kind":"store_corrupt"}`},
		{"v2 booking with the phone in clear", "booking.v2.json", `{"service":"legal-advisor","topic":"t","name":"n","phone_masked":"139****1234","phone":"13905991234","slot":"2026-11-24T10:30:00+08:00","advisor":"a","channel":"kiosk"}`},
		{"v2 booking with an ID number", "booking.v2.json", `{"service":"legal-advisor","topic":"t","name":"n","phone_masked":"139****1234","slot":"2026-11-24T10:30:00+08:00","advisor":"a","channel":"kiosk","id_number":"35078219600301402X"}`},
		{"v2 mediation booking applicant with an ID number", "mediation_booking.v2.json", `{"case":"01900000-0000-7000-8000-000000000003","venue":{"id":"v","name":"n","where":"w"},"category":"c","applicant":{"name":"n","id_number":{"key_id":"89525716719966ca","sealed":"AAAA"}},"slots":["2026-11-24T14:30:00+08:00"],"channel":"kiosk"}`},
		{"v2 session party ID number in clear", "mediation_session.v2.json", `{"case":"01900000-0000-7000-8000-000000000003","case_number":"1","origin":"walk_in","mediator":{"id":"m","name":"n"},"held":"2026-11-24T10:13:00+08:00","category":"c","line":"red","phrases":[],"outcome":"settled","agreement":true,"parties":[{"name":"n","id_number":"35078219600301402X"}],"escalated":false}`},
		{"v2 sealed value with a bad key id", "mediation_session.v2.json", `{"case":"01900000-0000-7000-8000-000000000003","case_number":"1","origin":"walk_in","mediator":{"id":"m","name":"n"},"held":"2026-11-24T10:13:00+08:00","category":"c","line":"red","phrases":[],"outcome":"settled","agreement":true,"parties":[{"name":"n","phone":{"key_id":"KEY","sealed":"AAAA"}}],"escalated":false}`},
		{"v2 escalation party with an ID number", "escalation.v2.json", `{"case":"01900000-0000-7000-8000-000000000003","case_number":"1","session":"01900000-0000-7000-8000-000000000004","reasons":["red_line"],"category":"c","line":"red","outcome":"settled","mediator":{"id":"m","name":"n"},"parties":[{"name":"n","id_number":"35078219600301402X"}],"held":"2026-11-24T10:13:00+08:00"}`},
		{"anonymous request with a contact", "request.v1.json", `{"kind":"report","kind_name":"举报","category":{"id":"c","name":"n"},"phrases":["p"],"anonymous":true,"contact":{"via":"phone","phone_masked":"139****1234"},"channel":"kiosk"}`},
		{"request with the phone in clear", "request.v1.json", `{"kind":"help","kind_name":"求助","category":{"id":"c","name":"n"},"phrases":["p"],"anonymous":false,"contact":{"via":"phone","phone_masked":"139****1234","phone":"13905991234"},"channel":"kiosk"}`},
		{"anonymous request with a photo", "request.v1.json", `{"kind":"report","kind_name":"举报","category":{"id":"c","name":"n"},"phrases":["p"],"anonymous":true,"photo":{"width":1,"height":1,"jpeg":"","consent":"c"},"channel":"kiosk"}`},
		{"anonymous request not a report", "request.v1.json", `{"kind":"help","kind_name":"求助","category":{"id":"c","name":"n"},"phrases":["p"],"anonymous":true,"channel":"kiosk"}`},
		{"signed request without a contact", "request.v1.json", `{"kind":"help","kind_name":"求助","category":{"id":"c","name":"n"},"phrases":["p"],"anonymous":false,"channel":"kiosk"}`},
		{"request without a phrase", "request.v1.json", `{"kind":"help","kind_name":"求助","category":{"id":"c","name":"n"},"phrases":[],"anonymous":false,"contact":{"via":"phone","phone_masked":"139****1234"},"channel":"kiosk"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := mustSchema(t, tt.file)
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(inst); err == nil {
				t.Errorf("%s accepted %s", tt.file, tt.body)
			}
		})
	}
}
