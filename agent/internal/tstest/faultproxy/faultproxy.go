// Package faultproxy is an in-process TCP proxy that tests put between the
// kiosk and the broker to make the network fail the way village networks do.
//
// Partition models a link that goes down: open connections stall (bytes are
// held, not dropped, as TCP would hold them) and new connections are refused,
// as a dial through a dead uplink fails. Heal brings the link back: stalled
// connections resume and the port accepts again. CutAll resets every open
// connection at once, as a NAT timeout or a 4G handover does.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards 127.0.0.1:Port to a target address.
type Proxy struct {
	t      testing.TB
	target string
	Addr   string // 127.0.0.1:port, stable across Partition and Heal
	URL    string // tcp://Addr

	mu          sync.Mutex
	ln          net.Listener
	partitioned bool
	healed      *sync.Cond
	conns       map[net.Conn]struct{}
	closed      bool
	wg          sync.WaitGroup
}

// New starts a proxy to target ("host:port"); it is closed when the test ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: target, Addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	p.URL = "tcp://" + p.Addr
	p.healed = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
	p.untrack(client, server)
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

// pipe copies src to dst, holding each chunk while the proxy is partitioned.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.partitioned && !p.closed {
				p.healed.Wait()
			}
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}

// Partition takes the link down: traffic on open connections stalls and new
// connections are refused.
func (p *Proxy) Partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.partitioned || p.closed {
		return
	}
	p.partitioned = true
	p.ln.Close()
}

// Heal brings the link back on the same port.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.partitioned || p.closed {
		return
	}
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		p.t.Errorf("faultproxy: listen again on %s: %v", p.Addr, err)
		return
	}
	p.ln, p.partitioned = ln, false
	p.wg.Add(1)
	go p.accept(ln)
	p.healed.Broadcast()
}

// CutAll resets every open connection; the proxy keeps accepting new ones.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, not FIN
		}
		c.Close()
	}
}

// Conns is the number of open proxied connections (each counts its two ends).
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.healed.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) String() string { return fmt.Sprintf("faultproxy %s → %s", p.Addr, p.target) }
