package apitype

import "time"

// This file holds the API added for the complete kiosk UI (issue 5): the
// rest of the 513 content, mediation booking, mediator mode, read-aloud and
// receipt printing. docs/local-api.md documents each endpoint.

// Content is the part of GET /v1/menu beyond the advisor: what the five
// services show, from the site config's content section.
type Content struct {
	Lecture    Lecture   `json:"lecture"`
	Checkup    []Checkup `json:"checkup"`    // one questionnaire per kind (family, business)
	Publicity  []Place   `json:"publicity"`  // 普法工作站, 聊法亭 ...
	Fairs      []Event   `json:"fairs"`      // upcoming legal fairs, soonest first
	Venues     []Venue   `json:"venues"`     // mediation venues (百姓说理之家)
	Categories []string  `json:"categories"` // dispute categories, in the statistics' order
	// BookingVenue is the Venue.ID a mediation booking without a venue is
	// made for: the kiosk's screens do not ask the villager.
	BookingVenue string `json:"booking_venue,omitempty"`
}

// Lecture is the monthly legal lecture (一月一法治主题, 巡回法治讲堂).
type Lecture struct {
	Theme    string  `json:"theme"` // this month's theme
	Schedule []Event `json:"schedule"`
}

// Event is a dated happening: a lecture or a legal fair.
type Event struct {
	Title string    `json:"title"`
	Place string    `json:"place"`
	At    time.Time `json:"at"`
}

// Place is somewhere a villager can go, and when.
type Place struct {
	Name  string `json:"name"`
	Where string `json:"where"`
	Hours string `json:"hours,omitempty"`
}

// Checkup is a legal check-up questionnaire (法律体检) for one kind of
// household: a few yes/no questions ending in a booking with the advisor.
type Checkup struct {
	Kind      string     `json:"kind"` // family | business
	Title     string     `json:"title"`
	Questions []Question `json:"questions"`
}

// Question is one yes/no question. Advice is shown when the answer is yes
// (the case the advisor should hear about).
type Question struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Advice string `json:"advice"`
}

// CheckupAnswer is one answered question, carried by a legal-checkup booking.
type CheckupAnswer struct {
	Question string `json:"question"` // Question.ID
	Yes      bool   `json:"yes"`
}

// Venue is a mediation venue.
type Venue struct {
	ID    string `json:"id"`
	Name  string `json:"name"` // 茶室评理室 ...
	Where string `json:"where"`
}

// Mediation line colours (红/黄/蓝): red is urgent and escalated at once.
const (
	LineRed    = "red"
	LineYellow = "yellow"
	LineBlue   = "blue"
)

// Mediation outcomes.
const (
	OutcomeSettled   = "settled"   // 调解成功
	OutcomeUnsettled = "unsettled" // 未成功
	OutcomeReferred  = "referred"  // 转交, referred upward
)

// Party is a person in a dispute: either a card token (kioskd takes the
// name and ID number from the card) or a name and phone.
type Party struct {
	Card  string `json:"card,omitempty"`
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// PartySummary is what a screen may show of a party.
type PartySummary struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"` // masked
	IDMasked string `json:"id_masked,omitempty"`
}

// MediationRequest is the body of POST /v1/mediations: a villager books a
// mediation. Applicant is required; Other is optional (name and phone only).
type MediationRequest struct {
	Venue     string   `json:"venue,omitempty"` // Venue.ID; empty for Content.BookingVenue
	Category  string   `json:"category"`        // one of Content.Categories
	Applicant Party    `json:"applicant"`
	Other     *Party   `json:"other,omitempty"`
	Slots     []string `json:"slots"` // 1–3 preferred slots, RFC 3339, from GET /v1/slots?service=mediation
}

// Mediation is the 201 answer to POST /v1/mediations.
type Mediation struct {
	ID        string        `json:"id"`
	Seq       uint64        `json:"seq"`
	Number    string        `json:"number"`
	Venue     Venue         `json:"venue"`
	Category  string        `json:"category"`
	Applicant PartySummary  `json:"applicant"`
	Other     *PartySummary `json:"other,omitempty"`
	Slots     []time.Time   `json:"slots"`
	Created   time.Time     `json:"created"`
}

// HoldCard is the body of POST /v1/mediator/cards: the token of the card
// just read, which the signed-in mediator keeps for the session or case
// they are entering (the reader itself answers only for its last card).
type HoldCard struct {
	Card string `json:"card"`
}

// MediatorSignIn is the body of POST /v1/mediator/signin: the mediator's
// card token and PIN. The roster in the site config says who may sign in.
type MediatorSignIn struct {
	Card string `json:"card"`
	PIN  string `json:"pin"`
}

// MediatorSession is the answer to a sign-in. Token goes in the
// Authorization header ("Bearer TOKEN") of every /v1/mediator/ request; it
// lapses after the configured idle time or at sign-out.
type MediatorSession struct {
	Token    string    `json:"token"`
	Mediator Mediator  `json:"mediator"`
	Expires  time.Time `json:"expires"`
}

// Mediator is a village mediator from the roster.
type Mediator struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Case statuses.
const (
	CaseBooked   = "booked"   // from a villager's booking; no session yet
	CaseOpen     = "open"     // a session held, not settled
	CaseSettled  = "settled"  // settled; follow-ups may be due
	CaseReferred = "referred" // referred upward
)

// CaseSummary is one row of GET /v1/mediator/cases.
type CaseSummary struct {
	ID           string     `json:"id"`
	Number       string     `json:"number"`
	Status       string     `json:"status"`
	Category     string     `json:"category"`
	Line         string     `json:"line,omitempty"`
	Venue        string     `json:"venue,omitempty"` // venue name
	Applicant    string     `json:"applicant"`       // name only
	Opened       time.Time  `json:"opened"`
	NextFollowUp *time.Time `json:"next_follow_up,omitempty"`
}

// Cases is the body of GET /v1/mediator/cases.
type Cases struct {
	Cases []CaseSummary `json:"cases"`
}

// Case is the body of GET /v1/mediator/cases/{id}.
type Case struct {
	CaseSummary
	Parties   []PartySummary `json:"parties"`
	Slots     []time.Time    `json:"slots,omitempty"` // the villager's preferred slots, if booked
	Sessions  []Session      `json:"sessions"`
	FollowUps []FollowUp     `json:"follow_ups"`
}

// NewCase is the body of POST /v1/mediator/cases: a walk-in dispute with no
// booking.
type NewCase struct {
	Category string  `json:"category"`
	Venue    string  `json:"venue,omitempty"`
	Parties  []Party `json:"parties"` // at least one
}

// SessionRequest is the body of POST /v1/mediator/cases/{id}/sessions.
type SessionRequest struct {
	Parties   []Party  `json:"parties,omitempty"` // parties present, added to the case
	Category  string   `json:"category"`
	Line      string   `json:"line"`    // red | yellow | blue
	Phrases   []string `json:"phrases"` // from Phrases in GET /v1/mediator/phrases
	Note      string   `json:"note,omitempty"`
	Outcome   string   `json:"outcome"` // settled | unsettled | referred
	Agreement bool     `json:"agreement"`
	FollowUp  string   `json:"follow_up,omitempty"` // 2006-01-02: the 回访 visit date, required when settled
}

// Session is one logged mediation session.
type Session struct {
	ID        string    `json:"id"`
	Seq       uint64    `json:"seq"`
	Mediator  Mediator  `json:"mediator"`
	Held      time.Time `json:"held"`
	Category  string    `json:"category"`
	Line      string    `json:"line"`
	Phrases   []string  `json:"phrases"`
	Note      string    `json:"note,omitempty"`
	Outcome   string    `json:"outcome"`
	Agreement bool      `json:"agreement"`
	FollowUp  string    `json:"follow_up,omitempty"`
	Escalated bool      `json:"escalated"` // an escalation record went to the township
}

// Phrases is the body of GET /v1/mediator/phrases: preset summary phrases.
type Phrases struct {
	Phrases []string `json:"phrases"`
}

// FollowUp is a 回访 visit, due or done.
type FollowUp struct {
	Case   string     `json:"case"`
	Number string     `json:"number"`
	Due    string     `json:"due"` // 2006-01-02
	Done   *time.Time `json:"done,omitempty"`
	OnTime bool       `json:"on_time"` // done on or before Due
	Name   string     `json:"name"`    // the applicant, to know whom to visit
}

// FollowUps is the body of GET /v1/mediator/followups: visits not yet done,
// soonest first, with Overdue counting those past their date.
type FollowUps struct {
	FollowUps []FollowUp `json:"follow_ups"`
	Overdue   int        `json:"overdue"`
}

// FollowUpDone is the body of POST /v1/mediator/cases/{id}/followups.
type FollowUpDone struct {
	Note string `json:"note,omitempty"`
}

// Indicators is the body of GET /v1/mediator/indicators, computed from the
// kiosk's own records. A rate is nil when its denominator is zero.
type Indicators struct {
	Sessions          int            `json:"sessions"`
	CasesClosed       int            `json:"cases_closed"` // settled + unsettled-final + referred
	Settled           int            `json:"settled"`
	CasesWithOutcome  int            `json:"cases_with_outcome"` // cases with at least one session: the success rate's denominator
	SuccessRate       *float64       `json:"success_rate"`       // settled / cases with an outcome
	FollowUpsDue      int            `json:"follow_ups_due"`     // as many as GET /v1/mediator/followups lists
	FollowUpsOverdue  int            `json:"follow_ups_overdue"` // its overdue, counted on the same day
	FollowUpsDone     int            `json:"follow_ups_done"`
	FollowUpsOnTime   int            `json:"follow_ups_on_time"`
	OnTimeRate        *float64       `json:"on_time_rate"` // on time / (done + overdue)
	BookingsByService map[string]int `json:"bookings_by_service"`
	// EventsCollected is 事件采集数: the requests and reports villagers
	// made at the kiosk, ever; EventsByCategory the same by grid category
	// id. Absent when there are none.
	EventsCollected  int            `json:"events_collected,omitempty"`
	EventsByCategory map[string]int `json:"events_by_category,omitempty"`
	// EventsClosed is how many of the requests kept at the kiosk the
	// township has closed (已办结, as its answers say); EventsClosedRate
	// is 事件办结率, closed / kept (nil when none is kept), and
	// EventsCloseHours the median time from a request to its closing, in
	// hours (nil when none is closed). Absent on a kiosk without requests.
	EventsClosed     int       `json:"events_closed,omitempty"`
	EventsClosedRate *float64  `json:"events_closed_rate,omitempty"`
	EventsCloseHours *float64  `json:"events_close_hours,omitempty"`
	Since            time.Time `json:"since"` // the period counted: from the case book's creation …
	AsOf             time.Time `json:"as_of"` // … to when these were computed
}

// SpeakRequest is the body of POST /v1/speak: read text aloud.
type SpeakRequest struct {
	Text string `json:"text"`
}

// Device states in DeviceStatus.
const (
	DeviceAbsent = "absent" // the board has none: not an error
	DeviceReady  = "ready"
	DeviceFailed = "failed" // present but failing; retried
)

// DeviceStatus is the health of an optional device (printer, speech).
type DeviceStatus struct {
	State     string `json:"state"`
	LastError string `json:"last_error,omitempty"`
}

// Devices is the body of GET /v1/devices: what optional devices the kiosk
// has, so a screen shows a print button only when there is a printer.
type Devices struct {
	Printer DeviceStatus `json:"printer"`
	Speech  DeviceStatus `json:"speech"`
	// Camera is the camera that takes consent photos of mediation
	// sessions (absent: the kiosk takes none).
	Camera DeviceStatus `json:"camera"`
}

// PrintRequest is the body of POST /v1/print: a receipt for a booking or a
// mediation just made on this kiosk, by its id. kioskd keeps the receipts
// of recent confirmations in memory only, for a few minutes.
type PrintRequest struct {
	ID string `json:"id"`
}
