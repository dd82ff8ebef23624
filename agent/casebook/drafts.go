package casebook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// A draft is a session form a mediator had half filled in when they were
// signed out (the screen left idle, the session lapsed, or 退出登录): the
// screen keeps it here, so that at their next sign-in the form comes back
// as they left it. It is kept per mediator (their roster id, not the
// session token, which dies with the session) and per case, sealed like a
// case, since a form names parties and their phones. Drafts are short-lived
// and never leave the kiosk.

// DraftMaxAge is how long a draft is kept: a form not taken up again
// within a week is stale, and its parties' details should not linger.
const DraftMaxAge = 7 * 24 * time.Hour

var bucketDrafts = []byte("drafts")

// Draft is one mediator's unsaved session form on one case. Form is the
// screen's own, kept as it came (the local API bounds and checks it): the
// book stores it and gives it back, and reads nothing in it.
type Draft struct {
	Mediator string          `json:"mediator"`
	Case     string          `json:"case"`
	Saved    time.Time       `json:"saved"`
	Form     json.RawMessage `json:"form"`
}

func draftKey(mediator, caseID string) []byte { return []byte(mediator + "/" + caseID) }

// draftAD binds a sealed draft to its key, as caseAD does a case.
func draftAD(key []byte) []byte { return append([]byte("draft/"), key...) }

// PutDraft keeps d, replacing the mediator's earlier draft on that case,
// and drops every draft past DraftMaxAge in the same commit. Saved is set
// to now. The case must exist.
func (b *Book) PutDraft(d Draft) error {
	if d.Mediator == "" || strings.Contains(d.Mediator, "/") {
		return fmt.Errorf("casebook: put draft: bad mediator id %q", d.Mediator)
	}
	d.Saved = b.opts.Now()
	err := b.update(func(tx *bbolt.Tx) error {
		if _, err := b.get(tx, d.Case); err != nil {
			return err
		}
		drafts, err := tx.CreateBucketIfNotExists(bucketDrafts)
		if err != nil {
			return err
		}
		if err := b.dropStale(drafts); err != nil {
			return err
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode draft: %w", err)
		}
		key := draftKey(d.Mediator, d.Case)
		return drafts.Put(key, b.box.Seal(nil, raw, draftAD(key)))
	})
	if err != nil {
		return fmt.Errorf("casebook: put draft: %w", err)
	}
	return nil
}

// Drafts returns the mediator's drafts younger than DraftMaxAge, the most
// recently saved first. A draft that no longer opens is skipped, not an
// error: losing a half-filled form must not keep a mediator from work.
func (b *Book) Drafts(mediator string) ([]Draft, error) {
	cutoff := b.opts.Now().Add(-DraftMaxAge)
	var out []Draft
	err := b.db.View(func(tx *bbolt.Tx) error {
		drafts := tx.Bucket(bucketDrafts)
		if drafts == nil {
			return nil
		}
		prefix := draftKey(mediator, "")
		c := drafts.Cursor()
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			d, err := b.openDraft(k, v)
			if err != nil {
				b.opts.Log.Warn("unreadable mediation draft skipped", "err", err)
				continue
			}
			if d.Saved.After(cutoff) {
				out = append(out, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("casebook: drafts: %w", err)
	}
	slices.SortFunc(out, func(a, b Draft) int { return b.Saved.Compare(a.Saved) })
	return out, nil
}

// DeleteDraft drops the mediator's draft on a case; there being none is
// not an error.
func (b *Book) DeleteDraft(mediator, caseID string) error {
	err := b.update(func(tx *bbolt.Tx) error {
		drafts := tx.Bucket(bucketDrafts)
		if drafts == nil {
			return nil
		}
		return drafts.Delete(draftKey(mediator, caseID))
	})
	if err != nil {
		return fmt.Errorf("casebook: delete draft: %w", err)
	}
	return nil
}

func (b *Book) openDraft(k, v []byte) (Draft, error) {
	raw, err := b.box.Open(v, draftAD(k))
	if err != nil {
		return Draft{}, fmt.Errorf("%w: draft %s: %v", ErrCorrupt, k, err)
	}
	var d Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		return Draft{}, fmt.Errorf("%w: draft %s: %v", ErrCorrupt, k, err)
	}
	return d, nil
}

// sweepDrafts deletes drafts past DraftMaxAge at open, so that a draft's
// names and numbers leave the file when the docs say, even if no mediator
// saves another draft to trigger dropStale. It writes only when there is
// something to delete: a start costs no commit for it.
func (b *Book) sweepDrafts() error {
	stale := false
	cutoff := b.opts.Now().Add(-DraftMaxAge)
	err := b.db.View(func(tx *bbolt.Tx) error {
		drafts := tx.Bucket(bucketDrafts)
		if drafts == nil {
			return nil
		}
		return drafts.ForEach(func(k, v []byte) error {
			if d, err := b.openDraft(k, v); err != nil || !d.Saved.After(cutoff) {
				stale = true
			}
			return nil
		})
	})
	if err != nil || !stale {
		return err
	}
	return b.db.Update(func(tx *bbolt.Tx) error { return b.dropStale(tx.Bucket(bucketDrafts)) })
}

// dropStale deletes drafts past DraftMaxAge, and any that no longer open.
func (b *Book) dropStale(drafts *bbolt.Bucket) error {
	cutoff := b.opts.Now().Add(-DraftMaxAge)
	var stale [][]byte
	err := drafts.ForEach(func(k, v []byte) error {
		if d, err := b.openDraft(k, v); err != nil || !d.Saved.After(cutoff) {
			stale = append(stale, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := drafts.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
