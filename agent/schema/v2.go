package schema

import "time"

// Version 2 of the records that carry people (issue 19): each publishes
// only the identity its purpose needs, and every full number that must
// travel is Sealed to the township's records key. docs/mqtt.md says, type
// by type, what travels and why.

// Sealed is a field only the township can read: its plaintext sealed with
// HPKE (RFC 9180) to the township's records key KeyID, bound to the
// record's id and the field's path (agent/sealed opens it). The broker and
// anyone subscribed see the key id and ciphertext only.
//
// Two forms: single shot (no Enc; Box is HPKE's enc | ciphertext), and
// sealed in an epoch (Enc is the epoch's encapsulated key; Box is a nonce |
// ciphertext under a key the epoch's exporter draws for this record and
// field). Kiosks write the second since issue 15; the township opens both.
type Sealed struct {
	KeyID string `json:"key_id"`        // 16 hex digits
	Enc   []byte `json:"enc,omitempty"` // the epoch's HPKE encapsulated key, base64
	Box   []byte `json:"sealed"`        // base64 in the JSON
}

// BookingV2 is the body of a booking/v2 record: a consultation with the
// village legal advisor. A consultation needs a name and a way to call
// back, so the villager's ID number is not sent, even when they identified
// with their card; the phone is sealed, and shown masked.
type BookingV2 struct {
	Service     string    `json:"service"` // legal-advisor | legal-checkup
	Topic       string    `json:"topic"`
	Name        string    `json:"name"`
	PhoneMasked string    `json:"phone_masked"` // 139****1234, for lists
	Phone       *Sealed   `json:"phone,omitempty"`
	Slot        time.Time `json:"slot"`
	Advisor     string    `json:"advisor"`
	Channel     string    `json:"channel"` // "kiosk"
	// Checkup is set on a legal-checkup booking.
	Checkup *CheckupV1 `json:"checkup,omitempty"`
	// Withheld lists the fields left out because the kiosk has no
	// township records key to seal them to (docs/mqtt.md).
	Withheld []string `json:"withheld,omitempty"`
}

func (BookingV2) RecordType() string { return BookingType }
func (BookingV2) Schema() string     { return BookingV2Schema }

// ContactV2 is a person to call back: a name, the phone masked for lists
// and sealed in full. No ID number: calling back does not need it.
type ContactV2 struct {
	Name        string  `json:"name"`
	PhoneMasked string  `json:"phone_masked,omitempty"`
	Phone       *Sealed `json:"phone,omitempty"`
}

// PartyV2 is a party to a mediation as its agreement names them: the ID
// number, when a card gave it, sealed like the phone.
type PartyV2 struct {
	Name        string  `json:"name"`
	PhoneMasked string  `json:"phone_masked,omitempty"`
	Phone       *Sealed `json:"phone,omitempty"`
	IDNumber    *Sealed `json:"id_number,omitempty"`
	IDType      string  `json:"id_type,omitempty"`
}

// MediationBookingV2 is the body of a mediation_booking/v2 record: a
// villager asked for a mediation and the kiosk opened a case. The mediator
// calls both back to agree a time; who the parties are for the agreement
// is settled at the session, whose record carries it.
type MediationBookingV2 struct {
	Case      string      `json:"case"`
	Venue     VenueV1     `json:"venue"`
	Category  string      `json:"category"`
	Applicant ContactV2   `json:"applicant"`
	Other     *ContactV2  `json:"other,omitempty"`
	Slots     []time.Time `json:"slots"`
	Channel   string      `json:"channel"`
	Withheld  []string    `json:"withheld,omitempty"`
}

func (MediationBookingV2) RecordType() string { return MediationBookingType }
func (MediationBookingV2) Schema() string     { return MediationBookingV2Schema }

// MediationSessionV2 is the body of a mediation_session/v2 record: as v1,
// with the parties' numbers sealed. A session may end in an agreement
// (调解协议书), which names the parties by their identity, so the ID
// number travels, sealed.
type MediationSessionV2 struct {
	Case       string     `json:"case"`
	CaseNumber string     `json:"case_number"`
	Origin     string     `json:"origin"`
	Venue      *VenueV1   `json:"venue,omitempty"`
	Mediator   MediatorV1 `json:"mediator"`
	Held       time.Time  `json:"held"`
	Category   string     `json:"category"`
	Line       string     `json:"line"`
	Phrases    []string   `json:"phrases"`
	Note       string     `json:"note,omitempty"`
	Outcome    string     `json:"outcome"`
	Agreement  bool       `json:"agreement"`
	FollowUp   string     `json:"follow_up,omitempty"`
	Parties    []PartyV2  `json:"parties"`
	Escalated  bool       `json:"escalated"`
	Withheld   []string   `json:"withheld,omitempty"`
}

func (MediationSessionV2) RecordType() string { return MediationSessionType }
func (MediationSessionV2) Schema() string     { return MediationSessionV2Schema }

// EscalationV2 is the body of an escalation/v2 record: the township must
// reach the parties at once, so it carries whom to call; their identity is
// in the session record it names.
type EscalationV2 struct {
	Case       string      `json:"case"`
	CaseNumber string      `json:"case_number"`
	Session    string      `json:"session"`
	Reasons    []string    `json:"reasons"`
	Category   string      `json:"category"`
	Line       string      `json:"line"`
	Outcome    string      `json:"outcome"`
	Venue      *VenueV1    `json:"venue,omitempty"`
	Mediator   MediatorV1  `json:"mediator"`
	Parties    []ContactV2 `json:"parties"`
	Note       string      `json:"note,omitempty"`
	Held       time.Time   `json:"held"`
	Withheld   []string    `json:"withheld,omitempty"`
}

func (EscalationV2) RecordType() string { return EscalationType }
func (EscalationV2) Schema() string     { return EscalationV2Schema }
