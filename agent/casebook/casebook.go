// Package casebook owns the kiosk's own record of its mediation cases: the
// cases booked by villagers or opened by a mediator, the sessions held on
// each, the follow-up visits (回访) due and done, and the booking counters the
// indicators are computed from; and the mediators' unsaved session forms
// (drafts.go), kept for a week so a sign-out does not lose them.
//
// The outbox forgets a record once the township has it; the case book keeps
// the case, because the village mediator needs it for the next session and
// the follow-up visit months later. It is a bbolt file (cases.db) of its own,
// and every case is sealed at rest with the kiosk's key (AES-GCM, the same
// key as the outbox): a case holds names, phones and ID numbers.
//
// The types below are the stored form, sealed in cases.db as JSON: a kiosk
// upgraded in the field reads the book its old version wrote, so they are
// the case book's own and change only with a migration. The local API's
// case types (apitype) and the township's records (agent/schema) are built
// from them by the core's conversions; testdata/case.json pins the form.
package casebook

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/internal/sealbox"
)

// Errors returned by the case book. Callers compare with errors.Is.
var (
	// ErrNotFound means there is no case with that id.
	ErrNotFound = errors.New("casebook: no such case")
	// ErrNoFollowUp means the case has no follow-up visit waiting.
	ErrNoFollowUp = errors.New("casebook: no follow-up visit is due on this case")
	// ErrLocked means another process holds the file.
	ErrLocked = errors.New("casebook: file is locked by another process")
	// ErrBadKey means the file was written with another key.
	ErrBadKey = errors.New("casebook: wrong or malformed key")
	// ErrCorrupt means a stored case cannot be read back.
	ErrCorrupt = errors.New("casebook: stored case is damaged")
)

// File is the case book's name in the data directory.
const File = "cases.db"

// Origins of a case.
const (
	OriginBooking = "booking" // a villager booked a mediation at the kiosk
	OriginWalkIn  = "walk_in" // a mediator opened it with no booking
)

var (
	bucketCases = []byte("cases")
	bucketMeta  = []byte("meta")

	metaCreated  = []byte("created")
	metaWalkIns  = []byte("walk_ins")
	metaKeyCheck = []byte("key_check")
	// metaBookings prefixes a per-service booking counter, kept before
	// bookings were counted in the outbox with the record (one commit per
	// booking instead of two); still read and added to the outbox's count.
	metaBookings = "bookings/"
)

// Party is a person in a case, in full: the case book is where the mediator
// finds whom to call. Only the sealed file ever holds it.
type Party struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDMasked string `json:"id_masked,omitempty"`
}

// Statuses of a case as stored.
const (
	StatusBooked   = "booked"   // from a villager's booking; no session yet
	StatusOpen     = "open"     // a session held, not settled
	StatusSettled  = "settled"  // settled; follow-ups may be due
	StatusReferred = "referred" // referred upward
)

// Outcomes of a session as stored.
const (
	OutcomeSettled   = "settled"
	OutcomeUnsettled = "unsettled"
	OutcomeReferred  = "referred"
)

// Case is one mediation case as stored.
type Case struct {
	ID        string      `json:"id"`
	Number    string      `json:"number"`
	Origin    string      `json:"origin"`
	Status    string      `json:"status"`
	Category  string      `json:"category"`
	Line      string      `json:"line,omitempty"`
	Venue     Venue       `json:"venue"`   // zero for a walk-in case opened without one
	Parties   []Party     `json:"parties"` // the applicant first
	Slots     []time.Time `json:"slots,omitempty"`
	Opened    time.Time   `json:"opened"`
	Sessions  []Session   `json:"sessions"`
	FollowUps []FollowUp  `json:"follow_ups"`
}

// Venue is where a case is mediated, as it was named when the case opened:
// a venue later renamed or dropped from the site config stays as it was.
type Venue struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Where string `json:"where"`
}

// Mediator is who held a session.
type Mediator struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Session is one mediation session held on a case.
type Session struct {
	ID        string    `json:"id"` // the mediation_session record's id
	Seq       uint64    `json:"seq"`
	Mediator  Mediator  `json:"mediator"`
	Held      time.Time `json:"held"`
	Category  string    `json:"category"`
	Line      string    `json:"line"`
	Phrases   []string  `json:"phrases"`
	Note      string    `json:"note,omitempty"`
	Outcome   string    `json:"outcome"`
	Agreement bool      `json:"agreement"`
	FollowUp  string    `json:"follow_up,omitempty"` // 2006-01-02, site time
	Escalated bool      `json:"escalated"`           // an escalation record went to the township
}

// FollowUp is a 回访 visit: due on a date, done at a time.
type FollowUp struct {
	Due     string     `json:"due"` // 2006-01-02, site time
	Session string     `json:"session"`
	Done    *time.Time `json:"done,omitempty"`
	OnTime  bool       `json:"on_time"`
	Note    string     `json:"note,omitempty"`
}

// KeyFile is the case book's own key in the data directory: not the
// outbox's, so that the records on their way to the township and the
// mediators' case files are protected apart.
const KeyFile = "cases.key"

// Options configure Open.
type Options struct {
	Path string
	Key  []byte // the book's AES-256 key (outbox.LoadOrCreateKey on KeyFile)
	// FormerKeys are keys the book may have been sealed with before it had
	// a key of its own (the outbox's): a book that opens with one of them
	// is sealed again with Key, in one transaction, at Open.
	FormerKeys [][]byte
	// Verify checks the file before it is opened (kioskd: bbolt's
	// consistency check in a child process, since bbolt can panic in
	// goroutines of its own on a damaged file). damaged means the file is
	// beyond use: Open moves it aside, keeps it for salvage and starts an
	// empty book (Recovered says so). Any other error stops Open. Nil: no
	// check.
	Verify   func(path string) (damaged bool, err error)
	Location *time.Location
	Log      *slog.Logger
	Now      func() time.Time
}

// Recovery reports a book that was found damaged at Open and moved aside.
type Recovery struct {
	MovedTo string
	Reason  string
}

// Book is an open case book. Its methods are safe for concurrent use.
type Book struct {
	db        *bbolt.DB
	box       *sealbox.Box
	opts      Options
	commits   atomic.Uint64 // write transactions committed since Open
	recovered *Recovery
}

// Recovered reports whether Open found the book damaged and replaced it.
func (b *Book) Recovered() *Recovery { return b.recovered }

// update is the one way the book writes: one transaction, counted.
func (b *Book) update(fn func(*bbolt.Tx) error) error {
	err := b.db.Update(fn)
	if err == nil {
		b.commits.Add(1)
	}
	return err
}

// Commits is the write transactions committed since Open, each with its
// own fsync: what a request that touches the book costs on disk.
func (b *Book) Commits() uint64 { return b.commits.Load() }

// keyCheckPlain is sealed into the meta bucket at creation, so a key that
// does not match is noticed at Open and not at the first case read.
var keyCheckPlain = []byte("fengqiao casebook v1")

// Open opens or creates the case book at opts.Path.
func Open(opts Options) (*Book, error) {
	box, err := sealbox.New(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	rec, err := verify(opts)
	if err != nil {
		return nil, err
	}
	db, err := bbolt.Open(opts.Path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, opts.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("casebook: open %s: %w", opts.Path, err)
	}
	b := &Book{db: db, box: box, opts: opts, recovered: rec}
	if rec != nil {
		opts.Log.Error("case book was damaged; moved aside and started an empty one", "moved_to", rec.MovedTo, "reason", rec.Reason)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketCases); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if check := meta.Get(metaKeyCheck); check != nil {
			if _, err := box.Open(check, metaKeyCheck); err == nil {
				return nil
			}
			return b.reseal(tx)
		}
		if err := meta.Put(metaCreated, []byte(opts.Now().UTC().Format(time.RFC3339Nano))); err != nil {
			return err
		}
		return meta.Put(metaKeyCheck, box.Seal(nil, keyCheckPlain, metaKeyCheck))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("casebook: open %s: %w", opts.Path, err)
	}
	if err := b.sweepDrafts(); err != nil {
		db.Close()
		return nil, fmt.Errorf("casebook: open %s: sweep drafts: %w", opts.Path, err)
	}
	opts.Log.Info("case book open", "path", opts.Path)
	return b, nil
}

// verify runs opts.Verify on an existing file and moves a damaged one
// aside, never deleting it: a technician may salvage cases from it.
func verify(opts Options) (*Recovery, error) {
	fi, err := os.Stat(opts.Path)
	if opts.Verify == nil || err != nil || fi.Size() == 0 {
		return nil, nil
	}
	damaged, err := opts.Verify(opts.Path)
	if !damaged {
		return nil, err
	}
	aside := opts.Path + ".corrupt-" + opts.Now().UTC().Format("20060102T150405.000Z")
	if rerr := os.Rename(opts.Path, aside); rerr != nil {
		return nil, fmt.Errorf("casebook: move damaged book aside: %w (it was: %v)", rerr, err)
	}
	if d, derr := os.Open(filepath.Dir(opts.Path)); derr == nil {
		d.Sync()
		d.Close()
	}
	reason := "damaged"
	if err != nil {
		reason = err.Error()
	}
	return &Recovery{MovedTo: aside, Reason: reason}, nil
}

// reseal seals every case again with the book's key, for a book written
// with one of its former keys, inside tx: a crash half-way leaves it as
// it was, and the next Open does it again.
func (b *Book) reseal(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	var former *sealbox.Box
	for _, k := range b.opts.FormerKeys {
		box, err := sealbox.New(k)
		if err != nil {
			continue
		}
		if _, err := box.Open(meta.Get(metaKeyCheck), metaKeyCheck); err == nil {
			former = box
			break
		}
	}
	if former == nil {
		return fmt.Errorf("%w: %s was written with another key", ErrBadKey, b.opts.Path)
	}
	cases := tx.Bucket(bucketCases)
	resealed := map[string][]byte{}
	err := cases.ForEach(func(k, v []byte) error {
		plain, err := former.Open(v, caseAD(string(k)))
		if err != nil {
			return fmt.Errorf("%w: case %s: %v", ErrCorrupt, k, err)
		}
		resealed[string(k)] = b.box.Seal(nil, plain, caseAD(string(k)))
		return nil
	})
	if err != nil {
		return err
	}
	for k, v := range resealed {
		if err := cases.Put([]byte(k), v); err != nil {
			return err
		}
	}
	// Drafts too: under the old key they would no longer open, and the next
	// save would drop them as unreadable.
	drafts := 0
	if bk := tx.Bucket(bucketDrafts); bk != nil {
		redrafted := map[string][]byte{}
		err := bk.ForEach(func(k, v []byte) error {
			plain, err := former.Open(v, draftAD(k))
			if err != nil {
				return fmt.Errorf("%w: draft %s: %v", ErrCorrupt, k, err)
			}
			redrafted[string(k)] = b.box.Seal(nil, plain, draftAD(k))
			return nil
		})
		if err != nil {
			return err
		}
		for k, v := range redrafted {
			if err := bk.Put([]byte(k), v); err != nil {
				return err
			}
		}
		drafts = len(redrafted)
	}
	b.opts.Log.Info("case book sealed with its own key", "cases", len(resealed), "drafts", drafts)
	return meta.Put(metaKeyCheck, b.box.Seal(nil, keyCheckPlain, metaKeyCheck))
}

// Close closes the file.
func (b *Book) Close() error { return b.db.Close() }

// caseAD binds a sealed case to its key, so a value copied to another key
// does not open.
func caseAD(id string) []byte { return []byte("case/" + id) }

func (b *Book) put(tx *bbolt.Tx, c *Case) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("casebook: encode case %s: %w", c.ID, err)
	}
	return tx.Bucket(bucketCases).Put([]byte(c.ID), b.box.Seal(nil, raw, caseAD(c.ID)))
}

func (b *Book) get(tx *bbolt.Tx, id string) (*Case, error) {
	v := tx.Bucket(bucketCases).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return b.decode(id, v)
}

func (b *Book) decode(id string, v []byte) (*Case, error) {
	raw, err := b.box.Open(v, caseAD(id))
	if err != nil {
		return nil, fmt.Errorf("%w: case %s: %v", ErrCorrupt, id, err)
	}
	var c Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: case %s: %v", ErrCorrupt, id, err)
	}
	return &c, nil
}

// Add stores a new case. An empty ID gets a fresh UUIDv7; an empty Number
// gets the next walk-in number (W0001, ...) — booked cases carry the
// booking's number, the one the villager was given.
func (b *Book) Add(c Case) (Case, error) {
	if c.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Case{}, fmt.Errorf("casebook: new id: %w", err)
		}
		c.ID = id.String()
	}
	if c.Opened.IsZero() {
		c.Opened = b.opts.Now()
	}
	if c.Sessions == nil {
		c.Sessions = []Session{}
	}
	if c.FollowUps == nil {
		c.FollowUps = []FollowUp{}
	}
	err := b.update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketCases).Get([]byte(c.ID)) != nil {
			return fmt.Errorf("casebook: case %s already exists", c.ID)
		}
		if c.Number == "" {
			n, err := increment(tx.Bucket(bucketMeta), metaWalkIns)
			if err != nil {
				return err
			}
			c.Number = fmt.Sprintf("W%04d", n)
		}
		return b.put(tx, &c)
	})
	if err != nil {
		return Case{}, fmt.Errorf("casebook: add case: %w", err)
	}
	return c, nil
}

// Get returns one case.
func (b *Book) Get(id string) (Case, error) {
	var c *Case
	err := b.db.View(func(tx *bbolt.Tx) error {
		var err error
		c, err = b.get(tx, id)
		return err
	})
	if err != nil {
		return Case{}, err
	}
	return *c, nil
}

// List returns every case, the most recently opened first. A village has
// tens of cases a year, so reading them all is cheap.
func (b *Book) List() ([]Case, error) {
	var out []Case
	err := b.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
			c, err := b.decode(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, *c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("casebook: list: %w", err)
	}
	slices.SortFunc(out, func(a, b Case) int { return b.Opened.Compare(a.Opened) })
	return out, nil
}

// AddSession records a session held on a case: the parties present join the
// case, the case takes the session's category, line and outcome, a settled
// session with a follow-up date schedules that visit, and the mediator's
// draft of it is dropped.
func (b *Book) AddSession(caseID string, s Session, parties []Party) (Case, error) {
	var out Case
	err := b.update(func(tx *bbolt.Tx) error {
		c, err := b.get(tx, caseID)
		if err != nil {
			return err
		}
		c.Parties = MergeParties(c.Parties, parties)
		c.Sessions = append(c.Sessions, s)
		c.Category, c.Line = s.Category, s.Line
		c.Status = statusOf(s.Outcome)
		if s.Outcome == OutcomeSettled && s.FollowUp != "" {
			c.FollowUps = append(c.FollowUps, FollowUp{Due: s.FollowUp, Session: s.ID})
		}
		out = *c
		// The mediator's draft of this session, if any, is now the
		// session: dropped in the same commit, so it cannot come back.
		if drafts := tx.Bucket(bucketDrafts); drafts != nil {
			if err := drafts.Delete(draftKey(s.Mediator.ID, caseID)); err != nil {
				return err
			}
		}
		return b.put(tx, c)
	})
	if err != nil {
		return Case{}, fmt.Errorf("casebook: add session: %w", err)
	}
	return out, nil
}

func statusOf(outcome string) string {
	switch outcome {
	case OutcomeSettled:
		return StatusSettled
	case OutcomeReferred:
		return StatusReferred
	}
	return StatusOpen
}

// MergeParties adds to a case's parties those of more it does not have yet.
func MergeParties(parties, more []Party) []Party {
	out := slices.Clone(parties)
	for _, p := range more {
		if !slices.ContainsFunc(out, p.same) {
			out = append(out, p)
		}
	}
	return out
}

// same reports whether two parties are one person: by ID number when both
// came from a card, else by name and phone.
func (p Party) same(q Party) bool {
	if p.IDNumber != "" && q.IDNumber != "" {
		return p.IDNumber == q.IDNumber
	}
	return p.Name == q.Name && p.Phone == q.Phone
}

// FollowUpDone marks the case's earliest waiting follow-up visit done now;
// it is on time when done on or before its date, in site time.
func (b *Book) FollowUpDone(caseID, note string) (Case, FollowUp, error) {
	now := b.opts.Now()
	var (
		out  Case
		done FollowUp
	)
	err := b.update(func(tx *bbolt.Tx) error {
		c, err := b.get(tx, caseID)
		if err != nil {
			return err
		}
		i := nextFollowUp(c.FollowUps)
		if i < 0 {
			return fmt.Errorf("%w: case %s", ErrNoFollowUp, caseID)
		}
		f := &c.FollowUps[i]
		f.Done, f.Note = &now, note
		f.OnTime = now.In(b.opts.Location).Format(time.DateOnly) <= f.Due
		done, out = *f, *c
		return b.put(tx, c)
	})
	if err != nil {
		return Case{}, FollowUp{}, fmt.Errorf("casebook: follow-up: %w", err)
	}
	return out, done, nil
}

// nextFollowUp is the index of the earliest visit not yet done, or -1.
func nextFollowUp(fs []FollowUp) int {
	best := -1
	for i, f := range fs {
		if f.Done == nil && (best < 0 || f.Due < fs[best].Due) {
			best = i
		}
	}
	return best
}

// NextFollowUp is the date of the case's earliest visit not yet done.
func (c *Case) NextFollowUp() (string, bool) {
	if i := nextFollowUp(c.FollowUps); i >= 0 {
		return c.FollowUps[i].Due, true
	}
	return "", false
}

func increment(meta *bbolt.Bucket, key []byte) (uint64, error) {
	var n uint64
	if v := meta.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, meta.Put(key, binary.BigEndian.AppendUint64(nil, n))
}

// Indicators are the plan's mediation indicators, computed from the book.
// A rate is nil when its denominator is zero.
type Indicators struct {
	Sessions          int
	CasesClosed       int // settled + referred
	Settled           int
	WithOutcome       int      // cases with at least one session
	SuccessRate       *float64 // settled / cases with an outcome
	FollowUpsDue      int      // visits waiting, as Waiting lists them
	FollowUpsOverdue  int      // of those, past their date, as Waiting counts them
	FollowUpsDone     int
	FollowUpsOnTime   int
	OnTimeRate        *float64 // on time / (done + overdue)
	BookingsByService map[string]int
	Since             time.Time // when the book was created
}

// WaitingVisit is a follow-up visit not yet done, with its case.
type WaitingVisit struct {
	Case     Case
	FollowUp FollowUp
}

// Waiting lists the follow-up visits not yet done, in the cases' order,
// and counts those overdue on day today (2006-01-02, site time). The
// follow-ups list and the indicators both count with it, on the same day:
// the two screens a mediator compares cannot disagree.
func Waiting(cases []Case, today string) (waiting []WaitingVisit, overdue int) {
	for _, c := range cases {
		for _, f := range c.FollowUps {
			if f.Done != nil {
				continue
			}
			waiting = append(waiting, WaitingVisit{Case: c, FollowUp: f})
			if f.Due < today {
				overdue++
			}
		}
	}
	return waiting, overdue
}

// Indicators computes the plan's mediation indicators from the whole book,
// on day today (2006-01-02, site time; the caller's, so that the same day
// counts the follow-ups list). A case's outcome is its latest session's; an
// unsettled case stays open, so it counts against the success rate but not
// as closed.
func (b *Book) Indicators(today string) (Indicators, error) {
	cases, err := b.List()
	if err != nil {
		return Indicators{}, err
	}
	ind := Indicators{BookingsByService: map[string]int{}}
	for _, c := range cases {
		ind.Sessions += len(c.Sessions)
		if n := len(c.Sessions); n > 0 {
			ind.WithOutcome++
			switch c.Sessions[n-1].Outcome {
			case OutcomeSettled:
				ind.Settled++
				ind.CasesClosed++
			case OutcomeReferred:
				ind.CasesClosed++
			}
		}
		for _, f := range c.FollowUps {
			if f.Done != nil {
				ind.FollowUpsDone++
				if f.OnTime {
					ind.FollowUpsOnTime++
				}
			}
		}
	}
	waiting, overdue := Waiting(cases, today)
	ind.FollowUpsDue, ind.FollowUpsOverdue = len(waiting), overdue
	ind.SuccessRate = rate(ind.Settled, ind.WithOutcome)
	ind.OnTimeRate = rate(ind.FollowUpsOnTime, ind.FollowUpsDone+overdue)
	err = b.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if t, err := time.Parse(time.RFC3339Nano, string(meta.Get(metaCreated))); err == nil {
			ind.Since = t
		}
		c := meta.Cursor()
		prefix := []byte(metaBookings)
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), metaBookings); k, v = c.Next() {
			if len(v) == 8 {
				ind.BookingsByService[strings.TrimPrefix(string(k), metaBookings)] = int(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	return ind, err
}

// rate is n/d, or nil when d is zero: "no cases yet" is not a 0% rate.
func rate(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}
