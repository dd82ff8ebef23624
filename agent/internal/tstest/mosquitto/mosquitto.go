// Package mosquitto is the one launcher of real Mosquitto processes, shared
// by the tests (through mosquittotest, which adds testing.TB, TLS and the
// township's reference config) and by the benchmark command, which has no
// testing.TB. It owns what both must get right the same way: finding the
// binary, a free loopback port, the settings a broker under test needs
// (unbounded queues, running as root), dying with its parent, and waiting
// until the broker answers before returning.
package mosquitto

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/child"
)

// ErrNotInstalled is returned when no mosquitto binary is found. Tests fail
// on it rather than skip: a skipped integration test hides exactly the
// failures it exists to catch.
var ErrNotInstalled = errors.New("mosquitto is not installed; run `make deps` (apt-get install mosquitto)")

// Binary returns the path of the mosquitto program.
func Binary() (string, error) {
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", ErrNotInstalled
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mosquitto: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// PlainListener is one anonymous listener on loopback port.
func PlainListener(port int) string {
	return fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port)
}

// TestSettings are the settings every broker under test needs, whatever its
// listeners: nothing persisted unless persistDir is set, no limit on what
// it queues for a slow subscriber, and the user that started it. With
// mosquitto's default of 1000 queued messages per client, a township
// subscriber that falls behind a kiosk draining its backlog would lose
// records, and the kiosk would be blamed.
func TestSettings(persistDir string) string {
	text := "persistence false\n"
	if persistDir != "" {
		text = fmt.Sprintf("persistence true\npersistence_location %s/\n", persistDir)
	}
	return text + "max_queued_messages 0\n" + RunAs()
}

// RunAs is the line that keeps mosquitto as the user that started it. As
// root, mosquitto drops to user "mosquitto" unless told otherwise, and then
// cannot read a config in root's temp dir.
func RunAs() string {
	if os.Geteuid() == 0 {
		return "user root\n"
	}
	return ""
}

// Options is one broker process to start.
type Options struct {
	// Dir holds mosquitto.conf; it is created if missing.
	Dir string
	// Config is the text of mosquitto.conf.
	Config string
	// Output receives what the broker prints (nil: discarded).
	Output io.Writer
	// Probe answers nil once the broker accepts clients (e.g. a TCP dial
	// of its listener, or a TLS handshake).
	Probe func() error
	// Wait is how long Start waits for Probe (0: 10 s).
	Wait time.Duration
}

// Process is a running broker.
type Process struct {
	*child.Process
}

// Start writes the config, starts mosquitto and waits until Probe passes.
// The broker gets SIGKILL should this process die without stopping it, so
// a crashed test run leaves no broker behind on its port.
func Start(o Options) (*Process, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	conf := filepath.Join(o.Dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(o.Config), 0o600); err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	cmd := exec.Command(bin, "-c", conf)
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	c, err := child.Start(cmd, nil)
	if err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	p := &Process{c}
	wait := o.Wait
	if wait == 0 {
		wait = 10 * time.Second
	}
	for deadline := time.Now().Add(wait); ; {
		err := o.Probe()
		if err == nil {
			return p, nil
		}
		if p.Exited() {
			return nil, fmt.Errorf("mosquitto: exited before it listened (%s): %v", p.State(), err)
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("mosquitto: not listening after %v: %w", wait, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DialProbe is a Probe for a plain listener on port.
func DialProbe(port int) func() error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	}
}

// Terminate stops the broker with SIGTERM, so that a persistent broker
// saves its sessions, and waits for it; after 10 s it is killed.
func (p *Process) Terminate() { p.Process.Terminate(10 * time.Second) }
