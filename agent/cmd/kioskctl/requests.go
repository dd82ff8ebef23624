package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/sealed"
	"github.com/fengqiao/kiosk/agent/township"
)

// The verbs that sign an answer, and the status each sets. reply keeps
// the status (受理 when there was none yet) and changes the reply.
var answerVerbs = map[string]string{
	"accept":   request.StatusAccepted,
	"progress": request.StatusInProgress,
	"refer":    request.StatusReferred,
	"close":    request.StatusClosed,
	"reply":    "",
}

// statusWords are the statuses as the kiosk shows them.
var statusWords = map[string]string{
	request.StatusSubmitted:  "已提交",
	request.StatusAccepted:   "已受理",
	request.StatusInProgress: "办理中",
	request.StatusClosed:     "已办结",
	request.StatusReferred:   "已转交",
}

// defaultAnswerValidity is how long a kiosk may apply an answer: long, as
// a village may be offline for weeks and an answer does not go stale the
// way a configuration does; the per-request version, not the expiry, is
// what refuses an older answer.
const defaultAnswerValidity = 365 * 24 * time.Hour

// townshipRequests runs `kioskctl township requests VERB`: the township's
// side of villagers' requests until it has a console (docs/requests.md).
func townshipRequests(ctx context.Context, verb string, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	name := "kioskctl township requests " + verb
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	townshipID := fs.String("township", "", "the township `ID` (required)")
	stateDir := fs.String("state", "", "the township's requests state `DIR`: records synced and answers signed (required)")
	bf := addBrokerFlags(fs)
	clientID := fs.String("client-id", "", "the MQTT client `ID` of the persistent session (default: one per township and state directory)")
	wait := fs.Duration("wait", 3*time.Second, "how long a sync collects what the broker kept")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, name+": "+format+"\n", a...)
		return code
	}
	var keyFiles []string
	var asJSON *bool
	var signKey, certificate, reply, by, to *string
	var version *uint64
	var valid *time.Duration
	status, answering := answerVerbs[verb]
	switch {
	case verb == "sync":
	case verb == "list":
		asJSON = fs.Bool("json", false, "print JSON")
		fs.Lookup("broker").Usage = "optional: sync from this broker `URL` first"
	case verb == "show":
		fs.Func("key", "the township's records key `FILE`, to show the sealed phone in clear; repeatable during a rotation", func(s string) error {
			keyFiles = append(keyFiles, s)
			return nil
		})
	case answering:
		signKey = fs.String("key", "", "the township's signing key `FILE` (kioskctl keys gen), or an operator's with --certificate (required)")
		certificate = fs.String("certificate", "", "the operator's certificate `FILE` (kioskctl operator certify): --key is then the operator's key")
		reply = fs.String("reply", "", fmt.Sprintf("the reply the villager sees and hears, at most %d characters", request.MaxReply))
		by = fs.String("by", "", "the office that answers (镇综治中心); default: the last answer's")
		to = fs.String("to", "", "with refer: the office the request goes to (镇城建办)")
		version = fs.Uint64("version", 0, "the answer's version `N`, above the last signed for the request (default: the current Unix time, or one above the last)")
		valid = fs.Duration("valid", defaultAnswerValidity, "how long the kiosk may apply it after now")
	default:
		return fail(2, "unknown verb %q: sync, list, show, accept, progress, reply, refer or close", verb)
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *townshipID == "" || *stateDir == "" {
		return fail(2, "--township and --state are required")
	}
	store := township.RequestStore{Dir: *stateDir}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	sync := func() error {
		c, err := bf.conn()
		if err != nil {
			return err
		}
		c.ClientID = *clientID
		if c.ClientID == "" {
			c.ClientID = requestsClientID(*townshipID, *stateDir)
		}
		n, err := township.SyncRequests(ctx, store, township.SyncOptions{Conn: c, Township: *townshipID, Wait: *wait, Log: log})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d new request(s) synced\n", n)
		return nil
	}
	switch {
	case verb == "sync":
		if err := sync(); err != nil {
			return fail(1, "%v", err)
		}
		return 0
	case verb == "list":
		if *bf.broker != "" {
			if err := sync(); err != nil {
				return fail(1, "%v", err)
			}
		}
		rs, err := store.List(*townshipID)
		if err != nil {
			return fail(1, "%v", err)
		}
		writeRequests(stdout, rs, *asJSON)
		return 0
	}
	if fs.NArg() != 1 {
		return fail(2, "give one request as KIOSK/NUMBER (dev-kiosk-01/00042)")
	}
	kiosk, number, err := township.ParseRef(fs.Arg(0))
	if err != nil {
		return fail(2, "%v", err)
	}
	r, err := store.Get(*townshipID, kiosk, number)
	if err != nil {
		return fail(1, "%v", err)
	}
	if verb == "show" {
		opener, err := recordsOpener(keyFiles)
		if err != nil {
			return fail(2, "--key: %v", err)
		}
		return showRequest(stdout, stderr, r, opener)
	}

	// An answer: signed, pushed (refused below what is retained), kept.
	switch {
	case *signKey == "":
		return fail(2, "--key is required: the township's signing key")
	case *bf.broker == "":
		return fail(2, "--broker is required: the answer is published to the kiosk")
	case verb == "refer" && *to == "":
		return fail(2, "--to is required: the office the request is referred to")
	case verb != "refer" && *to != "":
		return fail(2, "--to is for refer only")
	}
	if status == "" { // reply: the status stays
		status = r.Status()
		if status == request.StatusSubmitted {
			status = request.StatusAccepted
		}
	}
	priv, err := bundle.ReadPrivateKeyFile(*signKey)
	if err != nil {
		return fail(1, "%v", err)
	}
	issued := now().UTC().Truncate(time.Second)
	v := *version
	var last uint64
	if r.Answer != nil {
		last = r.Answer.Version
	}
	switch {
	case v != 0 && v <= last:
		return fail(1, "%v: --version %d, and version %d was signed for %s; the kiosk would refuse it as a replay or an older answer", township.ErrNotNewer, v, last, r.Ref())
	case v == 0:
		v = max(uint64(issued.Unix()), last+1)
	}
	if *by == "" && r.Answer != nil {
		*by = r.Answer.Change.By // an answer replaces the last whole: the office stays unless named anew
	}
	ch := request.Change{Format: request.StatusFormat, Request: r.Record.ID, Seq: r.Number, Status: status,
		Reply: *reply, By: *by, To: *to, At: issued}
	content, err := ch.Encode()
	if err != nil {
		return fail(2, "%v", err)
	}
	b := bundle.Bundle{Kind: bundle.KindRequestStatus, Version: v,
		Target:    bundle.Target{Township: *townshipID, Kiosks: []string{kiosk}},
		NotBefore: issued, Expires: issued.Add(*valid), Content: content}
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
		return fail(1, "%v", err)
	}
	c, err := bf.conn()
	if err != nil {
		return fail(2, "%v", err)
	}
	if code := pushEnvelope(ctx, name, c, env, time.Second, false, stdout, stderr); code != 0 {
		return code
	}
	if err := store.PutAnswer(*townshipID, kiosk, township.Answer{Version: v, Change: ch, Envelope: env}); err != nil {
		return fail(1, "published, but not kept in --state (sign the next answer with --version above %d): %v", v, err)
	}
	fmt.Fprintf(stderr, "%s: %s version %d\n", r.Ref(), statusWords[status], v)
	return 0
}

// requestsClientID is the persistent session's client id: one per
// township and state directory, so two clerks' directories do not take
// each other's records.
func requestsClientID(townshipID, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return "kioskctl-requests-" + townshipID + "-" + hex.EncodeToString(sum[:4])
}

// requestLine is a request as list --json prints it: nothing of the
// contact but the masked phone.
type requestLine struct {
	Request  string    `json:"request"` // KIOSK/NUMBER
	ID       string    `json:"id"`
	Village  string    `json:"village"`
	Raised   time.Time `json:"raised"`
	Kind     string    `json:"kind"`
	Category string    `json:"category"`
	Phrases  []string  `json:"phrases"`
	Place    string    `json:"place,omitempty"`
	Status   string    `json:"status"`
	Reply    string    `json:"reply,omitempty"`
	Version  uint64    `json:"version,omitempty"` // the last answer signed
	Applied  uint64    `json:"applied,omitempty"` // the version the kiosk reports in force
}

func lineOf(r township.Request) requestLine {
	l := requestLine{Request: r.Ref(), ID: r.Record.ID, Village: r.Record.Village, Raised: r.Record.TS,
		Kind: r.Body.KindName, Category: r.Body.Category.Name, Phrases: r.Body.Phrases, Status: r.Status(), Applied: r.Applied}
	if r.Body.Place != nil {
		l.Place = r.Body.Place.Name
	}
	if r.Answer != nil {
		l.Reply, l.Version = r.Answer.Change.Reply, r.Answer.Version
	}
	return l
}

func writeRequests(w io.Writer, rs []township.Request, asJSON bool) {
	if asJSON {
		lines := []requestLine{}
		for _, r := range rs {
			lines = append(lines, lineOf(r))
		}
		data, _ := json.MarshalIndent(lines, "", "  ")
		fmt.Fprintf(w, "%s\n", data)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tVILLAGE\tRAISED\tKIND\tCATEGORY\tSTATUS\tKIOSK HAS")
	for _, r := range rs {
		l := lineOf(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Request, l.Village, l.Raised.Local().Format("2006-01-02 15:04"),
			l.Kind, l.Category, statusWords[l.Status], kioskHas(l))
	}
	tw.Flush()
}

// kioskHas says whether the kiosk reported the last answer in force.
func kioskHas(l requestLine) string {
	switch {
	case l.Version == 0:
		return "-"
	case l.Applied >= l.Version:
		return fmt.Sprintf("v%d", l.Applied)
	case l.Applied == 0:
		return fmt.Sprintf("not yet (v%d sent)", l.Version)
	}
	return fmt.Sprintf("v%d (v%d sent)", l.Applied, l.Version)
}

// showRequest prints one request; with opener, its sealed name and phone
// in clear.
func showRequest(stdout, stderr io.Writer, r township.Request, opener *sealed.Opener) int {
	body := r.Body
	l := lineOf(r)
	fmt.Fprintf(stdout, "request   %s (%s)\n", l.Request, r.Record.ID)
	fmt.Fprintf(stdout, "village   %s\n", l.Village)
	fmt.Fprintf(stdout, "raised    %s\n", l.Raised.Local().Format(time.RFC3339))
	fmt.Fprintf(stdout, "kind      %s / %s\n", l.Kind, l.Category)
	fmt.Fprintf(stdout, "says      %s\n", strings.Join(l.Phrases, "；"))
	if l.Place != "" {
		fmt.Fprintf(stdout, "place     %s\n", l.Place)
	}
	switch c := body.Contact; {
	case body.Anonymous:
		fmt.Fprintln(stdout, "contact   匿名 (anonymous: the villager checks it with the receipt's code)")
	case c != nil:
		phone, name := c.PhoneMasked, ""
		if c.Name != nil {
			name = "(姓名 sealed)"
		}
		if c.Phone != nil && opener != nil {
			full, err := opener.Open(r.Record.ID, "contact.phone", *c.Phone)
			if err != nil {
				fmt.Fprintf(stderr, "the phone stays sealed: %v\n", err)
			} else {
				phone = full
			}
		}
		if c.Name != nil && opener != nil {
			full, err := opener.Open(r.Record.ID, "contact.name", *c.Name)
			if err != nil {
				fmt.Fprintf(stderr, "the name stays sealed: %v\n", err)
			} else {
				name = full
			}
		}
		fmt.Fprintf(stdout, "contact   %s %s (%s)\n", name, phone, c.Via)
	}
	if body.Photo != nil {
		fmt.Fprintf(stdout, "photo     %dx%d\n", body.Photo.Width, body.Photo.Height)
	}
	fmt.Fprintf(stdout, "status    %s\n", statusWords[l.Status])
	if r.Answer != nil {
		a := r.Answer.Change
		fmt.Fprintf(stdout, "answer    v%d at %s by %s: %s\n", r.Answer.Version, a.At.Local().Format(time.RFC3339), a.By, a.Reply)
		if a.To != "" {
			fmt.Fprintf(stdout, "to        %s\n", a.To)
		}
	}
	fmt.Fprintf(stdout, "kiosk has %s\n", kioskHas(l))
	return 0
}
