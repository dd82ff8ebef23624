package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/points"
	"github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/drivers/idcard"
)

// pointsKeyGen makes a township's points key file (keys gen --points,
// docs/points.md).
func pointsKeyGen(out string, stdout, stderr io.Writer) int {
	k, err := points.GenerateKey()
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	// O_EXCL: a points key overwritten is every villager's account lost
	// until each kiosk gets the new one and the ledger is signed again.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(k.Text())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# POINTS key (美德银行) in %s, key id %s: keep it with the village's ledger export,\n", out, k.ID())
	fmt.Fprintf(stdout, "# and copy the file (mode 0600) to each kiosk of the township; never send it over MQTT.\n")
	fmt.Fprintf(stdout, "# In every kiosk's site file, the file's path:\npoints:\n  key_file: %s\n", out)
	return 0
}

// pointsSign turns the village's ledger export (a CSV of entries) and its
// shop file into a signed points-ledger bundle for the village's kiosks.
func pointsSign(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	const name = "kioskctl points sign"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the township's signing key `FILE` (kioskctl keys gen), or an operator's with --certificate (required)")
	certificate := fs.String("certificate", "", "the operator's certificate `FILE` (kioskctl operator certify --scopes "+bundle.KindPointsLedger+"): --key is then the operator's key")
	pointsKey := fs.String("points-key", "", "the township's points key `FILE` (kioskctl points key gen) (required)")
	townshipID := fs.String("township", "", "the township `ID` (required)")
	kiosks := fs.String("kiosks", "", "comma-separated `IDS` of the village's kiosks (required)")
	entries := fs.String("entries", "", "the village's ledger export `FILE`: CSV with the header id_number,date,points,reason (required)")
	shop := fs.String("shop", "", "the offers and rules `FILE` (YAML or JSON: village, month, where, offers, rules) (required)")
	var sites []string
	fs.Func("site", "a kiosk's site `FILE`, or a directory of them: the kiosks known and the keys they trust; repeatable (required)", func(s string) error {
		sites = append(sites, s)
		return nil
	})
	version := fs.Uint64("version", 0, "bundle `N`, above the ledger the kiosks have (default: the current Unix time, which only grows)")
	asOf := fs.String("as-of", "", "when the ledger was exported, RFC 3339 `TIME` (default: now)")
	recent := fs.Int("recent", points.MaxEntries, "recent entries kept per villager, `N` ≤ 20; fewer makes a large village's ledger fit")
	valid := fs.Duration("valid", 60*24*time.Hour, "how long kiosks may apply it after now")
	out := fs.String("out", "", "write the envelope to `FILE` (default: stdout)")
	allowUnknown := fs.Bool("allow-unknown-target", false, "sign for a township or kiosk that no --site knows")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, name+": "+format+"\n", a...)
		return code
	}
	switch {
	case *keyPath == "" || *pointsKey == "" || *townshipID == "" || *kiosks == "" || *entries == "" || *shop == "":
		return fail(2, "--key, --points-key, --township, --kiosks, --entries and --shop are required")
	case len(sites) == 0:
		return fail(2, "--site is required: the kiosks' site files say which ids exist and which keys they trust")
	case *recent < 1 || *recent > points.MaxEntries:
		return fail(2, "--recent %d is out of range [1, %d]", *recent, points.MaxEntries)
	}
	issued := now().UTC().Truncate(time.Second)
	at := issued
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return fail(2, "--as-of: %v", err)
		}
		at = t.UTC()
	}
	k, err := points.ReadKeyFile(*pointsKey, true)
	if err != nil {
		return fail(1, "--points-key: %v", err)
	}
	priv, err := bundle.ReadPrivateKeyFile(*keyPath)
	if err != nil {
		return fail(1, "%v", err)
	}
	b := bundle.Bundle{Kind: bundle.KindPointsLedger, Version: *version, NotBefore: issued, Expires: issued.Add(*valid),
		Target: bundle.Target{Township: *townshipID, Kiosks: strings.Split(*kiosks, ",")}}
	if limit := uint64(issued.Unix()) + control.MaxPointsVersionAhead; b.Version > limit {
		return fail(2, "--version %d is more than a year of seconds past now (%d at most): kiosks refuse it, since it would make every later ledger look older", b.Version, limit)
	}
	if b.Version == 0 {
		b.Version = uint64(issued.Unix())
	}
	inv, _, err := signInventory(ctx, sites, brokerFlags{broker: new(string)})
	if err != nil {
		return fail(1, "%v", err)
	}
	if err := inv.CheckTarget(b.Target); err != nil {
		if !*allowUnknown {
			fmt.Fprintf(stderr, "%s: %v\n%s", name, err, unknownTargetHint)
			return 1
		}
		fmt.Fprintf(stderr, "%s: warning (--allow-unknown-target): %v\n", name, err)
	}
	if *certificate == "" {
		if err := inv.CheckKey(b.Target, priv.Public().(ed25519.PublicKey)); err != nil {
			fmt.Fprintf(stderr, "%s: --key %s: %v\n%s", name, *keyPath, err, untrustedKeyHint)
			return 1
		}
	}
	l, err := readShop(*shop)
	if err != nil {
		return fail(1, "--shop %s: %v", *shop, err)
	}
	f, err := os.Open(*entries)
	if err != nil {
		return fail(1, "%v", err)
	}
	accounts, err := readEntries(f, k, *recent)
	f.Close()
	if err != nil {
		return fail(1, "--entries %s: %v", *entries, err)
	}
	l.Version, l.AsOf, l.KeyID, l.Accounts = b.Version, at, k.ID(), accounts
	content, err := l.Encode()
	if err != nil {
		return fail(1, "%v", err)
	}
	b.Content = content
	var env []byte
	if *certificate != "" {
		cert, rerr := os.ReadFile(*certificate)
		if rerr != nil {
			return fail(1, "%v", rerr)
		}
		env, err = bundle.SignAsOperator(b, priv, bytes.TrimSpace(cert))
	} else {
		env, err = bundle.Sign(b, priv)
	}
	if err != nil {
		if len(content)*16/9 > bundle.MaxEnvelopeSize {
			// The broker's max_packet_size is what bounds it: a village
			// too large for it keeps fewer recent entries per villager.
			return fail(1, "%v\n  The ledger of %d villagers is %d bytes compressed; sign it with a smaller --recent (now %d), or shorten the reasons.",
				err, len(accounts), len(content), *recent)
		}
		return fail(1, "%v", err)
	}
	if *out == "" {
		stdout.Write(append(env, '\n'))
	} else if err := bundle.WriteFileAtomic(*out, env, 0o644); err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stderr, "signed points ledger version %d of %s (%d villagers, %d bytes) for %s, valid until %s\n",
		b.Version, l.Village, len(accounts), len(env), target(b.Target), b.Expires.Format(time.RFC3339))
	return 0
}

// readShop reads the offers and rules file strictly.
func readShop(path string) (*points.Ledger, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s struct {
		Village string `yaml:"village"`
		Month   string `yaml:"month"`
		Where   string `yaml:"where"`
		Offers  []struct {
			Name      string `yaml:"name"`
			Points    int    `yaml:"points"`
			Pictogram string `yaml:"pictogram"`
			Stock     *int   `yaml:"stock"`
		} `yaml:"offers"`
		Rules []struct {
			Text   string `yaml:"text"`
			Points int    `yaml:"points"`
		} `yaml:"rules"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	l := &points.Ledger{Format: points.Format, Village: s.Village, Month: s.Month, Where: s.Where,
		Offers: []points.Offer{}, Rules: []points.Rule{}}
	for _, o := range s.Offers {
		l.Offers = append(l.Offers, points.Offer{Name: o.Name, Points: o.Points, Pictogram: o.Pictogram, Stock: o.Stock})
	}
	for _, r := range s.Rules {
		l.Rules = append(l.Rules, points.Rule{Text: r.Text, Points: r.Points})
	}
	return l, nil
}

// maxRowErrors bounds the rows readEntries names: enough to fix an export
// in one go, not a screenful per bad column.
const maxRowErrors = 20

// readEntries reads the village's ledger export: a header
// id_number,date,points,reason, then one entry a line, in any order. Each
// row is checked (the ID number's check character, the date, the points,
// the reason's length); an error names the line and the number masked,
// never the number itself. An account's balance is the sum of its entries;
// it keeps the newest recent of them, newest first (on one day, the later
// line first).
func readEntries(r io.Reader, k *points.Key, recent int) (map[string]points.Account, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a spreadsheet's byte-order mark
	}
	if want := []string{"id_number", "date", "points", "reason"}; !slices.Equal(header, want) {
		// Never the line itself: an export without its header row starts
		// with a villager's ID number.
		msg := fmt.Sprintf("line 1 is not the header %s", strings.Join(want, ","))
		if len(header) > 0 && checkIDNumber(strings.ToUpper(strings.TrimSpace(header[0]))) == nil {
			msg += " but a villager's row (" + idcard.Mask(strings.ToUpper(strings.TrimSpace(header[0]))) + "…): add the header row"
		}
		return nil, errors.New(msg)
	}
	type row struct {
		line int
		e    points.Entry
	}
	byAccount := map[string][]row{}
	var problems []string
	bad := func(line int, format string, a ...any) {
		if len(problems) < maxRowErrors {
			problems = append(problems, fmt.Sprintf("line %d: "+format, append([]any{line}, a...)...))
		} else if len(problems) == maxRowErrors {
			problems = append(problems, "… (more rows are wrong)")
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// Not the record: it may hold an ID number.
				bad(pe.Line, "%v", pe.Err)
				continue
			}
			return nil, err
		}
		id := strings.ToUpper(strings.TrimSpace(rec[0]))
		if err := checkIDNumber(id); err != nil {
			bad(line, "id_number %s: %v", idcard.Mask(id), err)
			continue
		}
		pts, err := strconv.Atoi(strings.TrimSpace(rec[2]))
		if err != nil {
			// Not quoted: a column out of place may hold an ID number.
			bad(line, "points is not a whole number (%d characters)", len(rec[2]))
			continue
		}
		e := points.Entry{Date: strings.TrimSpace(rec[1]), Points: pts, Reason: strings.TrimSpace(rec[3])}
		if utf8.RuneCountInString(e.Reason) > points.MaxReason {
			bad(line, "reason is %d characters; the screen shows at most %d", utf8.RuneCountInString(e.Reason), points.MaxReason)
			continue
		}
		if err := e.Check(); err != nil {
			bad(line, "%v", err)
			continue
		}
		acc, err := k.Account(id)
		if err != nil {
			bad(line, "id_number %s: %v", idcard.Mask(id), err)
			continue
		}
		byAccount[acc] = append(byAccount[acc], row{line: line, e: e})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nothing signed:\n  %s", strings.Join(problems, "\n  "))
	}
	out := make(map[string]points.Account, len(byAccount))
	for acc, rows := range byAccount {
		slices.SortStableFunc(rows, func(a, b row) int {
			if c := strings.Compare(b.e.Date, a.e.Date); c != 0 {
				return c
			}
			return b.line - a.line
		})
		var a points.Account
		for _, r := range rows {
			a.Balance += r.e.Points
		}
		for _, r := range rows[:min(recent, len(rows))] {
			a.Entries = append(a.Entries, r.e)
		}
		out[acc] = a
	}
	return out, nil
}

// checkIDNumber checks an ID number as a card carries it: 18 characters
// of the GB 11643 scheme, or 15 of an old foreigner's permit.
func checkIDNumber(id string) error {
	if len(id) == 15 {
		return idcard.ValidatePermitNumber(id)
	}
	return idcard.ValidateIDNumber(id)
}

// pointsStatus prints each kiosk's points ledger as it reports it.
func pointsStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "kioskctl points status"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
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
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	states, err := township.PointsStatus(ctx, c, *townshipID, *wait)
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
	writePointsTable(stdout, states, time.Now())
	return 0
}

// writePointsTable writes each kiosk's ledger in force apart from the last
// ledger it refused, each with its age, as config status does: a refusal
// leaves the ledger in force in force.
func writePointsTable(w io.Writer, states []township.PointsState, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tLINK\tLEDGER\tAS OF\tPOINTS KEY\tLAST REFUSED\tREFUSED\tREPORTED")
	for _, s := range states {
		ledger, asOf, key, refused, when, reported := "none yet", "-", "none", "-", "-", "never"
		if r := s.Reported; r != nil {
			if r.Version != 0 {
				ledger, asOf = fmt.Sprintf("v%d", r.Version), age(now, r.AsOf)
			}
			if r.KeyID != "" {
				key = r.KeyID
			}
			if n := len(r.Refused); n > 0 {
				last := r.Refused[n-1]
				refused, when = last.Reason, age(now, last.At)
				if last.Version != 0 {
					refused = fmt.Sprintf("v%d %s", last.Version, last.Reason)
				}
			}
			reported = age(now, r.PublishedAt)
		}
		link := s.Online
		if link == "" {
			link = "never seen"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Kiosk, link, ledger, asOf, key, refused, when, reported)
	}
	tw.Flush()
}
