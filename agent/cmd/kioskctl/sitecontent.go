package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/sealed"
	"github.com/fengqiao/kiosk/agent/township"
)

// siteContent checks a --content file against a kiosk's site file exactly as
// that kiosk will, and returns the kind of bundle it travels as: a patch
// (schema fengqiao.site-patch/v1, docs/bundles.md "Patches") as site-patch,
// anything else as a site bundle, whose own check refuses a wrong schema.
// The file's schema line decides, so township IT needs no flag that could
// disagree with it. For a patch it writes to w what the patch changes on
// that site, old value and new, to read before pushing.
func siteContent(base *config.Config, name string, data []byte, version uint64, w io.Writer) (string, *config.Config, error) {
	var head struct {
		Schema string `yaml:"schema"`
	}
	if yaml.Unmarshal(data, &head) != nil || head.Schema != config.PatchSchema {
		cfg, err := base.WithBundle(name, data, version)
		return bundle.KindSite, cfg, err
	}
	cfg, err := base.WithPatch(name, data, version)
	if err != nil {
		return "", nil, err
	}
	changes, err := base.PatchChanges(data)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(w, "the patch sets, on %s (%s):\n", base.Site.Kiosk.ID, base.SitePath)
	for _, c := range changes {
		fmt.Fprintf(w, "  %s\n    was %s\n    now %s\n", c.Field, orNone(c.Was), orNone(c.Now))
	}
	return bundle.KindSitePatch, cfg, nil
}

// recordsAfter says what records key the kiosks the bundle reaches will
// seal phone and ID numbers to once they apply it (bases are their site
// files, after what each makes of the content): a bundle with a records
// section sets it, one without leaves each kiosk's key in force alone,
// whatever bundle set it (docs/bundles.md, "Records key rotation"). It
// refuses a records key that is the very key signing the bundle, which
// the site files may not list (--allow-untrusted-key).
func recordsAfter(w io.Writer, bases, after []*config.Config, content []byte, signing ed25519.PublicKey) error {
	if !config.SetsRecords(content) {
		fmt.Fprintf(w, "records key: left alone; each kiosk keeps sealing phone and ID numbers to the key in force, the one the latest bundle with a records section gave it, else its site file's:\n")
		for _, b := range bases {
			fmt.Fprintf(w, "  %s (%s): site file's %s\n", b.Site.Kiosk.ID, b.SitePath, describeKey(b.Site.SealKey()))
		}
		return nil
	}
	fmt.Fprintf(w, "records key: from this bundle on (until a newer bundle with a records section), the kiosks it reaches seal phone and ID numbers to:\n")
	for i, a := range after {
		k := a.Site.SealKey()
		if k != nil {
			if err := config.CheckRecordsKey(k, bundle.FormatPublicKey(signing)); err != nil {
				return fmt.Errorf("records.township_key %w", err)
			}
		}
		fmt.Fprintf(w, "  %s (%s): %s\n", bases[i].Site.Kiosk.ID, bases[i].SitePath, describeKey(k))
	}
	fmt.Fprintf(w, "  Keep the old records private key until the kiosks have delivered what they sealed to it.\n")
	return nil
}

func describeKey(k *sealed.PublicKey) string {
	if k == nil {
		return "no key: numbers withheld (push a bundle with a records section)"
	}
	return "key id " + k.ID()
}

func orNone(v string) string {
	if v == "" {
		return "(not set)"
	}
	return v
}

// reportedRecordsKeys says, from the reports retained on the broker, which
// records key each kiosk the bundle reaches seals to now: the site file
// does not say it once a bundle has set one, and after a rotation it is
// the old key the township must keep until what was sealed to it arrives.
func reportedRecordsKeys(ctx context.Context, w io.Writer, bf brokerFlags, t bundle.Target, now time.Time) error {
	c, err := bf.conn()
	if err != nil {
		return err
	}
	states, err := township.ConfigStatus(ctx, c, t.Township, time.Second)
	if err != nil {
		return err
	}
	printed := false
	for _, st := range states {
		r := st.Reported
		if r == nil || !t.Includes(bundle.Identity{Township: t.Township, Kiosk: st.Kiosk}) {
			continue
		}
		if !printed {
			fmt.Fprintf(w, "records key now, as the kiosks last reported on the broker:\n")
			printed = true
		}
		key := "key id " + r.RecordsKey
		if r.RecordsKey == "" {
			key = "no key, or a kioskd that does not report it"
		}
		fmt.Fprintf(w, "  %s: %s (reported %s)\n", st.Kiosk, key, age(now, r.PublishedAt))
	}
	return nil
}
