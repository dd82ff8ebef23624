package mqttlink

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// dialBroker opens the connection paho speaks MQTT over, with its reads
// buffered and its writes combined. paho reads every packet straight off the
// socket, its fixed header a byte at a time: three read(2)s per PUBACK. And
// it writes every packet with a write(2) of its own, between two
// SetWriteDeadline calls: on loopback that write carries the broker's side of
// TCP too, and it was 40 % of the CPU of a drain. On a two-core board that
// is CPU the publisher and the broker need.
func dialBroker(uri *url.URL, opts mqtt.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: opts.ConnectTimeout}
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		conn, err = d.Dial("tcp", uri.Host)
	case "ssl", "tls", "mqtts", "tcps":
		cfg := opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		// The broker's certificate is verified, always, and against the
		// name the kiosk dialed: a records link that accepted any
		// certificate would hand villagers' phone numbers to whoever
		// answers on the township's address.
		cfg.InsecureSkipVerify = false
		if cfg.ServerName == "" {
			cfg.ServerName = uri.Hostname()
		}
		conn, err = tls.DialWithDialer(d, "tcp", uri.Host, cfg)
	default:
		return nil, fmt.Errorf("mqttlink: unsupported broker scheme %q", uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return newBufferedConn(conn, opts.WriteTimeout), nil
}

// bufferedConn is a connection whose reads go through a buffer and whose
// writes are combined: Write appends to a buffer and a flusher goroutine hands
// whatever has gathered to the kernel in one write, as soon as its previous
// write returns. No timer holds a packet back, so a lone packet (a PINGREQ, a
// villager's booking) leaves at once, and a drain's PUBLISHes leave in
// batches of however many paho produced during one write(2).
//
// An earlier attempt at combining writes stalled mosquitto 2.0 (40,000 →
// 3,700 records/s); this one does not: BenchmarkDrain goes from 21-23 to
// 13-15 µs of CPU per record, faster than paho alone (20-22).
//
// Write deadlines are the flusher's: each write to the socket gets
// writeTimeout, and paho's own per-packet deadlines, which would now bound only
// an append to memory, are ignored. A failed write closes the socket, so the
// reader fails at once and paho reports the connection lost, as it did when
// its own write failed.
type bufferedConn struct {
	net.Conn
	r            *bufio.Reader
	writeTimeout time.Duration

	mu       sync.Mutex
	space    sync.Cond // broadcast when pending is taken, or err or flushing changes
	pending  []byte    // written by paho, not yet handed to the kernel
	spare    []byte    // the buffer of the write before, reused
	flushing bool      // a flusher goroutine is running
	err      error     // the first failed write; every later Write returns it
}

// maxPending bounds what Write gathers while a write to the socket is under
// way; beyond it, Write waits, as paho's writes waited on the socket before.
const maxPending = 64 << 10

// closeFlushWait bounds how long Close waits for pending bytes (paho closes
// right after writing DISCONNECT) on a socket that does not take them.
const closeFlushWait = 500 * time.Millisecond

func newBufferedConn(conn net.Conn, writeTimeout time.Duration) *bufferedConn {
	c := &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 16<<10), writeTimeout: writeTimeout}
	c.space.L = &c.mu
	return c
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufferedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for c.err == nil && len(c.pending) >= maxPending {
		c.space.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	c.pending = append(c.pending, p...)
	start := !c.flushing
	c.flushing = true
	c.mu.Unlock()
	if start {
		go c.flush()
	}
	return len(p), nil
}

// flush writes pending bytes until there are none, then exits; the next
// Write starts another.
func (c *bufferedConn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) > 0 && c.err == nil {
		buf := c.pending
		c.pending = c.spare[:0]
		c.space.Broadcast()
		c.mu.Unlock()
		err := c.writeOut(buf)
		c.mu.Lock()
		c.spare = buf[:0]
		if err != nil {
			c.err = err
			c.Conn.Close()
		}
	}
	c.flushing = false
	c.space.Broadcast()
}

func (c *bufferedConn) writeOut(buf []byte) error {
	if c.writeTimeout > 0 {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
			return err
		}
	}
	_, err := c.Conn.Write(buf)
	return err
}

// Close hands pending bytes to the kernel first, waiting at most
// closeFlushWait, then closes the socket.
func (c *bufferedConn) Close() error {
	timer := time.AfterFunc(closeFlushWait, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.space.Broadcast()
	})
	defer timer.Stop()
	c.mu.Lock()
	for c.flushing && c.err == nil {
		c.space.Wait()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// SetWriteDeadline ignores paho's deadlines: see bufferedConn.
func (c *bufferedConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline only, for the same reason.
func (c *bufferedConn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }
