// Package mosquittotest runs real Mosquitto brokers for tests: each on a free
// loopback port, in the test's temp dir, killed at the end. A test that needs
// a broker fails — it does not skip — when mosquitto is not installed, because
// a skipped integration test hides exactly the failures it exists to catch.
//
// A broker can also run as a township's does (docs/township-broker.md): a
// TLS listener that requires client certificates and takes their CN as the
// username, an ACL, and the reference drop-in of packaging/mosquitto run as
// written (StartTownship).
package mosquittotest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquitto"
)

// Broker is one mosquitto process (or, between Stop and Start, its port).
type Broker struct {
	t    testing.TB
	Port int
	URL  string // tcp://127.0.0.1:PORT, or ssl://127.0.0.1:PORT once started with TLS
	dir  string

	// Persistent makes the broker keep sessions and queued messages across a
	// Terminate and Start, as a township broker does: a test of the kiosk's
	// delivery must not lose records on the township side of a restart.
	Persistent bool
	// Extra is appended to the generated mosquitto.conf (e.g. max_packet_size).
	Extra string
	// TLS, set before Start, makes the broker's only listener TLS: it
	// requires a client certificate signed by TLS.CAFile and takes the
	// certificate's CN as the username; anonymous clients are refused.
	TLS *TLS
	// ACLFile, set before Start, is the broker's acl_file.
	ACLFile string
	// DropIn, set before Start, is the text of a mosquitto.conf drop-in for
	// /etc/mosquitto/conf.d (packaging/mosquitto/township.conf), run in
	// place of the generated listener and security settings and otherwise
	// as written: only its listener moves to Port on loopback and the files
	// it names (acl_file, cafile, certfile, keyfile, crlfile) become ACLFile
	// and TLS's. The main file around it is what Debian's is (persistence
	// in the broker's directory, so Persistent does not apply), with logging
	// to stderr. A drop-in that names a file the test did not give fails.
	DropIn string

	mu   sync.Mutex
	proc *mosquitto.Process
	out  *logBuffer
}

// New reserves a port for a broker without starting it, for tests of a kiosk
// that boots while the township is unreachable.
func New(t testing.TB) *Broker {
	t.Helper()
	port, err := mosquitto.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	b := &Broker{t: t, Port: port, URL: fmt.Sprintf("tcp://127.0.0.1:%d", port), dir: t.TempDir()}
	t.Cleanup(b.Stop)
	t.Cleanup(func() {
		if t.Failed() && b.Log() != "" {
			t.Logf("mosquitto on %d printed:\n%s", b.Port, b.Log())
		}
	})
	return b
}

// Start returns a running broker.
func Start(t testing.TB) *Broker {
	t.Helper()
	b := New(t)
	b.Start()
	return b
}

// TLS is a broker's TLS listener: its CA for client certificates, its own
// certificate and key, and the township IT identity Subscribe uses.
type TLS struct {
	CAFile, CertFile, KeyFile string
	// CRLFile, if set, lists revoked client certificates (crlfile).
	CRLFile string
	// Client is the TLS configuration of Subscribe's client: roots that
	// trust the broker's certificate and a township IT user's certificate.
	Client *tls.Config
}

// StartTownship returns a running broker configured by the reference
// township.conf and township.acl of packaging/mosquitto, on the
// certificates of tls.
func StartTownship(t testing.TB, tls TLS) *Broker {
	t.Helper()
	b := New(t)
	b.TLS = &tls
	b.DropIn, b.ACLFile = ReferenceFiles(t)
	b.Start()
	return b
}

// ReferenceFiles returns the text of packaging/mosquitto/township.conf and
// the path of packaging/mosquitto/township.acl.
func ReferenceFiles(t testing.TB) (dropIn, aclFile string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("mosquittotest: no go.mod above the working directory")
		}
		dir = parent
	}
	pkg := filepath.Join(dir, "packaging", "mosquitto")
	conf, err := os.ReadFile(filepath.Join(pkg, "township.conf"))
	if err != nil {
		t.Fatal(err)
	}
	return string(conf), filepath.Join(pkg, "township.acl")
}

// generated is the test's own configuration: one listener on loopback,
// plain and anonymous unless TLS is set.
func (b *Broker) generated() string {
	if b.TLS == nil {
		text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", b.Port)
		if b.ACLFile != "" {
			text += "acl_file " + b.ACLFile + "\n"
		}
		return text
	}
	text := "per_listener_settings false\nallow_anonymous false\n"
	if b.ACLFile != "" {
		text += "acl_file " + b.ACLFile + "\n"
	}
	text += fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n", b.Port, b.TLS.CAFile, b.TLS.CertFile, b.TLS.KeyFile)
	if b.TLS.CRLFile != "" {
		text += "crlfile " + b.TLS.CRLFile + "\n"
	}
	return text + "require_certificate true\nuse_identity_as_username true\n"
}

// dropIn rewrites DropIn for this test: where it listens and the files it
// names. Anything that belongs in the main file is refused, as Debian's
// mosquitto would refuse it twice.
func (b *Broker) dropIn() string {
	b.t.Helper()
	files := map[string]string{"acl_file": b.ACLFile}
	if b.TLS != nil {
		files["cafile"], files["certfile"], files["keyfile"], files["crlfile"] = b.TLS.CAFile, b.TLS.CertFile, b.TLS.KeyFile, b.TLS.CRLFile
	}
	var out []string
	listeners := 0
	for i, line := range strings.Split(b.DropIn, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			out = append(out, line)
			continue
		}
		switch name := fields[0]; name {
		case "listener":
			listeners++
			line = fmt.Sprintf("listener %d 127.0.0.1", b.Port)
		case "acl_file", "cafile", "certfile", "keyfile", "crlfile":
			if files[name] == "" {
				b.t.Fatalf("mosquittotest: the drop-in's line %d names a %s; the test gave none", i+1, name)
			}
			line = name + " " + files[name]
		case "persistence_location", "pid_file", "log_dest", "user", "include_dir":
			b.t.Fatalf("mosquittotest: the drop-in's line %d sets %s, which Debian's mosquitto.conf already sets", i+1, name)
		}
		out = append(out, line)
	}
	if listeners != 1 {
		b.t.Fatalf("mosquittotest: the drop-in has %d listeners; want one", listeners)
	}
	return strings.Join(out, "\n")
}

// Start starts (or restarts) the broker on its port and waits until it accepts
// connections.
func (b *Broker) Start() {
	b.t.Helper()
	conf := filepath.Join(b.dir, "mosquitto.conf")
	if b.TLS != nil {
		b.URL = fmt.Sprintf("ssl://127.0.0.1:%d", b.Port)
	}
	text := "log_dest stderr\nlog_type error\nlog_type warning\n"
	if b.DropIn != "" {
		// As Debian's /etc/mosquitto/mosquitto.conf, less the pid file.
		text += fmt.Sprintf("persistence true\npersistence_location %s/\n", b.dir)
		text += b.Extra + "\n" + mosquitto.RunAs()
		confd := filepath.Join(b.dir, "conf.d")
		if err := os.MkdirAll(confd, 0o700); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(confd, "township.conf"), []byte(b.dropIn()), 0o600); err != nil {
			b.t.Fatal(err)
		}
		text += "include_dir " + confd + "\n"
		b.run(conf, text)
		return
	}
	persist := ""
	if b.Persistent {
		persist = b.dir
	}
	b.run(conf, text+b.generated()+mosquitto.TestSettings(persist)+b.Extra+"\n")
}

func (b *Broker) run(conf, text string) {
	b.t.Helper()
	out := &logBuffer{}
	p, err := mosquitto.Start(mosquitto.Options{Dir: filepath.Dir(conf), Config: text, Output: out, Probe: b.probe})
	if err != nil {
		b.t.Fatalf("mosquitto on %d: %v\n%s", b.Port, err, out)
	}
	b.mu.Lock()
	b.proc, b.out = p, out
	b.mu.Unlock()
}

// probe checks that the broker accepts connections. A TLS listener must also
// finish a handshake: mosquitto opens its socket before it loads the
// certificates, and exits if it cannot. The probe offers no client
// certificate (TLS 1.3 lets the client finish its handshake before the
// broker checks for one) and checks nothing of the broker's: it asks only
// whether the listener is up; what a client accepts is the tests' business.
func (b *Broker) probe() error {
	addr := "127.0.0.1:" + strconv.Itoa(b.Port)
	if b.TLS == nil {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 200 * time.Millisecond},
		Config: &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}}
	c, err := d.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	return err
}

// Terminate stops the broker with SIGTERM, so that a Persistent broker saves
// its sessions, and waits for it to exit.
func (b *Broker) Terminate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return
	}
	b.proc.Terminate()
	b.proc = nil
}

// Log returns what the running (or last) broker printed.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.out == nil {
		return ""
	}
	return b.out.String()
}

// logBuffer is the broker's output; mosquitto writes it while tests read it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Stop kills the broker with SIGKILL, as a power cut at the township would.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return
	}
	b.proc.Kill()
	b.proc = nil
}

// Subscribe connects a township-side client and returns the messages it
// receives on filter, QoS 1. On a TLS broker the client is TLS.Client; a
// broker with use_username_as_clientid (the reference drop-in) then allows
// one such subscriber at a time, since each certificate is one client id.
func (b *Broker) Subscribe(t testing.TB, filter string) <-chan mqtt.Message {
	return b.subscribe(t, filter, fmt.Sprintf("test-sub-%d", time.Now().UnixNano()), true, 1024, b.clientTLS())
}

// SubscribeDurable is Subscribe with a persistent session under clientID: with
// a Persistent broker, nothing queued for it is lost across a restart. The
// channel is buffered for buffer messages; the test must keep up. (A broker
// with use_username_as_clientid, as the reference drop-in has, replaces
// clientID with the certificate's CN.)
func (b *Broker) SubscribeDurable(t testing.TB, filter, clientID string, buffer int) <-chan mqtt.Message {
	return b.subscribe(t, filter, clientID, false, buffer, b.clientTLS())
}

func (b *Broker) clientTLS() *tls.Config {
	if b.TLS == nil {
		return nil
	}
	return b.TLS.Client
}

// Connect connects a client with cfg's identity (nil: none) and clientID,
// without retrying, and disconnects it when the test ends. Its error is
// the broker's answer (or the TLS handshake's).
func (b *Broker) Connect(t testing.TB, cfg *tls.Config, clientID string) (mqtt.Client, error) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(clientID).SetTLSConfig(cfg).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).SetCleanSession(true))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("mosquittotest: connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

func (b *Broker) subscribe(t testing.TB, filter, clientID string, clean bool, buffer int, cfg *tls.Config) <-chan mqtt.Message {
	t.Helper()
	msgs := make(chan mqtt.Message, buffer)
	subscribed := make(chan struct{})
	var once sync.Once
	opts := mqtt.NewClientOptions().AddBroker(b.URL).SetTLSConfig(cfg).
		SetClientID(clientID).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(500 * time.Millisecond).SetCleanSession(clean).
		SetOnConnectHandler(func(c mqtt.Client) {
			tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { msgs <- m })
			if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
				once.Do(func() { close(subscribed) })
			}
		})
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatalf("subscription to %s not acknowledged", filter)
	}
	return msgs
}
