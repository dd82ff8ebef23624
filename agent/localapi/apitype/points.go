package apitype

import "time"

// Points is the body of GET /v1/points: the public part of the village's
// 美德银行 (virtue bank) ledger, which the township pushes as a signed
// bundle (issue 20 item 3). Anyone at the screen may see it: this month's
// offers of the points shop and the rules for earning points. No account
// is in it.
type Points struct {
	// Available is false until a ledger has been received: the screen
	// then says the village's points are not on this kiosk yet.
	Available bool   `json:"available"`
	Village   string `json:"village,omitempty"`
	// Version orders ledgers; it changes whenever a newer one is applied,
	// so a screen showing an account can tell that it is out of date.
	Version uint64 `json:"version,omitempty"`
	// AsOf is when the township exported the ledger: balances are as of
	// then ("积分截至 12月5日").
	AsOf *time.Time `json:"as_of,omitempty"`
	// Month is the month the offers are for, "2026-12".
	Month  string        `json:"month,omitempty"`
	Offers []PointsOffer `json:"offers"`
	Rules  []PointsRule  `json:"rules"`
	// Where says where points are spent, e.g. "村委会一楼 积分超市，每周六上午".
	Where string `json:"where,omitempty"`
}

// PointsOffer is one item of the points shop this month.
type PointsOffer struct {
	Name      string `json:"name"`
	Points    int    `json:"points"`
	Pictogram string `json:"pictogram,omitempty"`
	// Stock is how many are left when the ledger was exported; nil when
	// the shop does not count.
	Stock *int `json:"stock,omitempty"`
}

// PointsRule is one way to earn (Points > 0) or lose (< 0) points.
type PointsRule struct {
	Text   string `json:"text"`
	Points int    `json:"points"`
}

// PointsByCard is the body of POST /v1/points/by-card: the token of the ID
// card just tapped. In a body, never a URL.
type PointsByCard struct {
	Card string `json:"card"`
}

// PointsView is the body of POST /v1/points/view: the view handle a
// by-card answer gave, to read the account again from a newer ledger
// without another tap.
type PointsView struct {
	View string `json:"view"`
}

// PointsAccount is the answer of POST /v1/points/by-card and
// POST /v1/points/view: one villager's balance and recent entries, read
// from the ledger numbered Version. A card with no account in the ledger
// answers Found false (not an error): the screen says so and shows the
// public part.
type PointsAccount struct {
	Found bool `json:"found"`
	// Name is the card holder's name as the card gives it, for the
	// greeting; the ledger itself carries no names.
	Name    string        `json:"name,omitempty"`
	Balance int           `json:"balance"`
	Entries []PointsEntry `json:"entries"` // newest first, at most MaxPointsEntries
	Version uint64        `json:"version"`
	AsOf    *time.Time    `json:"as_of,omitempty"`
	// View reads this account again (POST /v1/points/view) until
	// ViewExpires, or until another card is tapped for points. It is an
	// opaque random handle kioskd keeps in memory only.
	View        string    `json:"view"`
	ViewExpires time.Time `json:"view_expires"`
}

// PointsEntry is one line of an account: what for, when, how many.
type PointsEntry struct {
	Date   string `json:"date"` // "2026-11-28", the day the village recorded it
	Points int    `json:"points"`
	Reason string `json:"reason"`
}

// MaxPointsEntries is how many recent entries an account answer carries.
const MaxPointsEntries = 10
