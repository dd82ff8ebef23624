package schema

// RequestV1 is the body of a request/v1 record: a villager's request or
// report made at the kiosk (我要反映, docs/requests.md). Its number is the
// envelope's seq, as a booking's. Everything that identifies the villager
// is in Contact, which an anonymous report leaves out, with Photo; nothing
// else in the body or the envelope names a person.
type RequestV1 struct {
	Kind     string     `json:"kind"` // help | concern | consult | report
	KindName string     `json:"kind_name"`
	Category CategoryV1 `json:"category"`
	Phrases  []string   `json:"phrases"` // 1–3 of the category's
	Place    *PlaceV1   `json:"place,omitempty"`
	// Anonymous is true on an anonymous report: Contact and Photo are
	// then absent, and the villager checks it with the receipt's number
	// and a code only the receipt carries.
	Anonymous bool              `json:"anonymous"`
	Contact   *RequestContactV1 `json:"contact,omitempty"`
	Photo     *RequestPhotoV1   `json:"photo,omitempty"`
	Channel   string            `json:"channel"` // how it was made: "kiosk"
	// Withheld lists the fields left out because the kiosk has no
	// township records key to seal them to (docs/mqtt.md).
	Withheld []string `json:"withheld,omitempty"`
}

func (RequestV1) RecordType() string { return RequestType }
func (RequestV1) Schema() string     { return RequestV1Schema }

// CategoryV1 is a grid event category of the site.
type CategoryV1 struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PlaceV1 is a 组 or landmark of the village.
type PlaceV1 struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"` // group | landmark
}

// RequestContactV1 is how the township answers the villager: the name on
// the ID card sealed (field path contact.name), the phone masked for lists
// with none of its last four digits (139********: they prove the request at
// the kiosk's check) and sealed in full (contact.phone). Only Via travels
// in clear. The ID number is not sent: answering needs a name to address
// and a number to call, not an identity.
type RequestContactV1 struct {
	Via         string  `json:"via"` // card | phone
	Name        *Sealed `json:"name,omitempty"`
	PhoneMasked string  `json:"phone_masked,omitempty"`
	Phone       *Sealed `json:"phone,omitempty"`
}

// RequestPhotoV1 is a photo of the problem, taken by the kiosk after the
// villager agreed on screen, scaled and encoded again (no camera metadata).
type RequestPhotoV1 struct {
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	JPEG    []byte `json:"jpeg"`
	Consent string `json:"consent"`
}
