package idcard_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// hexFrame is one frame of a replay file: Dir is '>' (host to SAM) or '<'.
type hexFrame struct {
	Dir  byte
	Data []byte
}

// mustReadHex parses a replay file: '#' comments, '>'/'<' start a frame,
// indented lines continue it.
func mustReadHex(t testing.TB, path string) []hexFrame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []hexFrame
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		trimmed := strings.TrimSpace(s)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		switch s[0] {
		case '>', '<':
			frames = append(frames, hexFrame{Dir: s[0]})
			s = s[1:]
		case ' ', '\t':
			if len(frames) == 0 {
				t.Fatalf("%s:%d: continuation before any frame", path, line)
			}
		default:
			t.Fatalf("%s:%d: unexpected %q", path, line, s)
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		frames[len(frames)-1].Data = append(frames[len(frames)-1].Data, b...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// mustHex decodes space-separated hex.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakePort is a scriptable serial port.
//
// Reads come from what reply returns for each write, split into chunks of
// at most chunk bytes (0: whole). When nothing is queued Read blocks
// (eofTick 0, a pty), returns 0, io.EOF after eofTick (tarm's read
// timeout), or at once when eofTick < 0 (a hung-up line).
type fakePort struct {
	reply   func(req []byte) []byte
	chunk   int
	eofTick time.Duration

	data   chan []byte
	closed chan struct{}
	once   sync.Once
	rest   []byte // only touched by the single reading goroutine

	mu       sync.Mutex
	writes   [][]byte
	readErr  error
	writeErr error
}

func newFakePort(reply func(req []byte) []byte) *fakePort {
	return &fakePort{reply: reply, data: make(chan []byte, 4096), closed: make(chan struct{})}
}

// feed makes b readable, split into chunks.
func (p *fakePort) feed(b []byte) {
	for len(b) > 0 {
		n := len(b)
		if p.chunk > 0 {
			n = min(n, p.chunk)
		}
		p.data <- b[:n]
		b = b[n:]
	}
}

func (p *fakePort) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.writes = append(p.writes, append([]byte(nil), b...))
	werr := p.writeErr
	p.mu.Unlock()
	if werr != nil {
		return 0, werr
	}
	if p.reply != nil {
		p.feed(p.reply(b))
	}
	return len(b), nil
}

func (p *fakePort) Read(b []byte) (int, error) {
	p.mu.Lock()
	rerr := p.readErr
	p.mu.Unlock()
	if rerr != nil {
		return 0, rerr
	}
	if len(p.rest) == 0 {
		var tick <-chan time.Time
		switch {
		case p.eofTick < 0:
			select {
			case p.rest = <-p.data:
			case <-p.closed:
				return 0, os.ErrClosed
			default:
				return 0, io.EOF
			}
		case p.eofTick > 0:
			tick = time.After(p.eofTick)
		}
		if len(p.rest) == 0 {
			select {
			case p.rest = <-p.data:
			case <-tick:
				return 0, io.EOF
			case <-p.closed:
				return 0, os.ErrClosed
			}
		}
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

func (p *fakePort) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// waitWritten waits until the reader has written n commands: the event a
// test of a command in flight (cancelled, closed, failing) starts from.
func (p *fakePort) waitWritten(t testing.TB, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d commands written", n), func() bool { return len(p.written()) >= n })
}

// waitTaken waits until everything fed has been read from the port.
func (p *fakePort) waitTaken(t testing.TB) {
	t.Helper()
	waitFor(t, "fed bytes read", func() bool { return len(p.data) == 0 })
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *fakePort) setReadErr(err error) {
	p.mu.Lock()
	p.readErr = err
	p.mu.Unlock()
}

func (p *fakePort) written() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.writes...)
}

// scriptReply replays a script: each write must equal the next '>' frame
// (when the script has one), and gets the '<' frames that follow it.
func scriptReply(t testing.TB, script []hexFrame) func([]byte) []byte {
	var mu sync.Mutex
	pos := 0
	return func(req []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		if pos < len(script) && script[pos].Dir == '>' {
			if want := script[pos].Data; string(want) != string(req) {
				t.Errorf("request %d: wrote % X, script has % X", pos, req, want)
			}
			pos++
		}
		var out []byte
		for pos < len(script) && script[pos].Dir == '<' {
			out = append(out, script[pos].Data...)
			pos++
			if len(script) > 0 && script[0].Dir == '<' {
				break // a script of replies only: one per request
			}
		}
		return out
	}
}

// newTestLogger logs everything, debug included, as text to w.
func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
