package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
	"github.com/fengqiao/kiosk/drivers/serialport"
)

// idcardSimulate serves a simulated reader on a pty until ctx ends or stdin
// says q. Cards are placed and removed by typing at it, which is how a
// developer "taps" a card in make run.
func idcardSimulate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl idcard simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	usePty := fs.Bool("pty", false, "serve on a new pseudo-terminal and print its path (required)")
	link := fs.String("link", "", "also make a symlink at `path` to the pty, for a stable device name")
	baud := fs.Int("baud", 0, "pace answers at this serial `rate`, as a real reader would (0: no pacing)")
	place := fs.Int("card", 0, "place fixture card `N` at start (1-4; 0: none)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !*usePty {
		fmt.Fprintln(stderr, "kioskctl idcard simulate: --pty is required (the only transport so far)")
		return 2
	}
	fixtures := idcardsim.Fixtures()
	if *place < 0 || *place > len(fixtures) {
		fmt.Fprintf(stderr, "kioskctl idcard simulate: --card must be 0-%d\n", len(fixtures))
		return 2
	}
	p, err := idcardsim.OpenPTY()
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	defer p.Close()
	if *link != "" {
		os.Remove(*link)
		if err := os.Symlink(p.Path, *link); err != nil {
			fmt.Fprintf(stderr, "kioskctl: link %s: %v\n", *link, err)
			return 1
		}
		defer os.Remove(*link)
	}
	sim := idcardsim.New(idcardsim.Options{Baud: *baud, Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if *place > 0 {
		sim.PlaceCard(fixtures[*place-1])
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go sim.Serve(ctx, p.Master)

	fmt.Fprintf(stdout, "simulated ID-card reader on %s\n", p.Path)
	fmt.Fprintln(stdout, "type 1-4 and Enter to place a card, 0 to take it away, l to list the cards, q to quit")
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return 0
		case line, ok := <-lines:
			if !ok { // stdin closed (run in the background): serve until stopped
				<-ctx.Done()
				return 0
			}
			switch n, err := strconv.Atoi(line); {
			case line == "q":
				return 0
			case line == "l":
				for i, c := range fixtures {
					fmt.Fprintf(stdout, "  %d  %s  %s  %s\n", i+1, c.Type, idcard.MaskName(c.Name+c.EnglishName), idcard.Mask(c.IDNumber))
				}
			case err == nil && n == 0:
				sim.RemoveCard()
				fmt.Fprintln(stdout, "card taken away")
			case err == nil && n >= 1 && n <= len(fixtures):
				sim.PlaceCard(fixtures[n-1])
				fmt.Fprintf(stdout, "card %d placed: %s %s\n", n, fixtures[n-1].Type, idcard.Mask(fixtures[n-1].IDNumber))
			case line != "":
				fmt.Fprintln(stdout, "1-4 place a card, 0 takes it away, l lists, q quits")
			}
		}
	}
}

// idcardRead reads one card from a reader on a serial device and prints it.
func idcardRead(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl idcard read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	device := fs.String("device", "", "the reader's serial `device`, e.g. /dev/ttyUSB0 (required)")
	baud := fs.Int("baud", 115200, "serial `rate`")
	asJSON := fs.Bool("json", false, "print JSON")
	reveal := fs.Bool("reveal", false, "print the full ID number and address (they are masked otherwise)")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for a card")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *device == "" {
		fmt.Fprintln(stderr, "kioskctl idcard read: --device is required")
		return 2
	}
	port, err := serialport.Open(*device, *baud)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	r := idcard.NewReader(port, idcard.Options{})
	defer r.Close()
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	card, err := readOneCard(ctx, r)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	fields := cardFields(card, *reveal)
	if *asJSON {
		return printJSON(stdout, fields)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(w, "%s\t%s\n", f.Label, f.Value)
	}
	w.Flush()
	return 0
}

// readOneCard polls for a card until one is read or ctx ends.
func readOneCard(ctx context.Context, r *idcard.Reader) (*idcard.Card, error) {
	for {
		found, err := r.FindCard(ctx)
		if err != nil {
			return nil, fmt.Errorf("reader does not answer: %w", err)
		}
		if found {
			if err := r.SelectCard(ctx); err != nil {
				return nil, fmt.Errorf("select card: %w", err)
			}
			card, err := r.ReadBaseInfo(ctx)
			if err != nil {
				return nil, fmt.Errorf("read card: %w", err)
			}
			return card, nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("no card on the reader (put one on it, or give a longer --wait)")
		case <-time.After(300 * time.Millisecond):
		}
	}
}

type field struct {
	Label string `json:"label"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

func cardFields(c *idcard.Card, reveal bool) []field {
	id, address := idcard.Mask(c.IDNumber), "（--reveal 显示）"
	if reveal {
		id, address = c.IDNumber, c.Address
	}
	validTo := c.ValidTo.String()
	if c.LongTerm {
		validTo = "长期"
	}
	out := []field{
		{"证件类型", "type", c.Type.String()},
		{"姓名", "name", c.Name},
	}
	if c.EnglishName != "" {
		out = append(out, field{"英文姓名", "english_name", c.EnglishName})
	}
	out = append(out,
		field{"性别", "sex", c.Sex.String()},
		field{"民族", "nation", c.Nation.Name()},
		field{"出生", "birth", c.Birth.String()},
		field{"住址", "address", address},
		field{"证件号码", "id_number", id},
		field{"签发机关", "authority", c.Authority},
		field{"有效期限", "valid", c.ValidFrom.String() + " 至 " + validTo},
	)
	// The fields of the other card types, each where the card has it (the
	// table on idcard.Card says which): a technician checking a reader
	// against a 'J', 'I' or 'Y' card sees everything the driver decoded.
	// The pass number identifies a person as the ID number does: masked
	// unless revealed.
	pass := idcard.Mask(c.PassNumber)
	if reveal {
		pass = c.PassNumber
	}
	for _, f := range []field{
		{"通行证号码", "pass_number", pass},
		{"签发次数", "issue_count", c.IssueCount},
		{"国籍", "nationality", c.Nationality},
		{"证件版本号", "card_version", c.CardVersion},
		{"受理机关代码", "authority_code", c.AuthorityCode},
		{"换证次数", "renewal_count", c.RenewalCount},
	} {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}
