package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
)

// The crash test is sized by the environment so that `make soak` can run the
// same code for far longer than `make test` can afford.
const (
	crashCyclesEnv = "FENGQIAO_CRASH_CYCLES"
	// crashSetAsideEnv is how many dead letters the store holds from the
	// start: records the link never takes, so the full check after each
	// kill has a store to read that a drain does not empty, and villagers
	// book while it runs (make soak sets it).
	crashSetAsideEnv = "FENGQIAO_CRASH_SET_ASIDE"
	crashSeedEnv     = "FENGQIAO_CRASH_SEED"
	crashProducers   = 4
	// At most this many unexpected API errors are reported one by one; a
	// broken build would otherwise print thousands of identical lines.
	maxReportedErrors = 5
)

// Where in kioskd's life a kill lands. Each exercises a different window:
// bookings committing while the link publishes, the link draining a backlog
// with nobody booking, and the link reconnecting and replaying what the
// previous crash left behind.
const (
	killWhileBooking  = "booking"
	killWhileDraining = "draining"
	killWhileStarting = "starting"
)

// TestKillNineLosesNothing kills kioskd with SIGKILL at random moments while
// several villagers book, over and over on the same data directory, and then
// checks the promise the outbox makes: a booking that got its 201 reaches the
// township, in order, and the store survives every crash intact.
func TestKillNineLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves out kill -9 cycles of the real binary under load (about 35 s); make test runs it")
	}
	cycles := mustEnvInt(t, crashCyclesEnv, 50)
	seed := mustCrashSeed(t)
	t.Logf("%d kill -9 cycles, seed %d (repeat with %s=%d)", cycles, seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	broker := mosquittotest.Start(t)
	tw := mustListenAsTownship(t, broker)
	dataDir := t.TempDir()
	storePath := filepath.Join(dataDir, kioskd.StoreFile)
	setAside := mustEnvInt(t, crashSetAsideEnv, 0)
	if setAside > 0 {
		mustSetAside(t, dataDir, setAside)
	}

	// Only the last two processes' output is kept: it is what explains a
	// failure, and a thousand cycles' worth of debug logs is not.
	var current, previous *kioskdProc
	t.Cleanup(func() {
		if current != nil {
			current.cmd.Process.Kill()
			<-current.done
		}
		if t.Failed() {
			for _, p := range []*kioskdProc{previous, current} {
				if p != nil {
					t.Logf("kioskd output (last 32 KiB):\n%s", tail(p.out.String(), 32<<10))
				}
			}
		}
	})
	own := func(p *kioskdProc) { previous, current = current, p }

	acked := map[string]uint64{} // id → seq of every booking answered 201
	kills := map[string]int{}
	killedDelivering, maxDepth := 0, 0
	checks, checksPassed, bookedDuringCheck := 0, 0, 0
	start := time.Now()
	done := 0
	for cycle := range cycles {
		res := mustCrashOnce(t, dataDir, broker.URL, rng, seed, cycle, own)
		for id, seq := range res.acked {
			acked[id] = seq
		}
		kills[res.mode]++
		if res.connected && res.depth > 0 {
			killedDelivering++
		}
		maxDepth = max(maxDepth, res.depth)
		if res.checked {
			checks++
			bookedDuringCheck += res.bookedDuringCheck
		}
		if res.checkPassed {
			checksPassed++
		}
		// Checked after every crash, not only the last, so that a corruption
		// points at the cycle that caused it.
		mustCheckStore(t, storePath)
		done++
		if t.Failed() {
			break
		}
	}
	t.Logf("%d cycles in %s", done, time.Since(start).Round(time.Millisecond))

	// The last restart: nothing is killed, so everything must drain.
	p := mustSpawnKioskd(t, dataDir, broker.URL)
	own(p)
	c := localclient.New(p.socket)
	drainStart := time.Now()
	mustDrainOutbox(t, c, 60*time.Second)
	missing := tw.waitFor(acked, 30*time.Second)
	t.Logf("final drain took %s", time.Since(drainStart).Round(time.Millisecond))

	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd did not stop within 10 s of SIGTERM")
	}
	if p.err != nil {
		t.Errorf("kioskd exit after SIGTERM: %v", p.err)
	}
	mustCheckStore(t, storePath)

	if len(missing) > 0 {
		show := missing[:min(len(missing), 10)]
		t.Errorf("%d of %d acknowledged bookings never reached the township, e.g. %v", len(missing), len(acked), show)
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	for id, seq := range acked {
		if got, ok := tw.first[id]; ok && got != seq {
			t.Errorf("record %s arrived with seq %d, but its 201 said %d", id, got, seq)
		}
	}
	for kiosk, stream := range tw.streams {
		for i := 1; i < len(stream); i++ {
			if stream[i].seq <= stream[i-1].seq {
				t.Errorf("kiosk %s: record %s (seq %d) arrived after %s (seq %d)",
					kiosk, stream[i].id, stream[i].seq, stream[i-1].id, stream[i-1].seq)
				break
			}
		}
	}
	if tw.undecodable > 0 || tw.seqChanged > 0 {
		t.Errorf("township got %d undecodable records and %d redeliveries with a changed seq", tw.undecodable, tw.seqChanged)
	}
	unanswered := 0
	for id := range tw.first {
		if _, ok := acked[id]; !ok {
			unanswered++
		}
	}
	t.Logf("full store checks after a kill (store holding %d dead letters): %d started, %d passed before the next kill; %d bookings answered 201 while one ran",
		setAside, checks, checksPassed, bookedDuringCheck)
	if setAside > 0 && bookedDuringCheck == 0 {
		t.Errorf("no booking was made while a full check ran")
	}
	t.Logf("cycles %d (kills while %s %d, %s %d, %s %d; %d with the link connected and records pending, at most %d); "+
		"bookings acknowledged %d; records received %d incl. %d duplicates; delivered without a 201 (request cut short) %d",
		done, killWhileBooking, kills[killWhileBooking], killWhileDraining, kills[killWhileDraining],
		killWhileStarting, kills[killWhileStarting], killedDelivering, maxDepth,
		len(acked), tw.received, tw.duplicates, unanswered)
}

// mustSetAside fills the kiosk's store with n dead letters.
func mustSetAside(t *testing.T, dataDir string, n int) {
	t.Helper()
	key, err := outbox.LoadOrCreateKey(filepath.Join(dataDir, kioskd.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dataDir, kioskd.StoreFile), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				env, err := record.New(record.Source{Kiosk: "dev-kiosk-01", Township: "dev-township"}, "booking", "booking/v1",
					map[string]string{"note": strings.Repeat("置", 200)}, time.Now())
				if err == nil {
					env, err = ob.Enqueue(context.Background(), env)
				}
				if err == nil {
					_, err = ob.Fail(env.Seq, "set aside by the soak", true)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
}

// crashResult is what one cycle contributes to the verdict.
type crashResult struct {
	acked     map[string]uint64
	mode      string
	depth     int  // undelivered records just before the kill
	connected bool // whether the link was up just before the kill
	// The full check owed after the previous kill: whether it ran, passed
	// before this kill, and how many bookings were answered while it ran.
	checked, checkPassed bool
	bookedDuringCheck    int
}

// mustCrashOnce starts kioskd on dataDir, books from several goroutines and
// kills it with SIGKILL at a moment chosen by rng.
func mustCrashOnce(t *testing.T, dataDir, broker string, rng *rand.Rand, seed uint64, cycle int, own func(*kioskdProc)) crashResult {
	t.Helper()
	res := crashResult{acked: map[string]uint64{}}
	switch r := rng.IntN(100); {
	case r < 60:
		res.mode = killWhileBooking
	case r < 85:
		res.mode = killWhileDraining
	default:
		res.mode = killWhileStarting
	}
	// Drawn before starting anything so that the schedule for a seed does not
	// depend on how the cycle goes.
	bookFor := time.Duration(rng.IntN(301)) * time.Millisecond
	settle := time.Duration(rng.IntN(31)) * time.Millisecond
	early := time.Duration(rng.IntN(51)) * time.Millisecond

	p := mustSpawnKioskd(t, dataDir, broker)
	own(p)
	c := localclient.New(p.socket)

	var (
		mu         sync.Mutex
		quiet      atomic.Bool // set before kioskd is stopped: errors from then on are the crash
		unexpected atomic.Int32
		wg         sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	// Also on t.Fatal: producers must not outlive the cycle, let alone the test.
	defer func() { cancel(); wg.Wait() }()
	report := func(err error) {
		var apiErr *localclient.APIError
		refused := errors.As(err, &apiErr) && apiErr.StatusCode < 500
		// A 4xx is kioskd judging the request, which no crash can cause.
		if quiet.Load() && !refused {
			return
		}
		if n := unexpected.Add(1); n <= maxReportedErrors {
			t.Errorf("cycle %d (%s): unexpected API error: %v", cycle, res.mode, err)
		}
	}
	for i := range crashProducers {
		prng := rand.New(rand.NewPCG(seed, uint64(cycle)<<8|uint64(i+1)))
		wg.Go(func() {
			for ctx.Err() == nil {
				slots, err := c.Slots(ctx, "legal-advisor")
				if err == nil && len(slots.Slots) == 0 {
					err = errors.New("no slots offered")
				}
				if err != nil {
					report(err)
					return
				}
				b, err := c.Book(ctx, randomBooking(prng, slots.Slots))
				if err != nil {
					report(err)
					return
				}
				mu.Lock()
				res.acked[b.ID] = b.Seq
				mu.Unlock()
				// Villagers pause between bookings. Without it the producers
				// outrun the link, and over a soak's thousand cycles the backlog
				// would grow past what the final drain can deliver in time.
				time.Sleep(time.Duration(prng.IntN(16)) * time.Millisecond)
			}
		})
	}

	observe := func() {
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		defer scancel()
		st, err := c.Status(sctx)
		if err != nil {
			report(fmt.Errorf("status before the kill: %w", err))
			return
		}
		res.depth, res.connected = st.Queue.Depth, st.Broker.State == "connected"
	}
	switch res.mode {
	case killWhileBooking:
		time.Sleep(bookFor)
		observe()
		quiet.Store(true)
		mustKill9(t, p)
	case killWhileDraining:
		time.Sleep(bookFor)
		quiet.Store(true)
		cancel()
		wg.Wait()
		time.Sleep(settle)
		observe()
		mustKill9(t, p)
	case killWhileStarting:
		time.Sleep(early)
		observe()
		quiet.Store(true)
		mustKill9(t, p)
	}
	// Every start after a kill owes the store a full check, which runs while
	// villagers book; it must never find damage in a store that a kill
	// cannot damage.
	out := p.out.String()
	res.checked = strings.Contains(out, "checking the whole store in the background")
	res.checkPassed = strings.Contains(out, `msg="store checked"`)
	if cycle > 0 && !res.checked {
		t.Errorf("cycle %d: no full check after a kill", cycle)
	}
	if strings.Contains(out, "found the store damaged") || strings.Contains(out, "store is damaged where it was just read") {
		t.Errorf("cycle %d: a store that only a kill -9 touched was judged damaged", cycle)
	}
	if res.checked {
		_, during, _ := strings.Cut(out, "checking the whole store in the background")
		during, _, _ = strings.Cut(during, `msg="store checked"`)
		res.bookedDuringCheck = strings.Count(during, `msg="booking committed"`)
	}
	// The next kioskd listens on the same socket; no request of this cycle
	// may reach it, which the deferred wait guarantees.
	return res
}

var (
	crashNames     = []string{"王秀英", "李建国", "张桂兰", "陈志强", "刘淑珍", "黄永福", "吴丽华", "林德胜", "欧阳明"}
	crashTopics    = []string{"征地拆迁", "土地权属", "婚姻家庭", "上学就医", "其他"}
	mobilePrefixes = []string{"138", "139", "150", "158", "177", "186", "199"}
)

func randomBooking(rng *rand.Rand, slots []time.Time) apitype.BookingRequest {
	// The earliest slot can pass while the request is in flight, which would
	// be a legitimate 4xx that this test would take for a bug.
	slot := slots[0]
	if len(slots) > 1 {
		slot = slots[1+rng.IntN(len(slots)-1)]
	}
	return apitype.BookingRequest{
		Service: "legal-advisor",
		Topic:   crashTopics[rng.IntN(len(crashTopics))],
		Name:    crashNames[rng.IntN(len(crashNames))],
		Phone:   fmt.Sprintf("%s%08d", mobilePrefixes[rng.IntN(len(mobilePrefixes))], rng.IntN(100_000_000)),
		Slot:    slot.Format(time.RFC3339),
	}
}

// mustSpawnKioskd runs kioskd as a subprocess and waits for its API, with no
// t.Cleanup (mustStartKioskd adds one): a soak run starts kioskd a thousand
// times, and per-call cleanups would keep every process and its output
// around until the test ends. The caller kills what it spawns.
func mustSpawnKioskd(t *testing.T, dataDir, broker string, extraArgs ...string) *kioskdProc {
	t.Helper()
	p := mustExecKioskd(t, dataDir, broker, extraArgs...)
	cmd, socket := p.cmd, p.socket
	c := localclient.New(socket)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := c.Status(context.Background()); err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("kioskd exited early: %v\n%s", p.err, tail(p.out.String(), 32<<10))
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-p.done
			t.Fatalf("kioskd API did not come up\n%s", tail(p.out.String(), 32<<10))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustExecKioskd starts kioskd as a subprocess on dataDir and returns at once.
func mustExecKioskd(t *testing.T, dataDir, broker string, extraArgs ...string) *kioskdProc {
	t.Helper()
	socket := filepath.Join(dataDir, "kioskd.sock")
	args := append([]string{"--config", devConfig, "--data", dataDir, "--socket", socket, "--broker", broker, "--log-level", "debug"}, extraArgs...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asKioskd+"=1")
	p := &kioskdProc{cmd: cmd, socket: socket, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p
}

// mustKill9 kills p as a power cut would and makes sure it was the kill that
// ended it: a kioskd that died by itself would make the test pass for the
// wrong reason.
func mustKill9(t *testing.T, p *kioskdProc) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("kioskd exited before it was killed: %v", p.err)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd still running 10 s after SIGKILL")
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) {
		t.Fatalf("kioskd ended with %v, not by SIGKILL", p.err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("kioskd ended with %v, not by SIGKILL", p.err)
	}
}

// mustDrainOutbox waits until kioskd reports nothing left to deliver.
func mustDrainOutbox(t *testing.T, c *localclient.Client, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last apitype.Status
	var lastErr error
	for time.Now().Before(deadline) {
		last, lastErr = c.Status(context.Background())
		if lastErr == nil && last.Queue.Depth == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("outbox not drained within %s: depth %d, broker %s (%s), err %v",
		within, last.Queue.Depth, last.Broker.State, last.Broker.LastError, lastErr)
}

// mustCheckStore opens the store as an operator's tool would after a crash
// and runs bbolt's consistency check over every page.
func mustCheckStore(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("store check: %v", err)
	}
}

// township is the receiving end. It drains the subscription for the whole
// test, because the channel's buffer is far smaller than a soak's traffic and
// a full one would stall the subscriber's MQTT client.
type township struct {
	mu          sync.Mutex
	first       map[string]uint64    // id → seq of its first arrival
	streams     map[string][]arrival // kiosk → first arrivals, in arrival order
	received    int                  // including duplicates
	duplicates  int
	seqChanged  int // redeliveries whose seq differs from the first delivery
	undecodable int

	stop, done chan struct{}
}

type arrival struct {
	id  string
	seq uint64
}

func mustListenAsTownship(t *testing.T, broker *mosquittotest.Broker) *township {
	t.Helper()
	msgs := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	tw := &township{
		first:   map[string]uint64{},
		streams: map[string][]arrival{},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go tw.drain(msgs)
	// Registered after Subscribe's cleanup, so it runs first: the drain stops
	// before the subscriber disconnects.
	t.Cleanup(func() {
		close(tw.stop)
		<-tw.done
	})
	return tw
}

func (tw *township) drain(msgs <-chan mqtt.Message) {
	defer close(tw.done)
	for {
		select {
		case m := <-msgs:
			var env record.Envelope
			err := json.Unmarshal(m.Payload(), &env)
			tw.mu.Lock()
			tw.received++
			switch seq, seen := tw.first[env.ID]; {
			case err != nil || env.ID == "":
				tw.undecodable++
			case seen:
				tw.duplicates++
				if seq != env.Seq {
					tw.seqChanged++
				}
			default:
				tw.first[env.ID] = env.Seq
				tw.streams[env.Kiosk] = append(tw.streams[env.Kiosk], arrival{env.ID, env.Seq})
			}
			tw.mu.Unlock()
		case <-tw.stop:
			return
		}
	}
}

// waitFor waits until every id in want has arrived and returns those that
// have not when time runs out.
func (tw *township) waitFor(want map[string]uint64, within time.Duration) []string {
	deadline := time.Now().Add(within)
	for {
		var missing []string
		tw.mu.Lock()
		for id := range want {
			if _, ok := tw.first[id]; !ok {
				missing = append(missing, id)
			}
		}
		tw.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

func mustCrashSeed(t *testing.T) uint64 {
	t.Helper()
	s := os.Getenv(crashSeedEnv)
	if s == "" {
		return rand.Uint64()
	}
	seed, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: want an unsigned integer", crashSeedEnv, s)
	}
	return seed
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
