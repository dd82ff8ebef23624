package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/updater"
)

// updateSign signs an update bundle for the .deb files given: their names,
// versions and architectures from Debian's file names, their sizes and
// SHA-256 from the files themselves, their URL from --base-url.
func updateSign(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("kioskctl update sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the township's private key `FILE` (required)")
	townshipID := fs.String("township", "", "the township `ID` (required)")
	kiosks := fs.String("kiosks", "", "comma-separated kiosk `IDS` (a pilot first); empty: every kiosk of the township")
	village := fs.String("village", "", "target the kiosks of this `VILLAGE` (a pilot village), found in their retained statuses: needs --broker")
	bf := addBrokerFlags(fs)
	version := fs.Uint64("version", 0, "bundle `N`, above every version signed before (default: the current Unix time)")
	release := fs.String("release", "", "the release's `NAME` in reports (default: the first file's version)")
	window := fs.String("window", "02:00-05:00", "maintenance `HH:MM-HH:MM`, in each kiosk's time zone")
	deadline := fs.String("deadline", "", "optional RFC 3339 `TIME` after which kiosks install outside the window")
	baseURL := fs.String("base-url", "", "https:// `URL` of the directory on the township's update server holding the files (required)")
	valid := fs.Duration("valid", 30*24*time.Hour, "how long kiosks may take the bundle after now")
	out := fs.String("out", "", "write the envelope to `FILE` (default: stdout)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "kioskctl update sign: "+format+"\n", a...)
		return 2
	}
	switch {
	case *keyPath == "" || *townshipID == "" || *baseURL == "":
		return fail("--key, --township and --base-url are required")
	case fs.NArg() == 0:
		return fail("give the .deb files (e.g. dist/fengqiao-kioskd_1.4.0-1_*.deb)")
	case *village != "" && *kiosks != "":
		return fail("give --kiosks or --village, not both")
	}
	m := &update.Manifest{Release: *release, Packages: map[string][]update.Package{}}
	var err error
	if m.Window, err = update.ParseWindow(*window); err != nil {
		return fail("--window: %v", err)
	}
	if *deadline != "" {
		if m.Deadline, err = time.Parse(time.RFC3339, *deadline); err != nil {
			return fail("--deadline: %v", err)
		}
	}
	base, err := url.Parse(strings.TrimSuffix(*baseURL, "/") + "/")
	if err != nil {
		return fail("--base-url: %v", err)
	}
	var all []update.Package // Architecture: all goes to every architecture
	for _, path := range fs.Args() {
		p, arch, err := describeDeb(path, base)
		if err != nil {
			fmt.Fprintf(stderr, "kioskctl: %v\n", err)
			return 1
		}
		if m.Release == "" {
			m.Release = p.Version // the first file's, unless --release says
		}
		if arch == "all" {
			all = append(all, p)
			continue
		}
		m.Packages[arch] = append(m.Packages[arch], p)
	}
	if len(all) > 0 {
		if len(m.Packages) == 0 {
			for _, a := range update.Architectures {
				m.Packages[a] = nil
			}
		}
		for a := range m.Packages {
			m.Packages[a] = append(m.Packages[a], all...)
		}
	}
	content, err := m.Marshal()
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: kiosks would refuse this update: %v\n", err)
		return 1
	}
	priv, err := bundle.ReadPrivateKeyFile(*keyPath)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	issued := now().UTC().Truncate(time.Second)
	b := bundle.Bundle{Kind: bundle.KindUpdate, Version: *version, NotBefore: issued, Expires: issued.Add(*valid),
		Target: bundle.Target{Township: *townshipID}, Content: content}
	if b.Version == 0 {
		b.Version = uint64(issued.Unix())
	}
	if *kiosks != "" {
		b.Target.Kiosks = strings.Split(*kiosks, ",")
	}
	if *village != "" {
		c, err := bf.conn()
		if err != nil {
			return fail("--village: %v", err)
		}
		if b.Target.Kiosks, err = township.VillageKiosks(ctx, c, *townshipID, *village, 2*time.Second); err != nil {
			fmt.Fprintf(stderr, "kioskctl: %v\n", err)
			return 1
		}
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
	var archs []string
	for a, pkgs := range m.Packages {
		archs = append(archs, fmt.Sprintf("%s: %d", a, len(pkgs)))
	}
	slices.Sort(archs)
	fmt.Fprintf(stderr, "signed update %s, version %d, for %s (%s packages), window %s, valid until %s\n",
		m.Release, b.Version, target(b.Target), strings.Join(archs, ", "), m.Window, b.Expires.Format(time.RFC3339))
	return 0
}

// describeDeb reads a .deb's manifest entry: name, version and
// architecture from Debian's file name (name_version_arch.deb, the epoch's
// ':' as "%3a"), size and SHA-256 from its bytes.
func describeDeb(path string, base *url.URL) (update.Package, string, error) {
	name := filepath.Base(path)
	stem, ok := strings.CutSuffix(name, ".deb")
	parts := strings.Split(stem, "_")
	if !ok || len(parts) != 3 {
		return update.Package{}, "", fmt.Errorf("%s: not a Debian file name (name_version_arch.deb)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return update.Package{}, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return update.Package{}, "", fmt.Errorf("%s: %w", path, err)
	}
	p := update.Package{
		Name:    parts[0],
		Version: strings.ReplaceAll(parts[1], "%3a", ":"),
		Size:    n,
		SHA256:  hex.EncodeToString(h.Sum(nil)),
		// Escaped as one path segment: an epoch's "%3a" is literal in
		// the file name, so it travels as "%253a", as apt sends it.
		URL: base.String() + url.PathEscape(name),
	}
	return p, parts[2], nil
}

// updateStatus prints each kiosk's update state as a table.
func updateStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl update status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBrokerFlags(fs)
	townshipID := fs.String("township", "", "the township `ID` (required)")
	wait := fs.Duration("wait", 2*time.Second, "how long to collect the kiosks' retained reports")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	every := fs.Duration("every", 0, "watch: read the reports again this often and print the table when it changes, until interrupted")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c, err := bf.conn()
	if err == nil && *townshipID == "" {
		err = errors.New("--township is required")
	}
	if err == nil && *every != 0 && *every < *wait {
		err = fmt.Errorf("--every %s is shorter than --wait %s", *every, *wait)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl update status: %v\n", err)
		return 2
	}
	var last []byte
	for {
		states, err := township.UpdateStatus(ctx, c, *townshipID, *wait)
		if err != nil {
			if *every != 0 && ctx.Err() != nil {
				return 0 // interrupted while watching
			}
			fmt.Fprintf(stderr, "kioskctl: %v\n", err)
			return 1
		}
		var out bytes.Buffer
		switch {
		case *asJSON:
			json.NewEncoder(&out).Encode(states)
		case len(states) == 0:
			if *every == 0 {
				fmt.Fprintln(stderr, township.ErrNoKiosks)
				return 1
			}
		default:
			writeUpdateTable(&out, states, time.Local)
		}
		if *every == 0 {
			stdout.Write(out.Bytes())
			return 0
		}
		if !bytes.Equal(out.Bytes(), last) {
			// Only changes: a rollout is watched for hours.
			fmt.Fprintf(stdout, "-- %s\n", time.Now().Format("2006-01-02 15:04:05"))
			stdout.Write(out.Bytes())
			last = out.Bytes()
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(*every - *wait):
		}
	}
}

// writeUpdateTable writes states as a table, times in loc.
func writeUpdateTable(w io.Writer, states []township.UpdateState, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tVILLAGE\tLINK\tRUNNING\tRELEASE\tBUNDLE\tSTATE\tPACKAGES\tAT")
	for _, s := range states {
		online := s.Online
		if online == "" {
			online = "?"
		}
		release, version, state, pkgs, at := "-", "-", "no update yet", "", ""
		if r := s.Reported; r != nil {
			if r.Release != "" {
				release = r.Release
			}
			if r.Version != 0 {
				version = fmt.Sprintf("v%d", r.Version)
			}
			state = describeUpdate(*r, loc)
			var names []string
			for n, v := range r.Packages {
				names = append(names, n+" "+v)
			}
			slices.Sort(names)
			pkgs = strings.Join(names, ", ")
			if !r.At.IsZero() {
				at = r.At.In(loc).Format("2006-01-02 15:04")
			}
		}
		// Every string but the times comes from the kiosks (or
		// through them): none may move the cursor, clear the screen or
		// break the columns of the operator's terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(s.Kiosk), printable(dash(s.Village)),
			printable(online), printable(dash(s.Running)), printable(release), version, printable(state), printable(pkgs), at)
	}
	tw.Flush()
}

// describeUpdate is a kiosk's update state in a few words: "downloading
// 43 %", "waiting for window (02:00 12-07)", "rolled_back: health_check".
func describeUpdate(r updater.Reported, loc *time.Location) string {
	var s string
	switch r.Status {
	case updater.StatusDownloading:
		s = fmt.Sprintf("downloading %d %%", r.Progress)
		if r.Error != "" {
			s += " (interrupted; resuming)"
		}
	case updater.StatusWaiting:
		s = "waiting for window"
		if !r.NextWindow.IsZero() {
			s += " (" + r.NextWindow.In(loc).Format("15:04 01-02") + ")"
		}
		if r.Error != "" {
			s += " (kiosk in use)"
		}
	case updater.StatusRolledBack, updater.StatusRejected, updater.StatusRollbackFailed,
		updater.StatusRecovering, updater.StatusRecovered:
		s = r.Status + ": " + r.Reason
	default:
		s = r.Status
	}
	if r.Refused != nil {
		s += fmt.Sprintf("; refused v%d: %s", r.Refused.Version, r.Refused.Reason)
	}
	return s
}

// printable is s without control characters (escape sequences start with
// one) or invisible format characters (bidirectional overrides), and with
// tabs and line breaks as spaces.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
