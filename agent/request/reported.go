package request

import "time"

// ReportedSchema names the shape of Reported.
const ReportedSchema = "requests-reported/v1"

// Reported is a kiosk's report on the township's answers, retained on its
// requests/reported topic (docs/requests.md), as config/reported is for
// bundles: which answer is in force for each request, so the township
// sees which of its answers arrived, and the answers refused lately, so it
// sees which did not and why.
type Reported struct {
	Schema   string `json:"schema"`
	Kiosk    string `json:"kiosk"`
	Township string `json:"township"`
	// Answered maps a request's number (00042) to the version of the
	// answer in force.
	Answered map[string]uint64 `json:"answered"`
	// Refused are the last answers refused, oldest first, at most
	// MaxRefused; a replay of the answer in force (a retained answer
	// delivered again at a reconnect) is not one.
	Refused []Refusal `json:"refused"`
	// Replays counts the answers received again with the version in
	// force, since kioskd started: harmless (each answer is retained, so
	// it comes again at every reconnect), counted rather than listed so
	// they do not push real refusals out of Refused.
	Replays uint64 `json:"replays"`
	// PublishedAt is when the kiosk published this report.
	PublishedAt time.Time `json:"published_at"`
}

// MaxRefused bounds Reported.Refused.
const MaxRefused = 16

// Refusal is an answer the kiosk did not apply.
type Refusal struct {
	// Number and Version are the answer's, once its signature checked out
	// ("" and 0 before: an unsigned claim is not repeated).
	Number  string `json:"number,omitempty"`
	Version uint64 `json:"version,omitempty"`
	// Reason is bundle.Reason's code (unknown_key, bad_signature,
	// wrong_target, expired, schema …) or one of the request's own:
	// unknown_request, wrong_request, stale; "storage" when the kiosk
	// could not write it.
	Reason string    `json:"reason"`
	Error  string    `json:"error"`
	At     time.Time `json:"at"`
}
