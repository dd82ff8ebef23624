// Package request owns villagers' requests and reports made at the kiosk
// (我要反映, issue 20; docs/requests.md): what makes one valid against the
// site's content, who may stay anonymous, the check code of an anonymous
// report, the keyed hashes by which the kiosk finds a villager's requests
// again without keeping an ID number or a phone number, and the stored form
// of a request's local status, which the township's answers update.
//
// A valid request is a Request, the kiosk's own; the core converts it into
// the township's schema.RequestV1 and into the stored form here, each
// explicitly, so the wire and the store change independently. Errors of
// validation are *booking.FieldError, as every rule of the kiosk returns.
package request

import (
	"fmt"
	"slices"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// MaxPhrases bounds the phrases one request carries: enough to say what
// and how bad, few enough to read back aloud.
const MaxPhrases = 3

// Channel is how a request was made: at the kiosk.
const Channel = "kiosk"

// Input is a request as the villager entered it. The core has already
// resolved a card token, if one was given, into Card.
type Input struct {
	Kind      string
	Category  string
	Phrases   []string
	Place     string // a place id; "" for none
	Anonymous bool
	Phone     string
	Card      *Identity // the card tapped, nil without one
	// CardGiven: a card token was sent (Card may still be nil when it
	// expired); an anonymous report refuses one before looking it up.
	CardGiven bool
	Photo     bool // a photo of the problem is to be taken
	Consent   bool // the villager agreed on screen to the photo
}

// Identity is what a request takes from an ID card: a name for the
// township to address the villager by, and the number only to derive the
// kiosk's card key (Keys.Card), never stored or sent.
type Identity struct {
	Name     string
	IDNumber string
	IDType   string
}

// Request is a valid request.
type Request struct {
	Kind      config.RequestKind
	Category  config.GridCategory // Phrases: the category's, not the request's
	Phrases   []string
	Place     *config.VillagePlace
	Anonymous bool
	// Contact is nil on an anonymous report, and set on every other
	// request: a name (by card), a phone (typed), or both.
	Contact *Contact
	Photo   bool
}

// Contact is how the township reaches the villager back.
type Contact struct {
	Name  string // from the card; "" when only a phone was typed
	Phone string // normalized; "" when only a card was tapped
	Via   string // ViaCard or ViaPhone: how the villager identified
}

// How a contact was given.
const (
	ViaCard  = "card"
	ViaPhone = "phone"
)

// Rules judge requests against a site's content.
type Rules struct{ content config.Requests }

// NewRules returns the rules of a validated site's request content.
func NewRules(content config.Requests) *Rules { return &Rules{content: content} }

// Content is the request content the rules judge by.
func (r *Rules) Content() config.Requests { return r.content }

func fail(field, code, format string, args ...any) error {
	return &booking.FieldError{Field: field, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks in and returns the request. The error is a
// *booking.FieldError naming the first field that is wrong.
func (r *Rules) Validate(in Input) (Request, error) {
	var out Request
	var ok bool
	switch out.Kind, ok = r.content.KindByID(in.Kind); {
	case in.Kind == "":
		return Request{}, fail("kind", apitype.CodeRequired, "is required")
	case !ok:
		return Request{}, fail("kind", apitype.CodeUnknownKind, "%q is not a kind of request this kiosk takes", in.Kind)
	}
	switch out.Category, ok = r.content.CategoryByID(in.Category); {
	case in.Category == "":
		return Request{}, fail("category", apitype.CodeRequired, "is required")
	case !ok:
		return Request{}, fail("category", apitype.CodeUnknownCategory, "%q is not a grid event category of this kiosk", in.Category)
	}
	switch n := len(in.Phrases); {
	case n == 0:
		return Request{}, fail("phrases", apitype.CodeRequired, "needs at least one of the category's phrases")
	case n > MaxPhrases:
		return Request{}, fail("phrases", apitype.CodeTooMany, "has %d phrases; at most %d", n, MaxPhrases)
	}
	for i, p := range in.Phrases {
		field := fmt.Sprintf("phrases[%d]", i)
		switch {
		case !slices.Contains(out.Category.Phrases, p):
			return Request{}, fail(field, apitype.CodeUnknownPhrase, "%q is not a phrase of category %s", p, out.Category.ID)
		case slices.Contains(in.Phrases[:i], p):
			return Request{}, fail(field, apitype.CodeDuplicate, "%q is chosen twice", p)
		}
	}
	out.Phrases = slices.Clone(in.Phrases)
	if in.Place != "" {
		p, ok := r.content.PlaceByID(in.Place)
		if !ok {
			return Request{}, fail("place", apitype.CodeUnknownPlace, "%q is not a place of this village", in.Place)
		}
		out.Place = &p
	}
	if in.Photo && !in.Consent {
		return Request{}, fail("photo.consent", apitype.CodeConsentRequired, "a photo is taken only after the villager agreed on screen")
	}
	out.Photo = in.Photo
	if in.Anonymous {
		return out, r.anonymous(in, &out)
	}
	tel := phone.Normalize(in.Phone)
	if tel != "" {
		if err := phone.Check(tel); err != nil {
			return Request{}, fail("phone", apitype.CodeInvalid, "%v", err)
		}
	}
	switch {
	case in.Card != nil:
		out.Contact = &Contact{Name: in.Card.Name, Phone: tel, Via: ViaCard}
	case in.CardGiven:
		return Request{}, fail("card", apitype.CodeCardExpired, "the card was read too long ago; tap it again")
	case tel != "":
		out.Contact = &Contact{Phone: tel, Via: ViaPhone}
	default:
		return Request{}, fail("contact", apitype.CodeRequired, "tap an ID card or type a phone number, so the township can answer (only a 举报 may be anonymous)")
	}
	return out, nil
}

// anonymous checks that an anonymous request is a report that carries
// nothing that identifies the villager: no card, no phone, no photo (the
// kiosk's camera sees whoever stands at it).
func (r *Rules) anonymous(in Input, out *Request) error {
	switch {
	case in.Kind != config.KindReport:
		return fail("anonymous", apitype.CodeInvalid, "only a report (举报) may be anonymous; %s needs a card or a phone to be answered", out.Kind.Name)
	case in.CardGiven || in.Card != nil:
		return fail("card", apitype.CodeInvalid, "an anonymous report takes no card")
	case in.Phone != "":
		return fail("phone", apitype.CodeInvalid, "an anonymous report takes no phone number")
	case in.Photo:
		return fail("photo", apitype.CodeInvalid, "an anonymous report takes no photo: the kiosk's camera sees whoever stands at it")
	}
	out.Anonymous = true
	return nil
}
