package mqttlink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/fengqiao/kiosk/agent/internal/tstest/faultproxy"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
)

var src = record.Source{Kiosk: "k01", Township: "t01", Village: "v01"}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustOutbox(t testing.TB, maxAttempts int) *outbox.Outbox {
	t.Helper()
	o, err := outbox.Open(outbox.Options{Path: filepath.Join(t.TempDir(), "kiosk.db"),
		Key: bytes.Repeat([]byte{1}, outbox.KeySize), MaxAttempts: maxAttempts, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func mustEnqueue(t testing.TB, o *outbox.Outbox, typ string, pad int) record.Envelope {
	t.Helper()
	env, err := record.New(src, typ, typ+"/v1", map[string]string{"pad": strings.Repeat("x", pad)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	env, err = o.Enqueue(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// testOptions are a link's options for tests: short timeouts and backoffs.
func testOptions(broker string) Options {
	return Options{Broker: broker, Source: src, Version: "test", KeepAlive: time.Second,
		ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second, MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 2 * time.Second, ProbeInterval: 200 * time.Millisecond, Log: quiet}
}

// mustRun runs a link on o against broker URL until the test ends.
func mustRun(t testing.TB, o *outbox.Outbox, broker string, tweak func(*Options)) *Link {
	t.Helper()
	opts := testOptions(broker)
	if tweak != nil {
		tweak(&opts)
	}
	l := New(opts, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("link did not stop within 10 s")
		}
	})
	return l
}

// township collects what a subscriber receives, deduplicated by id.
type township struct {
	mu      sync.Mutex
	seen    map[string]bool
	order   []uint64 // seq of first arrivals
	dups    int
	arrived chan struct{}
	last    time.Time
}

func mustWatch(t testing.TB, msgs <-chan mqtt.Message) *township {
	tw := &township{seen: map[string]bool{}, arrived: make(chan struct{}, 1)}
	go func() {
		for m := range msgs {
			var env record.Envelope
			if err := json.Unmarshal(m.Payload(), &env); err != nil {
				t.Errorf("payload is not an envelope: %v", err)
				continue
			}
			tw.mu.Lock()
			if tw.seen[env.ID] {
				tw.dups++
			} else {
				tw.seen[env.ID] = true
				tw.order = append(tw.order, env.Seq)
			}
			tw.last = time.Now()
			tw.mu.Unlock()
			select {
			case tw.arrived <- struct{}{}:
			default:
			}
		}
	}()
	return tw
}

func (tw *township) count() int {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return len(tw.order)
}

// mustReach waits until n distinct records arrived.
func (tw *township) mustReach(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for tw.count() < n {
		select {
		case <-tw.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("township has %d of %d records after %s", tw.count(), n, within)
		}
	}
}

// checkOrder: after dedup, records arrive in seq order, none missing.
func (tw *township) checkOrder(t testing.TB, want []uint64) {
	t.Helper()
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if fmt.Sprint(tw.order) != fmt.Sprint(want) {
		t.Errorf("township got %d records (first arrivals), want %d in seq order", len(tw.order), len(want))
		for i := range min(len(tw.order), len(want)) {
			if tw.order[i] != want[i] {
				t.Errorf("first difference at %d: got seq %d, want %d", i, tw.order[i], want[i])
				break
			}
		}
	}
}

func mustDrain(t testing.TB, o *outbox.Outbox, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for o.Depth() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d records after %s", o.Depth(), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrokerRestartMidDrain: the township broker goes away in the middle of
// a backlog and comes back; every record arrives, in order after dedup.
func TestBrokerRestartMidDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves out three broker restarts mid-drain (about 20 s); make test runs it")
	}
	broker := mosquittotest.New(t)
	broker.Persistent = true
	broker.Start()
	tw := mustWatch(t, broker.SubscribeDurable(t, mqtttopic.Records(""), "township-durable", 100000))
	o := mustOutbox(t, 5)
	var want []uint64
	for range 5000 {
		want = append(want, mustEnqueue(t, o, "booking", 200).Seq)
	}
	mustRun(t, o, broker.URL, nil)
	for restart := range 3 {
		tw.mustReach(t, 1000*(restart+1), 30*time.Second)
		broker.Terminate()
		time.Sleep(300 * time.Millisecond)
		broker.Start()
	}
	tw.mustReach(t, len(want), 60*time.Second)
	mustDrain(t, o, 10*time.Second)
	tw.checkOrder(t, want)
	t.Logf("5000 records across 3 broker restarts: %d duplicates", tw.dups)
	if st := o.Stats(); st.DeadLetters != 0 {
		t.Errorf("broker restarts dead-lettered %d records", st.DeadLetters)
	}
}

// TestPartitionRecovers: the uplink goes down while records keep coming;
// when it returns, delivery resumes within 5 s and nothing is lost.
func TestPartitionRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves out a partition held until the backoff passes 5 s (about 18 s); make test runs it")
	}
	broker := mosquittotest.Start(t)
	tw := mustWatch(t, broker.SubscribeDurable(t, mqtttopic.Records(""), "township-p", 100000))
	proxy := faultproxy.New(t, fmt.Sprintf("127.0.0.1:%d", broker.Port))
	o := mustOutbox(t, 5)
	// A long backoff cap, as in production: recovery must come from noticing
	// the link, not from happening to retry at the right moment.
	backedOff := watchRetries(5 * time.Second)
	link := mustRun(t, o, proxy.URL, func(o *Options) {
		o.MaxBackoff = 60 * time.Second
		o.ProbeInterval = time.Second
		o.Log = slog.New(backedOff)
	})

	var mu sync.Mutex
	var want []uint64
	produce := func(n int) {
		for range n {
			env := mustEnqueue(t, o, "booking", 100)
			mu.Lock()
			want = append(want, env.Seq)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}
	produce(200)
	tw.mustReach(t, 200, 20*time.Second)

	proxy.Partition()
	produce(300) // the kiosk keeps working offline
	// Heal only once keepalive has noticed and the backoff has grown past 5 s,
	// so that recovering within 5 s cannot be the retry timer's luck.
	select {
	case <-backedOff.reached:
	case <-time.After(60 * time.Second):
		t.Fatal("the link never backed off past 5 s during the partition")
	}
	if state, _, _ := link.State(); state == StateConnected {
		t.Fatal("link still says connected during the partition")
	}
	healed := time.Now()
	proxy.Heal()
	tw.mustReach(t, 201, 30*time.Second)
	took := time.Since(healed)
	produce(100)
	mu.Lock()
	total := len(want)
	mu.Unlock()
	tw.mustReach(t, total, 30*time.Second)
	t.Logf("delivery resumed %s after the link returned; %d duplicates", took.Round(time.Millisecond), tw.dups)
	if took > 5*time.Second {
		t.Errorf("recovery took %s, want within 5 s of the link returning", took)
	}
	mu.Lock()
	tw.checkOrder(t, want)
	mu.Unlock()
}

// retryWatch is a log handler that tells when the link has chosen to wait
// at least longer before its next attempt: the event a test of recovery
// from a long backoff waits for, rather than sleeping for a time that is
// usually enough.
type retryWatch struct {
	longer  time.Duration
	once    *sync.Once
	reached chan struct{}
}

func watchRetries(longer time.Duration) retryWatch {
	return retryWatch{longer: longer, once: new(sync.Once), reached: make(chan struct{})}
}

func (w retryWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w retryWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w retryWatch) WithGroup(string) slog.Handler            { return w }
func (w retryWatch) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "retry_in" && a.Value.Kind() == slog.KindDuration && a.Value.Duration() >= w.longer {
			w.once.Do(func() { close(w.reached) })
		}
		return true
	})
	return nil
}

// TestPoisonRecordIsDeadLettered: a record the broker will not take (it
// disconnects on packets over max_packet_size) is set aside after a few
// tries, and the records behind it are delivered.
func TestPoisonRecordIsDeadLettered(t *testing.T) {
	broker := mosquittotest.New(t)
	broker.Extra = "max_packet_size 4096"
	broker.Start()
	tw := mustWatch(t, broker.Subscribe(t, mqtttopic.Records("")))
	o := mustOutbox(t, 3)
	a := mustEnqueue(t, o, "booking", 100)
	poison := mustEnqueue(t, o, "booking", 8000)
	tooBig := mustEnqueue(t, o, "booking", 20000) // over our own MaxPayload: never sent
	b := mustEnqueue(t, o, "booking", 100)
	mustRun(t, o, broker.URL, func(o *Options) { o.MaxPayload = 16 << 10 })
	tw.mustReach(t, 2, 30*time.Second)
	mustDrain(t, o, 10*time.Second)
	tw.checkOrder(t, []uint64{a.Seq, b.Seq})
	dls, err := o.DeadLetters()
	if err != nil || len(dls) != 2 {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
	if dls[0].Seq != poison.Seq || dls[0].Attempts != 3 || !strings.Contains(dls[0].Reason, "broker closed") {
		t.Errorf("poison dead letter = %+v", dls[0])
	}
	if dls[1].Seq != tooBig.Seq || dls[1].Attempts != 1 || !strings.Contains(dls[1].Reason, "too large") {
		t.Errorf("oversize dead letter = %+v", dls[1])
	}
}

// TestThousandDisconnects: connections reset mid-drain a thousand times.
// Nothing acked is lost (every record arrives), order holds after dedup, and
// no goroutines are left behind by the dead connections.
func TestThousandDisconnects(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves out a thousand cut connections (about 6 s); make test runs it")
	}
	broker := mosquittotest.Start(t)
	tw := mustWatch(t, broker.SubscribeDurable(t, mqtttopic.Records(""), "township-c", 100000))
	proxy := faultproxy.New(t, fmt.Sprintf("127.0.0.1:%d", broker.Port))
	o := mustOutbox(t, 1000000) // resets are the network's doing, not the records'
	link := mustRun(t, o, proxy.URL, func(o *Options) { o.MinBackoff = time.Millisecond; o.MaxBackoff = 5 * time.Millisecond })
	// Records keep arriving throughout, so that cuts land mid-window and
	// mid-ack, not on an idle link.
	var mu sync.Mutex
	var want []uint64
	stop := make(chan struct{})
	var producers sync.WaitGroup
	for range 4 {
		producers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				env := mustEnqueue(t, o, "booking", 100)
				mu.Lock()
				want = append(want, env.Seq)
				mu.Unlock()
			}
		})
	}
	waitConnected := func() {
		for {
			if state, _, _ := link.State(); state == StateConnected {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitConnected()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := range 1000 {
		waitConnected()
		// Cut at varying points of the session: before the status is out,
		// mid-window, mid-ack.
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		proxy.CutAll()
	}
	close(stop)
	producers.Wait()
	before -= 4 // the producers counted in before
	mu.Lock()
	slices.Sort(want) // concurrent producers append out of seq order
	mu.Unlock()
	duringCuts := tw.count()
	deadline := time.Now().Add(60 * time.Second)
	for tw.count() < len(want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if tw.count() < len(want) {
		state, _, lastErr := link.State()
		items, _ := o.Peek(0, 10)
		tw.mu.Lock()
		var missing []uint64
		for _, w := range want {
			if !slices.Contains(tw.order, w) {
				missing = append(missing, w)
			}
		}
		tw.mu.Unlock()
		t.Fatalf("township has %d of %d; outbox depth %d (first %v); link %s (%s); missing %v",
			tw.count(), len(want), o.Depth(), seqsOf(items), state, lastErr, missing[:min(20, len(missing))])
	}
	mustDrain(t, o, 10*time.Second)
	tw.checkOrder(t, want)
	t.Logf("%d of %d records were delivered while connections were being cut", duringCuts, len(want))
	// Let the last connection settle, then compare.
	var after int
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		if after = runtime.NumGoroutine(); after <= before+5 {
			break
		}
	}
	t.Logf("1000 resets: goroutines %d before, %d after; %d duplicates", before, after, tw.dups)
	if after > before+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines grew from %d to %d across 1000 disconnects\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

func TestPubackStoreTally(t *testing.T) {
	s := newPubackStore()
	s.Open() // as paho does when it connects
	if s.confirm(7) {
		t.Error("confirmed a message id that got no PUBACK")
	}
	// paho stores each outbound PUBLISH under o.ID and deletes it on its
	// PUBACK; a SUBSCRIBE is stored and deleted (on its SUBACK) the same way.
	publishTo := func(id uint16, topic string) {
		p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		p.MessageID, p.Qos, p.TopicName = id, 1, topic
		s.Put(fmt.Sprintf("o.%d", id), p)
	}
	publish := func(id uint16) { publishTo(id, "fengqiao/v1/t/k/records/booking") }
	publish(7)
	s.Del("o.7")
	s.Del("i.9") // inbound: not a PUBACK of ours
	publish(7)
	s.Del("o.7")
	if !s.confirm(7) || !s.confirm(7) || s.confirm(7) {
		t.Error("each PUBACK confirms exactly one token")
	}
	if s.confirm(9) {
		t.Error("an inbound id confirmed an outbound token")
	}
	sub := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sub.MessageID = 8
	s.Put("o.8", sub)
	s.Del("o.8") // its SUBACK
	if s.confirm(8) {
		t.Error("a SUBACK counted as the PUBACK of a record that reuses its message id")
	}
	// A status or reported-state publish whose wait timed out: its late
	// PUBACK must not stand for a record that reuses the id.
	publishTo(9, "fengqiao/v1/t/k/config/reported")
	s.Del("o.9")
	if s.confirm(9) {
		t.Error("a reported-state PUBACK counted as a record's")
	}
}

func TestOutboundID(t *testing.T) {
	for _, tc := range []struct {
		key string
		id  uint16
		ok  bool
	}{
		{"o.1", 1, true},
		{"o.65535", 65535, true},
		{"o.65536", 0, false},
		{"o.123456", 0, false},
		{"o.", 0, false},
		{"o.1x", 0, false},
		{"i.7", 0, false},
		{"", 0, false},
	} {
		if id, ok := outboundID(tc.key); id != tc.id || ok != tc.ok {
			t.Errorf("outboundID(%q) = %d, %v; want %d, %v", tc.key, id, ok, tc.id, tc.ok)
		}
	}
}

func seqsOf(items []outbox.Item) []uint64 {
	var out []uint64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}
