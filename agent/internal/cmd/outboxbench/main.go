// Command outboxbench measures the kiosk's delivery path against the goals set
// for it, in one run on one machine, and writes a markdown report (make bench
// writes docs/benchmarks.md). Each goal is only meaningful against a baseline
// measured in the same run, on the same disk and CPUs, so every ratio in the
// report compares figures of that one run.
//
//  1. Durable enqueue. outbox.Enqueue, whose concurrent callers share one
//     transaction and one fsync (group commit), against plain bbolt with one
//     transaction per record: same disk, same value size, same number of
//     producers. Goals: at least 20× the baseline's records/s and a p99
//     latency of at most 50 ms, so that a queue of villagers is not served at
//     the pace of one disk flush each.
//  2. Drain. A kioskd data dir holding 100,000 records (a long outage) is
//     delivered by the real kioskd binary to a real mosquitto, timed at a
//     township subscriber and at kioskd's own queue depth, while kioskd's RSS
//     is sampled. The baseline is a plain paho QoS 1 publisher with no store
//     sending the same payloads. Goals: at least 0.7× the baseline's rate and
//     an RSS rise of at most 10 MiB (a board has 512 MiB for everything).
//     The drain runs in several rounds, each with its own baseline, because a
//     small machine's timings vary from run to run.
//  3. Store size. The store file before the drain and after it: bbolt never
//     shrinks a file by itself, so the outbox compacts it once it drains.
//     Goal: after the drain, the file is the live data plus under 1 MiB.
//
// Beside the goals the report records what explains them: how many records
// shared each commit, the CPU time of every process during a drain, and when
// kioskd compacted its store.
//
// The program exits 1 when a goal is missed or a measurement fails, after
// writing the report either way, and stops every process it started.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"

	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
)

// The dev site's kiosk (firmware-configs/sites/dev.yaml), which kioskd runs as.
var devSource = record.Source{Kiosk: "dev-kiosk-01", Township: "dev-township", Village: "dev-village"}

const devConfig = "firmware-configs/sites/dev.yaml"

// Goals.
const (
	goalEnqueueRatio = 20.0
	goalEnqueueP99   = 50 * time.Millisecond
	goalDrainRatio   = 0.7
	goalRSSRise      = 10 << 20
	goalStoreSlack   = 1 << 20
)

type options struct {
	out          string
	dir          string
	producers    int
	enqueueN     int
	enqueueLimit time.Duration
	drainN       int
	rounds       int
	bootBytes    int64
	sections     string
	keep         bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == baselinePublisherCmd {
		os.Exit(baselinePublisher(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var o options
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "report `file` (markdown)")
	flag.StringVar(&o.dir, "dir", "/var/tmp", "parent `dir` of the work dir; must be on a real disk, not tmpfs")
	flag.IntVar(&o.producers, "producers", 32, "concurrent producers in the enqueue benchmark")
	flag.IntVar(&o.enqueueN, "enqueue-records", 20000, "records per side in the enqueue benchmark")
	flag.DurationVar(&o.enqueueLimit, "enqueue-limit", 10*time.Second, "time limit per side in the enqueue benchmark")
	flag.IntVar(&o.drainN, "drain-records", 100000, "records in the drain benchmark")
	flag.IntVar(&o.rounds, "rounds", 3, "drain rounds, each with its own baseline; boots per boot scenario")
	flag.StringVar(&o.sections, "sections", "enqueue,drain,boot", "comma-separated `sections` to measure")
	bootMiB := flag.Int64("boot-backlog-mib", 1024, "size of the backlog store in the boot benchmark, MiB")
	flag.BoolVar(&o.keep, "keep", false, "keep the work dir (stores, logs)")
	flag.Parse()
	o.bootBytes = *bootMiB << 20

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep := &report{Command: "go run ./agent/internal/cmd/outboxbench " + strings.Join(os.Args[1:], " "),
		Started: time.Now(), LoadBefore: loadAverage()}
	err := measure(ctx, o, rep)
	rep.LoadAfter = loadAverage()
	if err != nil {
		rep.Fatal = err.Error()
		logf("FAILED: %v", err)
	}
	if werr := os.WriteFile(o.out, []byte(rep.markdown()), 0o644); werr != nil {
		logf("write report: %v", werr)
		return 1
	}
	logf("report written to %s", o.out)
	missed := 0
	for _, g := range rep.goals() {
		logf("goal: %s: %s, measured %s: %s", g.Name, g.Target, g.Measured, g.verdict())
		if !g.Met {
			missed++
		}
	}
	if err != nil || missed > 0 {
		return 1
	}
	return 0
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "outboxbench: "+format+"\n", args...)
}

// measure runs all three measurements into rep. A failed measurement is
// recorded in rep and the next one still runs.
func measure(ctx context.Context, o options, rep *report) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.dir, "outboxbench-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	if o.keep {
		logf("work dir %s is kept", work)
	} else {
		defer os.RemoveAll(work)
	}
	rep.Machine, err = describeMachine(work)
	if err != nil {
		return err
	}
	if rep.Machine.FSType == "tmpfs" || rep.Machine.FSType == "ramfs" {
		return fmt.Errorf("%s is on %s, where fsync costs nothing and the enqueue figures would mean nothing (use -dir)", work, rep.Machine.FSType)
	}
	logf("work dir %s (%s on %s)", work, rep.Machine.FSType, rep.Machine.Device)

	// Build first, so that the compiler does not compete with the measurements.
	bin, err := buildKioskd(ctx, root, work)
	if err != nil {
		return err
	}

	var errs []error
	sections := strings.Split(o.sections, ",")
	if slices.Contains(sections, "enqueue") {
		rep.Enqueue, err = benchEnqueue(ctx, o, filepath.Join(work, "enqueue"))
		if err != nil {
			rep.EnqueueErr = err.Error()
			errs = append(errs, fmt.Errorf("enqueue: %w", err))
		}
	}
	if slices.Contains(sections, "drain") {
		rep.Drain, err = benchDrain(ctx, o, root, bin, filepath.Join(work, "drain"))
		if err != nil {
			rep.DrainErr = err.Error()
			errs = append(errs, fmt.Errorf("drain: %w", err))
		}
	}
	if slices.Contains(sections, "boot") {
		rep.Boot, err = benchBoot(ctx, o, root, bin, filepath.Join(work, "boot"))
		if err != nil {
			rep.BootErr = err.Error()
			errs = append(errs, fmt.Errorf("boot: %w", err))
		}
	}
	return errors.Join(errs...)
}

// repoRoot finds the module root from the working directory, for the dev
// config and the kioskd build.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the repository (no go.mod above the working directory)")
		}
		dir = parent
	}
}

func buildKioskd(ctx context.Context, root, work string) (string, error) {
	bin := filepath.Join(work, "kioskd")
	logf("building kioskd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./agent/cmd/kioskd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build kioskd: %w\n%s", err, out)
	}
	return bin, nil
}

// ---------------------------------------------------------------------------
// The machine

type machine struct {
	CPUs      int
	CPUModel  string
	Kernel    string
	MemTotal  string
	Go        string
	Mosquitto string
	Dir       string
	FSType    string
	Device    string
	Mount     string
	MountOpts string
	Driver    string
	Fsync     latencies // write + fdatasync of 4 KiB: the least a commit costs
}

func describeMachine(dir string) (machine, error) {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Dir: dir}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	out, _ := exec.Command(mosquittoPath(), "-h").CombinedOutput() // -h exits non-zero
	m.Mosquitto, _, _ = strings.Cut(string(out), "\n")
	if err := m.findMount(dir); err != nil {
		return m, err
	}
	var err error
	m.Fsync, err = measureFsync(dir, 200)
	return m, err
}

// procField returns the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the first three fields of /proc/loadavg: other work on the
// machine during the run shows up there.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// findMount finds the mount holding dir in /proc/self/mountinfo: the longest
// mount point that is a prefix of it.
func (m *machine) findMount(dir string) error {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("mountinfo: %w", err)
	}
	best := -1
	for line := range strings.Lines(string(b)) {
		pre, post, ok := strings.Cut(strings.TrimSpace(line), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			continue
		}
		mp := f[4]
		if !(dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) || len(mp) <= best {
			continue
		}
		best = len(mp)
		m.Mount, m.MountOpts, m.FSType, m.Device = mp, f[5], g[0], g[1]
		if drv, err := filepath.EvalSymlinks("/sys/dev/block/" + f[2] + "/device/driver"); err == nil {
			m.Driver = filepath.Base(drv)
		}
	}
	if best < 0 {
		return fmt.Errorf("no mount found for %s", dir)
	}
	return nil
}

// measureFsync times n write+fdatasync pairs of 4 KiB: the fixed cost of a
// commit on this disk, which is the cost group commit shares out.
func measureFsync(dir string, n int) (latencies, error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return latencies{}, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := bytes.Repeat([]byte{'x'}, 4096)
	var l latencies
	start := time.Now()
	for i := range n {
		t := time.Now()
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			return l, fmt.Errorf("fsync probe: %w", err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return l, fmt.Errorf("fsync probe: %w", err)
		}
		l.add(time.Since(t))
	}
	l.finish(time.Since(start))
	return l, nil
}

// ---------------------------------------------------------------------------
// Latency figures

type latencies struct {
	d       []time.Duration
	Elapsed time.Duration
}

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }

func (l *latencies) finish(elapsed time.Duration) {
	l.Elapsed = elapsed
	slices.Sort(l.d)
}

func (l latencies) N() int { return len(l.d) }

// Pct is the nearest-rank percentile p (0 < p ≤ 1).
func (l latencies) Pct(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(l.d)))) - 1
	return l.d[max(i, 0)]
}

func (l latencies) Max() time.Duration { return l.Pct(1) }

func (l latencies) Rate() float64 { return rate(len(l.d), l.Elapsed) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ---------------------------------------------------------------------------
// 1. Durable enqueue

type enqueueResult struct {
	Producers     int
	Records       int // per side, unless the time limit came first
	PayloadBytes  int // envelope JSON
	ValueBytes    int // as stored: sealed by the outbox, padded to match in the baseline
	Limit         time.Duration
	Outbox        latencies
	OutboxCommits int
	Baseline      latencies
}

func (r *enqueueResult) Ratio() float64 { return ratio(r.Outbox.Rate(), r.Baseline.Rate()) }

// PerCommit is the mean number of records per outbox commit.
func (r *enqueueResult) PerCommit() float64 {
	return ratio(float64(r.Outbox.N()), float64(r.OutboxCommits))
}

// CommitTime is the mean wall time of one outbox commit; the baseline's is
// its elapsed time per record, as each record is a commit.
func (r *enqueueResult) CommitTime() time.Duration {
	return r.Outbox.Elapsed / time.Duration(max(r.OutboxCommits, 1))
}

func benchEnqueue(ctx context.Context, o options, dir string) (*enqueueResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	envs, err := bookings(o.enqueueN)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(envs[0])
	if err != nil {
		return nil, err
	}
	r := &enqueueResult{Producers: o.producers, Records: o.enqueueN, Limit: o.enqueueLimit, PayloadBytes: len(payload)}
	logf("enqueue: outbox.Enqueue, %d records, %d producers", o.enqueueN, o.producers)
	var stats outbox.Stats
	r.Outbox, r.OutboxCommits, stats, err = enqueueOutbox(ctx, dir, envs, o.producers, o.enqueueLimit)
	if err != nil {
		return nil, err
	}
	r.ValueBytes = int(stats.Bytes / int64(max(stats.Depth, 1)))
	logf("enqueue: %.0f records/s, p99 %v, %.1f records per commit", r.Outbox.Rate(), r.Outbox.Pct(0.99), r.PerCommit())

	logf("enqueue: baseline, one bbolt transaction per record, %d-byte values", r.ValueBytes)
	r.Baseline, err = enqueueBaseline(ctx, dir, envs, r.ValueBytes, o.producers, o.enqueueLimit)
	if err != nil {
		return nil, err
	}
	logf("enqueue: baseline %.0f records/s (%d records), p99 %v; ratio %.1f×", r.Baseline.Rate(), r.Baseline.N(), r.Baseline.Pct(0.99), r.Ratio())
	return r, nil
}

// bookings returns n booking envelopes as a kiosk makes them.
func bookings(n int) ([]record.Envelope, error) {
	envs := make([]record.Envelope, n)
	now := time.Now()
	for i := range envs {
		var err error
		if envs[i], err = newBooking(now); err != nil {
			return nil, err
		}
	}
	return envs, nil
}

// newBooking makes a booking made with an ID card, the largest kind of
// booking record. Every value is made up: no real person is in it.
func newBooking(now time.Time) (record.Envelope, error) {
	body := schema.BookingV1{
		Service:  "legal-advisor",
		Topic:    "婚姻家庭",
		Name:     "测试村民",
		Phone:    "13800000000",
		Slot:     now.Add(72 * time.Hour).Truncate(30 * time.Minute),
		Advisor:  "测试顾问",
		Channel:  "kiosk",
		IDNumber: "000000000000000000",
		IDType:   "resident",
	}
	return record.New(devSource, body.RecordType(), body.Schema(), body, now)
}

// produce runs fn over indexes 0..n-1 from `producers` goroutines until all
// are done or limit has passed, timing each call.
func produce(ctx context.Context, n, producers int, limit time.Duration, fn func(i int) error) (latencies, error) {
	var next atomic.Int64
	per := make([][]time.Duration, producers)
	g, ctx := errgroup.WithContext(ctx)
	start := time.Now()
	deadline := start.Add(limit)
	for p := range producers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil || time.Now().After(deadline) {
					return ctx.Err()
				}
				t := time.Now()
				if err := fn(i); err != nil {
					return err
				}
				per[p] = append(per[p], time.Since(t))
			}
		})
	}
	err := g.Wait()
	var l latencies
	for _, d := range per {
		l.d = append(l.d, d...)
	}
	l.finish(time.Since(start))
	return l, err
}

func enqueueOutbox(ctx context.Context, dir string, envs []record.Envelope, producers int, limit time.Duration) (latencies, int, outbox.Stats, error) {
	key, err := outbox.LoadOrCreateKey(filepath.Join(dir, "outbox.key"))
	if err != nil {
		return latencies{}, 0, outbox.Stats{}, err
	}
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dir, "outbox.db"), Key: key})
	if err != nil {
		return latencies{}, 0, outbox.Stats{}, err
	}
	defer ob.Close()
	l, err := produce(ctx, len(envs), producers, limit, func(i int) error {
		_, err := ob.Enqueue(ctx, envs[i])
		return err
	})
	if err != nil {
		return l, 0, outbox.Stats{}, fmt.Errorf("outbox enqueue: %w", err)
	}
	commits, err := countCommits(ob, l.N())
	if err != nil {
		return l, 0, outbox.Stats{}, err
	}
	return l, commits, ob.Stats(), ob.Close()
}

// countCommits counts the transactions the queued records were committed in:
// the outbox reads the clock once per transaction and stamps every record of
// it with that time.
func countCommits(ob *outbox.Outbox, n int) (int, error) {
	items, err := ob.Peek(0, n)
	if err != nil {
		return 0, fmt.Errorf("count commits: %w", err)
	}
	stamps := make(map[int64]struct{})
	for _, it := range items {
		stamps[it.Committed.UnixNano()] = struct{}{}
	}
	return len(stamps), nil
}

// enqueueBaseline commits each record in a transaction of its own: what a
// store without group commit does. It uses the outbox's bbolt options
// (no freelist sync, map freelist) so that the ratio measures group commit
// alone, and values of the size the outbox stores (the envelope JSON padded
// by what sealing adds).
func enqueueBaseline(ctx context.Context, dir string, envs []record.Envelope, valueSize, producers int, limit time.Duration) (latencies, error) {
	db, err := bbolt.Open(filepath.Join(dir, "baseline.db"), 0o600, &bbolt.Options{
		Timeout: time.Second, NoFreelistSync: false, FreelistType: bbolt.FreelistMapType,
	})
	if err != nil {
		return latencies{}, fmt.Errorf("baseline open: %w", err)
	}
	defer db.Close()
	bucket := []byte("records")
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return latencies{}, fmt.Errorf("baseline bucket: %w", err)
	}
	values := make([][]byte, len(envs))
	for i, env := range envs {
		env.Seq = uint64(i + 1)
		v, err := json.Marshal(env)
		if err != nil {
			return latencies{}, err
		}
		values[i] = append(v, bytes.Repeat([]byte{' '}, max(valueSize-len(v), 0))...)
	}
	l, err := produce(ctx, len(envs), producers, limit, func(i int) error {
		return db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucket)
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			return b.Put(binary.BigEndian.AppendUint64(nil, seq), values[i])
		})
	})
	if err != nil {
		return l, fmt.Errorf("baseline put: %w", err)
	}
	return l, nil
}

// ---------------------------------------------------------------------------
// 2 and 3. Drain and store size

type drainResult struct {
	Records int
	Rounds  []*round // the completed ones
}

// round is one prefill, baseline and kioskd drain.
type round struct {
	PayloadBytes int // mean envelope JSON size
	Prefill      time.Duration
	Baseline     baselineResult
	Kioskd       kioskdResult
}

type baselineResult struct {
	Puback   time.Duration // first publish → every PUBACK received
	Arrived  time.Duration // first publish → every record at the subscriber
	Failed   int           // tokens that completed with an error
	Received int
	Dups     int
	CPU      cpuUse // first publish → every record at the subscriber
}

type kioskdResult struct {
	StartToAPI time.Duration // process start → API answers (store check, open)
	FirstAt    time.Duration // API up → first record at the subscriber
	Depth0     time.Duration // API up → /v1/status depth 0
	Arrived    time.Duration // API up → every record at the subscriber
	Received   int
	Dups       int
	Dead       int
	CPU        cpuUse // API up → depth 0 and every record at the subscriber

	MemStart, MemMax, MemEnd memSample
	MemMaxAt                 time.Duration // since API up
	Samples                  int

	FileBefore  int64 // kiosk.db with every record queued
	LiveBefore  int64
	FileAfter   int64 // after the drain and compaction
	LiveAfter   int64
	ShrunkAfter time.Duration // depth 0 → file within the goal; -1 if not in time
	Compactions []compaction
}

func (r *round) senderRatio(n int) float64 {
	return ratio(rate(n, r.Kioskd.Depth0), rate(n, r.Baseline.Puback))
}

func (r *round) arrivalRatio(n int) float64 {
	return ratio(rate(n, r.Kioskd.Arrived), rate(n, r.Baseline.Arrived))
}

func (r *round) rssRise() int64 { return r.Kioskd.MemMax.RSS - r.Kioskd.MemStart.RSS }

func (r *round) storeSlack() int64 { return r.Kioskd.FileAfter - r.Kioskd.LiveAfter }

// maxCompaction returns the compaction under way when the RSS peaked, if any.
func (r *round) maxCompaction() (int, bool) {
	for i, c := range r.Kioskd.Compactions {
		// A sample lands up to one interval after the moment it describes.
		if r.Kioskd.MemMaxAt >= c.Start && r.Kioskd.MemMaxAt <= c.End+sampleEvery {
			return i + 1, true
		}
	}
	return 0, false
}

// Aggregates over the rounds: the median for rates, the worst for limits.
func (d *drainResult) SenderRatio() float64 {
	return median(d.Rounds, func(r *round) float64 { return r.senderRatio(d.Records) })
}

func (d *drainResult) ArrivalRatio() float64 {
	return median(d.Rounds, func(r *round) float64 { return r.arrivalRatio(d.Records) })
}

func (d *drainResult) worst(f func(*round) int64) *round {
	return slices.MaxFunc(d.Rounds, func(a, b *round) int { return cmp.Compare(f(a), f(b)) })
}

func median(rs []*round, f func(*round) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return v[len(v)/2]
}

func benchDrain(ctx context.Context, o options, root, bin, dir string) (*drainResult, error) {
	d := &drainResult{Records: o.drainN}
	for i := range o.rounds {
		logf("drain round %d of %d", i+1, o.rounds)
		r, err := drainRound(ctx, o.drainN, root, bin, filepath.Join(dir, fmt.Sprintf("round%d", i+1)))
		if err != nil {
			return d, fmt.Errorf("round %d: %w", i+1, err)
		}
		d.Rounds = append(d.Rounds, r)
	}
	return d, nil
}

func drainRound(ctx context.Context, n int, root, bin, dir string) (*round, error) {
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	r := &round{}
	logf("drain: prefilling %s with %d records", dataDir, n)
	start := time.Now()
	payloads, err := prefill(ctx, dataDir, n, &r.Kioskd)
	if err != nil {
		return nil, err
	}
	r.Prefill = time.Since(start)
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	r.PayloadBytes = total / max(len(payloads), 1)
	logf("drain: prefilled in %v; kiosk.db is %s, live %s", r.Prefill.Round(time.Millisecond), mib(r.Kioskd.FileBefore), mib(r.Kioskd.LiveBefore))

	if r.Baseline, err = drainBaseline(ctx, filepath.Join(dir, "baseline"), payloads); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	bl := r.Baseline
	logf("drain: baseline: every PUBACK in %v, every record at the subscriber in %v", bl.Puback.Round(time.Millisecond), bl.Arrived.Round(time.Millisecond))
	payloads = nil // kioskd's run does not need 100,000 payloads in this process

	if err := drainKioskd(ctx, root, bin, dir, dataDir, n, &r.Kioskd); err != nil {
		return nil, fmt.Errorf("kioskd: %w", err)
	}
	k := r.Kioskd
	logf("drain: kioskd: depth 0 in %v, every record at the subscriber in %v; RSS %s → max %s; kiosk.db %s → %s",
		k.Depth0.Round(time.Millisecond), k.Arrived.Round(time.Millisecond), mib(k.MemStart.RSS), mib(k.MemMax.RSS), mib(k.FileBefore), mib(k.FileAfter))
	logf("drain: kioskd/baseline %.2f× sender-side, %.2f× at the subscriber", r.senderRatio(n), r.arrivalRatio(n))
	return r, nil
}

// prefill queues n bookings in a kioskd data dir as a kiosk cut off from the
// township would have, through the outbox itself, and returns their payloads
// exactly as kioskd will publish them.
func prefill(ctx context.Context, dataDir string, n int, k *kioskdResult) ([][]byte, error) {
	key, err := outbox.LoadOrCreateKey(filepath.Join(dataDir, kioskd.KeyFile))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, kioskd.StoreFile)
	ob, err := outbox.Open(outbox.Options{Path: path, Key: key})
	if err != nil {
		return nil, err
	}
	defer ob.Close()
	payloads := make([][]byte, n)
	// Enough producers to fill whole group commits: the prefill is not measured.
	_, err = produce(ctx, n, 512, time.Hour, func(i int) error {
		env, err := newBooking(time.Now())
		if err != nil {
			return err
		}
		if env, err = ob.Enqueue(ctx, env); err != nil {
			return err
		}
		payloads[i], err = json.Marshal(env)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	st := ob.Stats()
	if st.Depth != n {
		return nil, fmt.Errorf("prefill: depth %d, want %d", st.Depth, n)
	}
	k.LiveBefore = st.Bytes
	if err := ob.Close(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	k.FileBefore = fi.Size()
	return payloads, nil
}

// drainBaseline publishes the payloads the way a publisher without a store is
// usually written: asynchronously, keeping every token, then waiting for all.
// The publisher is a process of its own, as kioskd is, so that both senders
// share the CPUs with the broker and the subscriber in the same way: inside
// this program the publisher would share one Go scheduler with the
// subscriber, and the subscriber would fall behind it and take its CPU later.
func drainBaseline(ctx context.Context, dir string, payloads [][]byte) (baselineResult, error) {
	var r baselineResult
	b, err := startBroker(ctx, dir)
	if err != nil {
		return r, err
	}
	defer b.stop()
	sub, err := subscribe(b.url, len(payloads))
	if err != nil {
		return r, err
	}
	defer sub.close()

	payloadsPath := filepath.Join(dir, "payloads")
	if err := writePayloads(payloadsPath, payloads); err != nil {
		return r, err
	}
	pub, err := startPublisher(b.url, payloadsPath, filepath.Join(dir, "publisher.log"))
	if err != nil {
		return r, err
	}
	defer pub.stop()
	os.Remove(payloadsPath) // read by now; 100,000 payloads need not stay on disk
	cpu := startCPU(pub.pid(), b.pid())
	start := time.Now()
	res, err := pub.publish()
	if err != nil {
		return r, err
	}
	r.Puback, r.Failed = res.Puback, res.Failed
	r.Arrived, r.Received, r.Dups = sub.wait(ctx, start, 2*time.Minute)
	r.CPU = cpu.read()
	pub.in.Close()
	if r.Failed > 0 || r.Received < len(payloads) {
		return r, fmt.Errorf("baseline lost records: %d publishes failed, %d of %d arrived", r.Failed, r.Received, len(payloads))
	}
	return r, nil
}

// baselinePublisherCmd is the hidden subcommand the baseline publisher runs.
const baselinePublisherCmd = "baseline-publisher"

// publisherResult is what the baseline publisher reports on stdout.
type publisherResult struct {
	Puback time.Duration // first publish → every PUBACK received
	Failed int
}

type publisher struct {
	*proc
	in  io.WriteCloser
	out *bufio.Reader
}

// startPublisher starts the baseline publisher and waits until it is
// connected, so that its clock leaves the connection out, as kioskd's does.
func startPublisher(brokerURL, payloadsPath, logPath string) (*publisher, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, baselinePublisherCmd, brokerURL, payloadsPath)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &publisher{proc: &proc{cmd: cmd, done: make(chan struct{}), started: time.Now()}, in: in, out: bufio.NewReader(outPipe)}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start baseline publisher: %w", err)
	}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	if line, err := p.out.ReadString('\n'); err != nil || line != "connected\n" {
		p.stop()
		return nil, fmt.Errorf("baseline publisher did not connect (%q, %v); see %s", line, err, logPath)
	}
	return p, nil
}

// publish tells the publisher to go and waits for its result.
func (p *publisher) publish() (publisherResult, error) {
	var res publisherResult
	if _, err := io.WriteString(p.in, "go\n"); err != nil {
		return res, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return res, fmt.Errorf("baseline publisher: %w", err)
	}
	if err := json.Unmarshal(line, &res); err != nil {
		return res, fmt.Errorf("baseline publisher said %q: %w", line, err)
	}
	return res, nil
}

// baselinePublisher is the body of the baseline publisher's process: it
// connects, says so, publishes every payload when told to go, and reports.
func baselinePublisher(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: outboxbench baseline-publisher BROKER-URL PAYLOADS-FILE")
		return 2
	}
	payloads, err := readPayloads(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(args[0]).SetClientID("outboxbench-publisher").
		SetCleanSession(true).SetAutoReconnect(false))
	if err := waitToken(c.Connect(), 10*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "publisher connect: %v\n", err)
		return 1
	}
	defer c.Disconnect(250)
	fmt.Println("connected")
	var goLine [3]byte
	if _, err := io.ReadFull(os.Stdin, goLine[:]); err != nil {
		return 1
	}
	topic := mqtttopic.Record(devSource.Township, devSource.Kiosk, schema.BookingType)
	toks := make([]mqtt.Token, len(payloads))
	var res publisherResult
	start := time.Now()
	for i, p := range payloads {
		toks[i] = c.Publish(topic, 1, false, p)
	}
	for _, t := range toks {
		if waitToken(t, time.Minute) != nil {
			res.Failed++
		}
	}
	res.Puback = time.Since(start)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	// Stay until told to go (stdin closed): the parent reads this process's
	// CPU time from /proc, which an exited process no longer has.
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// writePayloads stores payloads for the publisher: each as a 4-byte length
// and its bytes.
func writePayloads(path string, payloads [][]byte) error {
	var b []byte
	for _, p := range payloads {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return os.WriteFile(path, b, 0o600)
}

func readPayloads(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 {
			return nil, fmt.Errorf("%s: truncated", path)
		}
		n := int(binary.BigEndian.Uint32(b))
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

func waitToken(t mqtt.Token, d time.Duration) error {
	if !t.WaitTimeout(d) {
		return errors.New("timed out")
	}
	return t.Error()
}

// drainKioskd starts kioskd on the prefilled data dir and follows the drain at
// the subscriber, in /v1/status and in kioskd's memory.
func drainKioskd(ctx context.Context, root, bin, dir, dataDir string, n int, k *kioskdResult) error {
	b, err := startBroker(ctx, filepath.Join(dir, "kioskd-broker"))
	if err != nil {
		return err
	}
	defer b.stop()
	sub, err := subscribe(b.url, n)
	if err != nil {
		return err
	}
	defer sub.close()

	d, err := startKioskd(root, bin, dataDir, b.url, filepath.Join(dir, "kioskd.log"))
	if err != nil {
		return err
	}
	defer d.stop()
	up, err := d.waitAPI(ctx, 2*time.Minute)
	if err != nil {
		return err
	}
	k.StartToAPI = up.Sub(d.started)
	mem := startSampler(d.pid(), sampleEvery)
	defer mem.stop()
	cpu := startCPU(d.pid(), b.pid())

	if k.Depth0, k.Dead, err = d.waitDepth0(ctx, up, 5*time.Minute); err != nil {
		return err
	}
	k.Arrived, k.Received, k.Dups = sub.wait(ctx, up, time.Minute)
	k.CPU = cpu.read()
	if first := sub.firstAt(); !first.IsZero() {
		k.FirstAt = first.Sub(up)
	}
	if k.Received < n {
		return fmt.Errorf("only %d of %d records reached the subscriber", k.Received, n)
	}
	if err := d.waitShrink(ctx, dataDir, up, k); err != nil {
		return err
	}
	samples := mem.stop()
	k.Samples = len(samples)
	summarizeMem(samples, up, k)
	if err := writeMemSeries(filepath.Join(dir, "kioskd-mem.tsv"), samples, up); err != nil {
		return err
	}
	d.stop()
	k.Compactions = compactions(d.logPath, up)
	return nil
}

// waitShrink waits up to 10 s after depth 0 for kiosk.db to come within the
// goal of the live data: compaction runs in kioskd after the acks that emptied
// the queue.
func (d *daemon) waitShrink(ctx context.Context, dataDir string, up time.Time, k *kioskdResult) error {
	path := filepath.Join(dataDir, kioskd.StoreFile)
	depth0 := up.Add(k.Depth0)
	deadline := time.Now().Add(10 * time.Second)
	c := localclient.New(d.socket)
	k.ShrunkAfter = -1
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return d.explain(fmt.Errorf("status: %w", err))
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		k.FileAfter, k.LiveAfter = fi.Size(), st.Queue.Bytes
		if k.FileAfter <= k.LiveAfter+goalStoreSlack {
			k.ShrunkAfter = time.Since(depth0)
			return nil
		}
		if time.Now().After(deadline) {
			return nil // the size is reported as it is
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compaction is one compaction kioskd logged, timed from its API coming up.
type compaction struct {
	Start, End    time.Duration
	Before, After int64
}

var compactedRE = regexp.MustCompile(`time=(\S+) .*msg="store compacted".* before=(\d+) after=(\d+) took=(\S+)`)

// compactions reads kioskd's log for its compactions. It logs one when it is
// done, with how long it took.
func compactions(logPath string, up time.Time) []compaction {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return nil
	}
	var out []compaction
	for _, m := range compactedRE.FindAllStringSubmatch(string(b), -1) {
		end, err1 := time.Parse(time.RFC3339Nano, m[1])
		took, err2 := time.ParseDuration(m[4])
		if err1 != nil || err2 != nil {
			continue
		}
		c := compaction{Start: end.Add(-took).Sub(up), End: end.Sub(up)}
		c.Before, _ = strconv.ParseInt(m[2], 10, 64)
		c.After, _ = strconv.ParseInt(m[3], 10, 64)
		out = append(out, c)
	}
	return out
}

// ---------------------------------------------------------------------------
// Processes: mosquitto and kioskd

func mosquittoPath() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	return "/usr/sbin/mosquitto"
}

// proc is a child process. Pdeathsig kills it should this program die
// without stopping it.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error
	once    sync.Once
}

func startProc(cmd *exec.Cmd, logPath string) (*proc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{cmd: cmd, done: make(chan struct{}), started: time.Now()}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop asks the process to end (SIGTERM) and kills it if it has not within 10 s.
func (p *proc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

type broker struct {
	*proc
	url string
}

// startBroker runs a fresh mosquitto on a free loopback port. Nothing is
// persisted, and queues toward a slow subscriber are unbounded so that the
// broker never drops a record and blames the sender.
func startBroker(ctx context.Context, dir string) (*broker, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n", port)
	if os.Geteuid() == 0 {
		conf += "user root\n" // else mosquitto drops to user mosquitto and cannot read its config
	}
	confPath := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	p, err := startProc(exec.Command(mosquittoPath(), "-c", confPath), filepath.Join(dir, "mosquitto.log"))
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return &broker{proc: p, url: "tcp://" + addr}, nil
		}
		if p.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("mosquitto did not listen on %s (see %s/mosquitto.log): %v", addr, dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type daemon struct {
	*proc
	socket  string
	logPath string
}

func startKioskd(root, bin, dataDir, brokerURL, logPath string) (*daemon, error) {
	return startKioskdWith(bin, filepath.Join(root, devConfig), dataDir, brokerURL, logPath)
}

func startKioskdWith(bin, config, dataDir, brokerURL, logPath string) (*daemon, error) {
	socket := filepath.Join(dataDir, "kioskd.sock")
	cmd := exec.Command(bin, "--config", config, "--data", dataDir,
		"--socket", socket, "--broker", brokerURL)
	p, err := startProc(cmd, logPath)
	if err != nil {
		return nil, err
	}
	return &daemon{proc: p, socket: socket, logPath: logPath}, nil
}

// explain adds to err how kioskd ended, if it did, and the end of its log:
// the work dir and the log with it are gone once the program exits.
func (d *daemon) explain(err error) error {
	select {
	case <-d.done:
		err = fmt.Errorf("%w; kioskd exited: %v", err, d.err)
	case <-time.After(time.Second):
	}
	b, _ := os.ReadFile(d.logPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return fmt.Errorf("%w; kioskd's last log lines:\n%s", err, strings.Join(lines[max(0, len(lines)-5):], "\n"))
}

// waitAPI returns when kioskd's API first answers: the store is open and the
// link starts draining.
func (d *daemon) waitAPI(ctx context.Context, limit time.Duration) (time.Time, error) {
	c := localclient.New(d.socket)
	deadline := time.Now().Add(limit)
	for {
		if _, err := c.Status(ctx); err == nil {
			return time.Now(), nil
		}
		if d.exited() {
			return time.Time{}, d.explain(errors.New("kioskd exited before its API came up"))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("kioskd API did not come up within %v (see %s)", limit, d.logPath)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitDepth0 polls /v1/status until the queue is empty: every record acked by
// the broker and the ack committed.
func (d *daemon) waitDepth0(ctx context.Context, up time.Time, limit time.Duration) (time.Duration, int, error) {
	c := localclient.New(d.socket)
	deadline := up.Add(limit)
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return 0, 0, d.explain(fmt.Errorf("status: %w", err))
		}
		if st.Queue.Depth == 0 {
			return time.Since(up), st.Queue.DeadLetters, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("queue still holds %d records after %v (see %s)", st.Queue.Depth, limit, d.logPath)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// The township subscriber

// township counts distinct record ids arriving on every kiosk's records topic.
type township struct {
	client mqtt.Client
	want   int
	all    chan struct{}

	mu    sync.Mutex
	seen  map[string]struct{}
	dups  int
	first time.Time
	last  time.Time // when the last new id arrived
}

func subscribe(brokerURL string, want int) (*township, error) {
	t := &township{want: want, all: make(chan struct{}), seen: make(map[string]struct{}, want)}
	t.client = mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID("outboxbench-township").
		SetCleanSession(true).SetAutoReconnect(false))
	if err := waitToken(t.client.Connect(), 10*time.Second); err != nil {
		return nil, fmt.Errorf("subscriber connect: %w", err)
	}
	if err := waitToken(t.client.Subscribe(mqtttopic.Records(""), 1, t.receive), 10*time.Second); err != nil {
		t.client.Disconnect(0)
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return t, nil
}

// receive runs on paho's dispatch goroutine, one message at a time.
func (t *township) receive(_ mqtt.Client, m mqtt.Message) {
	now := time.Now()
	id, ok := envelopeID(m.Payload())
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first.IsZero() {
		t.first = now
	}
	if _, ok := t.seen[id]; ok {
		t.dups++
		return
	}
	t.seen[id] = struct{}{}
	t.last = now
	if len(t.seen) == t.want {
		close(t.all)
	}
}

// envelopeID returns a record's id. json.Marshal writes the id first, so a
// prefix match finds it without decoding the envelope: the subscriber shares
// the CPUs with the sender it measures and must cost as little as it can.
func envelopeID(p []byte) (string, bool) {
	if rest, ok := bytes.CutPrefix(p, []byte(`{"id":"`)); ok {
		if i := bytes.IndexByte(rest, '"'); i > 0 {
			return string(rest[:i]), true
		}
	}
	var env struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(p, &env) != nil || env.ID == "" {
		return "", false
	}
	return env.ID, true
}

// wait waits until every record has arrived or limit passes, and returns the
// time of the last new arrival since start, the distinct count and duplicates.
func (t *township) wait(ctx context.Context, start time.Time, limit time.Duration) (time.Duration, int, int) {
	select {
	case <-t.all:
	case <-time.After(limit):
	case <-ctx.Done():
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last.Sub(start), len(t.seen), t.dups
}

func (t *township) firstAt() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first
}

func (t *township) close() { t.client.Disconnect(250) }

// ---------------------------------------------------------------------------
// CPU and memory

// cpuUse is CPU time (user + system) used during a span of wall time.
type cpuUse struct {
	Sender, Broker, Self time.Duration // Sender: kioskd, or the baseline publisher
	Wall                 time.Duration
}

// Cores is how many CPUs the three were keeping busy on average.
func (c cpuUse) Cores() float64 {
	return ratio((c.Sender + c.Broker + c.Self).Seconds(), c.Wall.Seconds())
}

type cpuClock struct {
	sender, broker int
	at             time.Time
	start          cpuUse
}

// startCPU starts measuring the CPU time of the sender (kioskd or the baseline
// publisher), of mosquitto and of this program (the subscriber).
func startCPU(sender, broker int) *cpuClock {
	c := &cpuClock{sender: sender, broker: broker}
	c.start, c.at = c.now(), time.Now()
	return c
}

func (c *cpuClock) now() cpuUse {
	return cpuUse{Sender: procCPU(c.sender), Broker: procCPU(c.broker), Self: selfCPU()}
}

func (c *cpuClock) read() cpuUse {
	n := c.now()
	return cpuUse{Sender: n.Sender - c.start.Sender, Broker: n.Broker - c.start.Broker, Self: n.Self - c.start.Self,
		Wall: time.Since(c.at)}
}

// procCPU reads utime + stime from /proc/PID/stat, in clock ticks of 10 ms
// (USER_HZ is 100 on every Linux this runs on).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const sampleEvery = 20 * time.Millisecond

type memSample struct {
	At              time.Time
	RSS, Anon, File int64 // bytes; VmRSS = RssAnon + RssFile + RssShmem
}

// readMem reads a process's resident memory from /proc/PID/status.
func readMem(pid int) (memSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memSample{}, err
	}
	s := memSample{At: time.Now()}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.RSS = kb << 10
		case "RssAnon":
			s.Anon = kb << 10
		case "RssFile":
			s.File = kb << 10
		}
	}
	return s, nil
}

type sampler struct {
	quit    chan struct{}
	done    chan struct{}
	samples []memSample
	once    sync.Once
}

// startSampler reads the process's memory every interval, starting at once.
func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := readMem(pid); err == nil {
				s.samples = append(s.samples, m)
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() []memSample {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	return s.samples
}

// writeMemSeries keeps kioskd's memory samples next to its log (-keep keeps
// them), for finding what a peak lines up with.
func writeMemSeries(path string, samples []memSample, up time.Time) error {
	var b strings.Builder
	b.WriteString("ms_since_api\trss_kib\tanon_kib\tfile_kib\n")
	for _, m := range samples {
		fmt.Fprintf(&b, "%d\t%d\t%d\t%d\n", m.At.Sub(up).Milliseconds(), m.RSS>>10, m.Anon>>10, m.File>>10)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func summarizeMem(samples []memSample, up time.Time, k *kioskdResult) {
	if len(samples) == 0 {
		return
	}
	k.MemStart, k.MemEnd = samples[0], samples[len(samples)-1]
	k.MemMax = slices.MaxFunc(samples, func(a, b memSample) int { return cmp.Compare(a.RSS, b.RSS) })
	k.MemMaxAt = k.MemMax.At.Sub(up)
}

// ---------------------------------------------------------------------------
// The report

type report struct {
	Command               string
	Started               time.Time
	LoadBefore, LoadAfter string
	Machine               machine
	Enqueue               *enqueueResult
	EnqueueErr            string
	Drain                 *drainResult
	DrainErr              string
	Boot                  *bootResult
	BootErr               string
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

// goals lists every goal; one whose measurement failed counts as missed.
func (r *report) goals() []goal {
	return append(r.outboxGoals(), r.bootGoals()...)
}

func (r *report) outboxGoals() []goal {
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
	d := r.Drain
	if d == nil || len(d.Rounds) == 0 {
		return append(gs, goal{"Drain, RSS and store size", "measured", "failed", false})
	}
	// The sender-side ratio and the one at the subscriber must both hold: a
	// subscriber that falls behind the baseline flatters kioskd at the
	// subscriber, and the sender-side figure alone ignores what the township sees.
	sr, ar := d.SenderRatio(), d.ArrivalRatio()
	rss := d.worst((*round).rssRise)
	store := d.worst((*round).storeSlack)
	return append(gs,
		goal{"Drain rate, kioskd vs plain paho publisher", fmt.Sprintf("≥ %.1f×", goalDrainRatio),
			fmt.Sprintf("%.2f× sender-side, %.2f× at the subscriber (medians of %d rounds)", sr, ar, len(d.Rounds)),
			min(sr, ar) >= goalDrainRatio},
		goal{"kioskd RSS rise during the drain", "≤ " + mib(goalRSSRise),
			mib(rss.rssRise()) + " (worst round)", rss.rssRise() <= goalRSSRise},
		goal{"Store size after the drain", "≤ live data + " + mib(goalStoreSlack),
			fmt.Sprintf("%s for %s live (worst round)", mib(store.Kioskd.FileAfter), mib(store.Kioskd.LiveAfter)),
			store.storeSlack() <= goalStoreSlack})
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
