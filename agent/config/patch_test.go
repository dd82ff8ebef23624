package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// mustNode parses one YAML (or JSON) document.
func mustNode(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil || len(root.Content) != 1 {
		t.Fatalf("%q: %v", src, err)
	}
	return root.Content[0]
}

// mustValue decodes a node as plain data, for comparing documents.
func mustValue(t testing.TB, n *yaml.Node) any {
	t.Helper()
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMergePatchRFC7396 runs the examples of RFC 7396 appendix A, whose
// JSON is YAML too, and checks the target is left as it was.
func TestMergePatchRFC7396(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// YAML's other spellings of null remove a key too; a quoted
		// "null" is a string.
		{"a: 1\nb: 2\nc: 3", "a: ~\nb:\nc: \"null\"", `{"c":"null"}`},
	}
	for _, tt := range tests {
		t.Run(tt.target+" "+tt.patch, func(t *testing.T) {
			target := mustNode(t, tt.target)
			before := mustValue(t, target)
			got := mergePatch(target, mustNode(t, tt.patch))
			if g, w := mustValue(t, got), mustValue(t, mustNode(t, tt.want)); !reflect.DeepEqual(g, w) {
				t.Errorf("got %#v, want %#v", g, w)
			}
			if after := mustValue(t, target); !reflect.DeepEqual(before, after) {
				t.Errorf("target changed: %#v, was %#v", after, before)
			}
		})
	}
}

// TestWithPatch merges patches over the dev site file.
func TestWithPatch(t *testing.T) {
	base, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const head = "schema: " + PatchSchema + "\n"
	tests := []struct {
		name, patch string
		field, msg  string // of one problem; empty for a valid patch
		check       func(t *testing.T, s *Site)
	}{
		{name: "one duty window", patch: head + "content:\n  advisor:\n    duty:\n      - days: [mon]\n        from: \"08:00\"\n        to: \"11:00\"\n",
			check: func(t *testing.T, s *Site) {
				if d := s.Content.Advisor.Duty; len(d) != 1 || d[0].String() != "周一 08:00–11:00" {
					t.Errorf("duty %v", d)
				}
			}},
		{name: "lecture theme", patch: head + "content:\n  lecture:\n    theme: 防范电信诈骗\n",
			check: func(t *testing.T, s *Site) {
				if s.Content.Lecture.Theme != "防范电信诈骗" || len(s.Content.Lecture.Schedule) != 4 {
					t.Errorf("lecture %+v", s.Content.Lecture)
				}
			}},
		{name: "null back to default", patch: head + "ui:\n  voice: null\n  idle: 90s\n",
			check: func(t *testing.T, s *Site) {
				if s.UI.Voice != nil || s.UI.Idle.Seconds() != 90 || s.UI.MediatorIdle.Minutes() != 10 {
					t.Errorf("ui %+v", s.UI)
				}
			}},
		{name: "a duration removed: its default, which the dev site also gives", patch: head + "ui:\n  idle: ~\n",
			check: func(t *testing.T, s *Site) {
				if s.UI.Idle.Seconds() != 60 || s.UI.Voice == nil {
					t.Errorf("ui %+v", s.UI)
				}
			}},
		{name: "new wording", patch: head + "content:\n  wording:\n    dim.wake: 请摸一下屏幕\n",
			check: func(t *testing.T, s *Site) {
				if s.Content.Wording["dim.wake"] != "请摸一下屏幕" {
					t.Errorf("wording %v", s.Content.Wording)
				}
			}},
		{name: "categories list replaced", patch: head + "content:\n  categories: [邻里]\n",
			check: func(t *testing.T, s *Site) {
				if len(s.Content.Categories) != 1 {
					t.Errorf("categories %v", s.Content.Categories)
				}
			}},
		{name: "mediators idle", patch: head + "mediators:\n  idle: 3m\n",
			check: func(t *testing.T, s *Site) {
				if s.Mediators.Idle.Minutes() != 3 || len(s.Mediators.Roster) != 1 {
					t.Errorf("mediators %+v", s.Mediators)
				}
			}},
		{name: "records key rotated", patch: head + "records:\n  township_key: " + rotatedRecordsKey + "\n",
			check: func(t *testing.T, s *Site) {
				if k := s.SealKey(); k == nil || k.String() != rotatedRecordsKey {
					t.Errorf("records key in force %v", k)
				}
			}},
		{name: "records key removed", patch: head + "records:\n  township_key: null\n", field: "records.township_key", msg: "is required in a bundle's records section"},
		{name: "records section removed", patch: head + "records: ~\n", field: "records.township_key", msg: "is required in a bundle's records section"},
		{name: "records key a signing key", patch: head + "records:\n  township_key: HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n", field: "records.township_key", msg: "is a township signing key"},
		{name: "invalid result", patch: head + "content:\n  advisor:\n    duty: []\n", field: "content.advisor.duty", msg: "needs at least one duty window"},
		{name: "removes a required value", patch: head + "content:\n  advisor:\n    phone: null\n", field: "content.advisor.phone", msg: "is required"},
		{name: "services list replaced whole", patch: head + "content:\n  services:\n    - id: legal-advisor\n      title: 法律顾问\n",
			field: "content.services", msg: "missing: legal-lecture, legal-checkup, publicity, legal-fair"},
		{name: "a shorter list says why", patch: head + "content:\n  services:\n    - id: legal-advisor\n      title: 法律顾问\n",
			field: "content.services", msg: "replaces the site file's whole list: the site file has 5 items, the patch 1"},
		{name: "misspelt key", patch: head + "content:\n  advisr:\n    name: 王\n", field: "content.advisr", msg: `did you mean "advisor"`},
		{name: "wrong type", patch: head + "content:\n  advisor:\n    slot_minutes: half an hour\n", field: "content.advisor.slot_minutes", msg: "cannot unmarshal"},
		{name: "bad time", patch: head + "content:\n  advisor:\n    duty:\n      - days: [mon]\n        from: 8am\n        to: \"11:00\"\n", field: "content.advisor.duty[0].from", msg: "not a time of day"},
		{name: "kiosk identity", patch: head + "kiosk:\n  id: other\n", field: "kiosk", msg: "may not set kiosk"},
		{name: "wrong schema", patch: "schema: " + BundleSchema + "\nui:\n  idle: 90s\n", field: "schema", msg: "not a site patch"},
		{name: "nothing set", patch: head, msg: "sets none of"},
		{name: "alias", patch: head + "ui:\n  idle: &i 90s\n  mediator_idle: *i\n", field: "ui.idle", msg: "anchor or alias"},
		{name: "key twice", patch: head + "ui:\n  idle: 90s\n  idle: 80s\n", field: "ui.idle", msg: "given twice"},
		{name: "not a mapping", patch: "- a\n", msg: "not a mapping"},
		{name: "not YAML", patch: "schema: [", msg: "not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := base.WithPatch("patch 7", []byte(tt.patch), 7)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.ContentVersion != 7 || got.Site.Kiosk != base.Site.Kiosk || got.Site.MQTT != base.Site.MQTT {
					t.Errorf("config %+v", got.Site.Kiosk)
				}
				tt.check(t, &got.Site)
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.msg) || tt.field != "" && !strings.Contains(err.Error(), tt.field+":") ||
				!strings.Contains(err.Error(), "patch 7") {
				t.Errorf("error %v, want %s on %q", err, tt.msg, tt.field)
			}
		})
	}
	// The base is untouched, its site document included: the same patch
	// gives the same result twice.
	if base.ContentVersion != 0 || len(base.Site.Content.Advisor.Duty) != 2 {
		t.Errorf("base changed: %+v", base.Site.Content.Advisor)
	}
	again, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mustValue(t, base.siteRoot), mustValue(t, again.siteRoot)) {
		t.Error("a patch changed the base's site document")
	}
}

// TestWithPatchNeedsSiteFile: a configuration not loaded from a site file
// has nothing to merge a patch over, and says so.
func TestWithPatchNeedsSiteFile(t *testing.T) {
	var c Config
	if _, err := c.WithPatch("patch 7", []byte("schema: "+PatchSchema+"\nui:\n  idle: 90s\n"), 7); err == nil || !strings.Contains(err.Error(), "needs the site file") {
		t.Fatalf("err %v", err)
	}
}

func TestPatchChanges(t *testing.T) {
	base, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := base.PatchChanges([]byte("schema: " + PatchSchema + `
content:
  advisor:
    duty:
      - days: [tue, fri]
        from: "08:30"
        to: "11:30"
    booking_days: 21
  lecture: {theme: 防范电信诈骗}
ui:
  voice: null
  idle: 90s
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []PatchChange{
		{"content.advisor.duty", `[{days: [tue, fri], from: "09:00", to: "12:00"}, {days: [thu], from: "14:30", to: "17:30"}]`, `[{days: [tue, fri], from: "08:30", to: "11:30"}]`},
		{"content.advisor.booking_days", "14", "21"},
		{"content.lecture.theme", "农村土地承包与流转", "防范电信诈骗"},
		{"ui.voice", "true", ""},
		{"ui.idle", "60s", "90s"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// FuzzWithPatch: whatever a patch says, WithPatch answers with a valid
// configuration or an *Error, never a panic, and leaves the base as it was.
func FuzzWithPatch(f *testing.F) {
	base, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		f.Fatal(err)
	}
	before := mustValue(f, base.siteRoot)
	head := "schema: " + PatchSchema + "\n"
	for _, p := range []string{
		head + "content:\n  advisor:\n    duty:\n      - {days: [tue], from: \"08:30\", to: \"11:30\"}\n",
		head + "ui: {voice: null, idle: 90s}\n",
		head + "content: {services: [{id: legal-advisor}], venues: null}\n",
		head + "mediators: [1, 2]\n",
		head + "content:\n  wording: {dim.wake: 摸}\n  mediation: {sessions: [\"09:00\"]}\n",
	} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		got, err := base.WithPatch("patch", patch, 9)
		if err != nil {
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("not an *Error: %T %v", err, err)
			}
		} else if got.ContentVersion != 9 || got.Site.Kiosk != base.Site.Kiosk {
			t.Fatalf("accepted with kiosk %+v", got.Site.Kiosk)
		}
		if !reflect.DeepEqual(mustValue(t, base.siteRoot), before) {
			t.Fatal("the base's site document changed")
		}
	})
}
