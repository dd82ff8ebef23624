// Package points owns the 美德银行 (virtue bank) points on the kiosk
// (issue 20 item 3, docs/points.md): the ledger format the township signs
// as a points-ledger bundle (fengqiao.points-ledger/v1), the account keys
// that let the kiosk find a villager's account from a card tap without the
// ledger naming anyone (key.go), and the book that keeps the ledger in force
// sealed on disk, answers the screen and holds the one account view a
// screen may read again (book.go).
//
// The package verifies nothing about who sent a ledger: agent/bundle checks
// the signature, target and time, and kioskd hands the content here.
package points

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode/utf8"
)

// Format is the ledger's schema marker. A change a v1 kiosk would misread
// gets a new one.
const Format = "fengqiao.points-ledger/v1"

// Limits of a ledger. The account and entry counts bound what a kiosk
// holds in memory; the text limits are what the screen shows in one line.
// A bundle carrying a ledger is also bounded by bundle.MaxEnvelopeSize
// (the township broker's max_packet_size): docs/points.md measures what
// fits.
const (
	MaxAccounts = 20000
	MaxEntries  = 20 // recent entries kept per account, newest first
	MaxReason   = 40 // characters
	MaxOffers   = 60
	MaxRules    = 60
	MaxName     = 40 // characters, of an offer's name
	MaxRuleText = 80 // characters
	MaxWhere    = 80 // characters
	MaxVillage  = 40 // characters
	// MaxPoints bounds any one number of points (a balance, an entry, a
	// price): far above what a village gives, far below overflow.
	MaxPoints = 1_000_000
	// MaxDecoded bounds the ledger's JSON once decompressed: a gzip of a
	// few hundred KiB must not unpack into gigabytes. 3,000 accounts of 20
	// entries with 40-character reasons are about 10 MiB.
	MaxDecoded = 24 << 20
)

// Reasons a ledger is not taken. Each leaves the ledger in force as it was.
var (
	// ErrBadLedger means the content is not a valid points-ledger/v1
	// ledger.
	ErrBadLedger = errors.New("points: not a valid " + Format + " ledger")
	// ErrKeyMismatch means the ledger's accounts are keyed with another
	// points key than this kiosk's: none of its villagers would be found.
	ErrKeyMismatch = errors.New("points: the ledger is keyed with another points key")
	// ErrReplay means the ledger's version is the one in force: a
	// retained ledger delivered again at a reconnect, harmless.
	ErrReplay = errors.New("points: ledger already in force")
	// ErrStale means the ledger's version is below the one in force.
	ErrStale = errors.New("points: ledger older than the one in force")
	// ErrVersion means the ledger's own version is not the version of the
	// bundle that carries it: content signed for one bundle put in another.
	ErrVersion = errors.New("points: the ledger's version is not its bundle's")
)

// Ledger is one village's points as the township exported them. It names
// no one: accounts are keyed by AccountKey.
type Ledger struct {
	Format  string `json:"format"`
	Village string `json:"village"`
	// Version is the version of the bundle that carries it (the township's
	// signing counter), so the ledger on disk says which bundle it was.
	Version uint64 `json:"version"`
	// AsOf is when the village's ledger was exported: balances are as of
	// then.
	AsOf time.Time `json:"as_of"`
	// Month the offers are for, "2026-12".
	Month  string  `json:"month"`
	Offers []Offer `json:"offers"`
	Rules  []Rule  `json:"rules"`
	Where  string  `json:"where,omitempty"`
	// KeyID names the points key the accounts are keyed with (KeyID).
	KeyID    string             `json:"key_id"`
	Accounts map[string]Account `json:"accounts"`
}

// Offer is an item of this month's points shop.
type Offer struct {
	Name      string `json:"name"`
	Points    int    `json:"points"`
	Pictogram string `json:"pictogram,omitempty"`
	Stock     *int   `json:"stock,omitempty"`
}

// Rule is a way to earn or lose points.
type Rule struct {
	Text   string `json:"text"`
	Points int    `json:"points"`
}

// Account is one villager's balance and recent entries, newest first.
type Account struct {
	Balance int     `json:"balance"`
	Entries []Entry `json:"entries"`
}

// Entry is one line of an account.
type Entry struct {
	Date   string `json:"date"` // YYYY-MM-DD
	Points int    `json:"points"`
	Reason string `json:"reason"`
}

var (
	monthRe     = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	keyIDRe     = regexp.MustCompile(`^[0-9a-f]{16}$`)
	accountRe   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	pictogramRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
)

func text(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max
}

func inRange(p int) bool { return p >= -MaxPoints && p <= MaxPoints }

// Check says whether l is a valid ledger, naming the first problem.
func (l *Ledger) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadLedger}, a...)...)
	}
	switch {
	case l.Format != Format:
		return bad("format %.40q, want %q", l.Format, Format)
	case l.Village == "" || !text(l.Village, MaxVillage):
		return bad("village must be 1 to %d characters", MaxVillage)
	case l.Version == 0:
		return bad("version is required")
	case l.AsOf.IsZero():
		return bad("as_of is required")
	case !monthRe.MatchString(l.Month):
		return bad("month %.20q is not YYYY-MM", l.Month)
	case !keyIDRe.MatchString(l.KeyID):
		return bad("key_id %.40q is not 16 lower-case hex digits", l.KeyID)
	case !text(l.Where, MaxWhere):
		return bad("where is longer than %d characters", MaxWhere)
	case len(l.Offers) > MaxOffers:
		return bad("%d offers, at most %d", len(l.Offers), MaxOffers)
	case len(l.Rules) > MaxRules:
		return bad("%d rules, at most %d", len(l.Rules), MaxRules)
	case len(l.Accounts) > MaxAccounts:
		return bad("%d accounts, at most %d", len(l.Accounts), MaxAccounts)
	}
	for i, o := range l.Offers {
		switch {
		case o.Name == "" || !text(o.Name, MaxName):
			return bad("offers[%d].name must be 1 to %d characters", i, MaxName)
		case o.Points <= 0 || o.Points > MaxPoints:
			return bad("offers[%d].points %d is not in [1, %d]", i, o.Points, MaxPoints)
		case o.Pictogram != "" && !pictogramRe.MatchString(o.Pictogram):
			return bad("offers[%d].pictogram %.40q is not a pictogram id", i, o.Pictogram)
		case o.Stock != nil && (*o.Stock < 0 || *o.Stock > MaxPoints):
			return bad("offers[%d].stock %d is not in [0, %d]", i, *o.Stock, MaxPoints)
		}
	}
	for i, r := range l.Rules {
		switch {
		case r.Text == "" || !text(r.Text, MaxRuleText):
			return bad("rules[%d].text must be 1 to %d characters", i, MaxRuleText)
		case r.Points == 0 || !inRange(r.Points):
			return bad("rules[%d].points %d is 0 or out of range", i, r.Points)
		}
	}
	for k, a := range l.Accounts {
		// An account is not named, not even by a part of its key: refusals
		// are logged and reported over MQTT, and account keys stay out of
		// both. The township's kioskctl names the export's line instead.
		if !accountRe.MatchString(k) {
			return bad("an account key is not 64 lower-case hex digits")
		}
		if err := a.check(); err != nil {
			return bad("an account: %v", err)
		}
	}
	return nil
}

func (a Account) check() error {
	switch {
	case !inRange(a.Balance):
		return fmt.Errorf("balance %d is out of range", a.Balance)
	case len(a.Entries) > MaxEntries:
		return fmt.Errorf("%d entries, at most %d (the newest)", len(a.Entries), MaxEntries)
	}
	for i, e := range a.Entries {
		if err := e.Check(); err != nil {
			return fmt.Errorf("entries[%d]: %w", i, err)
		}
		if i > 0 && e.Date > a.Entries[i-1].Date {
			return fmt.Errorf("entries[%d]: %s is after the entry before it; entries are newest first", i, e.Date)
		}
	}
	return nil
}

// Check says whether e is a valid entry.
func (e Entry) Check() error {
	if _, err := time.Parse(time.DateOnly, e.Date); err != nil || len(e.Date) != len(time.DateOnly) {
		// Not quoted: a column out of place may hold an ID number.
		return fmt.Errorf("date is not YYYY-MM-DD (%d characters)", len(e.Date))
	}
	switch {
	case e.Points == 0 || !inRange(e.Points):
		return fmt.Errorf("points %d is 0 or out of range", e.Points)
	case e.Reason == "" || !text(e.Reason, MaxReason):
		return fmt.Errorf("reason must be 1 to %d characters", MaxReason)
	}
	return nil
}

// Encode is the content of a points-ledger bundle: the ledger's compact
// JSON (EncodeJSON), gzipped. Compressed, because a village's ledger is
// mostly the same few reasons and dates over and over, and the whole
// bundle must fit the township broker's max_packet_size (docs/points.md).
func (l *Ledger) Encode() ([]byte, error) {
	js, err := l.EncodeJSON()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	return buf.Bytes(), nil
}

// EncodeJSON is the ledger's JSON as Parse reads it: compact, the format
// set, times in UTC, empty lists as [] (never null), checked.
func (l *Ledger) EncodeJSON() ([]byte, error) {
	c := *l
	c.Format = Format
	c.AsOf = c.AsOf.UTC()
	if c.Offers == nil {
		c.Offers = []Offer{}
	}
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	if c.Accounts == nil {
		c.Accounts = map[string]Account{}
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	for k, a := range c.Accounts {
		if a.Entries == nil {
			a.Entries = []Entry{}
		}
		c.Accounts[k] = a
	}
	js, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	return js, nil
}

// Decode reads a points-ledger bundle's content: gunzipped (at most
// MaxDecoded bytes), then Parse.
func Decode(content []byte) (*Ledger, error) {
	zr, err := gzip.NewReader(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %w", ErrBadLedger, err)
	}
	zr.Multistream(false)
	js, err := io.ReadAll(io.LimitReader(zr, MaxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %w", ErrBadLedger, err)
	}
	if len(js) > MaxDecoded {
		return nil, fmt.Errorf("%w: more than %d bytes once decompressed", ErrBadLedger, MaxDecoded)
	}
	return Parse(js)
}

// Parse reads a ledger's JSON strictly: unknown members, null where an
// object or list is due and trailing data are refused, as a bundle's are.
func Parse(js []byte) (*Ledger, error) {
	var l Ledger
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLedger, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data", ErrBadLedger)
	}
	switch {
	case l.Offers == nil:
		return nil, fmt.Errorf("%w: offers is required (an empty list when the shop is closed)", ErrBadLedger)
	case l.Rules == nil:
		return nil, fmt.Errorf("%w: rules is required", ErrBadLedger)
	case l.Accounts == nil:
		return nil, fmt.Errorf("%w: accounts is required", ErrBadLedger)
	}
	for k, a := range l.Accounts {
		if a.Entries == nil {
			a.Entries = []Entry{}
			l.Accounts[k] = a
		}
	}
	if err := l.Check(); err != nil {
		return nil, err
	}
	// A village's 60,000 entries say the same few dozen reasons: one copy
	// of each is kept, not one per entry, for as long as the ledger is in
	// force.
	reasons := map[string]string{}
	for _, a := range l.Accounts {
		for i, e := range a.Entries {
			if r, ok := reasons[e.Reason]; ok {
				a.Entries[i].Reason = r
			} else {
				reasons[e.Reason] = e.Reason
			}
		}
	}
	return &l, nil
}
