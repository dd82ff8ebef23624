// Package mosquittotest runs real Mosquitto brokers for tests: each on a free
// loopback port, in the test's temp dir, killed at the end. A test that needs
// a broker fails — it does not skip — when mosquitto is not installed, because
// a skipped integration test hides exactly the failures it exists to catch.
package mosquittotest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Broker is one mosquitto process (or, between Stop and Start, its port).
type Broker struct {
	t    testing.TB
	Port int
	URL  string // tcp://127.0.0.1:PORT
	dir  string

	// Persistent makes the broker keep sessions and queued messages across a
	// Terminate and Start, as a township broker does: a test of the kiosk's
	// delivery must not lose records on the township side of a restart.
	Persistent bool
	// Extra is appended to the generated mosquitto.conf (e.g. max_packet_size).
	Extra string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *bytes.Buffer
}

// New reserves a port for a broker without starting it, for tests of a kiosk
// that boots while the township is unreachable.
func New(t testing.TB) *Broker {
	t.Helper()
	port := freePort(t)
	b := &Broker{t: t, Port: port, URL: fmt.Sprintf("tcp://127.0.0.1:%d", port), dir: t.TempDir()}
	t.Cleanup(b.Stop)
	return b
}

// Start returns a running broker.
func Start(t testing.TB) *Broker {
	t.Helper()
	b := New(t)
	b.Start()
	return b
}

func binary(t testing.TB) string {
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("mosquitto is not installed; run `make deps` (apt-get install mosquitto)")
	return ""
}

// Start starts (or restarts) the broker on its port and waits until it accepts
// connections.
func (b *Broker) Start() {
	b.t.Helper()
	conf := filepath.Join(b.dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type error\nlog_type warning\n", b.Port)
	if b.Persistent {
		text += fmt.Sprintf("persistence true\npersistence_location %s/\n", b.dir)
	} else {
		text += "persistence false\n"
	}
	// A township subscriber falls behind a kiosk draining a backlog; with
	// mosquitto's default of 1000 queued messages per client the broker
	// would drop the rest, and the test would blame the kiosk.
	text += "max_queued_messages 0\n"
	text += b.Extra + "\n"
	if os.Geteuid() == 0 {
		// As root, mosquitto drops to user "mosquitto" unless told otherwise,
		// and then cannot read a config in root's temp dir.
		text += "user root\n"
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		b.t.Fatal(err)
	}
	cmd := exec.Command(binary(b.t), "-c", conf)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	b.mu.Lock()
	b.cmd, b.out = cmd, out
	b.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(b.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto did not listen on %d: %v\n%s", b.Port, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Terminate stops the broker with SIGTERM, so that a Persistent broker saves
// its sessions, and waits for it to exit.
func (b *Broker) Terminate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Wait()
	b.cmd = nil
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

// Stop kills the broker with SIGKILL, as a power cut at the township would.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Kill()
	b.cmd.Wait()
	b.cmd = nil
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Subscribe connects a township-side client and returns the messages it
// receives on filter, QoS 1.
func (b *Broker) Subscribe(t testing.TB, filter string) <-chan mqtt.Message {
	return b.subscribe(t, filter, fmt.Sprintf("test-sub-%d", time.Now().UnixNano()), true, 1024)
}

// SubscribeDurable is Subscribe with a persistent session under clientID: with
// a Persistent broker, nothing queued for it is lost across a restart. The
// channel is buffered for buffer messages; the test must keep up.
func (b *Broker) SubscribeDurable(t testing.TB, filter, clientID string, buffer int) <-chan mqtt.Message {
	return b.subscribe(t, filter, clientID, false, buffer)
}

func (b *Broker) subscribe(t testing.TB, filter, clientID string, clean bool, buffer int) <-chan mqtt.Message {
	t.Helper()
	msgs := make(chan mqtt.Message, buffer)
	subscribed := make(chan struct{})
	var once sync.Once
	opts := mqtt.NewClientOptions().AddBroker(b.URL).
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
