package township

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/internal/editdist"
)

// Errors of the inventory's checks. A signer refuses a bundle that fails
// one unless township IT overrides it: a bundle for an id no kiosk has
// lands on a topic no kiosk reads, and one signed by a key the kiosks do
// not trust is refused by every kiosk, yet both sign and push "successfully".
var (
	// ErrUnknownTarget: the township or a kiosk of the target is not
	// one the inventory knows.
	ErrUnknownTarget = errors.New("township: unknown target")
	// ErrUntrustedKey: a kiosk the bundle reaches does not trust the key.
	ErrUntrustedKey = errors.New("township: key not trusted")
)

// Inventory is what a township tool knows of the kiosks: there is no
// township register of kiosks in this project, so it is built from what
// township IT has (the kiosks' site files) and, where a broker is at hand,
// from the kiosks seen on it. Only a site file says which keys a kiosk
// trusts. The zero value is empty and ready to use.
type Inventory struct {
	kiosks map[string]KnownKiosk // by township + "/" + kiosk
}

// KnownKiosk is one kiosk of an Inventory.
type KnownKiosk struct {
	Township, Kiosk string
	// Source says where it is known from: a site file's path, or "the broker".
	Source string
	// Keys are the ids (bundle.KeyID) of the township keys its site file
	// trusts; nil when it is known from the broker alone.
	Keys []string
}

// Add makes k known. A kiosk known from a site file keeps its keys when the
// broker names it too.
func (inv *Inventory) Add(k KnownKiosk) {
	if inv.kiosks == nil {
		inv.kiosks = map[string]KnownKiosk{}
	}
	id := k.Township + "/" + k.Kiosk
	if old, ok := inv.kiosks[id]; ok && old.Keys != nil && k.Keys == nil {
		return
	}
	inv.kiosks[id] = k
}

// AddSite makes known the kiosk of a site file, from its kiosk section and
// its control.township_keys.
func (inv *Inventory) AddSite(path, township, kiosk string, keys []string) error {
	ids := []string{}
	for _, k := range keys {
		pub, err := bundle.ParsePublicKey(k)
		if err != nil {
			return fmt.Errorf("township: %s: control.township_keys: %w", path, err)
		}
		ids = append(ids, bundle.KeyID(pub))
	}
	inv.Add(KnownKiosk{Township: township, Kiosk: kiosk, Source: path, Keys: ids})
	return nil
}

// Len is how many kiosks are known.
func (inv *Inventory) Len() int { return len(inv.kiosks) }

// of is the known kiosks of township, in id order.
func (inv *Inventory) of(township string) []KnownKiosk {
	var ks []KnownKiosk
	for _, id := range slices.Sorted(maps.Keys(inv.kiosks)) {
		if k := inv.kiosks[id]; k.Township == township {
			ks = append(ks, k)
		}
	}
	return ks
}

func (inv *Inventory) townships() []string {
	set := map[string]int{}
	for _, k := range inv.kiosks {
		set[k.Township]++
	}
	return slices.Sorted(maps.Keys(set))
}

// Reached is the known kiosks a target reaches: every known kiosk of its
// township, or those of its list that are known.
func (inv *Inventory) Reached(t bundle.Target) []KnownKiosk {
	var out []KnownKiosk
	for _, k := range inv.of(t.Township) {
		if len(t.Kiosks) == 0 || slices.Contains(t.Kiosks, k.Kiosk) {
			out = append(out, k)
		}
	}
	return out
}

// CheckTarget says whether the township and every kiosk of t are known.
// Each unknown id is an error of its own, naming the nearest known id (a
// typo like dev-kiosk-1 for dev-kiosk-01) and what is known; all wrap
// ErrUnknownTarget.
func (inv *Inventory) CheckTarget(t bundle.Target) error {
	if len(inv.kiosks) == 0 {
		return fmt.Errorf("%w: no kiosk is known, so township %q cannot be checked", ErrUnknownTarget, t.Township)
	}
	known := inv.of(t.Township)
	if len(known) == 0 {
		tws := inv.townships()
		return fmt.Errorf("%w: township %q is not known%s: no kiosk known is of it; townships known: %s",
			ErrUnknownTarget, t.Township, didYouMean(t.Township, tws), strings.Join(tws, ", "))
	}
	ids := make([]string, len(known))
	for i, k := range known {
		ids[i] = k.Kiosk
	}
	var errs []error
	for _, k := range t.Kiosks {
		if slices.Contains(ids, k) {
			continue
		}
		elsewhere := ""
		for _, other := range inv.kiosks {
			if other.Kiosk == k {
				elsewhere = fmt.Sprintf(" (it is a kiosk of %s)", other.Township)
			}
		}
		errs = append(errs, fmt.Errorf("%w: kiosk %q is not a known kiosk of %s%s%s; known: %s",
			ErrUnknownTarget, k, t.Township, elsewhere, didYouMean(k, ids), describe(known)))
	}
	return errors.Join(errs...)
}

// CheckKey says whether every known kiosk that t reaches trusts pub, by
// its site file. A kiosk known from the broker alone cannot be checked; if
// no kiosk reached has a site file, the site files of its township stand
// for them, and if there are none, nothing says the key is trusted: that is
// an error too. Errors wrap ErrUntrustedKey.
func (inv *Inventory) CheckKey(t bundle.Target, pub ed25519.PublicKey) error {
	id := bundle.KeyID(pub)
	var refusing []string
	checked := 0
	reached := inv.Reached(t)
	if !slices.ContainsFunc(reached, func(k KnownKiosk) bool { return k.Keys != nil }) {
		// Only kiosks not known, or known from the broker alone (signed
		// with an override): their township's other kiosks are the best
		// guess of what they trust.
		reached = inv.of(t.Township)
	}
	for _, k := range reached {
		if k.Keys == nil {
			continue
		}
		checked++
		if !slices.Contains(k.Keys, id) {
			trusts := "no key"
			if len(k.Keys) > 0 {
				trusts = strings.Join(k.Keys, ", ")
			}
			refusing = append(refusing, fmt.Sprintf("%s (%s trusts %s)", k.Kiosk, k.Source, trusts))
		}
	}
	switch {
	case checked == 0:
		return fmt.Errorf("%w: key %s: no site file of %s says which keys its kiosks trust", ErrUntrustedKey, id, t.Township)
	case len(refusing) > 0:
		return fmt.Errorf("%w: key %s is not trusted by %s; they would refuse the bundle as unknown_key",
			ErrUntrustedKey, id, strings.Join(refusing, "; "))
	}
	return nil
}

// describe lists known kiosks with where each is known from.
func describe(ks []KnownKiosk) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.Kiosk + " (" + k.Source + ")"
	}
	return strings.Join(parts, ", ")
}

// didYouMean names the known id nearest to a mistyped one, if one is near
// enough to be a typo: within a third of its length, at least 2 edits.
func didYouMean(s string, known []string) string {
	best, bestDist := "", max(2, len(s)/3)+1
	for _, k := range known {
		if d := editdist.Distance(s, k); d < bestDist || d == bestDist && k < best {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
