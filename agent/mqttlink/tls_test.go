package mqttlink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
)

// The township of packaging/mosquitto/township.acl's example IT user.
const (
	tsID   = "dev-township"
	tsUser = "township_dev-township"
)

// silence is how long a test waits to be sure that a message the ACL
// denies does not arrive. Every such wait follows a message on the same
// path that did arrive, so a slow broker cannot pass it by accident.
const silence = time.Second

// township is a broker run by the reference township.conf and township.acl
// on a fresh CA, and the TLS identity of the township's IT user.
type townshipBroker struct {
	*mosquittotest.Broker
	ca *testpki.CA
	it *tls.Config
}

// startTownshipBroker starts the reference broker; revoked are listed in
// its CRL.
func startTownshipBroker(t *testing.T, ca *testpki.CA, revoked ...testpki.Leaf) *townshipBroker {
	t.Helper()
	server := ca.Server(t)
	it := testpki.ClientTLS(ca, ca.Client(t, tsUser))
	b := mosquittotest.StartTownship(t, mosquittotest.TLS{CAFile: ca.CertFile, CertFile: server.CertFile,
		KeyFile: server.KeyFile, CRLFile: ca.CRL(t, revoked...), Client: it})
	return &townshipBroker{Broker: b, ca: ca, it: it}
}

// kiosk is the TLS identity of kiosk id: a certificate of the township CA.
func (tb *townshipBroker) kiosk(t *testing.T, id string) *tls.Config {
	return testpki.ClientTLS(tb.ca, tb.ca.Client(t, id))
}

// mustConnect connects a client as cfg's certificate.
func (tb *townshipBroker) mustConnect(t *testing.T, cfg *tls.Config, clientID string) mqtt.Client {
	t.Helper()
	c, err := tb.Connect(t, cfg, clientID)
	if err != nil {
		t.Fatalf("connect as %s: %v", clientID, err)
	}
	return c
}

// mustSubscribe subscribes c to filter and returns what it receives.
func mustSubscribe(t *testing.T, c mqtt.Client, filter string) <-chan mqtt.Message {
	t.Helper()
	msgs := make(chan mqtt.Message, 100)
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { msgs <- m })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return msgs
}

func mustPublish(t *testing.T, c mqtt.Client, topic string, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// mustGet waits for the message with payload on msgs, failing on any other.
func mustGet(t *testing.T, msgs <-chan mqtt.Message, topic, payload string) {
	t.Helper()
	select {
	case m := <-msgs:
		if m.Topic() != topic || string(m.Payload()) != payload {
			t.Fatalf("got %s %q, want %s %q", m.Topic(), m.Payload(), topic, payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %q did not arrive", topic, payload)
	}
}

// mustGetNothing fails if anything arrives on msgs within d.
func mustGetNothing(t *testing.T, msgs <-chan mqtt.Message, d time.Duration, what string) {
	t.Helper()
	select {
	case m := <-msgs:
		t.Errorf("%s: received %s %q", what, m.Topic(), m.Payload())
	case <-time.After(d):
	}
}

// TestTLSRecordsReachTownship: a kiosk with its certificate connects over
// mutual TLS and its records and status reach the township's IT user,
// itself connected over mutual TLS.
func TestTLSRecordsReachTownship(t *testing.T) {
	tb := startTownshipBroker(t, testpki.NewCA(t, "Test Township CA"))
	// One connection: the broker gives each certificate one client id.
	it := tb.mustConnect(t, tb.it, tsUser)
	tw := mustWatch(t, mustSubscribe(t, it, mqtttopic.Records(tsID)))
	statuses := mustSubscribe(t, it, mqtttopic.Statuses(tsID))

	kiosk := record.Source{Kiosk: "kiosk-a", Township: tsID, Village: "v01"}
	o := mustOutbox(t, 5)
	var want []uint64
	for range 20 {
		env, err := record.New(kiosk, "booking", "booking/v1", map[string]string{"name": "陈桂英"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		env, err = o.Enqueue(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, env.Seq)
	}
	l := mustRun(t, o, tb.URL, func(opts *Options) {
		opts.Source = kiosk
		opts.TLS = tb.kiosk(t, "kiosk-a")
	})
	tw.mustReach(t, len(want), 20*time.Second)
	mustDrain(t, o, 10*time.Second)
	tw.checkOrder(t, want)
	select {
	case m := <-statuses:
		var st Status
		if err := json.Unmarshal(m.Payload(), &st); err != nil || st.State != "online" || m.Topic() != mqtttopic.Status(tsID, "kiosk-a") {
			t.Errorf("status %s %s", m.Topic(), m.Payload())
		}
	case <-time.After(10 * time.Second):
		t.Error("no status")
	}
	if state, _, _ := l.State(); state != StateConnected {
		t.Errorf("link state = %s", state)
	}
	if !strings.HasPrefix(tb.URL, "ssl://") {
		t.Errorf("broker URL %s is not TLS", tb.URL)
	}
}

// TestTLSRefusesUnknownClients: without a certificate of the township CA,
// or with one it revoked or that expired, nothing connects. A kiosk's link
// refused this way keeps its records.
func TestTLSRefusesUnknownClients(t *testing.T) {
	ca := testpki.NewCA(t, "Test Township CA")
	revoked := ca.Client(t, "kiosk-r")
	tb := startTownshipBroker(t, ca, revoked)
	roots := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	other := testpki.NewCA(t, "Another Township CA")
	expired := ca.Issue(t, testpki.Template{CN: "kiosk-e", NotBefore: time.Now().AddDate(0, -2, 0),
		NotAfter: time.Now().AddDate(0, -1, 0), Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})

	for name, cfg := range map[string]*tls.Config{
		"no certificate":              roots,
		"another CA's certificate":    {RootCAs: ca.Pool(), Certificates: []tls.Certificate{other.Client(t, "kiosk-a").Pair}},
		"revoked certificate":         testpki.ClientTLS(ca, revoked),
		"expired certificate":         testpki.ClientTLS(ca, expired),
		"server certificate as a key": testpki.ClientTLS(ca, ca.Server(t)),
	} {
		if c, err := tb.Connect(t, cfg, "kiosk-a"); err == nil {
			c.Disconnect(0)
			t.Errorf("%s: connected", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// The path itself works: the same broker takes a good certificate.
	tb.mustConnect(t, tb.kiosk(t, "kiosk-a"), "kiosk-a")

	o := mustOutbox(t, 5)
	mustEnqueue(t, o, "booking", 10)
	refused := watchRetries(0) // any failed attempt
	l := mustRun(t, o, tb.URL, func(opts *Options) { opts.TLS = roots; opts.Log = slog.New(refused) })
	select {
	case <-refused.reached:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection attempt failed within 10 s")
	}
	if state, _, lastErr := l.State(); state == StateConnected || lastErr == "" {
		t.Errorf("link without a certificate: %s, last error %q", state, lastErr)
	}
	if o.Depth() != 1 {
		t.Errorf("outbox depth = %d after refused connections, want 1", o.Depth())
	}
}

// TestTLSVerifiesBroker: the link checks the broker's certificate and the
// name it was dialed by, even when told not to.
func TestTLSVerifiesBroker(t *testing.T) {
	ca := testpki.NewCA(t, "Test Township CA")
	server := ca.Issue(t, testpki.Template{CN: "township.example", Hosts: []string{"township.example"},
		Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	it := testpki.ClientTLS(ca, ca.Client(t, tsUser))
	b := mosquittotest.StartTownship(t, mosquittotest.TLS{CAFile: ca.CertFile, CertFile: server.CertFile,
		KeyFile: server.KeyFile, CRLFile: ca.CRL(t), Client: it})
	kiosk := testpki.ClientTLS(ca, ca.Client(t, "k01"))

	dial := func(cfg *tls.Config) error {
		l := New(Options{Broker: b.URL, Source: src, TLS: cfg, ConnectTimeout: 2 * time.Second, Log: quiet}, nil)
		c := mqtt.NewClient(l.clientOptions(make(chan error, 1)))
		tok := c.Connect()
		tok.WaitTimeout(5 * time.Second)
		if tok.Error() == nil {
			c.Disconnect(0)
		}
		return tok.Error()
	}
	// Dialed as 127.0.0.1, the broker's certificate (township.example) is
	// the wrong one.
	if err := dial(kiosk); err == nil || !strings.Contains(err.Error(), "cannot validate certificate for 127.0.0.1") {
		t.Errorf("wrong name: %v", err)
	}
	skip := kiosk.Clone()
	skip.InsecureSkipVerify = true
	if err := dial(skip); err == nil {
		t.Error("InsecureSkipVerify turned verification off")
	}
	named := kiosk.Clone()
	named.ServerName = "township.example"
	if err := dial(named); err != nil {
		t.Errorf("with ServerName township.example: %v", err)
	}
	untrusted := named.Clone()
	untrusted.RootCAs = testpki.NewCA(t, "Another CA").Pool()
	if err := dial(untrusted); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("unknown CA: %v", err)
	}
	// No configuration at all: the system roots, which do not know the
	// township CA.
	if err := dial(nil); err == nil || !strings.Contains(err.Error(), "failed to verify certificate") {
		t.Errorf("system roots: %v", err)
	}
}

// TestTLSACLByDelivery checks township.acl by what arrives, not by SUBACKs:
// mosquitto grants a denied subscription and delivers nothing on it, and
// acknowledges a denied publish and drops it (2.0 then closes the
// connection). Each denial is shown next to the same path allowed, and
// each wait for nothing follows a message that did arrive after it.
//
// The broker gives each certificate one client id, so every identity has
// one connection at a time.
func TestTLSACLByDelivery(t *testing.T) {
	tb := startTownshipBroker(t, testpki.NewCA(t, "Test Township CA"))
	it := tb.mustConnect(t, tb.it, tsUser)
	itRecords := mustSubscribe(t, it, mqtttopic.Records(""))
	itStatus := mustSubscribe(t, it, mqtttopic.Statuses(tsID))
	itConfig := mustSubscribe(t, it, mqtttopic.Root+"/"+tsID+"/+/config/#")
	kioskA, kioskB := tb.kiosk(t, "kiosk-a"), tb.kiosk(t, "kiosk-b")

	t.Run("a kiosk publishes only under its own id", func(t *testing.T) {
		for _, topic := range []string{mqtttopic.Record(tsID, "kiosk-b", "booking"), mqtttopic.Status(tsID, "kiosk-b"),
			mqtttopic.ConfigReported(tsID, "kiosk-b")} {
			tb.publishDenied(t, kioskA, "kiosk-a", topic, "forged by a")
		}
		a := tb.mustConnect(t, kioskA, "kiosk-a")
		mustPublish(t, a, mqtttopic.Record(tsID, "kiosk-a", "booking"), false, "from a")
		mustPublish(t, a, mqtttopic.Status(tsID, "kiosk-a"), true, "a online")
		mustPublish(t, a, mqtttopic.ConfigReported(tsID, "kiosk-a"), true, "a applied 1")
		mustGet(t, itRecords, mqtttopic.Record(tsID, "kiosk-a", "booking"), "from a")
		mustGet(t, itStatus, mqtttopic.Status(tsID, "kiosk-a"), "a online")
		mustGet(t, itConfig, mqtttopic.ConfigReported(tsID, "kiosk-a"), "a applied 1")
		a.Disconnect(100)
		mustGetNothing(t, itRecords, silence, "a forged kiosk b's record")
		mustGetNothing(t, itStatus, 0, "a forged kiosk b's status")
		mustGetNothing(t, itConfig, 0, "a forged kiosk b's report")
	})

	t.Run("a kiosk reads only its own config", func(t *testing.T) {
		// A retained bundle waits for kiosk b before a subscribes.
		mustPublish(t, it, mqtttopic.ConfigSet(tsID, "kiosk-b"), true, "bundle 1 for b")
		mustGet(t, itConfig, mqtttopic.ConfigSet(tsID, "kiosk-b"), "bundle 1 for b")
		a := tb.mustConnect(t, kioskA, "kiosk-a")
		others := mustSubscribe(t, a, mqtttopic.ConfigSet(tsID, "kiosk-b"))
		own := mustSubscribe(t, a, mqtttopic.ConfigSet(tsID, "kiosk-a"))
		mustPublish(t, it, mqtttopic.ConfigSet(tsID, "kiosk-b"), true, "bundle 2 for b")
		mustPublish(t, it, mqtttopic.ConfigSet(tsID, "kiosk-a"), true, "bundle 1 for a")
		mustGet(t, own, mqtttopic.ConfigSet(tsID, "kiosk-a"), "bundle 1 for a")
		mustGet(t, itConfig, mqtttopic.ConfigSet(tsID, "kiosk-b"), "bundle 2 for b")
		mustGet(t, itConfig, mqtttopic.ConfigSet(tsID, "kiosk-a"), "bundle 1 for a")
		// Neither the retained bundle for b nor the new one reached a.
		mustGetNothing(t, others, silence, "a read kiosk b's config/set")
		a.Disconnect(100)
	})

	t.Run("a kiosk reads only its own answers and only township IT writes them", func(t *testing.T) {
		itAnswers := mustSubscribe(t, it, mqtttopic.Root+"/"+tsID+"/+/requests/#")
		tb.publishDenied(t, kioskB, "kiosk-b", mqtttopic.RequestStatus(tsID, "kiosk-a", 1), "answer forged by b")
		a := tb.mustConnect(t, kioskA, "kiosk-a")
		others := mustSubscribe(t, a, mqtttopic.RequestStatuses(tsID, "kiosk-b"))
		own := mustSubscribe(t, a, mqtttopic.RequestStatuses(tsID, "kiosk-a"))
		mustPublish(t, it, mqtttopic.RequestStatus(tsID, "kiosk-b", 7), true, "answer to b's 7")
		mustPublish(t, it, mqtttopic.RequestStatus(tsID, "kiosk-a", 1), true, "answer to a's 1")
		mustGet(t, own, mqtttopic.RequestStatus(tsID, "kiosk-a", 1), "answer to a's 1")
		mustPublish(t, a, mqtttopic.RequestsReported(tsID, "kiosk-a"), true, "a has 1")
		// In order: the forged answer, had it been taken, would come first.
		mustGet(t, itAnswers, mqtttopic.RequestStatus(tsID, "kiosk-b", 7), "answer to b's 7")
		mustGet(t, itAnswers, mqtttopic.RequestStatus(tsID, "kiosk-a", 1), "answer to a's 1")
		mustGet(t, itAnswers, mqtttopic.RequestsReported(tsID, "kiosk-a"), "a has 1")
		mustGetNothing(t, others, silence, "a read kiosk b's answers")
		a.Disconnect(100)
	})

	t.Run("only township IT writes config", func(t *testing.T) {
		for _, topic := range []string{mqtttopic.ConfigSet(tsID, "kiosk-b"), mqtttopic.TownshipConfig(tsID), mqtttopic.TownshipKey(tsID)} {
			tb.publishDenied(t, kioskB, "kiosk-b", topic, "forged by b")
		}
		mustPublish(t, it, mqtttopic.TownshipKey(tsID), true, "township key")
		mustGet(t, itConfig, mqtttopic.TownshipKey(tsID), "township key")
		b := tb.mustConnect(t, kioskB, "kiosk-b")
		// What b finds retained is IT's, not its own.
		own := mustSubscribe(t, b, mqtttopic.ConfigSet(tsID, "kiosk-b"))
		mustGet(t, own, mqtttopic.ConfigSet(tsID, "kiosk-b"), "bundle 2 for b")
		township := mustSubscribe(t, b, mqtttopic.Root+"/"+tsID+"/"+mqtttopic.TownshipLevel+"/config/#")
		mustGet(t, township, mqtttopic.TownshipKey(tsID), "township key")
		mustGetNothing(t, township, silence, "b wrote the township's config")
		mustGetNothing(t, itConfig, 0, "b wrote a config topic")
		b.Disconnect(100)
	})

	t.Run("a wildcard subscription gets only what the kiosk may read", func(t *testing.T) {
		c := tb.mustConnect(t, tb.kiosk(t, "kiosk-c"), "kiosk-c")
		all := mustSubscribe(t, c, "fengqiao/#")
		// Retained: only the township's key is c's to read.
		mustGet(t, all, mqtttopic.TownshipKey(tsID), "township key")
		b := tb.mustConnect(t, kioskB, "kiosk-b")
		mustPublish(t, b, mqtttopic.Record(tsID, "kiosk-b", "booking"), false, "from b")
		mustGet(t, itRecords, mqtttopic.Record(tsID, "kiosk-b", "booking"), "from b")
		mustPublish(t, it, mqtttopic.ConfigSet(tsID, "kiosk-c"), false, "bundle for c")
		mustGet(t, all, mqtttopic.ConfigSet(tsID, "kiosk-c"), "bundle for c")
		mustGetNothing(t, all, silence, "kiosk c read another's topic")
	})

	t.Run("another township's IT reads nothing here", func(t *testing.T) {
		stranger := tb.mustConnect(t, tb.kiosk(t, "township_other"), "township_other")
		all := mustSubscribe(t, stranger, mqtttopic.Root+"/"+tsID+"/#")
		// The township-wide key is for every kiosk, and so for all to read.
		mustGet(t, all, mqtttopic.TownshipKey(tsID), "township key")
		a := tb.mustConnect(t, kioskA, "kiosk-a")
		mustPublish(t, a, mqtttopic.Record(tsID, "kiosk-a", "booking"), false, "a again")
		mustGet(t, itRecords, mqtttopic.Record(tsID, "kiosk-a", "booking"), "a again")
		mustGetNothing(t, all, silence, "another township's IT read this one")
	})
}

// publishDenied publishes as a new connection of cfg something the ACL
// denies. Mosquitto 2.0 acknowledges it, having routed nothing, and then
// closes the connection: a kiosk whose certificate does not match its
// topics loses what it sends (hence agent/config's CN check).
func (tb *townshipBroker) publishDenied(t *testing.T, cfg *tls.Config, clientID, topic, payload string) {
	t.Helper()
	lost := make(chan error, 1)
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(tb.URL).SetClientID(clientID).SetTLSConfig(cfg).
		SetAutoReconnect(false).SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err }))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect as %s: %v", clientID, tok.Error())
	}
	defer c.Disconnect(0)
	tok := c.Publish(topic, 1, true, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("denied publish to %s was not acknowledged: %v", topic, tok.Error())
	}
	select {
	case err := <-lost:
		t.Logf("%s publishing to %s: acknowledged, then the connection was lost: %v", clientID, topic, err)
	case <-time.After(5 * time.Second):
		t.Logf("%s publishing to %s: acknowledged, connection kept", clientID, topic)
	}
}

// TestTLSClientIDIsTheCertificate: a kiosk connecting under another
// kiosk's client id does not take that kiosk's session over
// (use_username_as_clientid).
func TestTLSClientIDIsTheCertificate(t *testing.T) {
	tb := startTownshipBroker(t, testpki.NewCA(t, "Test Township CA"))
	records := tb.Subscribe(t, mqtttopic.Records(tsID))
	lost := make(chan error, 1)
	b := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(tb.URL).SetClientID("kiosk-b").SetTLSConfig(tb.kiosk(t, "kiosk-b")).
		SetAutoReconnect(false).SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err }))
	if tok := b.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer b.Disconnect(100)
	tb.mustConnect(t, tb.kiosk(t, "kiosk-a"), "kiosk-b")
	select {
	case err := <-lost:
		t.Fatalf("kiosk b lost its connection when a used its client id: %v", err)
	case <-time.After(silence):
	}
	mustPublish(t, b, mqtttopic.Record(tsID, "kiosk-b", "booking"), false, "b still here")
	mustGet(t, records, mqtttopic.Record(tsID, "kiosk-b", "booking"), "b still here")
}
