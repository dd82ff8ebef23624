// Package apitype holds the JSON types of kioskd's local API v1 (docs/local-api.md),
// shared by the server and the typed client. It imports nothing of the agent's,
// so the UI can depend on it without pulling in storage or MQTT.
package apitype

import (
	"net/url"
	"strings"
	"time"
)

// Status is the body of GET /v1/status.
type Status struct {
	Kiosk    string        `json:"kiosk"`
	Township string        `json:"township"`
	Village  string        `json:"village"`
	Name     string        `json:"name"`
	Version  string        `json:"version"`
	Time     time.Time     `json:"time"`
	Broker   BrokerStatus  `json:"broker"`
	Queue    QueueStatus   `json:"queue"`
	IDCard   ReaderStatus  `json:"idcard"`
	Control  ControlStatus `json:"control"`
	// Hardware is the sensors', LED's and cameras' health (absent in
	// kioskd's tests that run without them).
	Hardware *Hardware `json:"hardware,omitempty"`
	// Screen says whether a villager's flow or a mediator's session is on
	// screen (absent from a kioskd older than it: the updater then goes by
	// the presence sensor alone).
	Screen *ScreenStatus `json:"screen,omitempty"`
}

// ScreenStatus says whether someone is using the kiosk, for whoever must
// not take the screen away from them (fengqiao-updater, which restarts
// kioskd and the UI when it installs).
type ScreenStatus struct {
	// InUse is true while the UI's last mark runs (Until) or a mediator is
	// signed in.
	InUse bool `json:"in_use"`
	// Until is when the mark the UI set last runs out (POST
	// /v1/screen/in-use); absent when no mark runs.
	Until *time.Time `json:"until,omitempty"`
	// MediatorSessions is how many mediator sessions are live (not signed
	// out, not lapsed).
	MediatorSessions int `json:"mediator_sessions"`
}

// MaxInUseSeconds bounds one mark of POST /v1/screen/in-use: a UI that
// set a mark and died frees the kiosk after at most this long.
const MaxInUseSeconds = 3600

// InUseRequest is the body of POST /v1/screen/in-use: someone is using the
// screen for the next Seconds (the UI's own reset time, and a margin); 0
// says nobody is any longer.
type InUseRequest struct {
	Seconds int `json:"seconds"`
}

// ControlStatus is the township's remote configuration of the kiosk.
type ControlStatus struct {
	// ContentVersion is the version of the township bundle in force, 0 for
	// the site file alone. The screen reloads the menu when it changes.
	ContentVersion uint64 `json:"content_version"`
	// Last is the outcome of the last bundle received, if any: its version
	// and status (applied, rejected, rolled_back) with the reason.
	Last *ControlOutcome `json:"last,omitempty"`
}

// ControlOutcome is what became of one bundle.
type ControlOutcome struct {
	Version uint64    `json:"version"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}

// Reader states in ReaderStatus.
const (
	ReaderDisabled   = "disabled"   // the board has no reader
	ReaderConnecting = "connecting" // opening the port, or reopening it after a fault
	ReaderReady      = "ready"      // answering; polling for cards
	ReaderFailed     = "failed"     // not answering; retrying with backoff
)

// ReaderStatus is the health of the ID-card reader.
type ReaderStatus struct {
	State     string    `json:"state"`
	Device    string    `json:"device,omitempty"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	Reads     uint64    `json:"reads"` // cards read since start
}

// Card event kinds.
const (
	CardRead    = "card"    // a card was placed and read
	CardRemoved = "removed" // the card left the reader
)

// CardEvent is one event of the ID-card reader (GET /v1/idcard/events).
type CardEvent struct {
	Seq  uint64       `json:"seq"`
	Kind string       `json:"kind"`
	At   time.Time    `json:"at"`
	Card *CardSummary `json:"card,omitempty"`
}

// CardEvents is the body of GET /v1/idcard/events. Next is the cursor for
// the following poll (the seq of the last event, or the one passed in).
type CardEvents struct {
	Events []CardEvent `json:"events"`
	Next   uint64      `json:"next"`
}

// CardSummary is what a screen may show of a card. The full ID number never
// leaves kioskd: a request that needs it passes Token instead, and kioskd
// puts the number into the record itself.
type CardSummary struct {
	Token    string `json:"token"` // single use, valid for a few minutes
	Type     string `json:"type"`  // resident | hkmotw | foreigner | foreigner2023
	Name     string `json:"name"`
	Sex      string `json:"sex"` // 男 / 女 / 未知
	IDMasked string `json:"id_masked"`
	Expired  bool   `json:"expired"`
}

// BrokerStatus is the state of the link to the township broker.
type BrokerStatus struct {
	State     string    `json:"state"` // connected | connecting | disconnected
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
}

// QueueStatus describes records waiting for the township.
type QueueStatus struct {
	Depth        int        `json:"depth"`
	OldestAt     *time.Time `json:"oldest_at,omitempty"` // commit time of the oldest waiting record
	DeadLetters  int        `json:"dead_letters"`
	LastDelivery *time.Time `json:"last_delivery,omitempty"`
	Bytes        int64      `json:"bytes"` // stored, waiting and dead
	Quota        int64      `json:"quota"`
	FileBytes    int64      `json:"file_bytes"`
	Evicted      uint64     `json:"evicted"` // telemetry dropped at the quota, ever
}

// DeadLetter is a record set aside because it could not be delivered
// (GET /v1/outbox/dead). It stays on the kiosk until requeued.
type DeadLetter struct {
	Seq      uint64    `json:"seq"`
	Type     string    `json:"type"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// DeadLetters is the body of GET /v1/outbox/dead.
type DeadLetters struct {
	DeadLetters []DeadLetter `json:"dead_letters"`
}

// Platform ids of the "513" model, in display order.
const (
	PlatformInPerson = "in_person"
	PlatformOnline   = "online"
	PlatformHotline  = "hotline"
)

// Menu is the body of GET /v1/menu.
type Menu struct {
	KioskName string    `json:"kiosk_name"`
	Services  []Service `json:"services"`
	Advisor   Advisor   `json:"advisor"`
	Topics    []string  `json:"topics"`
	Content   Content   `json:"content"`
	// Panel is the screen the UI draws on (board profile screen); absent
	// from a kioskd older than it, and then the UI sizes for pixels.
	Panel *Panel `json:"panel,omitempty"`
	// IdleSeconds: an untouched screen returns home after this long (site
	// config ui.idle).
	IdleSeconds int `json:"idle_seconds"`
	// Voice: each new screen speaks its question on its own, and the
	// screen greets whoever wakes it (site config ui.voice, default on).
	Voice bool `json:"voice"`
	// BookingLookup is the township's booking lookup page with
	// LookupNumber where the number goes (site config
	// content.booking_lookup); empty when the site has none, and then no
	// receipt or done screen carries a QR code.
	BookingLookup string `json:"booking_lookup,omitempty"`
	// MediatorIdleSeconds replaces IdleSeconds while a mediator is signed
	// in (site config ui.mediator_idle).
	MediatorIdleSeconds int `json:"mediator_idle_seconds"`
	// Wording are the site's corrections of the screens' texts, by
	// catalogue key (site config content.wording; kiosk-ui/wording):
	// only the keys the site changes, each already checked by kioskd.
	Wording map[string]string `json:"wording,omitempty"`
}

// Panel is the kiosk's screen as villagers see it: pixels, and the visible
// diagonal in inches when the board profile gives it (0: unknown), from
// which the UI sizes type in points and targets in millimetres.
type Panel struct {
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Diagonal float64 `json:"diagonal_in,omitempty"`
}

// LookupNumber marks where Menu.BookingLookup takes the booking number.
const LookupNumber = "{number}"

// LookupURL is the lookup page of booking number in template (a
// Menu.BookingLookup), "" for no template. kioskd prints the same link on
// the receipt, so the screen and the paper agree.
func LookupURL(template, number string) string {
	if template == "" {
		return ""
	}
	return strings.ReplaceAll(template, LookupNumber, url.QueryEscape(number))
}

// Service is one of the five "513" services.
type Service struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary"`
	Bookable  bool       `json:"bookable"`
	Platforms []Platform `json:"platforms"`
}

// Platform says how to reach a service on one of the three platforms.
type Platform struct {
	ID   string `json:"id"`
	Name string `json:"name"` // 实体 / 网络 / 热线, the plan's words; the screen heads its tiles with its own (platform.* of kiosk-ui/wording)
	How  string `json:"how"`
	// URL is the service's page in the 闽事理 mini-program, on the online
	// platform only, when the site gives one (https): the screen shows it
	// as a QR code.
	URL string `json:"url,omitempty"`
}

// Advisor is the village legal advisor.
type Advisor struct {
	Name  string   `json:"name"`
	Firm  string   `json:"firm"`
	Phone string   `json:"phone"`
	Duty  []string `json:"duty"` // human-readable windows, e.g. "周二、周五 09:00–12:00"
}

// Slots is the body of GET /v1/slots?service=ID.
type Slots struct {
	Service string      `json:"service"`
	Slots   []time.Time `json:"slots"`
}

// BookingRequest is the body of POST /v1/bookings.
type BookingRequest struct {
	Service string `json:"service"`
	Topic   string `json:"topic"`
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Slot    string `json:"slot"` // RFC 3339
	// Card is a CardSummary token: the booking is made with the card's name
	// and ID number, and Name may be left empty.
	Card string `json:"card,omitempty"`
	// Checkup carries the answers of a legal check-up (service
	// legal-checkup), so the advisor knows what to prepare.
	Checkup []CheckupAnswer `json:"checkup,omitempty"`
}

// Booking is the body of a 201 answer to POST /v1/bookings. The phone number
// comes back masked: the screen has no need of the full one.
type Booking struct {
	ID      string    `json:"id"`
	Seq     uint64    `json:"seq"`
	Number  string    `json:"number"` // what the villager quotes: short, per kiosk
	Service string    `json:"service"`
	Topic   string    `json:"topic"`
	Name    string    `json:"name"`
	Phone   string    `json:"phone"`
	Slot    time.Time `json:"slot"`
	Created time.Time `json:"created"`
	Advisor string    `json:"advisor"`
	// IDMasked is set when the booking was made with an ID card.
	IDMasked string `json:"id_masked,omitempty"`
}
