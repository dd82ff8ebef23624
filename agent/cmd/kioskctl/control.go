package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/township"
)

// keysGen makes a township key pair: the private key file for signing, the
// public key line for every kiosk's site file.
func keysGen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl keys gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the private key to `FILE` (mode 0600; never overwritten) (required)")
	encryption := fs.Bool("encryption", false, "make the township's records key (X25519) that kiosks seal phone and ID numbers to, not a signing key")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "kioskctl keys gen: --out is required")
		return 2
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
	fmt.Fprintf(stdout, "# private key in %s: keep it off the kiosks and out of backups others read\n", *out)
	fmt.Fprintf(stdout, "# key id %s; put this in every kiosk's site file:\ncontrol:\n  township_keys:\n    - %s\n", bundle.KeyID(pub), bundle.FormatPublicKey(pub))
	return 0
}

// configSign signs a site bundle (the content file, checked against a
// kiosk's site file first, exactly as the kiosk will check it) or, with
// --rotate-to, a key rotation.
func configSign(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("kioskctl config sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the township's private key `FILE` (kioskctl keys gen) (required)")
	townshipID := fs.String("township", "", "the township `ID` the bundle is for (required)")
	kiosks := fs.String("kiosks", "", "comma-separated kiosk `IDS`; empty: every kiosk of the township")
	version := fs.Uint64("version", 0, "bundle `N`, above every version signed before for the same kiosks (default: the current Unix time, which only grows)")
	content := fs.String("content", "", "the bundle content `FILE` (schema: "+config.BundleSchema+")")
	site := fs.String("site", "", "a kiosk's site `FILE` to check the content against, as the kiosk will (required with --content)")
	rotateTo := fs.String("rotate-to", "", "sign a key rotation to this new public `KEY` instead of a site bundle")
	effective := fs.Uint64("effective", 0, "with --rotate-to: the first `VERSION` only the new key signs (default: version+1)")
	valid := fs.Duration("valid", 30*24*time.Hour, "how long kiosks may apply it after now")
	out := fs.String("out", "", "write the envelope to `FILE` (default: stdout)")
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
		return fail("give either --content (with --site) or --rotate-to")
	case *content != "" && *site == "":
		return fail("--site is required with --content: the bundle is checked as the kiosk will check it")
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
		base, err := config.Load(*site)
		if err == nil {
			_, err = base.WithBundle(*content, data, b.Version)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kioskctl: the kiosk would refuse this bundle:\n%v\n", err)
			return 1
		}
		b.Kind, b.Content = bundle.KindSite, data
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
// township IT typed it.
func configPush(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	name := "kioskctl " + cmd + " push"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBrokerFlags(fs)
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
	topics, err := pushTopics(env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	c, err := bf.conn()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	for _, topic := range topics {
		if err := township.Push(ctx, c, topic, env); err != nil {
			fmt.Fprintf(stderr, "kioskctl: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "pushed to %s (retained)\n", topic)
	}
	return 0
}

// pushTopics reads the target and kind of an envelope, unverified, to
// route it: a kiosk verifies everything itself.
func pushTopics(env []byte) ([]string, error) {
	var e struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("not a bundle envelope: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("not a bundle envelope: payload: %w", err)
	}
	var p struct {
		Kind   string `json:"kind"`
		Target struct {
			Township string   `json:"township"`
			Kiosks   []string `json:"kiosks"`
		} `json:"target"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Target.Township == "" {
		return nil, fmt.Errorf("not a bundle payload (%v)", err)
	}
	tw := p.Target.Township
	switch {
	case p.Kind == bundle.KindKeyRotation:
		return []string{mqtttopic.TownshipKey(tw)}, nil
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
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tLINK\tIN FORCE\tLAST BUNDLE\tSTATUS\tREASON\tAT")
	for _, s := range states {
		inForce, last, status, reason, at := "site file", "-", "-", "", ""
		if r := s.Reported; r != nil {
			if r.InForceVersion != 0 {
				inForce = fmt.Sprintf("v%d (%s)", r.InForceVersion, r.InForce)
			}
			last, status, reason = fmt.Sprintf("v%d", r.Version), r.Status, r.Reason
			at = r.At.Local().Format("2006-01-02 15:04")
		}
		online := s.Online
		if online == "" {
			online = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Kiosk, online, inForce, last, status, reason, at)
	}
	tw.Flush()
	return 0
}
