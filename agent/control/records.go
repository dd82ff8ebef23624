package control

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// The township's records key (docs/bundles.md, "Records key rotation") is
// control state of its own, like the trust state, not a part of the
// bundle in force: only the latest bundle of a scope is in force, laid
// over the site file, so a rotation by a records-only bundle would be
// undone by the next bundle (a ui tweak, a patch), which says nothing of
// the key, and every kiosk would seal to the retired key again, or, with
// no key in its site file, withhold every number. So the key a bundle
// sets is kept in records.json, ordered by bundle version: a bundle or
// patch with a records section sets it if it is newer than the bundle
// that set the key kept; one without leaves it alone. It is in force over
// the site file's key and whatever bundle is in force.

// Files in Options.Dir.
const (
	recordsFile     = "records.json"
	prevRecordsFile = "previous-records.json"
	// inForceKeyFile holds the id of the records key last in force, so
	// that a change while kioskd was stopped (the site file's key edited,
	// records.json set aside) is told at the next start too.
	inForceKeyFile = "records-in-force.json"
)

// RecordsFormat names the shape of records.json.
const RecordsFormat = "records-key/v1"

// ErrRecordsKey means a bundle's records key is one the kiosk must not
// seal to: one of its trusted signing keys (a rotation may have brought
// in one that the site file does not list), or, on a production kiosk,
// the dev township's.
var ErrRecordsKey = errors.New("control: records key refused")

// recordsKey is the records key the latest bundle with a records section
// set, as kept in records.json.
type recordsKey struct {
	Format      string    `json:"format"`
	TownshipKey string    `json:"township_key"`
	KeyID       string    `json:"key_id"`
	Version     uint64    `json:"version"`
	Scope       string    `json:"scope"`
	SetAt       time.Time `json:"set_at,omitzero"`
}

// RecordsKeyChange is a change of the records key in force, which kioskd
// tells the township of (an alert): a number sealed to a key the township
// does not expect, or withheld for want of one, is lost to it.
type RecordsKeyChange struct {
	// From and To are the key ids; empty: no key (numbers withheld).
	From, To string
	// Why says what changed it (a bundle, a rollback).
	Why string
}

// checkRecordsKey refuses a records key that is one of the signing keys
// the kiosk trusts (its trust state's and its site file's), or the dev
// township's on a production kiosk.
func (c *Controller) checkRecordsKey(key string) error {
	k, err := sealed.ParsePublicKey(key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRecordsKey, err)
	}
	signing := slices.Clone(c.opts.Base.Site.Control.TownshipKeys)
	if c.trust != nil {
		for _, t := range c.trust.Keys {
			signing = append(signing, bundle.FormatPublicKey(t.PublicKey))
		}
	}
	if err := config.CheckRecordsKey(k, signing...); err != nil {
		return fmt.Errorf("%w: records.township_key %w", ErrRecordsKey, err)
	}
	if c.opts.Base.Site.Mode == config.ModeProduction && k.ID() == config.DevRecordsKeyID {
		return fmt.Errorf("%w: records.township_key %w", ErrRecordsKey, config.ErrDevRecordsKey)
	}
	return nil
}

// validateRecords is the check of a verified bundle's content beyond the
// site file's rules: its records key, if it sets one.
func (c *Controller) validateRecords(cfg *config.Config, content []byte) error {
	if !config.SetsRecords(content) {
		return nil
	}
	return c.checkRecordsKey(cfg.Site.Records.TownshipKey)
}

// recordsSetBy is the records key state after bundle a, if a sets one
// and is newer than the bundle that set the key kept; else nil.
func (c *Controller) recordsSetBy(a *applied) *recordsKey {
	if !config.SetsRecords(a.Content) || c.records != nil && a.Version <= c.records.Version {
		return nil
	}
	cfg, err := withContent(c.opts.Base, a.kindOf(), fmt.Sprintf("bundle %s v%d", a.Scope, a.Version), a.Content, a.Version)
	if err != nil {
		return nil
	}
	k := cfg.Site.SealKey()
	if k == nil || c.checkRecordsKey(k.String()) != nil {
		return nil
	}
	return &recordsKey{Format: RecordsFormat, TownshipKey: k.String(), KeyID: k.ID(), Version: a.Version, Scope: a.Scope, SetAt: a.AppliedAt}
}

// loadRecords reads records.json, if any. One that is unreadable or holds
// a key the kiosk must not seal to is set aside, loudly: the site file's
// key is in force again (kioskd alerts at start if that is none).
func (c *Controller) loadRecords() {
	r, err := c.readRecords(recordsFile)
	if err == nil && r != nil {
		err = c.checkRecordsKey(r.TownshipKey)
	}
	if err != nil {
		c.log.Error("records key kept from a bundle unreadable; set aside, the site file's is in force", "err", err)
		os.Rename(filepath.Join(c.opts.Dir, recordsFile), filepath.Join(c.opts.Dir, recordsFile+".bad"))
		return
	}
	c.records = r
}

// finishRecords finishes a rollback of the records key that kioskd could
// not write (previous-records.json is still there, and the bundle that set
// the key kept is not in force, an older one of its scope is): back to the
// key kept before it.
func (c *Controller) finishRecords() {
	if c.records == nil {
		return
	}
	if a := c.inForce[c.records.Scope]; a != nil && a.Version >= c.records.Version {
		// Its bundle is in force, or a newer one not yet checked
		// (Start finishes that).
		return
	}
	if _, err := os.Stat(filepath.Join(c.opts.Dir, prevRecordsFile)); err != nil {
		return // set by a bundle since replaced in its scope: the key stays
	}
	prev, err := c.readRecords(prevRecordsFile)
	if err == nil {
		err = c.writeRecords(recordsFile, prev)
	}
	if err != nil {
		c.log.Error("records key of a bundle rolled back not undone", "err", err)
		return
	}
	c.log.Warn("records key of a bundle rolled back undone", "version", c.records.Version)
	c.records = prev
	os.Remove(filepath.Join(c.opts.Dir, prevRecordsFile))
}

// reconcileRecords takes the key of a bundle in force that sets one and is
// newer than the key kept: kioskd stopped between writing the bundle and
// writing its key, or the bundle was applied by a kioskd from before the
// key was kept apart.
func (c *Controller) reconcileRecords() {
	scopes := make([]string, 0, len(c.inForce))
	for s := range c.inForce {
		scopes = append(scopes, s)
	}
	slices.SortFunc(scopes, func(a, b string) int { return cmp.Compare(c.inForce[a].Version, c.inForce[b].Version) })
	changed := false
	for _, s := range scopes {
		if r := c.recordsSetBy(c.inForce[s]); r != nil {
			c.records, changed = r, true
		}
	}
	if changed {
		if err := c.writeRecords(recordsFile, c.records); err != nil {
			c.log.Error("records key of the bundle in force not saved", "err", err)
		}
	}
}

// readRecords reads a records key file; nil for none (no file, or the
// JSON null a previous-records.json holds for "no key was kept").
func (c *Controller) readRecords(name string) (*recordsKey, error) {
	data, err := os.ReadFile(filepath.Join(c.opts.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r *recordsKey
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if r != nil && r.Format != RecordsFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", name, r.Format, RecordsFormat)
	}
	return r, nil
}

// writeRecords writes r to name; for records.json, nil removes it.
func (c *Controller) writeRecords(name string, r *recordsKey) error {
	path := filepath.Join(c.opts.Dir, name)
	if r == nil && name == recordsFile {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("control: %w", err)
		}
		return nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	if err := bundle.WriteFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("control: save records key: %w", err)
	}
	return nil
}

// keyID is the id of the records key in force in cfg, "" for none.
func keyID(cfg *config.Config) string {
	if cfg == nil {
		return ""
	}
	if k := cfg.Site.SealKey(); k != nil {
		return k.ID()
	}
	return ""
}

// noteKeyChange remembers a change of the records key in force between
// two configurations, for the caller to tell once c.mu is released.
func (c *Controller) noteKeyChange(from, to *config.Config, why string) {
	if f, t := keyID(from), keyID(to); f != t {
		c.log.Warn("records key in force changed", "from", f, "to", t, "why", why)
		c.keyChanges = append(c.keyChanges, RecordsKeyChange{From: f, To: t, Why: why})
	}
}

// inForceKey is what records-in-force.json holds.
type inForceKey struct {
	KeyID string `json:"key_id"` // empty: none
}

// checkKeyAtStart notes a change of the records key in force since
// kioskd last ran. A first start (no file yet) notes nothing: kioskd
// alerts at start anyway when a production kiosk has no key.
func (c *Controller) checkKeyAtStart() {
	data, err := os.ReadFile(filepath.Join(c.opts.Dir, inForceKeyFile))
	if err != nil {
		return
	}
	var last inForceKey
	if err := json.Unmarshal(data, &last); err != nil {
		return
	}
	if now := keyID(c.current); now != last.KeyID {
		c.log.Warn("records key in force changed while kioskd was stopped", "from", last.KeyID, "to", now)
		c.keyChanges = append(c.keyChanges, RecordsKeyChange{From: last.KeyID, To: now,
			Why: "changed while kioskd was stopped: the site file's records key, or the key kept from a bundle set aside"})
	}
}

// saveKeyInForce keeps the id of the records key in force for the next
// start, when it changed.
func (c *Controller) saveKeyInForce() {
	id := keyID(c.current)
	if c.savedKey != nil && *c.savedKey == id {
		return
	}
	data, _ := json.Marshal(inForceKey{KeyID: id})
	if err := bundle.WriteFileAtomic(filepath.Join(c.opts.Dir, inForceKeyFile), data, 0o600); err != nil {
		c.log.Warn("records key in force not saved; a change may be told again at the next start", "err", err)
		return
	}
	c.savedKey = &id
}

// tellKeyChanges hands the changes noted to Options.RecordsKeyChanged.
// Called with c.mu held; the callback runs after it is released.
func (c *Controller) tellKeyChanges() func() {
	c.saveKeyInForce()
	changes := c.keyChanges
	c.keyChanges = nil
	fn := c.opts.RecordsKeyChanged
	return func() {
		if fn == nil {
			return
		}
		for _, ch := range changes {
			fn(ch)
		}
	}
}
