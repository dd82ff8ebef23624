package points

import "time"

// ReportedSchema names the shape of Reported.
const ReportedSchema = "points-reported/v1"

// Reported is a kiosk's report on its points ledger, retained on its
// points/reported topic (docs/points.md), as requests/reported is for
// answers: which ledger is in force, so the township sees that its weekly
// export arrived, and the ledgers refused lately and why.
type Reported struct {
	Schema   string `json:"schema"`
	Kiosk    string `json:"kiosk"`
	Township string `json:"township"`
	// Version is the ledger in force (0: none yet), AsOf its export time.
	Version uint64    `json:"version"`
	AsOf    time.Time `json:"as_of,omitzero"`
	// KeyID is the id of the kiosk's points key ("" without one): a
	// ledger refused as points_key_mismatch was keyed with another.
	KeyID string `json:"key_id,omitempty"`
	// Refused are the last ledgers refused, oldest first, at most
	// MaxRefused; the ledger in force delivered again is not one.
	Refused []Refusal `json:"refused"`
	// Replays counts the ledger in force received again since kioskd
	// started (it is retained, so it comes at every reconnect).
	Replays     uint64    `json:"replays"`
	PublishedAt time.Time `json:"published_at"`
}

// MaxRefused bounds Reported.Refused.
const MaxRefused = 16

// Refusal is a ledger the kiosk did not put in force.
type Refusal struct {
	// Version is the bundle's, once its signature checked out (0 before:
	// an unsigned claim is not repeated).
	Version uint64 `json:"version,omitempty"`
	// Reason is bundle.Reason's code (unknown_key, bad_signature,
	// wrong_target, expired, schema …) or one of the ledger's own:
	// points_key_mismatch, stale, version_mismatch;
	// "storage" when the kiosk could not keep it.
	Reason string    `json:"reason"`
	Error  string    `json:"error"`
	At     time.Time `json:"at"`
}
