// This file: sections 2 and 3, drain and store size: a backlog delivered by the real kioskd binary, against a plain publisher.

package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/child"
	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/schema"
)

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
	c, err := child.Start(cmd, func() { log.Close() })
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("baseline publisher: %w", err)
	}
	p := &publisher{proc: &proc{c}, in: in, out: bufio.NewReader(outPipe)}
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
	k.StartToAPI = up.Sub(d.started())
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
