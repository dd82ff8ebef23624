package request_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/request"
)

func mustRules(t *testing.T) *request.Rules {
	t.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return request.NewRules(cfg.Site.Content.Requests)
}

func mustKeys(t *testing.T, fill byte) *request.Keys {
	t.Helper()
	k, err := request.NewKeys(bytes.Repeat([]byte{fill}, request.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var card = &request.Identity{Name: "王秀英", IDNumber: "35078219560312002X", IDType: "resident"}

func TestValidate(t *testing.T) {
	good := func(edit func(*request.Input)) request.Input {
		in := request.Input{Kind: "concern", Category: "roads", Phrases: []string{"路灯不亮"}, Place: "stone-bridge", Phone: "139 0599 1234"}
		if edit != nil {
			edit(&in)
		}
		return in
	}
	tests := []struct {
		name        string
		in          request.Input
		field, code string
	}{
		{"phone only", good(nil), "", ""},
		{"card only", good(func(in *request.Input) { in.Phone, in.Card, in.CardGiven = "", card, true }), "", ""},
		{"card and phone", good(func(in *request.Input) { in.Card, in.CardGiven = card, true }), "", ""},
		{"no place", good(func(in *request.Input) { in.Place = "" }), "", ""},
		{"anonymous report", good(func(in *request.Input) { in.Kind, in.Anonymous, in.Phone = "report", true, "" }), "", ""},
		{"photo with consent", good(func(in *request.Input) { in.Photo, in.Consent = true, true }), "", ""},
		{"no kind", good(func(in *request.Input) { in.Kind = "" }), "kind", apitype.CodeRequired},
		{"unknown kind", good(func(in *request.Input) { in.Kind = "petition" }), "kind", apitype.CodeUnknownKind},
		{"no category", good(func(in *request.Input) { in.Category = "" }), "category", apitype.CodeRequired},
		{"unknown category", good(func(in *request.Input) { in.Category = "traffic" }), "category", apitype.CodeUnknownCategory},
		{"no phrase", good(func(in *request.Input) { in.Phrases = nil }), "phrases", apitype.CodeRequired},
		{"four phrases", good(func(in *request.Input) {
			in.Phrases = []string{"路灯不亮", "桥梁护栏损坏", "自来水管漏水", "村道路面破损塌陷"}
		}), "phrases", apitype.CodeTooMany},
		{"phrase of another category", good(func(in *request.Input) { in.Phrases = []string{"路灯不亮", "房屋墙体开裂"} }), "phrases[1]", apitype.CodeUnknownPhrase},
		{"phrase twice", good(func(in *request.Input) { in.Phrases = []string{"路灯不亮", "路灯不亮"} }), "phrases[1]", apitype.CodeDuplicate},
		{"unknown place", good(func(in *request.Input) { in.Place = "group-9" }), "place", apitype.CodeUnknownPlace},
		{"photo without consent", good(func(in *request.Input) { in.Photo = true }), "photo.consent", apitype.CodeConsentRequired},
		{"bad phone", good(func(in *request.Input) { in.Phone = "12345" }), "phone", apitype.CodeInvalid},
		{"no contact", good(func(in *request.Input) { in.Phone = "" }), "contact", apitype.CodeRequired},
		{"card expired", good(func(in *request.Input) { in.Phone, in.CardGiven = "", true }), "card", apitype.CodeCardExpired},
		{"anonymous help", good(func(in *request.Input) { in.Anonymous, in.Phone = true, "" }), "anonymous", apitype.CodeInvalid},
		{"anonymous with a phone", good(func(in *request.Input) { in.Kind, in.Anonymous = "report", true }), "phone", apitype.CodeInvalid},
		{"anonymous with a card", good(func(in *request.Input) { in.Kind, in.Anonymous, in.Phone, in.CardGiven = "report", true, "", true }), "card", apitype.CodeInvalid},
		{"anonymous with a photo", good(func(in *request.Input) {
			in.Kind, in.Anonymous, in.Phone, in.Photo, in.Consent = "report", true, "", true, true
		}), "photo", apitype.CodeInvalid},
	}
	rules := mustRules(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rules.Validate(tt.in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Anonymous != tt.in.Anonymous || (got.Contact == nil) != tt.in.Anonymous {
					t.Errorf("anonymous %v, contact %+v", got.Anonymous, got.Contact)
				}
				return
			}
			var fe *booking.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Code != tt.code {
				t.Errorf("error %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
}

// TestValidateContact: a card gives the name, a phone is normalized, and
// the contact says how the villager identified.
func TestValidateContact(t *testing.T) {
	rules := mustRules(t)
	got, err := rules.Validate(request.Input{Kind: "help", Category: "dispute", Phrases: []string{"茶山承包边界有争议"},
		Phone: "139 0599 1234", Card: card, CardGiven: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Contact; c == nil || c.Name != "王秀英" || c.Phone != "13905991234" || c.Via != request.ViaCard {
		t.Errorf("contact = %+v", got.Contact)
	}
	if got.Place != nil || got.Kind.Name != "求助" || got.Category.Name != "矛盾纠纷" {
		t.Errorf("request = %+v", got)
	}
}

func TestKeys(t *testing.T) {
	k, other := mustKeys(t, 1), mustKeys(t, 2)
	if k.Card("resident", "35078219560312002x") != k.Card("resident", "35078219560312002X") {
		t.Error("a card's key depends on the check digit's case")
	}
	if k.Card("resident", "35078219560312002X") == other.Card("resident", "35078219560312002X") {
		t.Error("two kiosks' secrets give one card key")
	}
	if strings.Contains(k.Card("resident", "35078219560312002X"), "35078219560312002X") {
		t.Error("the card key shows the number")
	}
	p := k.Proof("id-1", request.ProofCode, "12345678")
	switch {
	case !k.Matches(p, "id-1", request.ProofCode, "12345678"):
		t.Error("the right code does not match")
	case k.Matches(p, "id-2", request.ProofCode, "12345678"):
		t.Error("a code matches another request")
	case k.Matches(p, "id-1", request.ProofPhone, "12345678"):
		t.Error("a code matches as a phone proof")
	case k.Matches("", "id-1", request.ProofCode, ""):
		t.Error("an empty proof matches a request without one")
	}
	if _, err := request.NewKeys(make([]byte, 16)); !errors.Is(err, request.ErrBadSecret) {
		t.Errorf("a short secret: %v", err)
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := request.NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != request.CodeDigits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 199 {
		t.Errorf("200 codes, %d different", len(seen))
	}
	if request.LastFour("13905991234") != "1234" || request.LastFour("12") != "" {
		t.Error("LastFour")
	}
}

func TestStoredRoundTrip(t *testing.T) {
	st := request.Stored{ID: "01900000-0000-7000-8000-000000000001", Created: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC),
		Kind: "report", KindName: "举报", Category: "sanitation", CatName: "环境卫生", Phrases: []string{"有人往溪里倒垃圾"},
		Anonymous: true, CodeProof: "ab", Status: request.StatusSubmitted}
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := request.DecodeStored(b)
	if err != nil || got.V != 1 || got.ID != st.ID || got.CodeProof != "ab" || !got.Created.Equal(st.Created) {
		t.Errorf("decoded %+v, %v", got, err)
	}
	if _, err := request.DecodeStored([]byte(`{"v":2}`)); !errors.Is(err, request.ErrNewerStored) {
		t.Errorf("a newer stored form: %v", err)
	}
}
