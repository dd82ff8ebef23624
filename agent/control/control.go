// Package control owns the township's remote management of one kiosk: it
// takes the signed bundles township IT publishes (agent/bundle verifies
// them), applies a site bundle atomically over the kiosk's site file, runs
// the core's health check and rolls back when it fails, keeps the trust
// state and what is in force on disk across restarts, and keeps the
// reported state the link publishes back to the township.
//
// What is in force is decided the same way whatever order bundles arrive
// in: of the latest township-wide bundle and the latest bundle for this
// kiosk alone, the one issued later (not_before) wins, the kiosk's own on a
// tie; sections a bundle does not carry come from the site file
// (config.WithBundle), and a patch is merged over the site file
// (config.WithPatch), never over an earlier bundle. A kiosk reconnecting
// after days offline therefore ends in the state township IT last chose
// for it, from the latest bundle alone.
package control

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
)

// Statuses of the reported state.
const (
	StatusApplied    = "applied"
	StatusRejected   = "rejected"
	StatusRolledBack = "rolled_back"
)

// Errors of Open.
var (
	// ErrNoTrust means the kiosk has neither a trust file nor township keys
	// in its site file: it can take no bundle at all.
	ErrNoTrust = errors.New("control: no township key configured (control.township_keys)")
)

// Applier is what control needs from the core.
type Applier interface {
	// ApplyConfig puts a validated configuration in force at run time.
	ApplyConfig(cfg *config.Config)
	// HealthCheck says whether the configuration in force still works.
	HealthCheck() error
}

// Options configure a Controller.
type Options struct {
	// Dir holds the trust state and the bundles in force (0700).
	Dir string
	// Base is the configuration of the kiosk's site file.
	Base *config.Config
	Log  *slog.Logger
	Now  func() time.Time
	// RecordsKeyChanged is told each time the township's records key in
	// force changes while kioskd runs (a bundle sets another, or a
	// rollback undoes that), after the change; kioskd alerts the
	// township. Called without the Controller's lock held.
	RecordsKeyChanged func(RecordsKeyChange)
}

// ReportedSchema names the shape and meaning of Reported. v1 had no
// schema member; v2 added it, InForceAt and PublishedAt, and stopped
// reporting again a bundle refused before (see Controller.handle): the
// township must be able to tell what is in force from what was last
// tried, and how old each is (issue 19: a stale refusal read as current).
const ReportedSchema = "config-reported/v2"

// Reported is the kiosk's reported state, published retained on its
// config/reported topic (docs/bundles.md), like a device shadow's. It says
// two things that a reader must keep apart: what configures the kiosk now
// (InForce…) and the last bundle the kiosk tried (Version … At), which may
// have been refused while what is in force stayed.
type Reported struct {
	Schema   string `json:"schema"`
	Kiosk    string `json:"kiosk"`
	Township string `json:"township"`
	// Version and Scope are of the last bundle tried, the one this report
	// is about; Version is 0 for a bundle refused before its signature
	// was checked.
	Version uint64 `json:"version"`
	Scope   string `json:"scope,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"` // bundle.Reason, or "health_check"
	Error   string `json:"error,omitempty"`
	// InForce is what configures the kiosk after it: the scope and version
	// of the bundle in force, or empty and 0 for the site file alone.
	InForce        string `json:"in_force,omitempty"`
	InForceVersion uint64 `json:"in_force_version"`
	// InForceAt is when the bundle in force was applied (zero: the site
	// file alone, or a bundle applied before v2 kept the time).
	InForceAt time.Time `json:"in_force_at,omitzero"`
	// At is when the last bundle was tried.
	At time.Time `json:"at"`
	// PublishedAt is when the kiosk last published this report (kioskd
	// sets it at each publish, on every connect): how fresh the township's
	// view of the kiosk is, whatever the bundles' times.
	PublishedAt time.Time `json:"published_at,omitzero"`
	// RecordsKey is the id of the township's records key the kiosk seals
	// phone and ID numbers to now (empty: none, they are withheld). A
	// bundle with a records section sets it and later bundles without
	// one leave it, so it need not be the bundle in force's.
	RecordsKey string `json:"records_key,omitempty"`
}

// applied is a site bundle or patch in force in one scope, as kept on disk.
type applied struct {
	// Kind is bundle.KindSite or KindSitePatch; empty in files written
	// before patches, which were all site bundles.
	Kind      string    `json:"kind,omitempty"`
	Version   uint64    `json:"version"`
	Scope     string    `json:"scope"`
	NotBefore time.Time `json:"not_before"`
	KeyID     string    `json:"key_id"`
	Content   []byte    `json:"content"`
	// AppliedAt is when the kiosk put it in force (absent in files from
	// before it was kept).
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// Controller applies bundles for one kiosk. Safe for concurrent use.
type Controller struct {
	opts Options
	id   bundle.Identity
	log  *slog.Logger

	mu       sync.Mutex
	applier  Applier
	trust    *bundle.TrustState
	inForce  map[string]*applied // by scope
	current  *config.Config
	reported *Reported
	changed  chan struct{}
	// early is the last bundle refused as not yet valid: the kiosk's clock
	// may be what is wrong (a cold boot without network), so it is tried
	// again by RetryEarly once the clock has moved.
	early []byte
	// refused are the digests of the last bundles refused, with the
	// reason (refusalKey): a refused bundle still retained on the broker
	// comes again at every reconnect, and reporting it again as news
	// would hide what happened since (a good bundle applied after it).
	refused []string
	// records is the records key the latest bundle with a records section
	// set (records.go), in force over the site file's; nil: none yet.
	records *recordsKey
	// keyChanges are the records key changes not yet told
	// (Options.RecordsKeyChanged).
	keyChanges []RecordsKeyChange
	// savedKey is the key id last written to records-in-force.json by
	// this Controller; nil: not yet.
	savedKey *string
}

// Files in Options.Dir.
const (
	trustFile    = "trust.json"
	reportedFile = "reported.json"
	refusedFile  = "refused.json"
)

// maxRefused bounds the refusals remembered: a kiosk has three config
// topics, each retaining one bundle, so a few are plenty.
const maxRefused = 16

// scopeFile is where the bundle in force of a scope (bundle.Target.Scope:
// "township:ID" or "kiosk:ID") is kept.
func scopeFile(scope string) string {
	if isKioskScope(scope) {
		return "kiosk-bundle.json"
	}
	return "township-bundle.json"
}

func isKioskScope(scope string) bool { return strings.HasPrefix(scope, "kiosk:") }

// Open loads the trust state (creating it from the site file's township
// keys at first start) and the bundles in force, and returns the
// configuration they make. A bundle on disk that no longer validates (the
// software changed under it) is set aside with a warning, not fatal: the
// kiosk starts on what remains.
func Open(opts Options) (*Controller, *config.Config, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("control: %w", err)
	}
	k := opts.Base.Site.Kiosk
	c := &Controller{opts: opts, log: opts.Log, id: bundle.Identity{Kiosk: k.ID, Township: k.Township},
		inForce: map[string]*applied{}, changed: make(chan struct{}, 1)}
	trust, err := c.loadTrust()
	if err != nil {
		return nil, nil, err
	}
	c.trust = trust
	for _, scope := range []string{"township:" + k.Township, "kiosk:" + k.ID} {
		var a applied
		data, err := os.ReadFile(filepath.Join(opts.Dir, scopeFile(scope)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil {
			err = json.Unmarshal(data, &a)
		}
		if err != nil {
			c.log.Error("bundle in force unreadable; set aside", "scope", scope, "err", err)
			continue
		}
		if a.Scope != scope {
			// The site file now names another kiosk or township: what was
			// applied to the old one is not this kiosk's.
			c.log.Warn("bundle in force was for another kiosk or township; not used", "file_scope", a.Scope, "scope", scope)
			continue
		}
		c.inForce[scope] = &a
	}
	cfg, err := c.effective()
	for err != nil {
		// Drop the winner and try with what is left.
		w := c.winner()
		c.log.Error("bundle in force no longer valid; starting without it", "scope", w.Scope, "version", w.Version, "err", err)
		delete(c.inForce, w.Scope)
		cfg, err = c.effective()
	}
	c.loadRecords()
	c.finishRecords()
	c.reconcileRecords()
	if cfg, err = c.effective(); err != nil {
		return nil, nil, fmt.Errorf("control: %w", err) // the winner's content made a valid configuration just above
	}
	c.current = cfg
	if data, err := os.ReadFile(filepath.Join(opts.Dir, reportedFile)); err == nil {
		var r Reported
		if json.Unmarshal(data, &r) == nil {
			r.Schema = ReportedSchema // a v1 report kept before an upgrade reads the same in v2
			c.reported = &r
		}
	}
	if data, err := os.ReadFile(filepath.Join(opts.Dir, refusedFile)); err == nil {
		json.Unmarshal(data, &c.refused) // unreadable: forgotten, at worst a refusal is reported once more
	}
	return c, cfg, nil
}

func (c *Controller) loadTrust() (*bundle.TrustState, error) {
	path := filepath.Join(c.opts.Dir, trustFile)
	data, err := os.ReadFile(path)
	if err == nil {
		t, err := bundle.UnmarshalTrustState(data)
		if err != nil {
			// A damaged trust file must not silently fall back to the
			// site file's keys: a rotation would be undone.
			return nil, fmt.Errorf("control: %s: %w (move it aside to trust the site file's keys again)", path, err)
		}
		return t, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control: %w", err)
	}
	keys := c.opts.Base.Site.Control.TownshipKeys
	if len(keys) == 0 {
		return nil, nil // no control: every bundle is refused, the kiosk runs on its site file
	}
	t, err := bundle.NewTrustState(keys...)
	if err != nil {
		return nil, fmt.Errorf("control: control.township_keys: %w", err)
	}
	if err := c.saveTrust(t); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *Controller) saveTrust(t *bundle.TrustState) error {
	data, err := t.Marshal()
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	if err := bundle.WriteFileAtomic(filepath.Join(c.opts.Dir, trustFile), data, 0o600); err != nil {
		return fmt.Errorf("control: save trust state: %w", err)
	}
	return nil
}

// winner is the bundle in force: the later issued, the kiosk's on a tie.
func (c *Controller) winner() *applied {
	var w *applied
	for _, a := range c.inForce {
		if w == nil || a.NotBefore.After(w.NotBefore) || a.NotBefore.Equal(w.NotBefore) && isKioskScope(a.Scope) {
			w = a
		}
	}
	return w
}

// effective is the configuration the bundles in force make, with the
// records key kept apart (records.go) in force over theirs.
func (c *Controller) effective() (*config.Config, error) {
	cfg := c.opts.Base
	if w := c.winner(); w != nil {
		var err error
		cfg, err = withContent(c.opts.Base, w.Kind, fmt.Sprintf("bundle %s v%d", w.Scope, w.Version), w.Content, w.Version)
		if err != nil {
			return nil, err
		}
	}
	if c.records != nil {
		cfg = cfg.WithRecordsKey(c.records.TownshipKey)
	}
	return cfg, nil
}

// withContent is base with a site bundle's or a site patch's content in
// force.
func withContent(base *config.Config, kind, name string, content []byte, version uint64) (*config.Config, error) {
	if kind == bundle.KindSitePatch {
		return base.WithPatch(name, content, version)
	}
	return base.WithBundle(name, content, version)
}

// kindOf is the kind of a bundle in force, for reports.
func (a *applied) kindOf() string {
	if a.Kind == "" {
		return bundle.KindSite
	}
	return a.Kind
}

// Start puts the configuration in force into the core and checks it: a
// kiosk that crashed between applying a bundle and checking it finishes the
// job now, rolling back if the check fails.
func (c *Controller) Start(a Applier) {
	c.mu.Lock()
	defer func() {
		tell := c.tellKeyChanges()
		c.mu.Unlock()
		tell()
	}()
	c.applier = a
	c.checkKeyAtStart()
	w := c.winner()
	if w == nil {
		return
	}
	herr := a.HealthCheck()
	if herr == nil {
		c.dropPrevious()
		return
	}
	// kioskd stopped between applying a bundle and checking it (or the
	// software changed under it): finish the rollback now, back to what
	// was in force before it when apply kept that.
	c.log.Error("bundle in force fails the health check at start; rolling it back", "scope", w.Scope, "version", w.Version, "err", herr)
	if prev, ok := c.readApplied(prevFile(w.Scope)); ok && prev.Scope == w.Scope {
		c.inForce[w.Scope] = prev
		if err := c.writeFile(scopeFile(w.Scope), prev); err != nil {
			c.log.Error("previous bundle not restored on disk", "err", err)
		}
	} else {
		delete(c.inForce, w.Scope)
		os.Remove(filepath.Join(c.opts.Dir, scopeFile(w.Scope)))
	}
	if _, err := os.Stat(filepath.Join(c.opts.Dir, prevRecordsFile)); err == nil &&
		c.records != nil && c.records.Version == w.Version && c.records.Scope == w.Scope {
		// The bundle rolled back set the records key while being applied:
		// back to the one kept before it (apply wrote it aside first).
		// Without that file the bundle passed its check once and it is
		// the software that changed: the key, which a health check does
		// not judge, stays.
		prev, err := c.readRecords(prevRecordsFile)
		if err == nil {
			err = c.writeRecords(recordsFile, prev)
		}
		if err != nil {
			c.log.Error("records key before the bundle rolled back not restored", "err", err)
		} else {
			c.records = prev
		}
	}
	c.dropPrevious()
	cfg, err := c.effective()
	if err != nil {
		cfg = c.opts.Base
	}
	c.noteKeyChange(c.current, cfg, fmt.Sprintf("bundle %s v%d rolled back at start: health check failed", w.Scope, w.Version))
	c.current = cfg
	a.ApplyConfig(cfg)
	c.report(Reported{Version: w.Version, Scope: w.Scope, Kind: w.kindOf(), Status: StatusRolledBack,
		Reason: "health_check", Error: herr.Error()})
}

// prevFile keeps the bundle that was in force in a scope while a new one
// is applied and checked, so a restart in between can still roll back.
func prevFile(scope string) string { return "previous-" + scopeFile(scope) }

func (c *Controller) dropPrevious() {
	for _, scope := range []string{"township:", "kiosk:"} {
		os.Remove(filepath.Join(c.opts.Dir, prevFile(scope)))
	}
	os.Remove(filepath.Join(c.opts.Dir, prevRecordsFile))
}

func (c *Controller) readApplied(name string) (*applied, bool) {
	data, err := os.ReadFile(filepath.Join(c.opts.Dir, name))
	if err != nil {
		return nil, false
	}
	var a applied
	if err := json.Unmarshal(data, &a); err != nil {
		c.log.Error("bundle file unreadable; set aside", "file", name, "err", err)
		return nil, false
	}
	return &a, true
}

// Config is the configuration in force.
func (c *Controller) Config() *config.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// Handle takes one message from a config topic. Every outcome but a replay
// of the bundle already applied (which a retained topic delivers at each
// reconnect) becomes the reported state.
func (c *Controller) Handle(payload []byte) {
	c.mu.Lock()
	c.handle(payload, false)
	tell := c.tellKeyChanges()
	c.mu.Unlock()
	tell()
}

// handle is Handle under c.mu. A retry (RetryEarly) that is still too
// early changes nothing, the report included.
func (c *Controller) handle(payload []byte, retry bool) {
	if len(payload) == 0 {
		return // a retained message cleared
	}
	if c.trust == nil {
		if !c.firstRefusal(payload, "unknown_key") {
			return
		}
		c.report(Reported{Status: StatusRejected, Reason: "unknown_key", Error: ErrNoTrust.Error()})
		return
	}
	now := c.opts.Now()
	v, err := bundle.Verify(payload, c.trust, c.id, now, bundle.Options{
		Validate: func(content []byte) error {
			cfg, err := c.opts.Base.WithBundle("bundle", content, 1)
			if err == nil {
				err = c.validateRecords(cfg, content)
			}
			return err
		},
		ValidatePatch: func(content []byte) error {
			cfg, err := c.opts.Base.WithPatch("patch", content, 1)
			if err == nil {
				err = c.validateRecords(cfg, content)
			}
			return err
		},
	})
	if errors.Is(err, bundle.ErrReplay) || retry && errors.Is(err, bundle.ErrNotYetValid) {
		return
	}
	c.early = nil
	if errors.Is(err, bundle.ErrNotYetValid) {
		c.early = payload
	}
	if err != nil {
		if !c.firstRefusal(payload, bundle.Reason(err)) {
			c.log.Debug("township bundle refused again; already reported", "reason", bundle.Reason(err))
			return
		}
		var be *bundle.Error
		var version uint64
		if errors.As(err, &be) {
			version = be.Version
		}
		c.log.Warn("township bundle rejected", "version", version, "reason", bundle.Reason(err), "err", err)
		c.report(Reported{Version: version, Status: StatusRejected, Reason: bundle.Reason(err), Error: err.Error()})
		return
	}
	if v.Kind == bundle.KindKeyRotation {
		c.recordTrust(v)
		c.log.Info("township key rotated", "version", v.Version, "effective_version", v.Rotation.EffectiveVersion)
		c.report(Reported{Version: v.Version, Scope: v.Scope, Kind: v.Kind, Status: StatusApplied})
		return
	}
	c.apply(v)
}

// firstRefusal reports whether payload has not been refused for reason
// before, and remembers it. A bundle refused again for the same reason is
// one still retained on the broker, delivered again at a reconnect: not
// news, like a replay, and reporting it would make it look like the last
// thing that happened.
func (c *Controller) firstRefusal(payload []byte, reason string) bool {
	sum := sha256.Sum256(payload)
	key := reason + ":" + hex.EncodeToString(sum[:16])
	if slices.Contains(c.refused, key) {
		return false
	}
	c.refused = append(c.refused, key)
	if len(c.refused) > maxRefused {
		c.refused = c.refused[len(c.refused)-maxRefused:]
	}
	if data, err := json.Marshal(c.refused); err == nil {
		if err := bundle.WriteFileAtomic(filepath.Join(c.opts.Dir, refusedFile), data, 0o600); err != nil {
			c.log.Warn("refused bundles not saved; one may be reported again after a restart", "err", err)
		}
	}
	return true
}

// RetryEarly tries again the last bundle refused as not yet valid, if any:
// kioskd calls it every minute, so a kiosk whose clock was behind at boot
// applies the bundle once NTP has set the clock, without waiting for the
// broker to deliver it again.
func (c *Controller) RetryEarly() {
	c.mu.Lock()
	if c.early != nil {
		c.handle(c.early, true)
	}
	tell := c.tellKeyChanges()
	c.mu.Unlock()
	tell()
}

// apply puts a verified site bundle or patch in force, or rolls it back.
func (c *Controller) apply(v *bundle.Verified) {
	r := Reported{Version: v.Version, Scope: v.Scope, Kind: v.Kind}
	next := &applied{Kind: v.Kind, Version: v.Version, Scope: v.Scope, NotBefore: v.NotBefore, KeyID: v.KeyID, Content: v.Content,
		AppliedAt: c.opts.Now().UTC()}
	prev, hadPrev := c.inForce[v.Scope]
	prevCfg := c.current
	// The records key: set by this bundle if it has a records section and
	// is newer than the one that set the key kept, else left alone.
	prevRecords := c.records
	setRecords := c.recordsSetBy(next)
	if setRecords == nil && config.SetsRecords(v.Content) {
		c.log.Warn("bundle's records key not taken: a newer bundle set the key in force", "version", v.Version)
	}
	c.inForce[v.Scope] = next
	if setRecords != nil {
		c.records = setRecords
	}
	cfg, err := c.effective()
	if err == nil && hadPrev {
		err = c.writeFile(prevFile(v.Scope), prev) // kept until the new one passes its check
	}
	if err == nil && setRecords != nil {
		err = c.writeRecords(prevRecordsFile, prevRecords) // likewise
	}
	if err == nil {
		err = c.writeFile(scopeFile(v.Scope), next)
	}
	if err == nil && setRecords != nil {
		// After the bundle: a stop in between leaves the bundle in force
		// without its key, which Open takes from it (reconcileRecords).
		if err = c.writeRecords(recordsFile, setRecords); err != nil {
			c.restoreFile(v.Scope, prev, hadPrev)
		}
	}
	if err != nil {
		c.restore(v.Scope, prev, hadPrev)
		c.records = prevRecords
		c.log.Error("township bundle not applied", "version", v.Version, "err", err)
		r.Status, r.Reason, r.Error = StatusRejected, "storage", err.Error()
		c.report(r)
		return // not recorded: the retained bundle is tried again on reconnect
	}
	c.current = cfg
	if c.applier != nil {
		c.applier.ApplyConfig(cfg)
		if herr := c.applier.HealthCheck(); herr != nil {
			c.restore(v.Scope, prev, hadPrev)
			c.records = prevRecords
			werr := c.restoreFile(v.Scope, prev, hadPrev)
			if werr == nil && setRecords != nil {
				werr = c.writeRecords(recordsFile, prevRecords)
			}
			if werr != nil {
				// previous-… stays, so the next start rolls back on disk too.
				c.log.Error("rolled back in memory but not on disk; the next start finishes it", "err", werr)
			} else {
				c.dropPrevious()
			}
			c.current = prevCfg
			c.applier.ApplyConfig(prevCfg)
			c.recordTrust(v) // so the retained bad bundle is a replay, not a loop
			c.log.Warn("township bundle rolled back: health check failed", "version", v.Version, "err", herr)
			r.Status, r.Reason, r.Error = StatusRolledBack, "health_check", herr.Error()
			c.report(r)
			return
		}
	}
	c.dropPrevious()
	c.recordTrust(v)
	c.log.Info("township bundle applied", "version", v.Version, "scope", v.Scope, "records_key", keyID(cfg))
	c.noteKeyChange(prevCfg, cfg, fmt.Sprintf("bundle %s v%d applied", v.Scope, v.Version))
	r.Status = StatusApplied
	c.report(r)
}

// restoreFile puts back on disk the bundle that was in force in scope
// before a new one (none: its file is removed).
func (c *Controller) restoreFile(scope string, prev *applied, hadPrev bool) error {
	if hadPrev {
		return c.writeFile(scopeFile(scope), prev)
	}
	if err := os.Remove(filepath.Join(c.opts.Dir, scopeFile(scope))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (c *Controller) restore(scope string, prev *applied, hadPrev bool) {
	if hadPrev {
		c.inForce[scope] = prev
	} else {
		delete(c.inForce, scope)
	}
}

func (c *Controller) writeFile(name string, a *applied) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return bundle.WriteFileAtomic(filepath.Join(c.opts.Dir, name), data, 0o600)
}

func (c *Controller) recordTrust(v *bundle.Verified) {
	t, err := c.trust.Record(v)
	if err == nil {
		err = c.saveTrust(t)
	}
	if err != nil {
		c.log.Error("trust state not saved", "version", v.Version, "err", err)
		return
	}
	c.trust = t
}

// report makes r the reported state and wakes whoever publishes it.
func (c *Controller) report(r Reported) {
	r.Schema, r.Kiosk, r.Township, r.At = ReportedSchema, c.id.Kiosk, c.id.Township, c.opts.Now().UTC()
	if w := c.winner(); w != nil {
		r.InForce, r.InForceVersion, r.InForceAt = w.Scope, w.Version, w.AppliedAt
	}
	r.RecordsKey = keyID(c.current)
	c.reported = &r
	if data, err := json.Marshal(r); err == nil {
		if err := bundle.WriteFileAtomic(filepath.Join(c.opts.Dir, reportedFile), data, 0o600); err != nil {
			c.log.Warn("reported state not saved", "err", err)
		}
	}
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Reported is the reported state, if there is one yet.
func (c *Controller) Reported() (Reported, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reported == nil {
		return Reported{}, false
	}
	return *c.reported, true
}

// Changed is signalled each time the reported state changes.
func (c *Controller) Changed() <-chan struct{} { return c.changed }

// VerifyAnswer checks a request-status bundle (the township's answer to a
// villager's request, docs/requests.md) against the trust state in force,
// the same key rules and rotations as every bundle's; validate checks its
// content (agent/request's ParseChange). It changes nothing: an answer is
// ordered by the version stored with its request, not in the trust state.
// A bundle of another kind is refused as bundle.ErrUnsupported: what
// arrives on the answers' topics is never applied as configuration.
func (c *Controller) VerifyAnswer(payload []byte, validate func([]byte) error) (*bundle.Verified, error) {
	c.mu.Lock()
	trust := c.trust
	c.mu.Unlock()
	if trust == nil {
		return nil, &bundle.Error{Err: bundle.ErrUnknownKey, Detail: ErrNoTrust.Error()}
	}
	notHere := func([]byte) error { return errors.New("configuration is not taken on the answers' topics") }
	v, err := bundle.Verify(payload, trust, c.id, c.opts.Now(), bundle.Options{
		Validate: notHere, ValidatePatch: notHere, ValidateRequestStatus: validate,
	})
	if err != nil {
		return nil, err
	}
	if v.Kind != bundle.KindRequestStatus {
		return nil, &bundle.Error{Err: bundle.ErrUnsupported, Version: v.Version,
			Detail: fmt.Sprintf("a %s bundle on the answers' topics", v.Kind)}
	}
	return v, nil
}

// VerifyPoints checks a points-ledger bundle (a village's 美德银行 ledger,
// docs/points.md) against the trust state in force, as VerifyAnswer checks
// an answer; validate checks its content (agent/points' Decode). It changes
// nothing: a ledger is ordered by the version of the ledger in force, kept
// with it. A bundle of another kind is refused as bundle.ErrUnsupported.
func (c *Controller) VerifyPoints(payload []byte, validate func([]byte) error) (*bundle.Verified, error) {
	c.mu.Lock()
	trust := c.trust
	c.mu.Unlock()
	if trust == nil {
		return nil, &bundle.Error{Err: bundle.ErrUnknownKey, Detail: ErrNoTrust.Error()}
	}
	notHere := func([]byte) error { return errors.New("configuration is not taken on the points topic") }
	v, err := bundle.Verify(payload, trust, c.id, c.opts.Now(), bundle.Options{
		Validate: notHere, ValidatePatch: notHere, ValidatePointsLedger: validate,
	})
	if err != nil {
		return nil, err
	}
	if v.Kind != bundle.KindPointsLedger {
		return nil, &bundle.Error{Err: bundle.ErrUnsupported, Version: v.Version,
			Detail: fmt.Sprintf("a %s bundle on the points topic", v.Kind)}
	}
	// Ledgers are ordered by version alone, so one numbered far ahead (a
	// slip of the keyboard, or a clerk's certified key) would make every
	// later ledger stale on every kiosk of the village. kioskctl numbers
	// them by Unix time by default; a version more than a year past the
	// bundle's own not_before is refused, as is nothing smaller.
	if limit := uint64(max(v.NotBefore.Unix(), 0)) + MaxPointsVersionAhead; v.Version > limit {
		return nil, &bundle.Error{Err: bundle.ErrSchema, Version: v.Version,
			Detail: fmt.Sprintf("version %d is more than a year of seconds past the bundle's not_before (%d at most): it would block every later ledger", v.Version, limit)}
	}
	return v, nil
}

// MaxPointsVersionAhead bounds a points ledger's version: at most this
// many past its bundle's not_before in Unix seconds (a year).
const MaxPointsVersionAhead = 366 * 24 * 60 * 60
