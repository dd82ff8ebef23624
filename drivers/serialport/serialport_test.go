package serialport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
	"github.com/fengqiao/kiosk/drivers/serialport"
)

// mustPty opens a pty pair and the slave through serialport.Open. The
// master is a non-blocking duplicate so that closing it interrupts reads
// (creack/pty leaves its own descriptor blocking).
func mustPty(t *testing.T) (master *os.File, port io.ReadWriteCloser) {
	t.Helper()
	p, err := idcardsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	port, err = serialport.Open(p.Path, 115200)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	// OpenPTY keeps its own slave descriptor; closing p is the "unplug".
	t.Cleanup(func() {
		p.Close()
		port.Close()
	})
	return p.Master, port
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name   string
		device string
		baud   int
	}{
		{"missing device", "/dev/does-not-exist-kiosk", 115200},
		{"zero baud", "/dev/null", 0},
		{"unsupported baud", "/dev/null", 12345},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := serialport.Open(tt.device, tt.baud)
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.device) {
				t.Errorf("error %q does not name %s", err, tt.device)
			}
		})
	}
	if _, err := serialport.Open("/dev/does-not-exist-kiosk", 115200); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing device: %v does not wrap os.ErrNotExist", err)
	}
}

func TestPtyExchange(t *testing.T) {
	master, port := mustPty(t)
	// Raw mode: every byte value passes unchanged both ways (no CR/LF
	// mapping, no echo, no signals).
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := port.Write(all); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(all))
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(master, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, all) {
		t.Errorf("port → master: % X", got)
	}
	if _, err := master.Write(all); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	buf := make([]byte, 64)
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < len(all) && time.Now().Before(deadline) {
		n, err := port.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, all) {
		t.Errorf("master → port: % X", got)
	}
}

// TestReadTimeout: with no data, Read returns 0, io.EOF after the read
// timeout instead of blocking.
func TestReadTimeout(t *testing.T) {
	_, port := mustPty(t)
	start := time.Now()
	n, err := port.Read(make([]byte, 16))
	took := time.Since(start)
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read = %d, %v; want 0, io.EOF", n, err)
	}
	if took < serialport.ReadTimeout/2 || took > time.Second {
		t.Errorf("Read returned after %v, want about %v", took, serialport.ReadTimeout)
	}
}

// TestIdcardDriverOverTimeouts: the idcard driver on a serialport port
// sits through several 0, io.EOF read timeouts, reports ErrTimeout when
// nobody answers, and then works when the other end answers.
func TestIdcardDriverOverTimeouts(t *testing.T) {
	master, port := mustPty(t)
	r := idcard.NewReader(port, idcard.Options{Timeout: 350 * time.Millisecond})
	t.Cleanup(func() { r.Close() })
	start := time.Now()
	_, err := r.FindCard(context.Background())
	if !errors.Is(err, idcard.ErrTimeout) {
		t.Fatalf("silent line: %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took < 350*time.Millisecond || took > 2*time.Second {
		t.Errorf("timed out after %v", took)
	}
	// Answer the next request like a SAM with a card.
	reply, err := idcard.Response{SW3: idcard.StatusCardFound, Data: make([]byte, 4)}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 64)
		var got []byte
		master.SetReadDeadline(time.Now().Add(5 * time.Second))
		for len(got) < 20 { // the timed-out request, then the next one
			n, err := master.Read(buf)
			if err != nil {
				return
			}
			got = append(got, buf[:n]...)
		}
		time.Sleep(250 * time.Millisecond) // a couple of read timeouts first
		master.Write(reply)
	}()
	found, err := r.FindCard(context.Background())
	if err != nil || !found {
		t.Fatalf("FindCard = %v, %v", found, err)
	}
}
