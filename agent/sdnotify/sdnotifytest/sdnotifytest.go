// Package sdnotifytest is a fake systemd for tests of sd_notify: a datagram
// socket put in NOTIFY_SOCKET that records every message a process sends.
package sdnotifytest

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Socket is the fake notify socket.
type Socket struct {
	Path string
	msgs chan string
}

// MustListen opens a notify socket and points NOTIFY_SOCKET at it for the
// rest of the test (so the test cannot run in parallel with others).
func MustListen(t testing.TB) *Socket {
	t.Helper()
	// A unix socket path is limited to 108 bytes; t.TempDir() can be longer.
	dir, err := os.MkdirTemp("", "notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &Socket{Path: path, msgs: make(chan string, 1024)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(s.msgs)
				return
			}
			s.msgs <- string(buf[:n])
		}
	}()
	t.Setenv("NOTIFY_SOCKET", path)
	return s
}

// EnableWatchdog sets WATCHDOG_USEC (and WATCHDOG_PID to this process) as
// systemd does for a unit with WatchdogSec=d.
func EnableWatchdog(t testing.TB, d time.Duration) {
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(d.Microseconds(), 10))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
}

// Next returns the next message, or fails the test after within.
func (s *Socket) Next(t testing.TB, within time.Duration) string {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatal("notify socket closed")
		}
		return m
	case <-time.After(within):
		t.Fatalf("no sd_notify message within %s", within)
		return ""
	}
}

// WaitFor returns the first message holding the assignment line (e.g.
// "READY=1"), skipping others, or fails the test after within.
func (s *Socket) WaitFor(t testing.TB, line string, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				t.Fatal("notify socket closed")
			}
			if Has(m, line) {
				return m
			}
		case <-deadline:
			t.Fatalf("no sd_notify %q within %s", line, within)
			return ""
		}
	}
}

// Drain returns the messages received so far without waiting.
func (s *Socket) Drain() []string {
	var out []string
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				return out
			}
			out = append(out, m)
		default:
			return out
		}
	}
}

// Has reports whether message m holds the line (e.g. "WATCHDOG=1").
func Has(m, line string) bool {
	for _, l := range strings.Split(m, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// Value returns the value of key in message m (e.g. "STATUS").
func Value(m, key string) (string, bool) {
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v, true
		}
	}
	return "", false
}
