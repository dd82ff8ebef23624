package mqttlink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// mustTCPPair returns both ends of a loopback TCP connection, the client's
// wrapped as dialBroker wraps it.
func mustTCPPair(t *testing.T, writeTimeout time.Duration) (*bufferedConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	t.Cleanup(func() { c.Close(); peer.Close() })
	return newBufferedConn(c, writeTimeout), peer
}

func TestBufferedConnKeepsEveryByteInOrder(t *testing.T) {
	c, peer := mustTCPPair(t, time.Second)
	var want bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&want, "packet %d;", i)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	rest := want.Bytes()
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, ';') + 1
		if n, err := c.Write(rest[:end]); n != end || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		rest = rest[end:]
	}
	// Close right after the last Write, as paho closes after DISCONNECT:
	// what was written still arrives.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("peer got %d bytes, want %d (equal prefix %d)", len(b), want.Len(), commonPrefix(b, want.Bytes()))
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func TestBufferedConnReportsAFailedWrite(t *testing.T) {
	c, peer := mustTCPPair(t, time.Second)
	peer.(*net.TCPConn).SetLinger(0) // close with a RST
	peer.Close()
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = c.Write([]byte("publish"))
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Fatal("Write kept succeeding on a reset connection")
	}
	// The socket is closed too, so paho's reader learns of it at once.
	if _, rerr := c.Read(make([]byte, 1)); rerr == nil {
		t.Error("Read succeeded after a failed write")
	}
}

func TestBufferedConnWriteTimesOutOnAPeerThatDoesNotRead(t *testing.T) {
	c, _ := mustTCPPair(t, 200*time.Millisecond)
	packet := bytes.Repeat([]byte("x"), 4096)
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := c.Write(packet); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if !isTimeout(err) {
			t.Errorf("Write = %v, want a timeout", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Write blocked for 30 s on a peer that does not read")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestBufferedConnCloseDoesNotHangOnAStuckSocket(t *testing.T) {
	c, _ := mustTCPPair(t, 0) // no write deadline: only Close can end it
	packet := bytes.Repeat([]byte("x"), 4096)
	var written atomic.Int64
	go func() {
		for {
			if _, err := c.Write(packet); err != nil {
				return
			}
			written.Add(1)
		}
	}()
	// Wait until the kernel's buffers and maxPending are full: Write blocks.
	for last := int64(-1); written.Load() != last; {
		last = written.Load()
		time.Sleep(200 * time.Millisecond)
	}
	began := time.Now()
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
		t.Logf("Close took %v after %d writes", time.Since(began), written.Load())
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a socket that takes nothing")
	}
}

func TestBufferedConnLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 200 {
		c, peer := mustTCPPair(t, time.Second)
		go io.Copy(io.Discard, peer)
		for range 10 {
			c.Write([]byte("packet"))
		}
		c.Close()
		peer.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+5 {
		t.Errorf("goroutines grew from %d to %d", before, after)
	}
}
