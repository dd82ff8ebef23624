package schema

import "time"

// BookingV1 is the body of a booking/v1 record: a consultation with the
// village legal advisor, booked at the kiosk. Retired by BookingV2, which
// carries no ID number and seals the phone: only older kiosks' queued
// records arrive in it.
type BookingV1 struct {
	Service string    `json:"service"` // legal-advisor | legal-checkup
	Topic   string    `json:"topic"`
	Name    string    `json:"name"`
	Phone   string    `json:"phone"` // in full: the advisor calls back
	Slot    time.Time `json:"slot"`
	Advisor string    `json:"advisor"`
	Channel string    `json:"channel"` // how it was booked: "kiosk"
	// IDNumber and IDType are set when the villager identified with an ID
	// card: the advisor can then find earlier cases of the same person.
	IDNumber string `json:"id_number,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	// Checkup is set on a legal-checkup booking.
	Checkup *CheckupV1 `json:"checkup,omitempty"`
}

func (BookingV1) RecordType() string { return BookingType }
func (BookingV1) Schema() string     { return BookingV1Schema }

// CheckupV1 is a legal check-up's answers in a booking.
type CheckupV1 struct {
	Kind    string            `json:"kind"` // family | business
	Answers []CheckupAnswerV1 `json:"answers"`
}

// CheckupAnswerV1 is one answered question, with its text as asked: the
// township need not know the kiosk's questionnaire.
type CheckupAnswerV1 struct {
	Question string `json:"question"`
	Text     string `json:"text"`
	Yes      bool   `json:"yes"`
}

// VenueV1 is a mediation venue.
type VenueV1 struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Where string `json:"where"`
}

// MediatorV1 is a village mediator from the kiosk's roster.
type MediatorV1 struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PartyV1 is a person in a dispute, as retired v1 records carried them:
// phone and ID number in clear (v2 seals them, PartyV2 and ContactV2).
type PartyV1 struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	IDType   string `json:"id_type,omitempty"`
}

// MediationBookingV1 is the body of a mediation_booking/v1 record: a
// villager booked a mediation, and the kiosk opened a case for it.
// Retired by MediationBookingV2.
type MediationBookingV1 struct {
	Case      string      `json:"case"`
	Venue     VenueV1     `json:"venue"`
	Category  string      `json:"category"`
	Applicant PartyV1     `json:"applicant"`
	Other     *PartyV1    `json:"other,omitempty"`
	Slots     []time.Time `json:"slots"` // 1–3 preferred starts
	Channel   string      `json:"channel"`
}

func (MediationBookingV1) RecordType() string { return MediationBookingType }
func (MediationBookingV1) Schema() string     { return MediationBookingV1Schema }

// MediationSessionV1 is the body of a mediation_session/v1 record,
// retired by MediationSessionV2. Parties
// are all the case's parties after the session, so one record is enough for
// the township to know a walk-in case.
type MediationSessionV1 struct {
	Case       string     `json:"case"`
	CaseNumber string     `json:"case_number"`
	Origin     string     `json:"origin"` // booking | walk_in
	Venue      *VenueV1   `json:"venue,omitempty"`
	Mediator   MediatorV1 `json:"mediator"`
	Held       time.Time  `json:"held"`
	Category   string     `json:"category"`
	Line       string     `json:"line"` // red | yellow | blue
	Phrases    []string   `json:"phrases"`
	Note       string     `json:"note,omitempty"`
	Outcome    string     `json:"outcome"` // settled | unsettled | referred
	Agreement  bool       `json:"agreement"`
	FollowUp   string     `json:"follow_up,omitempty"` // 2006-01-02, site time
	Parties    []PartyV1  `json:"parties"`
	Escalated  bool       `json:"escalated"`
}

func (MediationSessionV1) RecordType() string { return MediationSessionType }
func (MediationSessionV1) Schema() string     { return MediationSessionV1Schema }

// Escalation reasons.
const (
	ReasonRedLine  = "red_line"
	ReasonReferred = "referred"
)

// EscalationV1 is the body of an escalation/v1 record: a case the township
// must take up at once. Retired by EscalationV2.
type EscalationV1 struct {
	Case       string     `json:"case"`
	CaseNumber string     `json:"case_number"`
	Session    string     `json:"session"` // the mediation_session record's id
	Reasons    []string   `json:"reasons"` // red_line, referred
	Category   string     `json:"category"`
	Line       string     `json:"line"`
	Outcome    string     `json:"outcome"`
	Venue      *VenueV1   `json:"venue,omitempty"`
	Mediator   MediatorV1 `json:"mediator"`
	Parties    []PartyV1  `json:"parties"`
	Note       string     `json:"note,omitempty"`
	Held       time.Time  `json:"held"`
}

func (EscalationV1) RecordType() string { return EscalationType }
func (EscalationV1) Schema() string     { return EscalationV1Schema }

// MediationPhotoV1 is the body of a mediation_photo/v1 record: a photo of a
// session, taken after every party present agreed.
type MediationPhotoV1 struct {
	Case       string     `json:"case"`
	CaseNumber string     `json:"case_number"`
	Session    string     `json:"session"`
	Mediator   MediatorV1 `json:"mediator"`
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	JPEG       []byte     `json:"jpeg"` // base64 in the JSON
	Consent    string     `json:"consent"`
}

func (MediationPhotoV1) RecordType() string { return MediationPhotoType }
func (MediationPhotoV1) Schema() string     { return MediationPhotoV1Schema }

// AlertV1 is the body of an alert/v1 record: something township IT must
// look at on this kiosk.
type AlertV1 struct {
	Kind    string `json:"kind"` // store_corrupt, casebook_corrupt, casebook_write, tamper_open, tamper_closed, records_key_missing, records_key_changed, requests_secret_lost
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

func (AlertV1) RecordType() string { return AlertType }
func (AlertV1) Schema() string     { return AlertV1Schema }

// TelemetryV1 is the body of a telemetry/v1 record.
type TelemetryV1 struct {
	Version          string  `json:"version"`
	Broker           string  `json:"broker"` // connected | connecting | disconnected
	Queue            QueueV1 `json:"queue"`
	OldestAgeSeconds int64   `json:"oldest_age_seconds"`
	// Indicators are absent on a kiosk without a case book (issue 5).
	Indicators *IndicatorsV1 `json:"indicators,omitempty"`
	// Hardware is absent on a kiosk without sensors or cameras (issue 7).
	Hardware *HardwareV1 `json:"hardware,omitempty"`
}

func (TelemetryV1) RecordType() string { return TelemetryType }
func (TelemetryV1) Schema() string     { return TelemetryV1Schema }

// QueueV1 describes the records waiting on the kiosk for the township.
type QueueV1 struct {
	Depth        int        `json:"depth"`
	OldestAt     *time.Time `json:"oldest_at,omitempty"`
	DeadLetters  int        `json:"dead_letters"`
	LastDelivery *time.Time `json:"last_delivery,omitempty"`
	Bytes        int64      `json:"bytes"`
	Quota        int64      `json:"quota"`
	FileBytes    int64      `json:"file_bytes"`
	Evicted      uint64     `json:"evicted"`
}

// IndicatorsV1 are the kiosk's mediation indicators. A rate is null when
// nothing has been counted for it yet.
type IndicatorsV1 struct {
	Sessions          int            `json:"sessions"`
	CasesClosed       int            `json:"cases_closed"`
	Settled           int            `json:"settled"`
	SuccessRate       *float64       `json:"success_rate"`
	FollowUpsDue      int            `json:"follow_ups_due"`
	FollowUpsDone     int            `json:"follow_ups_done"`
	FollowUpsOnTime   int            `json:"follow_ups_on_time"`
	OnTimeRate        *float64       `json:"on_time_rate"`
	BookingsByService map[string]int `json:"bookings_by_service"`
	// EventsCollected (事件采集数) counts villagers' requests and reports
	// (request/v1), EventsByCategory the same by grid category; both
	// absent when there are none (fields old readers ignore: still v1).
	EventsCollected  int            `json:"events_collected,omitempty"`
	EventsByCategory map[string]int `json:"events_by_category,omitempty"`
	// EventsClosed, EventsClosedRate (事件办结率) and EventsCloseHours
	// (the median time to close) come from the township's answers as
	// the kiosk applied them; absent when there is nothing to count
	// (fields old readers ignore: still v1).
	EventsClosed     int       `json:"events_closed,omitempty"`
	EventsClosedRate *float64  `json:"events_closed_rate,omitempty"`
	EventsCloseHours *float64  `json:"events_close_hours,omitempty"`
	Since            time.Time `json:"since"`
}

// HardwareV1 is the health of the kiosk's sensors, LED and cameras; a
// state is absent, ready or failed (cameras also unchecked).
type HardwareV1 struct {
	PIR     InputV1    `json:"pir"`
	Tamper  InputV1    `json:"tamper"`
	LED     LEDV1      `json:"led"`
	Cameras []CameraV1 `json:"cameras"`
}

// InputV1 is a GPIO input's health and level.
type InputV1 struct {
	State     string    `json:"state"`
	Active    bool      `json:"active"`
	Changed   time.Time `json:"changed,omitzero"`
	Since     time.Time `json:"since,omitzero"`
	Polling   bool      `json:"polling,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

// LEDV1 is the status LED.
type LEDV1 struct {
	State     string `json:"state"`
	Pattern   string `json:"pattern,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// CameraV1 is one camera's health.
type CameraV1 struct {
	Name      string     `json:"name"`
	State     string     `json:"state"`
	Checked   *time.Time `json:"checked,omitempty"`
	LastFrame *time.Time `json:"last_frame,omitempty"`
	Width     int        `json:"width,omitempty"`
	Height    int        `json:"height,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Failures  int        `json:"failures"`
}
