package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// defaultSocket is where the packaged kioskd listens, as kioskd's own
// default.
const defaultSocket = apitype.DefaultSocket

// kioskClient is kioskd's local API as a command reached it: the socket is
// kept to say which one failed.
type kioskClient struct {
	*localclient.Client
	socket string
}

// fail prints err as the command's failure: when kioskd was not reachable at
// all, with the socket tried and the flag that names another.
func (c kioskClient) fail(stderr io.Writer, what string, err error) {
	if errors.Is(err, localclient.ErrUnavailable) {
		var op *net.OpError // "connect: no such file or directory" says it all
		if errors.As(err, &op) {
			err = op.Err
		}
		fmt.Fprintf(stderr, "kioskctl: %s: no kioskd answers on %s (%v).\n"+
			"Is kioskd running (systemctl status fengqiao-kioskd)? If it serves another socket, name it with --socket PATH (make run: --socket var/dev/kioskd.sock).\n",
			what, c.socket, err)
		return
	}
	fmt.Fprintf(stderr, "kioskctl: %s: %v\n", what, err)
}

// kioskCommand parses the flags shared by the commands a technician runs on
// the kiosk itself, against kioskd's local API.
func kioskCommand(name string, args []string, stderr io.Writer) (kioskClient, *flag.FlagSet, bool, int) {
	fs := flag.NewFlagSet("kioskctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", defaultSocket, "kioskd's local API socket `path`")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if code, ok := parseFlags(fs, args); !ok {
		return kioskClient{}, fs, false, code
	}
	return kioskClient{localclient.New(*socket), *socket}, fs, *asJSON, -1
}

// parseFlags parses a command's flags; when it returns false the command
// ends with code: 0 after -h, 2 after a bad flag (fs has explained it).
// -h prints the command's entry of kioskctl's usage (its arguments after
// the flags too), then the flags.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if entry := commandUsage(fs.Name()); entry != "" {
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "Usage:\n%s\n\nFlags:\n", entry)
			fs.PrintDefaults()
		}
	}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	}
	return 2, false
}

// outboxStatus prints the queue as kioskd reports it.
func outboxStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, _, asJSON, code := kioskCommand("outbox status", args, stderr)
	if code >= 0 {
		return code
	}
	st, err := c.Status(ctx)
	if err != nil {
		c.fail(stderr, "outbox status", err)
		return 1
	}
	if asJSON {
		return printJSON(stdout, st)
	}
	q := st.Queue
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "kiosk\t%s (%s, %s)\n", st.Kiosk, st.Village, st.Township)
	fmt.Fprintf(w, "broker\t%s since %s\t%s\n", st.Broker.State, ago(st.Time, st.Broker.Since), st.Broker.LastError)
	fmt.Fprintf(w, "waiting\t%d records\n", q.Depth)
	if q.OldestAt != nil {
		fmt.Fprintf(w, "oldest\tcommitted %s\n", ago(st.Time, *q.OldestAt))
	}
	last := "never"
	if q.LastDelivery != nil {
		last = ago(st.Time, *q.LastDelivery)
	}
	fmt.Fprintf(w, "last delivery\t%s\n", last)
	fmt.Fprintf(w, "dead letters\t%d\t(kioskctl outbox dead)\n", q.DeadLetters)
	fmt.Fprintf(w, "stored\t%s of %s quota\tfile %s\n", humanize.IBytes(uint64(q.Bytes)), humanize.IBytes(uint64(q.Quota)), humanize.IBytes(uint64(q.FileBytes)))
	if q.Evicted > 0 {
		fmt.Fprintf(w, "evicted\t%d telemetry records at the quota\n", q.Evicted)
	}
	w.Flush()
	return 0
}

// outboxDead lists dead letters.
func outboxDead(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, _, asJSON, code := kioskCommand("outbox dead", args, stderr)
	if code >= 0 {
		return code
	}
	d, err := c.DeadLetters(ctx)
	if err != nil {
		c.fail(stderr, "outbox dead", err)
		return 1
	}
	if asJSON {
		return printJSON(stdout, d)
	}
	if len(d.DeadLetters) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
		return 0
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SEQ\tTYPE\tTRIES\tSINCE\tREASON")
	for _, dl := range d.DeadLetters {
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\n", dl.Seq, dl.Type, dl.Attempts, dl.At.Local().Format(time.DateTime), dl.Reason)
	}
	w.Flush()
	return 0
}

// outboxRequeue puts dead letters back in the queue.
func outboxRequeue(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, fs, _, code := kioskCommand("outbox requeue", args, stderr)
	if code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "kioskctl outbox requeue: name the seq of at least one dead letter (kioskctl outbox dead lists them)")
		return 2
	}
	for _, a := range fs.Args() {
		seq, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "kioskctl: %q is not a seq number\n", a)
			return 2
		}
		if err := c.Requeue(ctx, seq); err != nil {
			c.fail(stderr, fmt.Sprintf("requeue %d", seq), err)
			return 1
		}
		fmt.Fprintf(stdout, "requeued %d\n", seq)
	}
	return 0
}

// linkRetry ends the link's backoff wait.
func linkRetry(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, _, _, code := kioskCommand("link retry", args, stderr)
	if code >= 0 {
		return code
	}
	if err := c.RetryLink(ctx); err != nil {
		c.fail(stderr, "link retry", err)
		return 1
	}
	fmt.Fprintln(stdout, "kioskd will try the township broker now")
	return 0
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

// ago is relative to the kiosk's clock, not this machine's.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return humanize.RelTime(t, now, "ago", "from now") + " (" + t.Local().Format(time.DateTime) + ")"
}
