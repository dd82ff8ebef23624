package points

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/internal/sealbox"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Files in kioskd's data directory.
const (
	// LedgerFile keeps the ledger in force: the bundle's content (the
	// gzipped JSON), sealed with SealKeyFile's key behind a short header.
	LedgerFile = "points-ledger.sealed"
	// VersionFile keeps the highest ledger version ever applied, apart
	// from the ledger: if the ledger file is ever set aside, an older
	// ledger still valid on the broker is not taken back.
	VersionFile = "points-ledger.version"
	// SealKeyFile is the AES key the ledger is sealed with at rest, the
	// kiosk's own (outbox.LoadOrCreateKey), like the case book's.
	SealKeyFile = "points.key.local"
)

// ViewTTL is how long a by-card answer's view handle reads the account
// again: long enough for a villager to look at their balance and the shop,
// short enough that the next villager at the screen does not find it.
const ViewTTL = 3 * time.Minute

// LoadWait bounds how long an API call waits for the ledger kept on disk
// to load after a start (Book.Load, in the background): the local API
// answers within a second whatever the state's size (issue 15).
const LoadWait = 500 * time.Millisecond

// Errors of the book.
var (
	// ErrLoading means the ledger on disk is still being read after a
	// start: try again in a moment.
	ErrLoading = errors.New("points: the ledger is still loading")
	// ErrNoView means a view handle is unknown or expired, or another card
	// was tapped since.
	ErrNoView = errors.New("points: no such account view (expired, or another card was tapped)")
	// ErrStorage means the ledger could not be kept on disk: it is not in
	// force, and the retained bundle is tried again at the next
	// reconnect.
	ErrStorage = errors.New("points: the ledger could not be saved")
)

// fileMagic begins LedgerFile; what follows is sealed with sealAD.
var (
	fileMagic = []byte("fengqiao-points-ledger/v1\n")
	sealAD    = []byte("fengqiao/points/ledger-file/v1")
)

// Options configure a Book.
type Options struct {
	// Dir is kioskd's data directory, where LedgerFile is kept.
	Dir string
	// SealKey seals the ledger at rest (sealbox.KeySize bytes).
	SealKey []byte
	// Key is the township's points key; nil: no card finds an account
	// (ErrNoKey), the public part is still shown.
	Key *Key
	Log *slog.Logger
	Now func() time.Time
}

// Book is the ledger in force and the account view of the card last
// tapped. Safe for concurrent use.
type Book struct {
	opts   Options
	box    *sealbox.Box
	loaded chan struct{}
	once   sync.Once

	mu   sync.Mutex
	cur  *Ledger
	view *view
	// applied is the highest version ever applied (VersionFile), which
	// orders ledgers even when none is in force.
	applied uint64
}

// view is what a view handle reads again: the account key, never the ID
// number, and the name for the greeting.
type view struct {
	handle  string
	account string
	name    string
	expires time.Time
}

// New returns a book that has not read its file yet: call Load (kioskd does
// in the background, so a multi-MB ledger never delays the API's start).
func New(opts Options) (*Book, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	box, err := sealbox.New(opts.SealKey)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	return &Book{opts: opts, box: box, loaded: make(chan struct{})}, nil
}

// Load reads the ledger kept on disk, if any, and puts it in force. A file
// that does not open (another kiosk's, damaged, or written by a newer
// kioskd) is set aside and logged: the township's retained ledger comes
// again at the next connection, and VersionFile still orders it. A file
// that cannot be read (an I/O error) is left for the next start. Only the
// first call does anything.
func (b *Book) Load() {
	b.once.Do(func() {
		defer close(b.loaded)
		b.applied = b.readVersion()
		path := b.path()
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			// Not the file's fault (an I/O error): left where it is, for
			// the next start.
			b.opts.Log.Error("points ledger kept on disk not read; none in force until the next start or the township's next", "err", err)
			return
		}
		l, err := b.open(data)
		if err != nil {
			b.opts.Log.Error("points ledger kept on disk does not read; set aside until the township's comes again", "err", err)
			if rerr := os.Rename(path, path+".bad"); rerr != nil {
				b.opts.Log.Warn("points ledger not set aside", "err", rerr)
			}
			return
		}
		if b.opts.Key == nil || l.KeyID != b.opts.Key.ID() {
			// The key file changed since (a rotation half done): the offers
			// still show, no card finds its account until the township's
			// ledger keyed with this kiosk's key comes.
			b.opts.Log.Warn("points ledger kept on disk is keyed with another points key than this kiosk's; cards find no account until the next ledger",
				"ledger_key_id", l.KeyID, "key_id", b.KeyID())
		}
		b.mu.Lock()
		if b.cur == nil || l.Version > b.cur.Version {
			b.cur = l
		}
		b.applied = max(b.applied, l.Version)
		b.mu.Unlock()
		b.opts.Log.Info("points ledger loaded", "version", l.Version, "accounts", len(l.Accounts))
	})
}

func (b *Book) path() string { return filepath.Join(b.opts.Dir, LedgerFile) }

// readVersion is VersionFile's version, 0 when there is none or it does
// not read (then the ledger's own version orders, as before it existed).
func (b *Book) readVersion() uint64 {
	data, err := os.ReadFile(filepath.Join(b.opts.Dir, VersionFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	v, perr := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || perr != nil {
		b.opts.Log.Warn("points ledger version file does not read; ordering by the ledger kept", "err", errors.Join(err, perr))
		return 0
	}
	return v
}

func (b *Book) open(data []byte) (*Ledger, error) {
	if !bytes.HasPrefix(data, fileMagic) {
		return nil, errors.New("not a points ledger file")
	}
	content, err := b.box.Open(data[len(fileMagic):], sealAD)
	if err != nil {
		return nil, err
	}
	return Decode(content)
}

// wait waits for Load, at most LoadWait or until ctx is done.
func (b *Book) wait(ctx context.Context) error {
	select {
	case <-b.loaded:
		return nil
	default:
	}
	t := time.NewTimer(LoadWait)
	defer t.Stop()
	select {
	case <-b.loaded:
		return nil
	case <-t.C:
		return ErrLoading
	case <-ctx.Done():
		return ctx.Err()
	}
}

// KeyID is the id of the kiosk's points key, "" without one.
func (b *Book) KeyID() string {
	if b.opts.Key == nil {
		return ""
	}
	return b.opts.Key.ID()
}

// InForce is the version of the ledger in force (0: none yet) and its
// village, for the kiosk's report.
func (b *Book) InForce() (version uint64, asOf time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return 0, time.Time{}
	}
	return b.cur.Version, b.cur.AsOf
}

// Apply puts the ledger of a points-ledger bundle, already verified at
// version (agent/bundle: signature, key, target, time) and decoded from
// content, in force: it is written sealed to disk first, then swapped in,
// so a screen reading a view sees the new balances at its next read. A
// refusal (ErrVersion, ErrKeyMismatch, ErrReplay, ErrStale, ErrStorage)
// changes nothing. It waits for Load, so the version it compares with is
// the one kept on disk.
func (b *Book) Apply(ctx context.Context, l *Ledger, content []byte, version uint64) error {
	select {
	case <-b.loaded:
	case <-ctx.Done():
		return ctx.Err()
	}
	if l.Version != version {
		return fmt.Errorf("%w: the ledger says %d, its bundle %d", ErrVersion, l.Version, version)
	}
	// One apply at a time (kioskd's bridge runs them in turn), so the
	// version read here is still the one in force when the file is
	// renamed into place. Order first: an old ledger redelivered after a
	// change of points key is stale, not a key mismatch to alert about.
	b.mu.Lock()
	cur := b.applied
	if b.cur != nil {
		cur = max(cur, b.cur.Version)
	}
	b.mu.Unlock()
	switch {
	case version == cur:
		return fmt.Errorf("%w: version %d", ErrReplay, version)
	case version < cur:
		return fmt.Errorf("%w: version %d, in force %d", ErrStale, version, cur)
	case b.opts.Key != nil && l.KeyID != b.opts.Key.ID():
		return fmt.Errorf("%w: the ledger is keyed with %s, this kiosk's key is %s", ErrKeyMismatch, l.KeyID, b.opts.Key.ID())
	}
	// A kiosk without a points key still puts the ledger in force: its
	// offers and rules are for everyone at the screen; no card finds an
	// account there (ByCard: ErrNoKey), as the site template says.
	sealed := b.box.Seal(append([]byte(nil), fileMagic...), content, sealAD)
	if err := bundle.WriteFileAtomic(b.path(), sealed, 0o600); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	// After the ledger: a crash between the two leaves the ledger newer
	// than the file, and Load takes the larger.
	if err := bundle.WriteFileAtomic(filepath.Join(b.opts.Dir, VersionFile), []byte(strconv.FormatUint(version, 10)+"\n"), 0o600); err != nil {
		b.opts.Log.Warn("points ledger version not kept apart; the ledger file still orders", "err", err)
	}
	b.mu.Lock()
	b.cur = l
	b.applied = max(b.applied, version)
	b.mu.Unlock()
	b.opts.Log.Info("points ledger applied", "version", version, "accounts", len(l.Accounts), "as_of", l.AsOf)
	return nil
}

// Public is GET /v1/points: the offers and rules of the ledger in force.
func (b *Book) Public(ctx context.Context) (apitype.Points, error) {
	if err := b.wait(ctx); err != nil {
		return apitype.Points{}, err
	}
	b.mu.Lock()
	l := b.cur
	b.mu.Unlock()
	out := apitype.Points{Offers: []apitype.PointsOffer{}, Rules: []apitype.PointsRule{}}
	if l == nil {
		return out, nil
	}
	asOf := l.AsOf
	out.Available, out.Village, out.Version, out.AsOf, out.Month, out.Where = true, l.Village, l.Version, &asOf, l.Month, l.Where
	for _, o := range l.Offers {
		out.Offers = append(out.Offers, apitype.PointsOffer{Name: o.Name, Points: o.Points, Pictogram: o.Pictogram, Stock: o.Stock})
	}
	for _, r := range l.Rules {
		out.Rules = append(out.Rules, apitype.PointsRule{Text: r.Text, Points: r.Points})
	}
	return out, nil
}

// ByCard answers the account of the card just read (its holder's name and
// ID number): Found false when the ledger has none, or there is no ledger
// yet. It opens a new view of that account, replacing the one before: one
// villager at the screen at a time. The ID number is used for the key and
// dropped.
func (b *Book) ByCard(ctx context.Context, name, idNumber string) (apitype.PointsAccount, error) {
	if b.opts.Key == nil {
		return apitype.PointsAccount{}, ErrNoKey
	}
	account, err := b.opts.Key.Account(idNumber)
	if errors.Is(err, ErrBadIDNumber) {
		// A card whose number no village export can hold (a card type
		// read but not known here) has no account: not an error to the
		// villager. No account key is 64 hex digits of nothing.
		account = ""
	} else if err != nil {
		return apitype.PointsAccount{}, err
	}
	if err := b.wait(ctx); err != nil {
		return apitype.PointsAccount{}, err
	}
	var h [16]byte
	if _, err := rand.Read(h[:]); err != nil {
		return apitype.PointsAccount{}, fmt.Errorf("points: view handle: %w", err)
	}
	v := &view{handle: hex.EncodeToString(h[:]), account: account, name: name, expires: b.opts.Now().Add(ViewTTL)}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.view = v
	return b.answer(v), nil
}

// View answers the account a view handle names from the ledger in force
// now, so a screen refreshes after a newer ledger arrived; ErrNoView once
// it expired or another card was tapped.
func (b *Book) View(ctx context.Context, handle string) (apitype.PointsAccount, error) {
	if err := b.wait(ctx); err != nil {
		return apitype.PointsAccount{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.view
	// Compared in constant time: a handle is a bearer token for one
	// villager's balance.
	if v == nil || handle == "" || subtle.ConstantTimeCompare([]byte(v.handle), []byte(handle)) != 1 {
		return apitype.PointsAccount{}, ErrNoView
	}
	if !b.opts.Now().Before(v.expires) {
		b.view = nil
		return apitype.PointsAccount{}, ErrNoView
	}
	return b.answer(v), nil
}

// EndView forgets the view handle names, when it is the one kept: the
// villager left the screen, so nobody can read their balance with it for
// the rest of its ViewTTL. Another handle changes nothing.
func (b *Book) EndView(handle string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v := b.view; v != nil && handle != "" && subtle.ConstantTimeCompare([]byte(v.handle), []byte(handle)) == 1 {
		b.view = nil
	}
}

// answer is v's account in the ledger in force. Under b.mu.
func (b *Book) answer(v *view) apitype.PointsAccount {
	out := apitype.PointsAccount{Name: v.name, Entries: []apitype.PointsEntry{}, View: v.handle, ViewExpires: v.expires.UTC()}
	l := b.cur
	if l == nil {
		return out
	}
	asOf := l.AsOf
	out.Version, out.AsOf = l.Version, &asOf
	a, ok := l.Accounts[v.account]
	if !ok {
		return out
	}
	out.Found, out.Balance = true, a.Balance
	for i, e := range a.Entries {
		if i == apitype.MaxPointsEntries {
			break
		}
		out.Entries = append(out.Entries, apitype.PointsEntry{Date: e.Date, Points: e.Points, Reason: e.Reason})
	}
	return out
}
