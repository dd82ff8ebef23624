// This file: the markdown report and the goals' verdicts.

package main

import (
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
)

type report struct {
	Command               string
	Sections              []string // those measured (-sections)
	Started               time.Time
	LoadBefore, LoadAfter string
	Machine               machine
	Enqueue               *enqueueResult
	EnqueueErr            string
	Drain                 *drainResult
	DrainErr              string
	Boot                  *bootResult
	BootErr               string
	Intake                *intakeResult
	IntakeErr             string
	Fatal                 string
}

type goal struct {
	Name, Target, Measured string
	Met                    bool
}

func (g goal) verdict() string {
	if g.Met {
		return "met"
	}
	return "**MISSED**"
}

// goals lists the goals of the sections measured; one whose measurement
// failed counts as missed.
func (r *report) goals() []goal {
	var gs []goal
	if r.measured("enqueue") {
		gs = append(gs, r.enqueueGoals()...)
	}
	if r.measured("drain") {
		gs = append(gs, r.drainGoals()...)
	}
	if r.measured("boot") {
		gs = append(gs, r.bootGoals()...)
	}
	if r.measured("intake") {
		gs = append(gs, r.intakeGoals()...)
	}
	return gs
}

func (r *report) measured(section string) bool { return slices.Contains(r.Sections, section) }

func (r *report) enqueueGoals() []goal {
	var gs []goal
	if e := r.Enqueue; e != nil {
		gs = append(gs,
			goal{"Enqueue throughput, group commit vs one transaction per record", fmt.Sprintf("≥ %.0f×", goalEnqueueRatio),
				fmt.Sprintf("%.1f×", e.Ratio()), e.Ratio() >= goalEnqueueRatio},
			goal{"Enqueue p99 latency", "≤ " + ms(goalEnqueueP99),
				ms(e.Outbox.Pct(0.99)), e.Outbox.Pct(0.99) <= goalEnqueueP99})
	} else {
		gs = append(gs, goal{"Enqueue", "measured", "failed", false})
	}
	return gs
}

func (r *report) drainGoals() []goal {
	d := r.Drain
	if d == nil || len(d.Rounds) == 0 {
		return []goal{{"Drain, RSS and store size", "measured", "failed", false}}
	}
	// The sender-side ratio and the one at the subscriber must both hold: a
	// subscriber that falls behind the baseline flatters kioskd at the
	// subscriber, and the sender-side figure alone ignores what the township sees.
	sr, ar := d.SenderRatio(), d.ArrivalRatio()
	rss := d.worst((*round).rssRise)
	store := d.worst((*round).storeSlack)
	return []goal{
		{"Drain rate, kioskd vs plain paho publisher", fmt.Sprintf("≥ %.1f×", goalDrainRatio),
			fmt.Sprintf("%.2f× sender-side, %.2f× at the subscriber (medians of %d rounds)", sr, ar, len(d.Rounds)),
			min(sr, ar) >= goalDrainRatio},
		{"kioskd RSS rise during the drain", "≤ " + mib(goalRSSRise),
			mib(rss.rssRise()) + " (worst round)", rss.rssRise() <= goalRSSRise},
		{"Store size after the drain", "≤ live data + " + mib(goalStoreSlack),
			fmt.Sprintf("%s for %s live (worst round)", mib(store.Kioskd.FileAfter), mib(store.Kioskd.LiveAfter)),
			store.storeSlack() <= goalStoreSlack},
	}
}

type writer func(format string, args ...any)

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Outbox benchmarks\n\n")
	w("Written by `make bench`, which runs `%s`, on %s at commit `%s`.\n",
		strings.TrimSpace(r.Command), r.Started.UTC().Format("2006-01-02 15:04 MST"), gitDescribe())
	w("Everything here comes from that one run: each baseline ran on the same machine, disk and file system, minutes or seconds apart, and every ratio compares figures of this run.\n\n")
	if r.Fatal != "" {
		w("**The run failed:** `%s`\n\n", oneLine(r.Fatal))
	}
	r.writeMachine(w)
	w("## Goals\n\n| Goal | Target | Measured | |\n|---|---|---|---|\n")
	for _, g := range r.goals() {
		w("| %s | %s | %s | %s |\n", g.Name, g.Target, g.Measured, g.verdict())
	}
	w("\n")
	r.writeEnqueue(w)
	r.writeDrain(w)
	r.writeMemory(w)
	r.writeStore(w)
	r.writeBoot(w)
	r.writeIntake(w)
	return b.String()
}

func (r *report) writeMachine(w writer) {
	m := r.Machine
	w("## Machine\n\n| | |\n|---|---|\n")
	w("| CPUs (nproc) | %d |\n| CPU | %s |\n| Kernel | %s |\n| Memory | %s |\n", m.CPUs, m.CPUModel, m.Kernel, m.MemTotal)
	w("| Work dir | `%s`: %s on `%s` (%s), mounted at `%s` (%s) |\n", m.Dir, m.FSType, m.Device, orUnknown(m.Driver), m.Mount, m.MountOpts)
	w("| write + fdatasync of 4 KiB | p50 %s, p99 %s (%d samples) |\n", ms(m.Fsync.Pct(0.5)), ms(m.Fsync.Pct(0.99)), m.Fsync.N())
	w("| Load average (1, 5, 15 min) | %s at the start, %s at the end |\n", r.LoadBefore, r.LoadAfter)
	w("| Go | %s |\n| Broker | %s |\n\n", m.Go, m.Mosquitto)
	w("The work dir is on the machine's disk, not tmpfs, so a commit costs a real flush. mosquitto, the sender (kioskd, or the baseline publisher) and this program (the township subscriber) share the CPUs above, with whatever else the load average shows.\n\n")
}

func (r *report) writeEnqueue(w writer) {
	w("## 1. Durable enqueue\n\n")
	e := r.Enqueue
	if e == nil {
		w("Not measured: `%s`\n\n", oneLine(r.EnqueueErr))
		return
	}
	w("%d producers call `outbox.Enqueue` in a loop; each call returns once its record is on disk, and concurrent calls share one transaction and one fsync (group commit). "+
		"The baseline is a plain bbolt file in the same dir, opened with the outbox's bbolt options, where the same %d producers each commit one record per `db.Update`. "+
		"Booking envelopes of %d bytes of JSON, stored as %d-byte values (sealed by the outbox; padded to the same size in the baseline). "+
		"Each side runs for %d records or %s, whichever comes first.\n\n",
		e.Producers, e.Producers, e.PayloadBytes, e.ValueBytes, e.Records, e.Limit)
	w("| | outbox.Enqueue (group commit) | bbolt, one transaction per record |\n|---|---|---|\n")
	w("| Records | %d | %d |\n", e.Outbox.N(), e.Baseline.N())
	w("| Time | %s | %s |\n", sec(e.Outbox.Elapsed), sec(e.Baseline.Elapsed))
	w("| **Records/s** | **%s** | %s |\n", num(e.Outbox.Rate()), num(e.Baseline.Rate()))
	w("| Latency p50 | %s | %s |\n", ms(e.Outbox.Pct(0.5)), ms(e.Baseline.Pct(0.5)))
	w("| **Latency p99** | **%s** | %s |\n", ms(e.Outbox.Pct(0.99)), ms(e.Baseline.Pct(0.99)))
	w("| Latency max | %s | %s |\n", ms(e.Outbox.Max()), ms(e.Baseline.Max()))
	w("| Records per commit (mean) | %.1f | 1 |\n", e.PerCommit())
	w("| Time per commit (mean) | %s | %s |\n\n", ms(e.CommitTime()), ms(e.Baseline.Elapsed/time.Duration(max(e.Baseline.N(), 1))))
	w("Group commit: **%.1f×** the baseline's records/s (goal ≥ %.0f×). "+
		"The ratio is the records per commit times how much cheaper the baseline's one-record commit is than a group commit: %.1f × %s / %s. "+
		"Records per commit are counted from the records' commit times, which the outbox stamps once per transaction.\n\n",
		e.Ratio(), goalEnqueueRatio, e.PerCommit(), ms(e.Baseline.Elapsed/time.Duration(max(e.Baseline.N(), 1))), ms(e.CommitTime()))
}

func (r *report) writeDrain(w writer) {
	d := r.Drain
	if d == nil {
		w("## 2. Drain\n\nNot measured: `%s`\n\n", oneLine(r.DrainErr))
		return
	}
	n := d.Records
	w("## 2. Drain of a %s-record backlog\n\n", num(float64(n)))
	if r.DrainErr != "" {
		w("**Not every round completed:** `%s`\n\n", oneLine(r.DrainErr))
	}
	if len(d.Rounds) == 0 {
		return
	}
	w("In each round a kioskd data dir was filled with %d booking records (%d bytes of JSON each on average) through `outbox.Enqueue`. "+
		"Then, each against a fresh mosquitto (persistence off, unbounded queues) with a township subscriber (paho, QoS 1, `%s`, counting distinct ids) connected first:\n\n",
		n, d.Rounds[0].PayloadBytes, mqtttopic.Records(""))
	w("- **baseline**: a paho client in a process of its own (this program run as `outboxbench baseline-publisher`), with no store, connected before its clock starts, publishes the same %d payloads to the same topic at QoS 1, asynchronously, keeping every token and then waiting for all of them. Its clock starts at the first publish.\n", n)
	w("- **kioskd**: the real binary (`CGO_ENABLED=0 go build ./agent/cmd/kioskd`, dev site config) starts on the data dir. Its clock starts when its local API first answers, which is when its link starts draining; `/v1/status` is polled every 10 ms until the queue depth is 0 (every record PUBACKed and its ack committed).\n\n")
	w("Both senders are processes of their own, so they share the CPUs with mosquitto and the subscriber on the same terms. " +
		"Until 2026-12-02 the baseline publisher ran inside this program, beside the subscriber, in one Go scheduler. " +
		"There it finished 0.5–1.0 s before the subscriber had its records: it held the CPU while the subscriber fell behind and did its share of the work after the baseline's clock had stopped. " +
		"kioskd's subscriber, a separate process, kept pace with it. Measured that way, kioskd at fad69f5 was 0.62× the baseline at the sender (rounds 0.59–0.71×) and 0.90× at the subscriber: see docs/benchmarks.md in git history.\n\n")
	w("Rates in records/s; the sender is done at the baseline's last PUBACK and at kioskd's depth 0.\n\n")
	w("| Round | Baseline, sender | kioskd, sender | **Ratio** | Baseline, at subscriber | kioskd, at subscriber | **Ratio** | Subscriber finished after the sender (baseline, kioskd) |\n|---|---|---|---|---|---|---|---|\n")
	for i, rd := range d.Rounds {
		bl, k := rd.Baseline, rd.Kioskd
		w("| %d | %s | %s | %.2f× | %s | %s | %.2f× | %s, %s |\n", i+1,
			num(rate(n, bl.Puback)), num(rate(n, k.Depth0)), rd.senderRatio(n),
			num(rate(n, bl.Arrived)), num(rate(n, k.Arrived)), rd.arrivalRatio(n),
			sec(bl.Arrived-bl.Puback), sec(k.Arrived-k.Depth0))
	}
	w("| **Median** | | | **%.2f×** | | | **%.2f×** | |\n\n", d.SenderRatio(), d.ArrivalRatio())
	w("%s\n\n", subscriberVerdict(d))
	var counts []string
	for i, rd := range d.Rounds {
		counts = append(counts, fmt.Sprintf("round %d: %d and %d distinct ids, %d and %d duplicates, %d dead letters in kioskd", i+1,
			rd.Baseline.Received, rd.Kioskd.Received, rd.Baseline.Dups, rd.Kioskd.Dups, rd.Kioskd.Dead))
	}
	w("At the subscriber, baseline and kioskd: %s. ", strings.Join(counts, "; "))
	k := d.Rounds[0].Kioskd
	when := ms(k.FirstAt) + " after"
	if k.FirstAt < 0 {
		when = ms(-k.FirstAt) + " before" // the link starts while the API's first answer is on its way
	}
	w("kioskd took %s from process start to its API answering (store check in a child process, open), which the clocks above leave out; its first record reached the subscriber %s that (round 1).\n\n",
		sec(k.StartToAPI), when)
	r.writeCPU(w)
}

// writeCPU shows what the drain cost each process: on a machine with few
// CPUs a sender's rate is largely its CPU time per record.
func (r *report) writeCPU(w writer) {
	d := r.Drain
	n := d.Records
	w("### CPU time during the drain\n\n")
	w("CPU time (user + system) from the start of each sender's clock until every record was at the subscriber; µs per record in brackets. The sender is kioskd or the baseline publisher, each a process of its own; \"this program\" is the subscriber.\n\n")
	w("| Round | Run | Sender | mosquitto | this program | Wall | CPUs kept busy (of %d) |\n|---|---|---|---|---|---|---|\n", r.Machine.CPUs)
	perRec := func(c time.Duration) string {
		return fmt.Sprintf("%s (%.0f)", sec(c), float64(c.Microseconds())/float64(n))
	}
	for i, rd := range d.Rounds {
		bc, kc := rd.Baseline.CPU, rd.Kioskd.CPU
		w("| %d | baseline | %s | %s | %s | %s | %.2f |\n", i+1, perRec(bc.Sender), perRec(bc.Broker), perRec(bc.Self), sec(bc.Wall), bc.Cores())
		w("| %d | kioskd | %s | %s | %s | %s | %.2f |\n", i+1, perRec(kc.Sender), perRec(kc.Broker), perRec(kc.Self), sec(kc.Wall), kc.Cores())
	}
	perRecord := func(f func(r *round) time.Duration) float64 {
		return median(d.Rounds, func(r *round) float64 { return float64(f(r).Microseconds()) / float64(n) })
	}
	w("\nMedians per record: the baseline publisher %.0f µs of CPU, kioskd %.0f µs; mosquitto %.0f µs and %.0f µs in their runs.\n\n",
		perRecord(func(r *round) time.Duration { return r.Baseline.CPU.Sender }),
		perRecord(func(r *round) time.Duration { return r.Kioskd.CPU.Sender }),
		perRecord(func(r *round) time.Duration { return r.Baseline.CPU.Broker }),
		perRecord(func(r *round) time.Duration { return r.Kioskd.CPU.Broker }))
}

func (r *report) writeMemory(w writer) {
	d := r.Drain
	if d == nil || len(d.Rounds) == 0 {
		return
	}
	w("### kioskd memory during the drain\n\n")
	w("VmRSS of kioskd from `/proc/PID/status`, sampled every %s from the moment its API answered until its store had shrunk after the drain. "+
		"RssFile is mostly the bbolt file's mmap (clean page cache, which the kernel can reclaim); RssAnon is the Go heap and stacks.\n\n", sampleEvery)
	w("| Round | At drain start (anon + file) | Maximum (anon + file) | At the end | **Rise** | Maximum when |\n|---|---|---|---|---|---|\n")
	for i, rd := range d.Rounds {
		k := rd.Kioskd
		when := "+" + sec(k.MemMaxAt)
		if c, ok := rd.maxCompaction(); ok {
			when += fmt.Sprintf(", during compaction %d", c)
		}
		w("| %d | %s (%s + %s) | %s (%s + %s) | %s | **%s** | %s |\n", i+1,
			mib(k.MemStart.RSS), mib(k.MemStart.Anon), mib(k.MemStart.File),
			mib(k.MemMax.RSS), mib(k.MemMax.Anon), mib(k.MemMax.File),
			mib(k.MemEnd.RSS), mib(rd.rssRise()), when)
	}
	w("\n")
}

func (r *report) writeStore(w writer) {
	w("## 3. Store size\n\n")
	d := r.Drain
	if d == nil || len(d.Rounds) == 0 {
		w("Not measured.\n\n")
		return
	}
	w("kiosk.db and the live data in it (the stored records' bytes, `queue.bytes` in `/v1/status`), with %d records queued before the drain and after it. After the drain, the size is taken once it is within %s of the live data, or after 10 s.\n\n", d.Records, mib(goalStoreSlack))
	w("| Round | Before: file | Before: live | After: file | After: live | File within goal after depth 0 | Compactions (from kioskd's log; times from drain start) |\n|---|---|---|---|---|---|---|\n")
	for i, rd := range d.Rounds {
		k := rd.Kioskd
		shrunk := "not within 10 s"
		if k.ShrunkAfter >= 0 {
			shrunk = ms(k.ShrunkAfter)
		}
		var cs []string
		for j, c := range k.Compactions {
			cs = append(cs, fmt.Sprintf("%d: %s → %s, +%s to +%s", j+1, mib(c.Before), mib(c.After), sec(c.Start), sec(c.End)))
		}
		w("| %d | %s | %s | %s | %s | %s | %s |\n", i+1, mib(k.FileBefore), mib(k.LiveBefore), mib(k.FileAfter), mib(k.LiveAfter), shrunk, orNone(strings.Join(cs, "; ")))
	}
	w("\n")
}

// subscriberVerdict says whether the subscriber kept up: if it finished long
// after a sender, the rate at the subscriber is its own, not the sender's.
func subscriberVerdict(d *drainResult) string {
	var baseline, kiosk []string
	for i, rd := range d.Rounds {
		bl, k := rd.Baseline, rd.Kioskd
		if bl.Arrived-bl.Puback > bl.Puback/10 {
			baseline = append(baseline, strconv.Itoa(i+1))
		}
		if k.Arrived-k.Depth0 > k.Depth0/10 {
			kiosk = append(kiosk, strconv.Itoa(i+1))
		}
	}
	var slow []string
	if len(baseline) > 0 {
		slow = append(slow, "the baseline in "+rounds(baseline))
	}
	if len(kiosk) > 0 {
		slow = append(slow, "kioskd in "+rounds(kiosk))
	}
	if len(slow) == 0 {
		return "The subscriber kept up with both senders in every round (it finished within 10% of the sender's time after it), so the rates at the subscriber are the senders'."
	}
	return "**The subscriber fell behind " + strings.Join(slow, " and ") + "**: it finished more than 10% of the sender's time after the sender was done. " +
		"There the rate at the subscriber is the subscriber's (or the broker's), not the sender's, and the sender-side ratio is the one that compares the senders; the goal requires both ratios."
}

func rounds(ns []string) string {
	if len(ns) == 1 {
		return "round " + ns[0]
	}
	return "rounds " + strings.Join(ns, ", ")
}

func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

func orUnknown(s string) string {
	if s == "" {
		return "driver unknown"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func sec(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// num formats a number with thousands separators: 12,345.
func num(f float64) string {
	s := strconv.FormatInt(int64(math.Round(f)), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
