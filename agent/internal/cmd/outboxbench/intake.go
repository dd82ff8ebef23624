// This file: section 5, booking intake through the kioskd binary: villagers'
// bookings POSTed to the real kioskd over its socket by this program, a
// process of its own as the screen is, against one bbolt transaction per
// record on the same disk.

package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquitto"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/outbox"
)

// Goals of issue 15, the same as the in-process benchmark's
// (packaging/dev/bench-intake.sh).
var intakeGoals = map[int]float64{16: 4, 64: 5}

const goalIntakeP99 = 50 * time.Millisecond

type intakeRow struct {
	Round     int
	Clients   int
	API       latencies
	Commits   int
	KioskdCPU time.Duration // kioskd's user and system time over the bookings
	ClientCPU time.Duration // this program's, as the screen's process
	Baseline  latencies
	Ceiling   ceilingRow
}

// ceilingRow is the same clients against the fixed API (ceiling.go).
type ceilingRow struct {
	Requests  latencies
	ServerCPU time.Duration
	ClientCPU time.Duration
}

func (r *intakeRow) Ratio() float64 { return ratio(r.API.Rate(), r.Baseline.Rate()) }
func (r *intakeRow) CeilingRatio() float64 {
	return ratio(r.Ceiling.Requests.Rate(), r.Baseline.Rate())
}
func (r *intakeRow) PerCommit() float64 { return ratio(float64(r.API.N()), float64(r.Commits)) }

func perBooking(d time.Duration, n int) time.Duration { return d / time.Duration(max(n, 1)) }

type intakeResult struct {
	Bookings   int // per side and row
	ValueBytes int
	Rows       []intakeRow // round by round, each client count in turn
}

// median is the row of the median ratio among the rounds with clients.
func (r *intakeResult) median(clients int) *intakeRow {
	var rows []*intakeRow
	for i := range r.Rows {
		if r.Rows[i].Clients == clients {
			rows = append(rows, &r.Rows[i])
		}
	}
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b *intakeRow) int { return cmp.Compare(a.Ratio(), b.Ratio()) })
	return rows[(len(rows)-1)/2]
}

// benchIntake runs kioskd offline (its broker unreachable, as in a village
// without network): every booking stays in its store, where the commits are
// counted afterwards. Each client count gets its own baseline, run right
// after it.
func benchIntake(ctx context.Context, o options, root, bin, dir string) (*intakeResult, error) {
	dataDir := filepath.Join(dir, "kioskd")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	port, err := mosquitto.FreePort()
	if err != nil {
		return nil, err
	}
	// Nothing listens there: kioskd is offline.
	closed := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	ceiling, err := startCeiling(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer ceiling.stop()
	d, err := startKioskd(root, bin, dataDir, closed, filepath.Join(dir, "kioskd.log"))
	if err != nil {
		return nil, err
	}
	defer d.stop()
	if _, err := d.waitAPI(ctx, 30*time.Second); err != nil {
		return nil, err
	}
	c := localclient.New(d.socket)
	slots, err := c.Slots(ctx, "legal-advisor")
	if err != nil || len(slots.Slots) == 0 {
		return nil, d.explain(fmt.Errorf("slots: %d offered, %v", len(slots.Slots), err))
	}
	envs, err := bookings(o.intakeN)
	if err != nil {
		return nil, err
	}
	res := &intakeResult{Bookings: o.intakeN}
	for round := 1; round <= o.rounds; round++ {
		for _, clients := range []int{16, 64} {
			logf("intake: round %d, %d bookings through kioskd's API, %d clients", round, o.intakeN, clients)
			book := func(c *localclient.Client) func(i int) error {
				return func(i int) error {
					_, err := c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "测试村民",
						Phone: "13800000000", Slot: slots.Slots[i%len(slots.Slots)].Format(time.RFC3339)})
					return err
				}
			}
			k0, s0 := procCPU(d.pid()), selfCPU()
			api, err := produce(ctx, o.intakeN, clients, o.enqueueLimit, book(c))
			if err != nil {
				return nil, d.explain(fmt.Errorf("booking with %d clients: %w", clients, err))
			}
			row := intakeRow{Round: round, Clients: clients, API: api, KioskdCPU: procCPU(d.pid()) - k0, ClientCPU: selfCPU() - s0}
			logf("intake: %.0f bookings/s, p99 %v", api.Rate(), api.Pct(0.99))
			f0, s0 := procCPU(ceiling.pid()), selfCPU()
			if row.Ceiling.Requests, err = produce(ctx, o.intakeN, clients, o.enqueueLimit, book(ceiling.client)); err != nil {
				return nil, fmt.Errorf("fixed API with %d clients: %w", clients, err)
			}
			row.Ceiling.ServerCPU, row.Ceiling.ClientCPU = procCPU(ceiling.pid())-f0, selfCPU()-s0
			logf("intake: HTTP alone %.0f requests/s", row.Ceiling.Requests.Rate())
			// The baseline right after, while kioskd sits idle: the disk's
			// speed drifts by a fifth within minutes.
			base := filepath.Join(dir, fmt.Sprintf("baseline-%d-%d", round, clients))
			if err := os.MkdirAll(base, 0o700); err != nil {
				return nil, err
			}
			if row.Baseline, err = enqueueBaseline(ctx, base, envs, baselineValueBytes, clients, o.enqueueLimit); err != nil {
				return nil, err
			}
			os.RemoveAll(base)
			logf("intake: baseline with %d goroutines %.0f records/s; ratio %.2f×, HTTP alone %.2f×", clients, row.Baseline.Rate(), row.Ratio(), row.CeilingRatio())
			res.Rows = append(res.Rows, row)
		}
	}
	d.stop()
	if err := countIntakeCommits(dataDir, res); err != nil {
		return nil, err
	}
	return res, nil
}

// baselineValueBytes is about a stored booking: the sealed envelope of this
// program's bookings takes 590 bytes in kioskd's store (the report gives
// the figure measured), the in-process benchmark's 700.
const baselineValueBytes = 600

// countIntakeCommits opens the stopped kioskd's store and counts the commits
// each client count's bookings went in, and the stored size of a booking.
// The outbox reads the clock once per transaction and stamps every record
// of it with that time.
func countIntakeCommits(dataDir string, res *intakeResult) error {
	key, err := os.ReadFile(filepath.Join(dataDir, "outbox.key"))
	if err != nil {
		return err
	}
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dataDir, "kiosk.db"), Key: key})
	if err != nil {
		return fmt.Errorf("intake: open kioskd's store: %w", err)
	}
	defer ob.Close()
	st := ob.Stats()
	items, err := ob.Peek(0, st.Depth)
	if err != nil {
		return fmt.Errorf("intake: read kioskd's store: %w", err)
	}
	var bookings []outbox.Item
	for _, it := range items {
		if it.Type == "booking" {
			bookings = append(bookings, it)
		}
	}
	at := 0
	for i := range res.Rows {
		row := &res.Rows[i]
		n := min(row.API.N(), len(bookings)-at)
		stamps := make(map[int64]struct{})
		for _, it := range bookings[at : at+n] {
			stamps[it.Committed.UnixNano()] = struct{}{}
		}
		row.Commits = len(stamps)
		at += n
	}
	res.ValueBytes = int(st.Bytes / int64(max(st.Depth, 1)))
	return nil
}

func (r *report) intakeGoals() []goal {
	if r.Intake == nil {
		if r.IntakeErr != "" {
			return []goal{{"Booking intake through the kioskd binary", "measured", "failed", false}}
		}
		return nil
	}
	var gs []goal
	for _, clients := range []int{16, 64} {
		row := r.Intake.median(clients)
		if row == nil {
			continue
		}
		want := intakeGoals[row.Clients]
		gs = append(gs, goal{
			fmt.Sprintf("Bookings through kioskd's API, %d clients, vs one bbolt transaction per record (median of %d rounds)", row.Clients, r.Intake.rounds(clients)),
			fmt.Sprintf("≥ %.0f×, p99 ≤ %s", want, ms(goalIntakeP99)),
			fmt.Sprintf("%.2f×, p99 %s", row.Ratio(), ms(row.API.Pct(0.99))),
			row.Ratio() >= want && row.API.Pct(0.99) <= goalIntakeP99,
		})
	}
	return gs
}

func (r *intakeResult) rounds(clients int) int {
	n := 0
	for _, row := range r.Rows {
		if row.Clients == clients {
			n++
		}
	}
	return n
}

func (r *report) writeIntake(w writer) {
	if r.Intake == nil && r.IntakeErr == "" {
		return
	}
	w("## 5. Booking intake through the kioskd binary\n\n")
	if r.IntakeErr != "" {
		w("**Failed:** `%s`\n\n", oneLine(r.IntakeErr))
		return
	}
	in := r.Intake
	w("Valid bookings POSTed to the real kioskd over its unix socket (dev config, its own GC setting) by this program with `agent/localclient`, a process of its own as the screen is; each counted on its 201. kioskd is offline (its broker unreachable), so every booking stays in its store, where the commits are counted afterwards. The baseline is as many goroutines each committing one %d-byte record per `db.Update` to a plain bbolt file on the same disk, run right after each row. %d bookings per row. CPU per booking is each process's user and system time over the bookings.\n\n",
		baselineValueBytes, in.Bookings)
	w("| Round | Clients | Bookings/s | p99 | Records per commit | kioskd CPU per booking | client CPU per booking | bbolt one tx per record/s | its p99 | Ratio |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range in.Rows {
		w("| %d | %d | %.0f | %s | %.1f | %d µs | %d µs | %.0f | %s | %.2f× |\n",
			row.Round, row.Clients, row.API.Rate(), ms(row.API.Pct(0.99)), row.PerCommit(),
			perBooking(row.KioskdCPU, row.API.N()).Microseconds(), perBooking(row.ClientCPU, row.API.N()).Microseconds(),
			row.Baseline.Rate(), ms(row.Baseline.Pct(0.99)), row.Ratio())
	}
	w("\nThe goals take each client count's median ratio; a stored booking here is %d bytes.\n\n", in.ValueBytes)
	w("**The HTTP ceiling.** Right after each row, the same clients sent the same bookings to kioskd's API handler served by this program in a process of its own (the same listener, server settings, decoding and encoding as kioskd), whose agent answers each booking at once with a fixed booking: nothing validated, sealed or stored. No booking path goes faster on this machine; the ratio is to the row's baseline.\n\n")
	w("| Round | Clients | Requests/s | p99 | Server CPU per request | client CPU per request | Ratio to the baseline |\n|---|---|---|---|---|---|---|\n")
	for _, row := range in.Rows {
		cr := row.Ceiling
		w("| %d | %d | %.0f | %s | %d µs | %d µs | %.2f× |\n", row.Round, row.Clients, cr.Requests.Rate(), ms(cr.Requests.Pct(0.99)),
			perBooking(cr.ServerCPU, cr.Requests.N()).Microseconds(), perBooking(cr.ClientCPU, cr.Requests.N()).Microseconds(), row.CeilingRatio())
	}
	// This file is written afresh on every run; what the figures mean is
	// kept apart.
	w("\nWhat bounds these figures, and what has been tried: docs/intake.md.\n\n")
}
