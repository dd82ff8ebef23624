// Package schema owns the township wire schema: the body of every record a
// kiosk publishes, one Go type per record type and version, named after
// both (BookingV1 is the body of a booking/v1 record). docs/mqtt.md says
// what each record means; docs/schemas/ holds a JSON Schema (draft 2020-12)
// for each body and for the envelope, which township tools in any language
// can validate against; testdata/ holds one golden message per record type
// and version, checked against both the producers and the schemas.
//
// These types are the contract and nothing else: the local API's types
// (apitype) and the case book's stored form (casebook) are separate, and
// the producers build these bodies from their own types with explicit
// conversion functions. A field renamed here changes what every township
// receives; one that old readers may ignore keeps the version, anything
// else is a new type (BookingV2) beside the old, never an edit of it.
//
// The package imports nothing of the agent's, so township tools can use it.
package schema

// Record types (the last topic level) and body schemas (the envelope's
// "schema" field).
const (
	BookingType              = "booking"
	BookingV1Schema          = "booking/v1"
	BookingV2Schema          = "booking/v2"
	MediationBookingType     = "mediation_booking"
	MediationBookingV1Schema = "mediation_booking/v1"
	MediationBookingV2Schema = "mediation_booking/v2"
	MediationSessionType     = "mediation_session"
	MediationSessionV1Schema = "mediation_session/v1"
	MediationSessionV2Schema = "mediation_session/v2"
	EscalationType           = "escalation"
	EscalationV1Schema       = "escalation/v1"
	EscalationV2Schema       = "escalation/v2"
	MediationPhotoType       = "mediation_photo"
	MediationPhotoV1Schema   = "mediation_photo/v1"
	AlertType                = "alert"
	AlertV1Schema            = "alert/v1"
	TelemetryType            = "telemetry"
	TelemetryV1Schema        = "telemetry/v1"
	RequestType              = "request"
	RequestV1Schema          = "request/v1"
)

// Body is a record body of one type and version.
type Body interface {
	// RecordType is the record type the body travels as.
	RecordType() string
	// Schema is the body's schema id, {type}/v{n}.
	Schema() string
}

// Bodies are the record bodies a kiosk publishes today, one zero value per
// type and version: what the golden files and docs/schemas/ must cover.
func Bodies() []Body {
	return []Body{&BookingV2{}, &MediationBookingV2{}, &MediationSessionV2{}, &EscalationV2{},
		&MediationPhotoV1{}, &AlertV1{}, &TelemetryV1{}, &RequestV1{}}
}

// Retired are the bodies kiosks published before a version bump, one zero
// value per type and version: no kiosk of this version makes them, but
// records queued by an older kiosk still arrive in them, so township tools
// read them and their schemas and golden files stay.
func Retired() []Body {
	return []Body{&BookingV1{}, &MediationBookingV1{}, &MediationSessionV1{}, &EscalationV1{}}
}
