package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
)

// defaultCertificateValidity is how long an operator certificate holds: a
// certificate is revoked by expiring (or by rotating the township key that
// signed it), so it is short, and renewed each quarter.
const defaultCertificateValidity = 90 * 24 * time.Hour

// operatorCertify signs an operator certificate: the township key lets a
// clerk's own key (kioskctl keys gen) answer villagers' requests, and
// nothing else, for the kiosks named and the window given
// (docs/requests.md, docs/bundles.md).
func operatorCertify(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	const name = "kioskctl operator certify"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the township's private key `FILE` (required)")
	townshipID := fs.String("township", "", "the township `ID` (required)")
	kiosks := fs.String("kiosks", "", "comma-separated kiosk `IDS` the operator answers for; empty: every kiosk of the township")
	operator := fs.String("operator", "", "the operator's public `KEY`, as kioskctl keys gen printed it (required)")
	holder := fs.String("name", "", "who holds the key, e.g. 镇综治中心 王某 (required)")
	version := fs.Uint64("version", 0, "the certificate's version `N` (default: the current Unix time): a township key retired below it by a rotation cannot have signed it")
	valid := fs.Duration("valid", defaultCertificateValidity, "how long the certificate holds from now")
	out := fs.String("out", "", "write the certificate to `FILE` (default: stdout)")
	scopes := fs.String("scopes", bundle.KindRequestStatus, "comma-separated bundle `KINDS` the operator may sign: "+strings.Join(bundle.OperatorScopes, ", ")+" (a points clerk's: "+bundle.KindPointsLedger+")")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *keyPath == "" || *townshipID == "" || *operator == "" || *holder == "" {
		fmt.Fprintf(stderr, "%s: --key, --township, --operator and --name are required\n", name)
		return 2
	}
	priv, err := bundle.ReadPrivateKeyFile(*keyPath)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	pub, err := bundle.ParsePublicKey(*operator)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --operator: %v\n", name, err)
		return 2
	}
	// Each certificate names its kinds: a clerk who answers requests need
	// not be able to sign the village's points, nor the other way round.
	kinds := strings.Split(*scopes, ",")
	content, err := bundle.Operator{PublicKey: pub, Name: *holder, Scopes: kinds}.Encode()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	issued := now().UTC().Truncate(time.Second)
	b := bundle.Bundle{Kind: bundle.KindOperatorKey, Version: *version, Target: bundle.Target{Township: *townshipID},
		NotBefore: issued, Expires: issued.Add(*valid), Content: content}
	if b.Version == 0 {
		b.Version = uint64(issued.Unix())
	}
	if *kiosks != "" {
		b.Target.Kiosks = strings.Split(*kiosks, ",")
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
	fmt.Fprintf(stderr, "certified operator key %s (%s) for %v of %s, until %s\n", bundle.KeyID(pub), *holder,
		kinds, target(b.Target), b.Expires.Format(time.RFC3339))
	return 0
}
