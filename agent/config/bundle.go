package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// BundleSchema identifies the content of a township bundle (docs/bundles.md):
// a YAML document of the site-file sections township IT may change from
// afar.
const BundleSchema = "fengqiao.site-bundle/v1"

// BundleSections are the site-file sections a bundle may carry. Each one
// present replaces the site file's section whole (lists are not merged:
// what township IT sends is what the kiosk shows). The kiosk's identity,
// board, mode, broker, TLS files, storage and trust keys are not among
// them: changing those from afar could cut the kiosk off or move its
// records, so they stay with the technician who installs it.
var BundleSections = []string{"content", "mediators", "ui", "records"}

// bundleDoc is the shape of a bundle's content.
type bundleDoc struct {
	Schema    string     `yaml:"schema"`
	Content   *Content   `yaml:"content"`
	Mediators *Mediators `yaml:"mediators"`
	UI        *UI        `yaml:"ui"`
	Records   *Records   `yaml:"records"`
}

// WithBundle returns the configuration of c with the sections of a
// township bundle's content in place, validated as a whole by the same
// rules as a site file: a bundle can no more leave a kiosk with an invalid
// configuration than a technician's typo can. name labels problems (e.g.
// "bundle 7"); version becomes ContentVersion. c is not changed.
func (c *Config) WithBundle(name string, content []byte, version uint64) (*Config, error) {
	var b bundleDoc
	doc, err := decodeBytes(name, content, &b)
	problems, err := decodeProblems(err)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, &Error{Problems: problems}
	}
	problems = bundleKeyProblems(problems)
	ch := &checker{doc: doc}
	if b.Schema != BundleSchema {
		msg := ""
		if b.Schema == PatchSchema {
			msg = "; a patch is signed as one (kioskctl config sign picks the kind from the schema)"
		}
		ch.fail("schema", "%q is not a site bundle (want %q)%s", b.Schema, BundleSchema, msg)
	}
	if b.Content == nil && b.Mediators == nil && b.UI == nil && b.Records == nil {
		ch.fail("", "sets none of %s", strings.Join(BundleSections, ", "))
	}
	site := c.Site
	if b.Content != nil {
		site.Content = *b.Content
	}
	if b.Mediators != nil {
		site.Mediators = *b.Mediators
	}
	if b.UI != nil {
		site.UI = *b.UI
	}
	if b.Records != nil || mappingValue(doc.root, "records") != nil {
		site.Records = deref(b.Records) // records: with nothing after it is one without a key
		ch.recordsKeyGiven(site.Records)
	}
	return c.withSite(doc, append(problems, ch.problems...), site, version, c.leftOutHints)
}

// bundleKeyProblems rewords walk's "unknown key" for a top-level key a
// bundle may not set, saying why it is refused.
func bundleKeyProblems(problems []Problem) []Problem {
	for i, p := range problems {
		if top, _, _ := strings.Cut(p.Field, "."); p.Field == top && !slices.Contains(BundleSections, top) && top != "schema" &&
			strings.Contains(p.Msg, "unknown key") {
			problems[i].Msg = "a township bundle may not set " + top + " (only " + strings.Join(BundleSections, ", ") + "); change it in the kiosk's site file"
		}
	}
	return problems
}

// withSite validates site, c's site with a bundle's sections in place, and
// returns the configuration it makes, or every problem (those found while
// decoding the bundle first). doc is the bundle's.
// hints explains, ahead of them, problems that come from how a bundle
// is put over the site file rather than from what it says.
func (c *Config) withSite(doc *document, problems []Problem, site Site, version uint64, hints func(*document, []Problem) []Problem) (*Config, error) {
	site.applyDefaults()
	problems = mergeProblems(problems, site.validate(doc))
	if len(problems) > 0 {
		return nil, &Error{Problems: hints(doc, problems)}
	}
	out := *c
	out.Site, out.ContentVersion = site, version
	return &out, nil
}

// DevTownshipKeyID is the id of the dev township's signing key, whose
// private half is committed in packaging/dev/dev-township.key: anyone can
// sign with it, so a production kiosk refuses to trust it.
const DevTownshipKeyID = "46a47b757bd7ad85"

// DevRecordsKeyID is the id of the dev township's records key, whose
// private half is committed in packaging/dev/dev-township-records.key:
// anyone can open what is sealed to it, so a production kiosk refuses it.
const DevRecordsKeyID = "89525716719966ca"

// validate checks the records key. It is not required, even in
// production: a kiosk upgraded from before the key existed has a site file
// without it, and one that refused to start would be rolled back to the
// old version, which refuses the bundle carrying the key (an unknown
// section) — only a technician's visit could end that. A kiosk without the
// key withholds the numbers and alerts the township instead (kioskd); the
// template asks for it on a new install.
//
// Both a signing key (control.township_keys) and a records key are 44
// characters of base64, and any 32 bytes make an X25519 key, so a signing
// key pasted as the records key would be taken, and every number sealed
// to it lost (nobody holds an X25519 private key for it): a records key
// equal to one of the site's signing keys is refused. So is the dev
// township's on a production kiosk.
func (r *Records) validate(c *checker, mode string, signing []string) {
	if r.TownshipKey == "" {
		return
	}
	k, err := sealed.ParsePublicKey(r.TownshipKey)
	if err != nil {
		c.fail("records.township_key", "not an X25519 public key (kioskctl keys gen --encryption prints one): %v", err)
		return
	}
	if err := CheckRecordsKey(k, signing...); err != nil {
		c.fail("records.township_key", "%v", err)
	}
	if mode == ModeProduction && k.ID() == DevRecordsKeyID {
		c.fail("records.township_key", "%v: its private half is committed in packaging/dev/dev-township-records.key, so anyone could read the numbers; make the township's own with kioskctl keys gen --encryption", ErrDevRecordsKey)
	}
}

// recordsKeyGiven refuses a bundle's or patch's records section that
// leaves the kiosk without a records key: the kiosk would withhold every
// phone and ID number from then on. A rotation gives the new key; there is
// no taking it away from afar.
func (c *checker) recordsKeyGiven(r Records) {
	if r.TownshipKey == "" {
		c.fail("records.township_key", "is required in a bundle's records section: without it the kiosks would withhold every phone and ID number; to rotate, give the new key (kioskctl keys gen --encryption)")
	}
}

// Errors of CheckRecordsKey and of a records key's validation.
var (
	// ErrRecordsKeyIsSigningKey means a records key is one of the
	// township's Ed25519 signing keys, not an X25519 records key.
	ErrRecordsKeyIsSigningKey = errors.New("is a township signing key, not a records key")
	// ErrDevRecordsKey means a production kiosk was given the dev
	// township's records key.
	ErrDevRecordsKey = errors.New("is the dev township's records key (key id " + DevRecordsKeyID + ")")
	// ErrDevTownshipKey means a production kiosk was told to trust the dev
	// township's signing key.
	ErrDevTownshipKey = errors.New("is the dev township's signing key (key id " + DevTownshipKeyID + ")")
)

// CheckRecordsKey refuses a records key equal to any of the township's
// signing keys (text forms as control.township_keys holds them, base64 or
// hex; one that does not parse is not compared). control calls it with
// the keys of its trust state too, which a rotation may have added.
func CheckRecordsKey(k *sealed.PublicKey, signing ...string) error {
	for _, s := range signing {
		pub, err := bundle.ParsePublicKey(s)
		if err == nil && bytes.Equal(pub, k.Bytes()) {
			return fmt.Errorf("%w (key id %s): the records key is the X25519 key kioskctl keys gen --encryption makes, and a number sealed to a signing key can never be read", ErrRecordsKeyIsSigningKey, k.ID())
		}
	}
	return nil
}

// SealKey is the township's records key in force, nil when none is set.
// The site is validated, so the key parses.
func (s *Site) SealKey() *sealed.PublicKey {
	k, err := sealed.ParsePublicKey(s.Records.TownshipKey)
	if err != nil {
		return nil
	}
	return k
}

func (ct *Control) validate(c *checker, mode string) {
	if len(ct.TownshipKeys) == 0 && mode == ModeProduction {
		c.fail("control.township_keys", "a production kiosk needs the township's public key: without it no bundle can be trusted and the township cannot manage the kiosk")
	}
	if ct.UpdateRate != 0 && (ct.UpdateRate < 4<<10 || ct.UpdateRate > 100<<20) {
		// Below 4 KiB/s a kioskd release takes half an hour and more; a
		// rate above 100 MiB/s is a typo for "no cap", which is not offered.
		c.fail("control.update_rate", "%s per second is out of range [4KiB, 100MiB]", ct.UpdateRate)
	}
	keys := c.unique()
	for i, k := range ct.TownshipKeys {
		f := fmt.Sprintf("control.township_keys[%d]", i)
		pub, err := bundle.ParsePublicKey(k)
		if err != nil {
			c.fail(f, "not an Ed25519 public key (kioskctl keys gen prints one): %v", err)
			continue
		}
		if mode == ModeProduction && bundle.KeyID(pub) == DevTownshipKeyID {
			c.fail(f, "%v: its private half is committed in packaging/dev/dev-township.key, so anyone could sign bundles and updates for this kiosk; make the township's own with kioskctl keys gen", ErrDevTownshipKey)
		}
		keys.check(f, k)
	}
}

// leftOutHints explains the problems of a whole-section bundle that leaves
// out what the site file's section sets. Each section present replaces the
// site file's whole, and "content.topics: needs at least one consultation
// topic" alone does not say that township IT, who wrote only the advisor,
// wiped the topics: that is said first, with what to do instead.
func (c *Config) leftOutHints(doc *document, problems []Problem) []Problem {
	var hints []Problem
	for _, sec := range BundleSections {
		mine, theirs := mappingValue(doc.root, sec), mappingValue(c.siteRoot, sec)
		if mine == nil || theirs == nil || theirs.Kind != yaml.MappingNode || !blames(problems, sec) {
			continue
		}
		var left []string
		for i := 0; i+1 < len(theirs.Content); i += 2 {
			if k := theirs.Content[i].Value; mappingValue(mine, k) == nil {
				left = append(left, k)
			}
		}
		if len(left) > 0 {
			hints = append(hints, doc.problem(sec, "a bundle's %s section replaces the site file's whole, and this one leaves out %s, which the site file sets; to change only some values, sign a patch instead (schema: %s, docs/bundles.md, \"Patches\")",
				sec, strings.Join(left, ", "), PatchSchema))
		}
	}
	return append(hints, problems...)
}

// blames says whether a problem is about field or a field inside it.
func blames(problems []Problem, field string) bool {
	for _, p := range problems {
		if p.Field == field || strings.HasPrefix(p.Field, field+".") || strings.HasPrefix(p.Field, field+"[") {
			return true
		}
	}
	return false
}

// SetsRecords says whether a site bundle's or patch's content has a
// records section. Only such a bundle changes the records key: the kiosk
// keeps the key the latest of them set (agent/control) whatever bundles
// without one come after, which say nothing about it.
func SetsRecords(content []byte) bool {
	var root yaml.Node
	if yaml.Unmarshal(content, &root) != nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return false
	}
	return mappingValue(root.Content[0], "records") != nil
}

// WithRecordsKey returns c with key as the records key in force. The
// kiosk keeps the key the latest bundle with a records section set, in
// force over whatever bundle comes after it without one (agent/control),
// and checked when that bundle applied. c is not changed.
func (c *Config) WithRecordsKey(key string) *Config {
	out := *c
	out.Site.Records.TownshipKey = key
	return &out
}
