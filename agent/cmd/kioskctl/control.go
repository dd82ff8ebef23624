package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/township"
)

// keysGen makes a township key pair: the private key file for signing, the
// public key line for every kiosk's site file.
func keysGen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl keys gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the private key to `FILE` (mode 0600; never overwritten) (required)")
	encryption := fs.Bool("encryption", false, "make the township's records key (X25519) that kiosks seal phone and ID numbers to, not a signing key")
	pointsKey := fs.Bool("points", false, "make the township's 美德银行 points key (docs/points.md), not a signing key")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "kioskctl keys gen: --out is required")
		return 2
	case *encryption && *pointsKey:
		fmt.Fprintln(stderr, "kioskctl keys gen: give --encryption or --points, not both")
		return 2
	case *pointsKey:
		return pointsKeyGen(*out, stdout, stderr)
	}
	if *encryption {
		return recordsKeyGen(*out, stdout, stderr)
	}
	pub, priv, err := bundle.GenerateKey()
	if err == nil {
		err = bundle.WritePrivateKeyFile(*out, priv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# SIGNING key (Ed25519) for bundles; private key in %s: keep it off the kiosks and out of backups others read\n", *out)
	fmt.Fprintf(stdout, "# Not a records key: it goes under control.township_keys only, never records.township_key\n")
	fmt.Fprintf(stdout, "# (that one is made by kioskctl keys gen --encryption).\n")
	fmt.Fprintf(stdout, "# key id %s; put this in every kiosk's site file:\ncontrol:\n  township_keys:\n    - %s\n", bundle.KeyID(pub), bundle.FormatPublicKey(pub))
	return 0
}

// configSign signs a site bundle or a site patch (the content file, checked
// against the kiosks' site files first, exactly as the kiosks will check
// it; siteContent) or, with --rotate-to, a key rotation. Before it signs, it
// checks the target and the key against what is known of the kiosks
// (signInventory): a typo in an id or the wrong key file would otherwise
// sign and push "successfully" and change nothing.
func configSign(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("kioskctl config sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the township's private key `FILE` (kioskctl keys gen) (required)")
	townshipID := fs.String("township", "", "the township `ID` the bundle is for (required)")
	kiosks := fs.String("kiosks", "", "comma-separated kiosk `IDS`; empty: every kiosk of the township")
	version := fs.Uint64("version", 0, "bundle `N`, above every version signed before for the same kiosks (default: the current Unix time, which only grows)")
	content := fs.String("content", "", "the bundle content `FILE`: schema "+config.PatchSchema+" changes only the values it names, "+config.BundleSchema+" replaces whole sections")
	var sites []string
	fs.Func("site", "a kiosk's site `FILE`, or a directory of them (*.yaml): the kiosks known, the keys they trust, and the content checked as they will check it; repeatable (required)", func(s string) error {
		sites = append(sites, s)
		return nil
	})
	bf := addBrokerFlags(fs)
	fs.Lookup("broker").Usage = "optional: kiosks with a retained report on this broker `URL` are known too (their keys are not)"
	rotateTo := fs.String("rotate-to", "", "sign a key rotation to this new public `KEY` instead of a site bundle")
	effective := fs.Uint64("effective", 0, "with --rotate-to: the first `VERSION` only the new key signs (default: version+1)")
	valid := fs.Duration("valid", 30*24*time.Hour, "how long kiosks may apply it after now")
	out := fs.String("out", "", "write the envelope to `FILE` (default: stdout)")
	allowUnknown := fs.Bool("allow-unknown-target", false, "sign for a township or kiosk that no --site (or the broker) knows")
	allowUntrusted := fs.Bool("allow-untrusted-key", false, "sign with a key that the --site files do not trust")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "kioskctl config sign: "+format+"\n", a...)
		return 2
	}
	switch {
	case *keyPath == "" || *townshipID == "":
		return fail("--key and --township are required")
	case (*content == "") == (*rotateTo == ""):
		return fail("give either --content or --rotate-to")
	case *content != "" && len(sites) == 0:
		return fail("--site is required with --content: the bundle is checked as the kiosks will check it")
	case len(sites) == 0 && !(*allowUnknown && *allowUntrusted):
		return fail("--site is required: the kiosks' site files say which ids exist and which keys they trust, and the content is checked as they will check it")
	}
	priv, err := bundle.ReadPrivateKeyFile(*keyPath)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	issued := now().UTC().Truncate(time.Second)
	b := bundle.Bundle{Version: *version, NotBefore: issued, Expires: issued.Add(*valid),
		Target: bundle.Target{Township: *townshipID}}
	if b.Version == 0 {
		b.Version = uint64(issued.Unix())
	}
	if *kiosks != "" {
		b.Target.Kiosks = strings.Split(*kiosks, ",")
	}
	inv, bases, err := signInventory(ctx, sites, bf)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl config sign: %v\n", err)
		return 1
	}
	if err := inv.CheckTarget(b.Target); err != nil {
		if !*allowUnknown {
			fmt.Fprintf(stderr, "kioskctl config sign: %v\n%s", err, unknownTargetHint)
			return 1
		}
		fmt.Fprintf(stderr, "kioskctl config sign: warning (--allow-unknown-target): %v\n", err)
	}
	if err := inv.CheckKey(b.Target, priv.Public().(ed25519.PublicKey)); err != nil {
		if !*allowUntrusted {
			fmt.Fprintf(stderr, "kioskctl config sign: --key %s: %v\n%s", *keyPath, err, untrustedKeyHint)
			return 1
		}
		fmt.Fprintf(stderr, "kioskctl config sign: warning (--allow-untrusted-key): %v\n", err)
	}
	if *rotateTo != "" {
		pub, err := bundle.ParsePublicKey(*rotateTo)
		if err != nil {
			return fail("--rotate-to: %v", err)
		}
		b.Kind, b.Rotation = bundle.KindKeyRotation, &bundle.Rotation{PublicKey: pub, EffectiveVersion: *effective}
		if *effective == 0 {
			b.Rotation.EffectiveVersion = b.Version + 1
		}
	} else {
		data, err := os.ReadFile(*content)
		if err != nil {
			fmt.Fprintf(stderr, "kioskctl: %v\n", err)
			return 1
		}
		kind := ""
		reached := reachedBases(bases, b.Target)
		var after []*config.Config
		for _, base := range reached {
			var cfg *config.Config
			if kind, cfg, err = siteContent(base, *content, data, b.Version, stderr); err != nil {
				fmt.Fprintf(stderr, "kioskctl: the kiosk of %s would refuse this bundle:\n%v\n", base.SitePath, err)
				return 1
			}
			after = append(after, cfg)
		}
		if err := recordsAfter(stderr, reached, after, data, priv.Public().(ed25519.PublicKey)); err != nil {
			fmt.Fprintf(stderr, "kioskctl config sign: %v\n", err)
			return 1
		}
		if *bf.broker != "" {
			if err := reportedRecordsKeys(ctx, stderr, bf, b.Target, now()); err != nil {
				fmt.Fprintf(stderr, "kioskctl config sign: --broker: %v\n", err)
				return 1
			}
		}
		b.Kind, b.Content = kind, data
	}
	env, err := bundle.Sign(b, priv)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	if *out == "" {
		stdout.Write(append(env, '\n'))
	} else if err := bundle.WriteFileAtomic(*out, env, 0o644); err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "signed %s bundle version %d for %s, valid until %s\n", b.Kind, b.Version, target(b.Target), b.Expires.Format(time.RFC3339))
	return 0
}

// The hints after a refusal of config sign: what the check is for, how to
// make the id or key known, and the flag that overrides it.
const (
	unknownTargetHint = "  A bundle for an id no kiosk has lands on a topic no kiosk reads. Check the id; for a kiosk\n" +
		"  not yet known, give its site file with --site (a directory reads every site file in it),\n" +
		"  or sign anyway with --allow-unknown-target.\n"
	untrustedKeyHint = "  Sign with the key whose public half is in the site files' control.township_keys. After a\n" +
		"  rotation to this key, add it there too (a new kiosk trusts only what its site file says),\n" +
		"  or sign anyway with --allow-untrusted-key.\n"
)

// signInventory is what config sign knows of the kiosks: each site file
// given (a directory: every *.yaml and *.yml in it), loaded and validated
// as the kiosk loads it, and, with --broker, every kiosk with a retained
// report there. It returns the site files' configurations too, to check
// the content against.
func signInventory(ctx context.Context, sites []string, bf brokerFlags) (*township.Inventory, []*config.Config, error) {
	var paths []string
	for _, s := range sites {
		fi, err := os.Stat(s)
		if err != nil {
			return nil, nil, fmt.Errorf("--site: %w", err)
		}
		if !fi.IsDir() {
			paths = append(paths, s)
			continue
		}
		var found []string
		for _, pattern := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(s, pattern))
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, nil, fmt.Errorf("--site %s: no site file (*.yaml) in it", s)
		}
		slices.Sort(found)
		paths = append(paths, found...)
	}
	inv := &township.Inventory{}
	var bases []*config.Config
	for _, p := range paths {
		cfg, err := config.Load(p)
		if err != nil {
			return nil, nil, fmt.Errorf("--site %s: %w", p, err)
		}
		k := cfg.Site.Kiosk
		if err := inv.AddSite(p, k.Township, k.ID, cfg.Site.Control.TownshipKeys); err != nil {
			return nil, nil, err
		}
		bases = append(bases, cfg)
	}
	if *bf.broker != "" {
		c, err := bf.conn()
		if err != nil {
			return nil, nil, err
		}
		seen, err := township.SeenKiosks(ctx, c, 2*time.Second)
		if err != nil {
			return nil, nil, fmt.Errorf("--broker: %w", err)
		}
		for _, k := range seen {
			inv.Add(k)
		}
	}
	return inv, bases, nil
}

// reachedBases is the site files' configurations of the kiosks t reaches,
// or all of them if it reaches none known (signed with
// --allow-unknown-target): the content is checked against each.
func reachedBases(bases []*config.Config, t bundle.Target) []*config.Config {
	var out []*config.Config
	for _, b := range bases {
		if t.Includes(bundle.Identity{Township: b.Site.Kiosk.Township, Kiosk: b.Site.Kiosk.ID}) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return bases
	}
	return out
}

func target(t bundle.Target) string {
	if len(t.Kiosks) == 0 {
		return "every kiosk of " + t.Township
	}
	return strings.Join(t.Kiosks, ", ") + " of " + t.Township
}

// brokerFlags are the flags of a command that talks to the township broker.
type brokerFlags struct {
	broker, ca, cert, key *string
}

func addBrokerFlags(fs *flag.FlagSet) brokerFlags {
	return brokerFlags{
		broker: fs.String("broker", "", "township MQTT broker `URL`: ssl://host:8883, or tcp:// for a dev broker (required)"),
		ca:     fs.String("ca", "", "the township CA's certificate `FILE` (PEM), for ssl:// (default: the system's roots)"),
		cert:   fs.String("cert", "", "township IT's client certificate `FILE` (PEM), for ssl://"),
		key:    fs.String("tls-key", "", "the client certificate's key `FILE` (PEM)"),
	}
}

func (b brokerFlags) conn() (township.Conn, error) {
	c := township.Conn{Broker: *b.broker}
	if c.Broker == "" {
		return c, errors.New("--broker is required")
	}
	if *b.cert == "" && *b.ca == "" {
		return c, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if *b.ca != "" {
		pem, err := os.ReadFile(*b.ca)
		if err != nil {
			return c, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("--ca %s: no certificate in it", *b.ca)
		}
	}
	if *b.cert != "" {
		kp, err := tls.LoadX509KeyPair(*b.cert, *b.key)
		if err != nil {
			return c, fmt.Errorf("--cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	c.TLS = cfg
	return c, nil
}

// configPush publishes a signed envelope retained on the topic its kind and
// target call for. cmd is "config" or "update": the same push, named as
// township IT typed it. It first reads what is retained on those topics and
// refuses to replace a newer bundle (checkNewer): kiosks that applied it
// would refuse the older one as a downgrade anyway, and kiosks that come
// online later would never see the newer one.
func configPush(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	name := "kioskctl " + cmd + " push"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBrokerFlags(fs)
	wait := fs.Duration("wait", time.Second, "how long to wait for the bundles retained on the broker, to compare versions")
	replaceNewer := fs.Bool("replace-newer", false, "replace a retained bundle of an equal or higher version: only for one the township did not sign (a forged version claim), which kiosks refuse anyway")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "%s: give the envelope FILE (kioskctl %s sign --out), or - for stdin\n", name, cmd)
		return 2
	}
	var env []byte
	var err error
	if fs.Arg(0) == "-" {
		env, err = io.ReadAll(io.LimitReader(os.Stdin, bundle.MaxEnvelopeSize+1))
	} else {
		env, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	c, err := bf.conn()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	return pushEnvelope(ctx, name, c, env, *wait, *replaceNewer, stdout, stderr)
}

// pushEnvelope publishes a signed envelope retained on the topics its kind
// and target call for, after reading what is retained there and refusing
// to replace a newer bundle (checkNewer). config push, update push and the
// township's answers (township requests) all push this way.
func pushEnvelope(ctx context.Context, name string, c township.Conn, env []byte, wait time.Duration, replaceNewer bool, stdout, stderr io.Writer) int {
	topics, err := pushTopics(env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	retained, err := township.Retained(ctx, c, topics, wait)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	// Every topic is checked before any is published: a push to several
	// kiosks is not left half done.
	var refusals []error
	skip := map[string]bool{}
	for _, topic := range topics {
		old, ok := retained[topic]
		if !ok {
			continue
		}
		switch err := checkNewer(env, old); {
		case errors.Is(err, errSameBundle):
			skip[topic] = true
		case errors.Is(err, errNotNewer) && replaceNewer:
			fmt.Fprintf(stderr, "%s: warning (--replace-newer): %s: %v\n", name, topic, err)
		case err != nil:
			refusals = append(refusals, fmt.Errorf("%s: %w", topic, err))
		}
	}
	if len(refusals) > 0 {
		fmt.Fprintf(stderr, "%s: nothing pushed:\n", name)
		for _, r := range refusals {
			fmt.Fprintf(stderr, "  %v\n", r)
		}
		fmt.Fprintf(stderr, "  Sign the bundle again with a higher --version (the default, the current Unix time, is).\n")
		return 1
	}
	for _, topic := range topics {
		if skip[topic] {
			fmt.Fprintf(stdout, "already retained on %s\n", topic)
			continue
		}
		if err := township.Push(ctx, c, topic, env); err != nil {
			fmt.Fprintf(stderr, "kioskctl: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "pushed to %s (retained)\n", topic)
	}
	return 0
}

// Outcomes of checkNewer.
var (
	// errNotNewer: the retained bundle's version is equal or higher.
	errNotNewer = errors.New("not newer than the bundle retained")
	// errSameBundle: the very envelope is retained already.
	errSameBundle = errors.New("the same bundle is retained")
)

// checkNewer says whether env may replace old, the envelope retained on
// its topic: only with a higher version (read unverified, like the route:
// a kiosk verifies everything itself). What is retained but not a bundle
// (a test message, an empty one) may be replaced.
func checkNewer(env, old []byte) error {
	if bytes.Equal(env, old) {
		return errSameBundle
	}
	prev, err := peek(old)
	if err != nil {
		return nil
	}
	next, err := peek(env)
	if err != nil {
		return err
	}
	switch {
	case next.Version < prev.Version:
		return fmt.Errorf("%w: version %d is lower than the %s bundle version %d retained there (signed %s); kiosks that applied it would refuse this one as a downgrade, and kiosks not yet online would never get it",
			errNotNewer, next.Version, prev.Kind, prev.Version, prev.NotBefore)
	case next.Version == prev.Version:
		return fmt.Errorf("%w: version %d is the version of the other %s bundle retained there (signed %s); kiosks that applied it would refuse this one as a replay",
			errNotNewer, next.Version, prev.Kind, prev.NotBefore)
	}
	return nil
}

// head is what a tool may read of an envelope's payload without verifying
// it: enough to route it and order it.
type head struct {
	Kind      string `json:"kind"`
	Version   uint64 `json:"version"`
	NotBefore string `json:"not_before"`
	Content   []byte `json:"content"` // request-status only: routed by the request's number
	Target    struct {
		Township string   `json:"township"`
		Kiosks   []string `json:"kiosks"`
	} `json:"target"`
}

// peek reads an envelope's payload head, unverified.
func peek(env []byte) (head, error) {
	var e struct {
		Payload string `json:"payload"`
	}
	var p head
	if err := json.Unmarshal(env, &e); err != nil {
		return p, fmt.Errorf("not a bundle envelope: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return p, fmt.Errorf("not a bundle envelope: payload: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Target.Township == "" {
		return p, fmt.Errorf("not a bundle payload (%v)", err)
	}
	return p, nil
}

// pushTopics reads the target and kind of an envelope, unverified, to
// route it: a kiosk verifies everything itself.
func pushTopics(env []byte) ([]string, error) {
	p, err := peek(env)
	if err != nil {
		return nil, err
	}
	tw := p.Target.Township
	switch {
	case p.Kind == bundle.KindKeyRotation:
		return []string{mqtttopic.TownshipKey(tw)}, nil
	case p.Kind == bundle.KindRequestStatus:
		ch, err := request.ParseChange(p.Content)
		if err != nil {
			return nil, err
		}
		if len(p.Target.Kiosks) != 1 {
			return nil, fmt.Errorf("a %s bundle names one kiosk", p.Kind)
		}
		return []string{mqtttopic.RequestStatus(tw, p.Target.Kiosks[0], ch.Seq)}, nil
	case p.Kind == bundle.KindPointsLedger:
		// Per kiosk: each village's ledger on its own kiosks' topics.
		var topics []string
		for _, k := range p.Target.Kiosks {
			topics = append(topics, mqtttopic.PointsLedger(tw, k))
		}
		if len(topics) == 0 {
			return nil, fmt.Errorf("a %s bundle names its village's kiosks", p.Kind)
		}
		return topics, nil
	case p.Kind == bundle.KindUpdate && len(p.Target.Kiosks) == 0:
		return []string{mqtttopic.TownshipUpdate(tw)}, nil
	case len(p.Target.Kiosks) == 0:
		return []string{mqtttopic.TownshipConfig(tw)}, nil
	}
	perKiosk := mqtttopic.ConfigSet
	if p.Kind == bundle.KindUpdate {
		perKiosk = mqtttopic.UpdateSet
	}
	var topics []string
	for _, k := range p.Target.Kiosks {
		topics = append(topics, perKiosk(tw, k))
	}
	return topics, nil
}

// configStatus prints each kiosk's reported configuration state.
func configStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl config status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBrokerFlags(fs)
	townshipID := fs.String("township", "", "the township `ID` (required)")
	wait := fs.Duration("wait", 2*time.Second, "how long to collect the kiosks' retained reports")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c, err := bf.conn()
	if err == nil && *townshipID == "" {
		err = errors.New("--township is required")
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl config status: %v\n", err)
		return 2
	}
	states, err := township.ConfigStatus(ctx, c, *townshipID, *wait)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(states)
		return 0
	}
	if len(states) == 0 {
		fmt.Fprintln(stderr, township.ErrNoKiosks)
		return 1
	}
	writeConfigTable(stdout, states, time.Now())
	return 0
}

// writeConfigTable writes each kiosk's configuration as township IT reads
// it: what is in force and since when, apart from the last bundle tried
// and its result, and how old the kiosk's report is. The result of the
// last bundle tried is never the kiosk's state: a bundle refused leaves
// what was in force in force, so the two get columns of their own, each
// with its age (issue 19: a refusal read as the current state).
func writeConfigTable(w io.Writer, states []township.KioskState, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tLINK\tIN FORCE\tSINCE\tLAST TRIED\tRESULT\tTRIED\tREPORTED")
	for _, s := range states {
		inForce, since, last, result, tried, reported := "site file", "-", "-", "no bundle yet", "-", "-"
		if r := s.Reported; r != nil {
			if r.InForceVersion != 0 {
				inForce = fmt.Sprintf("v%d (%s)", r.InForceVersion, scopeWord(r.InForce))
				since = age(now, r.InForceAt)
			}
			last = "v?" // refused before its signature was checked: its version is not believed
			if r.Version != 0 {
				last = fmt.Sprintf("v%d", r.Version)
			}
			result = r.Status
			if r.Reason != "" {
				result += ": " + r.Reason
			}
			if r.Status == control.StatusApplied && (r.Version != r.InForceVersion || r.Scope != r.InForce) {
				result += " (a later-issued bundle is in force)"
			}
			tried = age(now, r.At)
			reported = age(now, r.PublishedAt)
			if r.Schema == "" {
				reported = "? (old kioskd)"
			}
		}
		// Every string but the times comes from the kiosks: none may move
		// the cursor or break the columns of the operator's terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(s.Kiosk), printable(dash(s.Online)),
			printable(inForce), since, last, printable(result), tried, reported)
	}
	tw.Flush()
}

// scopeWord is a bundle scope as the table shows it: "township" for the
// township-wide bundle, "kiosk" for one of the kiosk's own.
func scopeWord(scope string) string {
	kind, _, _ := strings.Cut(scope, ":")
	if kind == "" {
		return scope
	}
	return kind
}

// age is how long before now t was, in one short unit for a table column:
// "40s ago", "12m ago", "3h ago", "2d ago"; "-" for no time. The times are
// the kiosk's clock's and now is this machine's, so a time ahead of now (a
// kiosk's clock ahead) says so rather than showing a negative age.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " ahead"
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds%s", int(d.Seconds()), suffix)
	case d < time.Hour:
		return fmt.Sprintf("%dm%s", int(d.Minutes()), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%s", int(d.Hours()), suffix)
	}
	return fmt.Sprintf("%dd%s", int(d.Hours()/24), suffix)
}
