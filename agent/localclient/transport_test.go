package localclient

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is an HTTP server on a unix socket that counts the
// connections it accepted.
type testServer struct {
	socket string
	srv    *http.Server
	conns  atomic.Int64
}

func mustServe(t *testing.T, h http.Handler, configure ...func(*http.Server)) *testServer {
	t.Helper()
	ts := &testServer{socket: filepath.Join(t.TempDir(), "api.sock")}
	ln, err := net.Listen("unix", ts.socket)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = &http.Server{Handler: h, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}}
	for _, f := range configure {
		f(ts.srv)
	}
	go ts.srv.Serve(ln)
	t.Cleanup(func() { ts.srv.Close() })
	return ts
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	// A trailing newline, as json.Encoder writes, which the client's
	// decoder leaves unread.
	io.WriteString(w, "{\"ok\":true}\n")
}

// countingPosts answers as okHandler does and counts the POSTs it gets.
func countingPosts(posts *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		okHandler(w, r)
	})
}

// dropConnection closes the request's connection without an answer, as a
// kioskd that dies mid-request.
func dropConnection(w http.ResponseWriter) {
	if nc, _, err := w.(http.Hijacker).Hijack(); err == nil {
		nc.Close()
	}
}

func mustGet(t *testing.T, hc *http.Client, ctx context.Context, path string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://kioskd"+path, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", path, err)
	}
	return string(b)
}

func TestTransportReusesOneConnection(t *testing.T) {
	ts := mustServe(t, http.HandlerFunc(okHandler))
	c := New(ts.socket)
	var out struct{ OK bool }
	for i := range 20 {
		// Decoding leaves the newline unread: Close must still reach the
		// end of the answer and keep the connection.
		if err := c.do(context.Background(), http.MethodPost, "/v1/x", map[string]int{"i": i}, http.StatusOK, &out); err != nil || !out.OK {
			t.Fatalf("request %d: %v %v", i, out, err)
		}
	}
	if n := ts.conns.Load(); n != 1 {
		t.Errorf("20 requests in turn used %d connections, want 1", n)
	}
}

func TestTransportDialsAgainAfterKioskdClosedIdle(t *testing.T) {
	var posts atomic.Int64
	ts := mustServe(t, countingPosts(&posts), func(s *http.Server) { s.IdleTimeout = 20 * time.Millisecond })
	c := New(ts.socket)
	ctx := context.Background()
	calls := int64(0)
	book := func() {
		t.Helper()
		calls++
		if err := c.do(ctx, http.MethodPost, "/v1/bookings", map[string]string{}, http.StatusOK, nil); err != nil {
			t.Fatalf("booking %d: %v", calls, err)
		}
	}
	book()
	// kioskd closes the idle connection, as after its idle timeout or a
	// restart; the pooled one must not be used for the next booking.
	deadline := time.Now().Add(5 * time.Second)
	for ts.conns.Load() == 1 && time.Now().Before(deadline) {
		time.Sleep(30 * time.Millisecond)
		book()
	}
	if ts.conns.Load() < 2 {
		t.Fatal("kioskd never closed the idle connection")
	}
	if got := posts.Load(); got != calls {
		t.Errorf("kioskd saw %d bookings for %d calls", got, calls)
	}
}

func TestTransportNeverSendsABookingTwice(t *testing.T) {
	var posts atomic.Int64
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			// kioskd took the booking and died before answering.
			posts.Add(1)
			io.Copy(io.Discard, r.Body)
			dropConnection(w)
			return
		}
		okHandler(w, r)
	}))
	c := New(ts.socket)
	ctx := context.Background()
	mustGet(t, c.hc, ctx, "/v1/status") // the booking goes on a reused connection
	err := c.do(ctx, http.MethodPost, "/v1/bookings", map[string]string{"name": "x"}, http.StatusCreated, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("booking without an answer: err = %v, want ErrUnavailable", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("kioskd received the booking %d times, want once", n)
	}
}

func TestTransportRetriesAReadOnAStaleConnection(t *testing.T) {
	var gets atomic.Int64
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) == 2 {
			// The connection is gone before an answer: a GET may be asked again.
			dropConnection(w)
			return
		}
		okHandler(w, r)
	}))
	c := New(ts.socket)
	ctx := context.Background()
	mustGet(t, c.hc, ctx, "/v1/status")
	if got := mustGet(t, c.hc, ctx, "/v1/status"); !strings.Contains(got, "ok") {
		t.Errorf("retried GET answered %q", got)
	}
	if n := gets.Load(); n != 3 {
		t.Errorf("kioskd saw %d GETs, want 3 (one of them retried)", n)
	}
}

func TestTransportCancelledLongPoll(t *testing.T) {
	release := make(chan struct{})
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/idcard/events" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		okHandler(w, r)
	}))
	defer close(release)
	c := New(ts.socket)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.CardEvents(ctx, 0, 50*time.Second); errc <- err }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled long-poll: err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the long-poll did not end it")
	}
	// The cancelled connection is not pooled; the next call works.
	if got := mustGet(t, c.hc, context.Background(), "/v1/status"); !strings.Contains(got, "ok") {
		t.Errorf("after a cancelled call: %q", got)
	}
}

func TestTransportTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer close(release)
	c := New(ts.socket)
	c.hc.Transport.(*transport).timeout = 100 * time.Millisecond
	err := c.do(context.Background(), http.MethodGet, "/v1/status", nil, http.StatusOK, nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("kioskd never answering: err = %v, want a timeout", err)
	}
}

func TestTransportIdleTimeout(t *testing.T) {
	ts := mustServe(t, http.HandlerFunc(okHandler))
	c := New(ts.socket)
	tr := c.hc.Transport.(*transport)
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx := context.Background()
	mustGet(t, c.hc, ctx, "/v1/status")
	mu.Lock()
	now = now.Add(tr.idleTimeout - time.Second)
	mu.Unlock()
	mustGet(t, c.hc, ctx, "/v1/status")
	if n := ts.conns.Load(); n != 1 {
		t.Fatalf("within the idle timeout: %d connections, want 1", n)
	}
	mu.Lock()
	now = now.Add(tr.idleTimeout)
	mu.Unlock()
	mustGet(t, c.hc, ctx, "/v1/status")
	if n := ts.conns.Load(); n != 2 {
		t.Errorf("past the idle timeout: %d connections, want a new one (2)", n)
	}
}

func TestTransportKeepsAtMostMaxIdle(t *testing.T) {
	start := make(chan struct{})
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-start
		okHandler(w, r)
	}))
	c := New(ts.socket)
	tr := c.hc.Transport.(*transport)
	const calls = 24
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustGet(t, c.hc, context.Background(), "/v1/status")
		}()
	}
	for ts.conns.Load() < calls {
		time.Sleep(time.Millisecond)
	}
	close(start)
	wg.Wait()
	tr.mu.Lock()
	n := len(tr.idle)
	tr.mu.Unlock()
	if n != tr.maxIdle {
		t.Errorf("after %d calls at once: %d idle connections, want %d", calls, n, tr.maxIdle)
	}
	c.hc.CloseIdleConnections()
	if len(tr.idle) != 0 {
		t.Errorf("CloseIdleConnections left %d", len(tr.idle))
	}
}

func TestTransportClosesAfterConnectionClose(t *testing.T) {
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		okHandler(w, r)
	}))
	c := New(ts.socket)
	for range 3 {
		mustGet(t, c.hc, context.Background(), "/v1/status")
	}
	if n := ts.conns.Load(); n != 3 {
		t.Errorf("answers saying Connection: close: %d connections for 3 calls, want 3", n)
	}
}

func TestTransportTimeoutIsNotRetried(t *testing.T) {
	var stuck atomic.Int64
	var hang atomic.Bool
	release := make(chan struct{})
	defer close(release)
	var together sync.WaitGroup
	together.Add(3)
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			stuck.Add(1)
			<-release
			return
		}
		together.Done()
		together.Wait() // three calls at once: three pooled connections
		okHandler(w, r)
	}))
	c := New(ts.socket)
	c.hc.Transport.(*transport).timeout = 200 * time.Millisecond
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { mustGet(t, c.hc, context.Background(), "/v1/status") })
	}
	wg.Wait()
	hang.Store(true)
	err := c.do(context.Background(), http.MethodGet, "/v1/idcard/events", nil, http.StatusOK, nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("kioskd hanging: err = %v, want a timeout", err)
	}
	// Sent again on each pooled connection, a hung kioskd would hold the
	// screen for the timeout once per connection.
	if n := stuck.Load(); n != 1 {
		t.Errorf("a GET that timed out was sent %d times, want once", n)
	}
}

func TestTransportCancelledCallSendsNothing(t *testing.T) {
	var posts atomic.Int64
	ts := mustServe(t, countingPosts(&posts))
	c := New(ts.socket)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 50 {
		mustGet(t, c.hc, context.Background(), "/v1/status") // a pooled connection waits
		err := c.do(cancelled, http.MethodPost, "/v1/bookings", map[string]string{"name": "x"}, http.StatusCreated, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("call %d with a cancelled context: err = %v", i, err)
		}
	}
	// The status calls after each booking went through the same server in
	// order, so every booking that was sent has been counted by now.
	mustGet(t, c.hc, context.Background(), "/v1/status")
	if n := posts.Load(); n != 0 {
		t.Errorf("kioskd received %d bookings the villager was told had failed", n)
	}
}

func TestTransportCancelledWhileTheAnswerArrives(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":`)
		w.(http.Flusher).Flush()
		<-release
	}))
	c := New(ts.socket)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var out struct{ OK bool }
	if err := c.do(ctx, http.MethodGet, "/v1/presence", nil, http.StatusOK, &out); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while the answer arrived: err = %v, want context.Canceled", err)
	}
}

// mustServeRaw answers each request on one connection with the next of
// answers, written as they are.
func mustServeRaw(t *testing.T, answers ...string) string {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "raw.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for _, a := range answers {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					io.WriteString(nc, a)
				}
			}()
		}
	}()
	return socket
}

func TestTransportAnswersNeverMixUp(t *testing.T) {
	const (
		one = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\"one\"\n"
		two = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\"two\"\n"
	)
	for _, tc := range []struct {
		name, first string
		// The raw server goes on with "two" on the first connection and
		// starts again at "one" on a new one.
		wantSecond string
	}{
		// An informational answer comes before the real one; the
		// connection stays in use.
		{"informational answer first", "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + one, "two"},
		// Bytes after the answer that nobody asked for: the connection is
		// not trusted with the next call, whose answer they would pass for.
		{"stray bytes after the answer", one + two, "one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(mustServeRaw(t, tc.first, two))
			var got string
			if err := c.do(context.Background(), http.MethodGet, "/a", nil, http.StatusOK, &got); err != nil || got != "one" {
				t.Fatalf("first call: %q, %v; want \"one\"", got, err)
			}
			if err := c.do(context.Background(), http.MethodGet, "/b", nil, http.StatusOK, &got); err != nil || got != tc.wantSecond {
				t.Errorf("second call: %q, %v; want %q", got, err, tc.wantSecond)
			}
		})
	}
}
