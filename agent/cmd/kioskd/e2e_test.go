package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/internal/tstest/storedamage"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// The test binary doubles as kioskd: started with this variable set it runs
// main's code instead of the tests, so subprocess tests exercise the real
// command (flags, signals, exit codes) with the race detector still on.
const asKioskd = "FENGQIAO_TEST_AS_KIOSKD"

func TestMain(m *testing.M) {
	if os.Getenv(asKioskd) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const devConfig = "../../../firmware-configs/sites/dev.yaml"

type kioskdProc struct {
	cmd    *exec.Cmd
	socket string
	out    *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mustStartKioskd runs kioskd as a subprocess on dataDir, waits for its API,
// and kills it when the test ends (logging its output if the test failed).
func mustStartKioskd(t *testing.T, dataDir, broker string, extraArgs ...string) *kioskdProc {
	t.Helper()
	p := mustSpawnKioskd(t, dataDir, broker, extraArgs...)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("kioskd output:\n%s", p.out)
		}
	})
	return p
}

func mustBook(t *testing.T, c *localclient.Client) apitype.Booking {
	t.Helper()
	ctx := context.Background()
	slots, err := c.Slots(ctx, "legal-advisor")
	if err != nil || len(slots.Slots) == 0 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	b, err := c.Book(ctx, apitype.BookingRequest{
		Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英", Phone: "13800001111",
		Slot: slots.Slots[0].Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openedBooking is a booking/v2 body as the township reads it, its sealed
// fields opened.
type openedBooking struct {
	Name, Topic, Phone string
	PhoneMasked        string `json:"phone_masked"`
	IDNumber           string `json:"id_number"`
	Slot               time.Time
	Withheld           []string
}

// mustOpenBooking opens a booking record with the dev township's records
// key, which the dev site seals to.
func mustOpenBooking(t *testing.T, env record.Envelope) openedBooking {
	t.Helper()
	data, err := os.ReadFile("../../../packaging/dev/dev-township-records.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := sealed.DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	opened, errs := sealed.NewOpener(key).OpenBody(env.ID, env.Body)
	if len(errs) > 0 {
		t.Fatalf("record %s: %v", env.ID, errs)
	}
	var body openedBooking
	if err := json.Unmarshal(opened, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func mustReceive(t *testing.T, msgs <-chan mqtt.Message, within time.Duration) mqtt.Message {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(within):
		t.Fatalf("nothing received within %s", within)
		return nil
	}
}

// TestBookingReachesTownship is the foundation path: a booking made through
// the local API is committed, published with QoS 1 and received by a township
// subscriber on a real Mosquitto with the same id and body.
func TestBookingReachesTownship(t *testing.T) {
	broker := mosquittotest.Start(t)
	records := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	statuses := broker.Subscribe(t, mqtttopic.Status("dev-township", "dev-kiosk-01"))

	p := mustStartKioskd(t, t.TempDir(), broker.URL)
	c := localclient.New(p.socket)

	st := mustReceive(t, statuses, 10*time.Second)
	if !strings.Contains(string(st.Payload()), `"state":"online"`) {
		t.Errorf("status = %s", st.Payload())
	}

	b := mustBook(t, c)
	if b.Number == "" || b.Phone != "138****1111" {
		t.Errorf("booking answer = %+v", b)
	}

	m := mustReceive(t, records, 10*time.Second)
	if want := mqtttopic.Record("dev-township", "dev-kiosk-01", schema.BookingType); m.Topic() != want {
		t.Errorf("topic = %s, want %s", m.Topic(), want)
	}
	if m.Qos() != 1 {
		t.Errorf("qos = %d, want 1", m.Qos())
	}
	var env record.Envelope
	if err := json.Unmarshal(m.Payload(), &env); err != nil {
		t.Fatal(err)
	}
	if env.ID != b.ID || env.Seq != b.Seq || env.Type != schema.BookingType || env.Schema != schema.BookingV2Schema ||
		env.Kiosk != "dev-kiosk-01" || env.Township != "dev-township" || env.Village != "dev-village" {
		t.Errorf("envelope = %+v, booking = %+v", env, b)
	}
	// The phone reaches the township sealed, for the advisor to call back.
	if strings.Contains(string(env.Body), "13800001111") {
		t.Errorf("the phone travels in clear: %s", env.Body)
	}
	body := mustOpenBooking(t, env)
	if body.Name != "王秀英" || body.Phone != "13800001111" || body.PhoneMasked != "138****1111" || body.Topic != "婚姻家庭" || !body.Slot.Equal(b.Slot) {
		t.Errorf("body = %+v", body)
	}
	if strings.Contains(p.out.String(), "13800001111") || strings.Contains(p.out.String(), "王秀英") {
		t.Error("kioskd logged personal data")
	}

	status, err := c.Status(context.Background())
	if err != nil || status.Broker.State != "connected" || status.Kiosk != "dev-kiosk-01" {
		t.Errorf("status = %+v, %v", status, err)
	}

	// SIGTERM: a clean exit well within 5 s, and the retained status says offline.
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("kioskd did not stop within 5 s of SIGTERM")
	}
	if p.err != nil {
		t.Errorf("kioskd exit: %v", p.err)
	}
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
	for {
		m := mustReceive(t, statuses, 5*time.Second)
		if strings.Contains(string(m.Payload()), `"offline"`) {
			break
		}
	}
}

// TestOfflineBookingIsDeliveredLater: a kiosk that boots without the township
// still takes bookings, and delivers them when the broker appears.
func TestOfflineBookingIsDeliveredLater(t *testing.T) {
	broker := mosquittotest.New(t) // port reserved, nothing listening yet
	dataDir := t.TempDir()
	p := mustStartKioskd(t, dataDir, broker.URL)
	c := localclient.New(p.socket)

	var want []string
	for range 3 {
		want = append(want, mustBook(t, c).ID)
	}
	st, err := c.Status(context.Background())
	if err != nil || st.Queue.Depth != 3 || st.Broker.State == "connected" {
		t.Fatalf("offline status = %+v, %v", st, err)
	}

	broker.Start()
	records := broker.Subscribe(t, mqtttopic.Records(""))
	var got []string
	for len(got) < len(want) {
		var env record.Envelope
		json.Unmarshal(mustReceive(t, records, 20*time.Second).Payload(), &env)
		got = append(got, env.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want in order %v", got, want)
	}
}

// mustStartOnRottenFile starts kioskd on a data dir whose file name is
// garbage, and returns the first record the township gets, which must be
// an alert.
func mustStartOnRottenFile(t *testing.T, name string) (*kioskdProc, string, record.Envelope) {
	t.Helper()
	broker := mosquittotest.Start(t)
	records := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, name), bytes.Repeat([]byte("bit rot "), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	p := mustStartKioskd(t, dataDir, broker.URL)
	m := mustReceive(t, records, 10*time.Second)
	var env record.Envelope
	if err := json.Unmarshal(m.Payload(), &env); err != nil || env.Type != "alert" {
		t.Fatalf("first record = %s (%v), want the alert", m.Payload(), err)
	}
	return p, dataDir, env
}

// TestCorruptStoreIsReplacedAndReported: kioskd starts on a damaged store,
// keeps the old file, takes bookings on a new one, and tells the township.
func TestCorruptStoreIsReplacedAndReported(t *testing.T) {
	p, dataDir, env := mustStartOnRottenFile(t, "kiosk.db")
	if !strings.Contains(string(env.Body), "store_corrupt") || !strings.Contains(string(env.Body), "kiosk.db.corrupt-") {
		t.Errorf("alert body = %s", env.Body)
	}
	aside, _ := filepath.Glob(filepath.Join(dataDir, "kiosk.db.corrupt-*"))
	if len(aside) != 1 {
		t.Errorf("old store kept as %v", aside)
	}
	b := mustBook(t, localclient.New(p.socket))
	if b.Seq < 2 {
		t.Errorf("booking seq = %d after the alert", b.Seq)
	}
}

// TestDamageFoundByTheBackgroundCheck: after a power cut, kioskd serves at
// once and checks its store in the background. Damage the check finds is
// handled as at start (old store kept, alert raised, bookings taken), and
// every record still readable from the old store reaches the township.
func TestDamageFoundByTheBackgroundCheck(t *testing.T) {
	broker := mosquittotest.Start(t)
	broker.Stop() // the township is unreachable while the queue fills
	dataDir := t.TempDir()
	p := mustSpawnKioskd(t, dataDir, broker.URL)
	c := localclient.New(p.socket)
	queued := map[string]bool{}
	for range 40 {
		queued[mustBook(t, c).ID] = true
	}
	p.cmd.Process.Kill() // a power cut: the store is not closed
	<-p.done
	if err := storedamage.LeakFreePages(filepath.Join(dataDir, "kiosk.db")); err != nil {
		t.Fatal(err)
	}

	broker.Start()
	records := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	p = mustStartKioskd(t, dataDir, broker.URL)
	after := mustBook(t, localclient.New(p.socket)) // served during the check
	var alert record.Envelope
	delivered := map[string]bool{}
	for deadline := time.Now().Add(30 * time.Second); alert.Type == "" || len(delivered) < len(queued)+1; {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: alert %q, %d of %d bookings delivered", alert.Body, len(delivered), len(queued)+1)
		}
		var env record.Envelope
		if err := json.Unmarshal(mustReceive(t, records, 30*time.Second).Payload(), &env); err != nil {
			t.Fatal(err)
		}
		switch env.Type {
		case "alert":
			alert = env
		case "booking":
			delivered[env.ID] = true
		}
	}
	for id := range queued {
		if !delivered[id] {
			t.Errorf("booking %s made before the power cut was not delivered", id)
		}
	}
	if !delivered[after.ID] {
		t.Errorf("booking made during the check was not delivered")
	}
	// The booking made during the check is salvaged too if it went into
	// the old store before the check ended.
	body := string(alert.Body)
	if !strings.Contains(body, "store_corrupt") || !strings.Contains(body, "by the background check") ||
		!(strings.Contains(body, " 40 records were salvaged") || strings.Contains(body, " 41 records were salvaged")) {
		t.Errorf("alert body = %s", body)
	}
	if aside, _ := filepath.Glob(filepath.Join(dataDir, "kiosk.db.corrupt-*")); len(aside) != 1 {
		t.Errorf("old store kept as %v", aside)
	}
}

// TestDamagedCaseBookIsReplacedAndReported: a damaged cases.db does not
// keep the kiosk from serving villagers: kioskd moves it aside, starts an
// empty book, tells the township, and takes bookings.
func TestDamagedCaseBookIsReplacedAndReported(t *testing.T) {
	p, dataDir, env := mustStartOnRottenFile(t, "cases.db")
	if !strings.Contains(string(env.Body), "casebook_corrupt") || !strings.Contains(string(env.Body), "cases.db.corrupt-") {
		t.Errorf("alert body = %s", env.Body)
	}
	if aside, _ := filepath.Glob(filepath.Join(dataDir, "cases.db.corrupt-*")); len(aside) != 1 {
		t.Errorf("old book kept as %v", aside)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "cases.key")); err != nil {
		t.Errorf("the case book has no key of its own: %v", err)
	}
	mustBook(t, localclient.New(p.socket))
}

// TestCardTapBooking: a card on a reader at a serial port (a pty served by
// the simulator) reaches the screen as a masked summary; a booking made with
// its token carries the full ID number to the township, and kioskd never
// logs the number.
func TestCardTapBooking(t *testing.T) {
	broker := mosquittotest.Start(t)
	records := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	sim := idcardsim.New(idcardsim.Options{})
	p, err := idcardsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.Serve(ctx, p.Master)

	k := mustStartKioskd(t, t.TempDir(), broker.URL, "--idcard-device", p.Path)
	c := localclient.New(k.socket)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := c.Status(ctx)
		if err == nil && st.IDCard.State == apitype.ReaderReady && st.IDCard.Device == p.Path {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reader never ready: %+v %v", st.IDCard, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cursor, err := c.CardEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	card := idcardsim.Fixtures()[0]
	sim.PlaceCard(card)
	evs, err := c.CardEvents(ctx, cursor.Next, 10*time.Second)
	if err != nil || len(evs.Events) != 1 || evs.Events[0].Card == nil {
		t.Fatalf("card events = %+v, %v", evs, err)
	}
	sum := evs.Events[0].Card
	raw, _ := json.Marshal(evs)
	if strings.Contains(string(raw), card.IDNumber) || !strings.Contains(sum.IDMasked, "*") {
		t.Fatalf("the screen was sent the full ID number: %s", raw)
	}

	slots, _ := c.Slots(ctx, "legal-advisor")
	b, err := c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "土地权属", Phone: "13905991234",
		Slot: slots.Slots[0].Format(time.RFC3339), Card: sum.Token})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != sum.Name || b.IDMasked != sum.IDMasked {
		t.Errorf("booking = %+v", b)
	}
	var env record.Envelope
	json.Unmarshal(mustReceive(t, records, 10*time.Second).Payload(), &env)
	// The card proves the name; a consultation does not need the ID
	// number, so it stays on the kiosk, neither in clear nor sealed.
	body := mustOpenBooking(t, env)
	if env.ID != b.ID || body.IDNumber != "" || body.Name != sum.Name || body.Phone != "13905991234" ||
		strings.Contains(string(env.Body), card.IDNumber) {
		t.Errorf("record = %+v body %+v", env, body)
	}
	// The token was used up.
	_, err = c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "土地权属", Phone: "13905991234",
		Slot: slots.Slots[0].Format(time.RFC3339), Card: sum.Token})
	var apiErr *localclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Field != "card" {
		t.Errorf("second use of a token = %v", err)
	}
	if strings.Contains(k.out.String(), card.IDNumber) || strings.Contains(k.out.String(), card.IDNumber[6:14]) {
		t.Error("kioskd logged the ID number")
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--version"}, 0, "kioskd "},
		{[]string{"-h"}, 0, "Usage: kioskd"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--config", "/nonexistent.yaml"}, exitConfig, "no such file"},
		{[]string{"--config", devConfig, "--broker", "http://x:1"}, exitConfig, `--broker: mqtt.broker: scheme "http" is not supported`},
		{[]string{"--log-level", "loud"}, 2, "--log-level"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		code := run(tt.args, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.contains) {
			t.Errorf("kioskd %v = %d %q; want %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
}
