// Command kioskctl is the tool of township IT and kiosk technicians: it watches
// what kiosks publish and, in later versions, pushes signed configuration and
// reads ID cards for testing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/fengqiao/kiosk/agent/sealed"
	"github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/agent/version"
)

const usage = `kioskctl — tools for township IT and kiosk technicians.

Usage:
  kioskctl township watch --broker URL [--ca F --cert F --tls-key F] [--township ID] [--key FILE]...
        print every record the kiosks publish, one JSON line each, once per id;
        with the township's records keys, sealed phone and ID numbers in clear
  kioskctl township requests sync --broker URL --township ID --state DIR [--wait 3s]
        collect the kiosks' request/v1 records into DIR (a persistent MQTT
        session: the broker keeps what comes while kioskctl is not running)
  kioskctl township requests list --township ID --state DIR [--broker URL] [--json]
        every request with its status and whether the kiosk has the answer
  kioskctl township requests show --township ID --state DIR [--key FILE] KIOSK/NUMBER
        one request; with the records key, the sealed phone in clear
  kioskctl township requests accept|progress|reply|refer|close --township ID --state DIR
                       --key FILE [--certificate FILE] --broker URL [--reply TEXT] [--by OFFICE] [--to OFFICE] KIOSK/NUMBER
        sign the township's answer (受理 / 办理中 / 答复 / 转交 / 办结) and publish
        it, retained, to the kiosk (docs/requests.md); refused below the last version;
        with --certificate, --key is an operator's key that the township key certified
  kioskctl operator certify --key FILE --township ID [--kiosks IDS] --operator KEY --name NAME [--scopes KINDS] [--valid 2160h] [--out FILE]
        certify a clerk's own key (keys gen) to answer requests (or, with
        --scopes points-ledger, to sign the points ledger), and nothing
        else, so the clerk's machine need not hold the township key
  kioskctl outbox status [--socket PATH] [--json]
        the kiosk's queue: waiting records, oldest, last delivery, dead letters, disk
  kioskctl outbox dead [--socket PATH] [--json]
        records set aside because they could not be delivered, and why
  kioskctl outbox requeue [--socket PATH] SEQ...
        put dead letters back in the queue once the cause is fixed
  kioskctl link retry [--socket PATH]
        try the township broker now instead of waiting out the backoff
  kioskctl idcard simulate --pty [--link PATH] [--baud N] [--card N]
        a simulated ID-card reader on a pseudo-terminal; type 1-4 to place a card
  kioskctl idcard read --device PATH [--baud N] [--json] [--reveal]
        read one card from a reader and print it (ID number masked unless --reveal)
  kioskctl mediator hash < FILE
        the id_sha256 and pin_bcrypt lines of a mediator roster entry; reads
        the ID number and the PIN from stdin, one a line (never from argv)
  kioskctl keys gen --out FILE [--encryption | --points]
        a township signing key: the private key to FILE (0600), the public
        key line for every kiosk's site file (control.township_keys); with
        --encryption the township's records key that phone and ID numbers
        are sealed to (records.township_key; township watch --key FILE); with
        --points the 美德银行 points key kiosks find accounts with
        (points.key_file, copied to each kiosk, never sent over MQTT)
  kioskctl config sign --key FILE --township ID [--kiosks IDS] [--version N] --site SITE|DIR...
                       [--broker URL] (--content FILE | --rotate-to KEY) [--out FILE]
        sign a bundle: refused for a township, kiosk or key the site files do
        not know or trust (--allow-unknown-target, --allow-untrusted-key);
        content checked against the site files as the kiosks will
  kioskctl config push --broker URL [--ca F --cert F --tls-key F] FILE
        publish a signed bundle, retained, to the kiosks it names; refused
        if a bundle of an equal or higher version is retained there
  kioskctl config status --broker URL [--ca F --cert F --tls-key F] --township ID [--json]
        each kiosk's link and its reported configuration: in force, last
        bundle, applied / rejected / rolled_back and why
  kioskctl update sign --key FILE --township ID [--kiosks IDS | --village V --broker URL …] --base-url URL
                       [--window HH:MM-HH:MM] [--deadline TIME] [--out FILE] DEB...
        sign a software update: the .deb files' sizes and SHA-256, where
        kiosks fetch them, when they may install (docs/updates.md)
  kioskctl update push --broker URL [--ca F --cert F --tls-key F] FILE
        publish a signed update, retained, to the kiosks it names (the
        same version check as config push)
  kioskctl update status --broker URL [--ca F --cert F --tls-key F] --township ID [--json] [--every 30s]
        each kiosk's update: pending, downloading 43 %, waiting for window,
        installed, rolled_back: <reason>; --every watches, printing changes
  kioskctl points sign --key FILE [--certificate FILE] --points-key FILE --township ID --kiosks IDS
                       --site SITE|DIR... --entries CSV --shop FILE [--version N] [--recent 20] [--out FILE]
        sign a village's points ledger (docs/points.md): the export's entries
        checked row by row, balances summed, the newest entries kept, accounts
        keyed by the points key; refused for kiosks or keys the site files do not know
  kioskctl points push --broker URL [--ca F --cert F --tls-key F] FILE
        publish a signed points ledger, retained, to the kiosks it names (the
        same version check as config push)
  kioskctl points status --broker URL [--ca F --cert F --tls-key F] --township ID [--json]
        each kiosk's points ledger: the version in force and as of when, its
        points key, the last ledger refused and why (points_key_mismatch …)
  kioskctl doctor [--site FILE] [--data DIR] [--socket PATH]
        check this kiosk line by line: config, kioskd, reader, printer,
        cameras, GPIO, clock, watchdog, disk, broker, certificates, updater
  kioskctl board screen [--site FILE]
        the board profile's panel, "WIDTHxHEIGHT ROTATION" (for the screen session)
  kioskctl version

The outbox, link and doctor commands run on the kiosk and talk to kioskd's
local API on --socket (default ` + defaultSocket + `, kioskd's default too).

Run "kioskctl COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	case args[0] == "version":
		fmt.Fprintln(stdout, "kioskctl", version.String())
		return 0
	case len(args) >= 2 && args[0] == "township" && args[1] == "watch":
		return townshipWatch(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "operator" && args[1] == "certify":
		return operatorCertify(args[2:], stdout, stderr, time.Now)
	case len(args) >= 2 && args[0] == "township" && args[1] == "requests":
		if len(args) == 2 || slices.Contains([]string{"-h", "-help", "--help", "help"}, args[2]) {
			// The verbs, each with its own flags (VERB -h).
			fmt.Fprintf(stderr, "Usage:\n%s\n\nFlags:\n  each verb's own: kioskctl township requests VERB -h\n", commandUsages("kioskctl township requests"))
			if len(args) == 2 {
				return 2
			}
			return 0
		}
		return townshipRequests(ctx, args[2], args[3:], stdout, stderr, time.Now)
	case len(args) >= 2 && args[0] == "outbox" && args[1] == "status":
		return outboxStatus(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "outbox" && args[1] == "dead":
		return outboxDead(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "outbox" && args[1] == "requeue":
		return outboxRequeue(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "idcard" && args[1] == "simulate":
		return idcardSimulate(ctx, args[2:], os.Stdin, stdout, stderr)
	case len(args) >= 2 && args[0] == "idcard" && args[1] == "read":
		return idcardRead(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "mediator" && args[1] == "hash":
		return mediatorHash(args[2:], os.Stdin, stdout, stderr)
	case len(args) >= 2 && args[0] == "link" && args[1] == "retry":
		return linkRetry(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "keys" && args[1] == "gen":
		return keysGen(args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "config" && args[1] == "sign":
		return configSign(ctx, args[2:], stdout, stderr, time.Now)
	case len(args) >= 2 && args[0] == "config" && args[1] == "push":
		return configPush(ctx, "config", args[2:], stdout, stderr)
	case args[0] == "doctor":
		return doctorCommand(ctx, args[1:], stdout, stderr)
	case len(args) >= 2 && args[0] == "board" && args[1] == "screen":
		return boardScreen(args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "config" && args[1] == "status":
		return configStatus(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "update" && args[1] == "sign":
		return updateSign(ctx, args[2:], stdout, stderr, time.Now)
	case len(args) >= 2 && args[0] == "update" && args[1] == "push":
		return configPush(ctx, "update", args[2:], stdout, stderr) // the same envelope routing
	case len(args) >= 2 && args[0] == "points" && args[1] == "sign":
		return pointsSign(ctx, args[2:], stdout, stderr, time.Now)
	case len(args) >= 2 && args[0] == "points" && args[1] == "push":
		return configPush(ctx, "points", args[2:], stdout, stderr) // the same envelope routing
	case len(args) >= 2 && args[0] == "points" && args[1] == "status":
		return pointsStatus(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "update" && args[1] == "status":
		return updateStatus(ctx, args[2:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "kioskctl: unknown command %q\n\n%s", args, usage)
	return 2
}

func townshipWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl township watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBrokerFlags(fs)
	townshipID := fs.String("township", "", "only this township's kiosks (default: all)")
	clientID := fs.String("client-id", "", "MQTT client id (default: a fresh one)")
	var keyFiles []string
	fs.Func("key", "the township's records key `FILE` (kioskctl keys gen --encryption), to show sealed fields in clear; repeat it for the old and new key during a rotation", func(s string) error {
		keyFiles = append(keyFiles, s)
		return nil
	})
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	opener, err := recordsOpener(keyFiles)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl township watch: --key: %v\n", err)
		return 2
	}
	conn, err := bf.conn()
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl township watch: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	err = township.Watch(ctx, township.WatchOptions{Broker: conn.Broker, TLS: conn.TLS, Township: *townshipID, ClientID: *clientID, Opener: opener, Log: log}, stdout)
	if errors.Is(err, context.Canceled) {
		return 0
	}
	fmt.Fprintf(stderr, "kioskctl: %v\n", err)
	return 1
}

// recordsOpener opens sealed fields with the township's records keys
// (kioskctl keys gen --encryption); nil without any.
func recordsOpener(files []string) (*sealed.Opener, error) {
	if len(files) == 0 {
		return nil, nil
	}
	var keys []*sealed.PrivateKey
	for _, f := range files {
		k, err := sealed.ReadPrivateKeyFile(f)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return sealed.NewOpener(keys...), nil
}
