package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadDevContent(t *testing.T) {
	cfg, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ct := cfg.Site.Content
	if len(ct.Categories) != 14 || ct.Categories[0] != "婚姻家庭" || ct.Categories[13] != "其他" {
		t.Errorf("default categories = %v", ct.Categories)
	}
	if len(ct.Venues) != 4 || len(ct.Checkup) != 2 || len(ct.Phrases) != 10 || ct.Mediation.BookingDays != 7 {
		t.Errorf("content = %+v", ct)
	}
	if got := ct.Lecture.Schedule[1].At.In(cfg.Location).Format(time.RFC3339); got != "2026-12-12T09:30:00+08:00" {
		t.Errorf("lecture at %s", got)
	}
	if m := cfg.Site.Mediators; m.Idle.Duration != 5*time.Minute || len(m.Roster) != 1 {
		t.Errorf("mediators = %+v", m)
	}
}

// wordingEdit adds a content.wording section of lines to the dev site.
func wordingEdit(lines string) func(string) string {
	return replace("  phrases:\n", "  wording:\n"+lines+"\n  phrases:\n")
}

// TestLoadWording: a site's corrections of the screens' texts are loaded
// as they are written.
func TestLoadWording(t *testing.T) {
	site, board := mustReadDev(t)
	site = wordingEdit("    dim.wake: 请摸一下屏幕\n    mediation.prefer_too_many: 最多只能选 {n} 个")(site)
	cfg, err := Load(mustWriteConfig(t, site, board))
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.Site.Content.Wording; len(w) != 2 || w["dim.wake"] != "请摸一下屏幕" || w["mediation.prefer_too_many"] != "最多只能选 {n} 个" {
		t.Errorf("wording = %q", w)
	}
}

func TestLoadRejectsContent(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(string) string
		wantField string
		wantMsg   string
	}{
		{"lecture without theme", replace("    theme: 农村土地承包与流转\n", ""), "content.lecture.theme", "is required"},
		{"event without a time", replace(`        at: "2026-12-12 09:30"`+"\n", ""), "content.lecture.schedule[1].at", "is required"},
		{"event time malformed", replace(`at: "2026-12-12 09:30"`, `at: "12月12日"`), "content.lecture.schedule[1].at", "is not a date and time"},
		{"fair title too long", replace("title: 法治集市·冬季坐诊", "title: "+strings.Repeat("长", 31)), "content.fairs[0].title", "at most 30"},
		{"checkup unknown kind", replace("kind: business", "kind: school"), "content.checkup[1].kind", `"school" is not one of family, business`},
		{"checkup kind twice", replace("kind: business", "kind: family"), "content.checkup[1].kind", "already listed"},
		{"too few questions", func(s string) string {
			return s[:strings.Index(s, "        - id: biz-lease")] + s[strings.Index(s, "  publicity:"):]
		}, "content.checkup[1].questions", "want 3 to 6"},
		{"question id reused", replace("id: biz-debt", "id: family-land"), "content.checkup[1].questions[3].id", "already listed"},
		{"seven questions", replace("        - id: biz-debt", strings.Repeat("        - {id: biz-x, text: 问, advice: 答}\n", 3)+"        - id: biz-debt"), "content.checkup[1].questions", "has 7 questions"},
		{"question id malformed", replace("id: biz-debt", "id: Biz Debt"), "content.checkup[1].questions[3].id", "lower-case"},
		{"question without advice", replace("          advice: 诉讼时效一般为三年，请尽快书面催收并保留证据。\n", ""), "content.checkup[1].questions[3].advice", "is required"},
		{"no publicity", replace(`  publicity:
    - name: 村普法工作站
      where: 村部一楼东侧
      hours: 工作日 08:30–17:30
    - name: 聊法亭
      where: 村口大樟树下
      hours: 全天开放
    - name: 法治文化长廊
      where: 溪边步道
`, ""), "content.publicity", "at least one"},
		{"venue id twice", replace("id: tea-table", "id: tea-room"), "content.venues[2].id", "already listed"},
		{"venue without where", replace("      where: 村文化礼堂\n", ""), "content.venues[3].where", "is required"},
		{"no venues", func(s string) string {
			return s[:strings.Index(s, "  venues:")] + s[strings.Index(s, "  # categories"):]
		}, "content.venues", "at least one"},
		{"kiosk venue not a venue", replace("    venue: red-station ", "    venue: pub "), "content.mediation.venue", `"pub" is not one of content.venues[].id`},
		{"empty categories", replace("  # categories: leave out", "  categories: []\n  # leave out"), "content.categories", "at least one"},
		{"category twice", replace("  # categories: leave out", "  categories: [邻里, 邻里]\n  # leave out"), "content.categories[1]", "already listed"},
		{"session start malformed", replace(`sessions: ["09:00", "14:30", "19:30"]`, `sessions: ["9点"]`), "content.mediation.sessions[0]", "not a time of day"},
		{"session start twice", replace(`sessions: ["09:00", "14:30", "19:30"]`, `sessions: ["09:00", "09:00"]`), "content.mediation.sessions[1]", "already listed"},
		{"mediation booking days", replace("    booking_days: 7", "    booking_days: 90"), "content.mediation.booking_days", "out of range [1, 30]"},
		{"phrase too long", replace("    - 已查看现场", "    - "+strings.Repeat("长", 31)), "content.phrases[1]", "at most 30"},
		{"unknown mediators key", replace("  idle: 5m", "  idle: 5m\n  pin_tries: 3"), "mediators.pin_tries", "unknown key"},
		{"idle too short", replace("  idle: 5m", "  idle: 10s"), "mediators.idle", "out of range [1m, 1h]"},
		{"township key not a key", replace("    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", "    - not-a-key"), "control.township_keys[0]", "not an Ed25519 public key"},
		{"township key twice", replace("    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI="), "control.township_keys[1]", "already listed"},
		{"update rate too low", replace("    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n", "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n  update_rate: 1KiB\n"), "control.update_rate", "out of range [4KiB, 100MiB]"},
		{"update rate not a size", replace("    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n", "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n  update_rate: fast\n"), "control.update_rate", ""},
		{"production without township key", func(s string) string {
			s = strings.Replace(s, "mode: dev ", "mode: production ", 1)
			return strings.Replace(s, "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n", "", 1)
		}, "control.township_keys", "needs the township's public key"},
		{"records key not a key", replace("  township_key: Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=", "  township_key: HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI"), "records.township_key", "not an X25519 public key"},
		{"records key is the signing key", replace("  township_key: Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=", "  township_key: HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI="), "records.township_key", "is a township signing key"},
		{"records key is the signing key given in hex", func(s string) string {
			s = strings.Replace(s, "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", "    - 1ca79dd7041bd75d1504089b15c4cb7456bbfb85c4d06d1d2324a1c189fdf552", 1)
			return strings.Replace(s, "  township_key: Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=", "  township_key: HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", 1)
		}, "records.township_key", "is a township signing key"},
		{"records key is the dev one in production", replace("mode: dev ", "mode: production "), "records.township_key", "is the dev township's records key"},
		{"signing key is the dev one in production", replace("mode: dev ", "mode: production "), "control.township_keys[0]", "is the dev township's signing key"},
		{"screen idle too short", replace("  idle: 60s", "  idle: 5s"), "ui.idle", "out of range [20s, 10m]"},
		{"mediator screen idle too short", replace("  mediator_idle: 10m", "  mediator_idle: 30s"), "ui.mediator_idle", "out of range [1m, 1h]"},
		{"mediator screen idle too long", replace("  mediator_idle: 10m", "  mediator_idle: 2h"), "ui.mediator_idle", "out of range [1m, 1h]"},
		{"unknown ui key", replace("  idle: 60s", "  idle: 60s\n  theme: dark"), "ui.theme", "unknown key"},
		{"raw ID number in the roster", replace("id_sha256: de6b917dfa52486dbc3d5d358ec1a2a241a308bdb4acfeccc6666b4978e3c40e", "id_sha256: 350782198506151236"), "mediators.roster[0].id_sha256", "64 lower-case hex"},
		{"plain PIN in the roster", replace(`pin_bcrypt: "$2a$10$yh5qBXs8ZfjvZX.j3XDG9eC0FdNK.l2YUIPw1lTa.xrywGVVEUh3m"`, `pin_bcrypt: "1234"`), "mediators.roster[0].pin_bcrypt", "not a bcrypt hash"},
		{"cheap bcrypt", replace(`pin_bcrypt: "$2a$10$yh5qBXs8ZfjvZX.j3XDG9eC0FdNK.l2YUIPw1lTa.xrywGVVEUh3m"`, `pin_bcrypt: "$2a$04$yh5qBXs8ZfjvZX.j3XDG9eC0FdNK.l2YUIPw1lTa.xrywGVVEUh3m"`), "mediators.roster[0].pin_bcrypt", "cost 4 is below 10"},
		{"mediator without name", replace("      name: 测试调解员\n", ""), "mediators.roster[0].name", "is required"},
		{"wording key unknown", wordingEdit("    dim.wak: 请摸一下屏幕"), "content.wording.dim.wak", `unknown key: not a text of the kiosk (the keys are those of kiosk-ui/wording/zh-CN.yaml) (did you mean "dim.wake"?)`},
		{"wording drops a value", wordingEdit("    mediation.prefer_too_many: 最多选三个"), "content.wording.mediation.prefer_too_many", "takes {n}, not no values"},
		{"wording adds a value", wordingEdit("    dim.wake: 请摸一下{screen}"), "content.wording.dim.wake", "takes no values, not {screen}"},
		{"wording empty", wordingEdit(`    dim.wake: ""`), "content.wording.dim.wake", "is empty"},
		// The longest catalogue texts may grow to twice their length, but not past 80.
		{"wording too long", wordingEdit("    voice.greeting: \"{kiosk}" + strings.Repeat("长", 81) + "\""), "content.wording.voice.greeting", "at most 80"},
		// A short text is drawn where it fits, often on one line.
		{"wording too long for its place", wordingEdit("    dim.wake: " + strings.Repeat("长", 13)), "content.wording.dim.wake", "at most 12 fit where"},
		{"wording with a line break", wordingEdit(`    dim.wake: "请点一下\n屏幕"`), "content.wording.dim.wake", "line break"},
		{"wording not a map", wordingEdit("    - dim.wake"), "content.wording", "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			_, err := Load(mustWriteConfig(t, tt.edit(site), board))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *Error, got %v", err)
			}
			for _, p := range ce.Problems {
				if p.Field == tt.wantField && strings.Contains(p.Msg, tt.wantMsg) && p.Line > 0 {
					return
				}
			}
			t.Errorf("no problem %s: %q in\n%v", tt.wantField, tt.wantMsg, err)
		})
	}
}

// TestMediatorIdle: the screen's mediator timeout defaults to ten minutes,
// and kioskd never lapses a mediator's session before the screen has warned
// and saved the draft, whatever mediators.idle says.
func TestMediatorIdle(t *testing.T) {
	tests := []struct {
		name                  string
		edit                  func(string) string
		wantScreen, wantLapse time.Duration
	}{
		{"dev site", func(s string) string { return s }, 10 * time.Minute, 10*time.Minute + MediatorLapseMargin},
		{"left out", replace("  mediator_idle: 10m", "  # mediator_idle: 10m"), DefaultMediatorIdle, DefaultMediatorIdle + MediatorLapseMargin},
		{"shorter screen", replace("  mediator_idle: 10m", "  mediator_idle: 3m"), 3 * time.Minute, 5 * time.Minute},
		{"screen just shorter", replace("  idle: 5m", "  idle: 10m30s"), 10 * time.Minute, 10*time.Minute + MediatorLapseMargin},
		{"longer lapse", replace("  idle: 5m", "  idle: 20m"), 10 * time.Minute, 20 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			cfg, err := Load(mustWriteConfig(t, tt.edit(site), board))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Site.UI.MediatorIdle.Duration; got != tt.wantScreen {
				t.Errorf("ui.mediator_idle = %v, want %v", got, tt.wantScreen)
			}
			if got := cfg.Site.MediatorSessionIdle(); got != tt.wantLapse {
				t.Errorf("session lapse = %v, want %v", got, tt.wantLapse)
			}
		})
	}
}

// TestBookingVenue: kiosk bookings go to the venue the site names, else to
// its first venue; the villager is never asked.
func TestBookingVenue(t *testing.T) {
	venues := []Venue{{ID: "tea-room", Name: "茶室评理室"}, {ID: "red-station", Name: "红色评理站"}}
	tests := []struct {
		name   string
		ct     Content
		wantID string
		wantOK bool
	}{
		{"named", Content{Venues: venues, Mediation: Mediation{Venue: "red-station"}}, "red-station", true},
		{"not named: the first", Content{Venues: venues}, "tea-room", true},
		{"no venues", Content{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := tt.ct.BookingVenue()
			if v.ID != tt.wantID || ok != tt.wantOK {
				t.Errorf("BookingVenue() = %q, %v; want %q, %v", v.ID, ok, tt.wantID, tt.wantOK)
			}
		})
	}
}

func TestUpdateRate(t *testing.T) {
	site, board := mustReadDev(t)
	cfg, err := Load(mustWriteConfig(t, site, board))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Site.Control.UpdateRateOrDefault(); got != DefaultUpdateRate {
		t.Errorf("unset: %d", got)
	}
	site = strings.Replace(site, "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n", "    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n  update_rate: 256KiB\n", 1)
	if cfg, err = Load(mustWriteConfig(t, site, board)); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Site.Control.UpdateRateOrDefault(); got != 256<<10 {
		t.Errorf("256KiB: %d", got)
	}
}
