package localclient

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// transport carries the client's requests to kioskd over its unix socket,
// one request at a time per connection, written and answered on the
// caller's own goroutine. The protocol work stays net/http's
// (Request.Write, ReadResponse); only the connection handling is here.
//
// Why not net/http's Transport: it gives every connection a reader and a
// writer goroutine and passes each request and answer between them and the
// caller, which suits many hosts and HTTP/2, not one socket on a 2-core board.
// There those handoffs cost about as much CPU as kioskd's booking handler: on
// the intake benchmark (docs/intake.md) the same client and server with a
// handler that stores nothing answered 19,000–25,000 requests/s through
// net/http's Transport and 28,000–35,000 through this one, and bookings with
// 64 clients rose from about 10,000/s to 11,000–12,500/s.
type transport struct {
	socket      string
	timeout     time.Duration // a whole request, its answer's body included
	idleTimeout time.Duration // below kioskd's 2 minutes, so kioskd rarely closes first
	maxIdle     int
	now         func() time.Time

	mu   sync.Mutex
	idle []*conn // the most recently used last
}

// conn is one connection to kioskd.
type conn struct {
	nc        net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

func newTransport(socket string) *transport {
	return &transport{
		socket: socket,
		// The longest request is a long-poll: localapi.MaxEventWait (55 s)
		// and the time to answer it. Every call has its caller's context too.
		timeout: 75 * time.Second,
		// Longer than the screen's slowest poll, so that it reuses its
		// connections instead of dialing for each round.
		idleTimeout: 90 * time.Second,
		// The screen has a long-poll or two and a request in flight; a burst
		// (kioskctl, a benchmark) keeps this many for its next round.
		maxIdle: 16,
		now:     time.Now,
	}
}

// RoundTrip sends req on an idle connection, or a new one, and reads the
// answer's header. The answer's body holds the connection until it is
// closed; read to its end, the connection goes back to the pool.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for {
		// A call already cancelled sends nothing: its caller will tell the
		// villager it failed, so kioskd must not have taken it.
		if err := ctx.Err(); err != nil {
			closeBody(req)
			return nil, err
		}
		c, reused, err := t.conn(ctx)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := t.exchange(c, req)
		if err == nil {
			return resp, nil
		}
		c.nc.Close()
		// Only a reused connection is retried, and only when kioskd cannot
		// have acted on the request: no byte of it left, or kioskd hung up
		// before any byte of an answer to a request that may be repeated.
		// A booking is never sent twice; a timeout is never retried.
		var nw nothingWritten
		var na noAnswer
		if !reused || ctx.Err() != nil || !(errors.As(err, &nw) || errors.As(err, &na) && replayable(req)) {
			return nil, err
		}
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, err
			}
			again := *req
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
			req = &again
		}
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// nothingWritten is a failure to send a request of which no byte left.
type nothingWritten struct{ err error }

func (e nothingWritten) Error() string { return e.err.Error() }
func (e nothingWritten) Unwrap() error { return e.err }

// noAnswer is kioskd closing the connection before any byte of an answer:
// a connection it dropped while idle, just as the request went out.
type noAnswer struct{ err error }

func (e noAnswer) Error() string { return e.err.Error() }
func (e noAnswer) Unwrap() error { return e.err }

func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return req.Body == nil || req.Body == http.NoBody
	}
	return false
}

// exchange writes req on c and reads the answer's header.
func (t *transport) exchange(c *conn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c.nc.SetDeadline(time.Now().Add(t.timeout))
	// A cancelled call unblocks its read or write at once; no goroutine
	// waits for it meanwhile.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	// Cancelled between the check in RoundTrip and here: AfterFunc's
	// deadline may not be set yet, and the write must not race it.
	if ctx.Err() != nil {
		closeBody(req)
		return fail(nil)
	}
	w := &countingWriter{w: c.nc}
	c.bw.Reset(w)
	if err := req.Write(c.bw); err != nil {
		return fail(wrapWrite(w.n, err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(wrapWrite(w.n, err))
	}
	if _, err := c.br.Peek(1); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fail(err)
		}
		return fail(noAnswer{err})
	}
	for {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err)
		}
		// Informational answers (kioskd sends none) come before the real
		// one; net/http's Transport skips them too.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		resp.Body = &body{rc: resp.Body, t: t, c: c, ctx: ctx, stop: stop, keep: !resp.Close}
		return resp, nil
	}
}

func wrapWrite(written int64, err error) error {
	if written == 0 {
		return nothingWritten{err}
	}
	return err
}

// countingWriter counts the bytes that reached the socket.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}

// body is an answer's body. Closing it returns the connection to the pool
// if the answer was read to its end and the call was not cancelled. Read
// and Close may be called from different goroutines, as net/http allows.
type body struct {
	rc   io.ReadCloser
	t    *transport
	c    *conn
	ctx  context.Context
	stop func() bool

	mu     sync.Mutex
	keep   bool
	eof    bool
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errors.New("localclient: read after close")
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.keep = false
		// A call cancelled while its answer arrives fails with the
		// cancellation, not with the deadline that carried it out.
		if cerr := b.ctx.Err(); cerr != nil {
			err = cerr
		}
	}
	return n, err
}

// drainLimit is what Close reads past the caller to reach the end of an
// answer: the newline after a JSON value, an error's text.
const drainLimit = 4 << 10

func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.keep && !b.eof {
		// Only what has already arrived: Close never waits for kioskd. A
		// past read deadline makes a read that would wait fail at once.
		b.c.nc.SetReadDeadline(time.Unix(1, 0))
		n, err := io.CopyN(io.Discard, b.rc, drainLimit)
		b.eof = err == io.EOF && n < drainLimit
	}
	live := b.stop() // false once the call was cancelled: its deadline is spent
	// Bytes past the answer are nothing kioskd was asked for: the
	// connection cannot be trusted with the next call.
	if !live || !b.keep || !b.eof || b.c.br.Buffered() > 0 {
		b.c.nc.Close()
		return nil
	}
	b.rc.Close()
	b.t.putIdle(b.c)
	return nil
}

// conn returns an idle connection still open at kioskd's end, or a new one.
func (t *transport) conn(ctx context.Context) (c *conn, reused bool, err error) {
	for {
		c = t.takeIdle()
		if c == nil {
			break
		}
		if alive(c.nc) {
			return c, true, nil
		}
		c.nc.Close()
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "unix", t.socket)
	if err != nil {
		return nil, false, err
	}
	return &conn{nc: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, false, nil
}

// takeIdle pops the most recently used idle connection, closing those idle
// past idleTimeout.
func (t *transport) takeIdle() *conn {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.idle) > 0 {
		c := t.idle[len(t.idle)-1]
		t.idle = t.idle[:len(t.idle)-1]
		if now.Sub(c.idleSince) < t.idleTimeout {
			return c
		}
		c.nc.Close()
		// The rest are older still.
		for _, old := range t.idle {
			old.nc.Close()
		}
		t.idle = t.idle[:0]
	}
	return nil
}

func (t *transport) putIdle(c *conn) {
	c.nc.SetDeadline(time.Time{})
	c.idleSince = t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.idle) >= t.maxIdle {
		t.idle[0].nc.Close()
		t.idle = append(t.idle[:0], t.idle[1:]...)
	}
	t.idle = append(t.idle, c)
}

// CloseIdleConnections closes the pooled connections
// (http.Client.CloseIdleConnections).
func (t *transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.idle {
		c.nc.Close()
	}
	t.idle = nil
}

// alive tells whether kioskd still holds its end of an idle connection: a
// peek that does not wait finds nothing to read. An end of file (kioskd
// closed it: its idle timeout, a restart) or stray bytes mean it cannot
// carry a request.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	open := false
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true // never wait for the poller
	})
	return err == nil && open
}
