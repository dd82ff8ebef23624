package idcard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// mustReader starts a Reader on p and closes it with the test.
func mustReader(t *testing.T, p io.ReadWriter, opts idcard.Options) *idcard.Reader {
	t.Helper()
	r := idcard.NewReader(p, opts)
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReplayNotesExchanges(t *testing.T) {
	script := mustReadHex(t, "testdata/notes_exchanges.hex")
	p := newFakePort(scriptReply(t, script))
	r := mustReader(t, p, idcard.Options{})
	ctx := context.Background()
	found, err := r.FindCard(ctx)
	if err != nil || !found {
		t.Fatalf("FindCard = %v, %v", found, err)
	}
	if err := r.SelectCard(ctx); err != nil {
		t.Fatalf("SelectCard: %v", err)
	}
	if err := r.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if n := len(p.written()); n != 3 {
		t.Errorf("%d requests written, want 3", n)
	}
}

func TestReplayBaseInfo(t *testing.T) {
	fixtures := idcardsim.Fixtures()
	for _, g := range goldens {
		for _, chunk := range []int{0, 1, 100} {
			t.Run(fmt.Sprintf("%s/chunk%d", g.file, chunk), func(t *testing.T) {
				p := newFakePort(scriptReply(t, mustReadHex(t, g.file)))
				p.chunk = chunk
				r := mustReader(t, p, idcard.Options{})
				read := r.ReadBaseInfo
				if g.fingerprint {
					read = r.ReadBaseInfoWithFingerprint
				}
				got, err := read(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				want := *fixtures[g.fixture]
				if !g.fingerprint {
					want.Fingerprint = nil
				}
				if !reflect.DeepEqual(got, &want) {
					t.Errorf("card differs in %v", diffFields(got, &want))
				}
			})
		}
	}
}

// TestReplayStatuses answers FindCard with every failure status.
func TestReplayStatuses(t *testing.T) {
	script := mustReadHex(t, "testdata/status_replies.hex")
	p := newFakePort(scriptReply(t, script))
	r := mustReader(t, p, idcard.Options{})
	for _, f := range script {
		sw3 := f.Data[9]
		found, err := r.FindCard(context.Background())
		switch {
		case sw3 == 0x80:
			if found || err != nil {
				t.Errorf("80: FindCard = %v, %v; want false, nil", found, err)
			}
		case !errors.Is(err, &idcard.StatusError{SW3: sw3}):
			t.Errorf("%02X: FindCard error %v", sw3, err)
		}
	}
}

func TestCommandStatusErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		sw3  byte
		run  func(r *idcard.Reader) error
		want error
	}{
		{"select failed", 0x81, func(r *idcard.Reader) error { return r.SelectCard(ctx) }, idcard.ErrSelectFailed},
		{"read failed", 0x41, func(r *idcard.Reader) error { _, err := r.ReadBaseInfo(ctx); return err }, idcard.ErrReadFailed},
		{"self test", 0x60, func(r *idcard.Reader) error { return r.SAMStatus(ctx) }, idcard.ErrSelfTest},
		{"sam id unauthorised", 0x66, func(r *idcard.Reader) error { _, err := r.SAMID(ctx); return err }, idcard.ErrSAMNotAuthorised},
		{"reset command error", 0x21, func(r *idcard.Reader) error { return r.Reset(ctx) }, idcard.ErrSAMCommand},
		{"fingerprint no card", 0x80, func(r *idcard.Reader) error { _, err := r.ReadBaseInfoWithFingerprint(ctx); return err }, idcard.ErrNoCard},
		{"appended address failed", 0x41, func(r *idcard.Reader) error { _, err := r.ReadAppendedAddress(ctx); return err }, idcard.ErrReadFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakePort(func([]byte) []byte { return mustResponse(t, idcard.Response{SW3: tt.sw3}) })
			r := mustReader(t, p, idcard.Options{})
			if err := tt.run(r); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func mustResponse(t testing.TB, r idcard.Response) []byte {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSAMID(t *testing.T) {
	id := idcardsim.DefaultSAMID()
	p := newFakePort(func([]byte) []byte { return mustResponse(t, idcard.Response{SW3: 0x90, Data: id[:]}) })
	r := mustReader(t, p, idcard.Options{})
	got, err := r.SAMID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "05.01-20230915-0000123456-0987654321"; got != want {
		t.Errorf("SAMID = %q, want %q", got, want)
	}
}

func TestFormatSAMID(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"05 00 01 00 67 9A 32 01 00 00 00 00 FF FF FF FF", "05.01-20093543-0000000000-4294967295"},
		{"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "00.00-00000000-0000000000-0000000000"},
	}
	for _, tt := range tests {
		got, err := idcard.FormatSAMID(mustHex(t, tt.in))
		if err != nil || got != tt.want {
			t.Errorf("FormatSAMID(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := idcard.FormatSAMID(make([]byte, 15)); !errors.Is(err, idcard.ErrLength) {
		t.Errorf("15 bytes: %v, want ErrLength", err)
	}
}

func TestAppendedAddress(t *testing.T) {
	addr := "福建省武夷山市示例乡测试村新址9号"
	var data []byte
	for _, r := range addr {
		data = append(data, byte(r), byte(r>>8))
	}
	for len(data) < idcard.AppendedAddressLen {
		data = append(data, ' ', 0)
	}
	tests := []struct {
		name string
		resp idcard.Response
		want string
		err  error
	}{
		{"present", idcard.Response{SW3: 0x90, Data: data}, addr, nil},
		{"none (91)", idcard.Response{SW3: 0x91}, "", nil},
		{"odd length", idcard.Response{SW3: 0x90, Data: data[:69]}, "", idcard.ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakePort(func([]byte) []byte { return mustResponse(t, tt.resp) })
			r := mustReader(t, p, idcard.Options{})
			got, err := r.ReadAppendedAddress(context.Background())
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseBaseInfoErrors(t *testing.T) {
	c := idcardsim.Fixtures()[0]
	good, err := idcard.AppendBaseInfo(nil, c, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		fp   bool
		want error
	}{
		{"empty", nil, false, idcard.ErrLength},
		{"truncated", good[:len(good)-1], false, idcard.ErrLength},
		{"extra byte", append(append([]byte(nil), good...), 0), false, idcard.ErrLength},
		{"lengths for 30 10 on a 30 01 reply", good, true, idcard.ErrLength},
		{"text block of 255", append([]byte{0x00, 0xFF, 0x04, 0x00}, good[5:]...), false, idcard.ErrTextBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := idcard.ParseBaseInfo(tt.data, tt.fp); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestTimeouts: a reader that never completes a valid reply gives
// ErrTimeout on time, whatever its port does.
func TestTimeouts(t *testing.T) {
	findReply := mustHex(t, "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
	tests := []struct {
		name      string
		eofTick   time.Duration
		reply     []byte
		wantFrame error // also wrapped, when a bad frame was seen
	}{
		{"blocking port, silent", 0, nil, nil},
		{"tarm-like port, EOF every 20ms", 20 * time.Millisecond, nil, nil},
		{"stops mid-frame", 0, findReply[:9], nil},
		{"stops mid-frame, tarm-like", 20 * time.Millisecond, findReply[:9], nil},
		{"stops inside preamble", 0, findReply[:3], nil},
		{"bad checksum only", 0, append(findReply[:len(findReply)-1:len(findReply)-1], 0x00), idcard.ErrChecksum},
		{"short frame only", 0, mustHex(t, "AA AA AA 96 69 00 02 00 02"), idcard.ErrShortFrame},
		{"oversize LEN only", 0, mustHex(t, "AA AA AA 96 69 10 01 00"), idcard.ErrFrameTooLong},
		{"noise only", 0, bytes.Repeat([]byte{0x55}, 300), nil},
	}
	const timeout = 150 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePort(func([]byte) []byte { return tt.reply })
			p.eofTick = tt.eofTick
			r := mustReader(t, p, idcard.Options{Timeout: timeout})
			start := time.Now()
			_, err := r.FindCard(context.Background())
			took := time.Since(start)
			if !errors.Is(err, idcard.ErrTimeout) {
				t.Fatalf("got %v, want ErrTimeout", err)
			}
			if tt.wantFrame != nil && !errors.Is(err, tt.wantFrame) {
				t.Errorf("%v does not wrap %v", err, tt.wantFrame)
			}
			if took < timeout || took > timeout+time.Second {
				t.Errorf("took %v, timeout %v", took, timeout)
			}
		})
	}
}

func TestDefaultTimeouts(t *testing.T) {
	if idcard.DefaultTimeout != time.Second || idcard.DefaultReadTimeout != 3*time.Second {
		t.Errorf("defaults %v/%v, want 1s/3s", idcard.DefaultTimeout, idcard.DefaultReadTimeout)
	}
}

// TestTarmLikePortWorks: a port that says 0, io.EOF on every read timeout
// is "no data yet", not the end.
func TestTarmLikePortWorks(t *testing.T) {
	p := newFakePort(nil)
	p.eofTick = 10 * time.Millisecond
	p.reply = func([]byte) []byte {
		time.Sleep(50 * time.Millisecond) // several EOFs before the reply
		return mustResponse(t, idcard.Response{SW3: 0x9F, Data: make([]byte, 4)})
	}
	r := mustReader(t, p, idcard.Options{})
	for i := range 3 {
		if found, err := r.FindCard(context.Background()); err != nil || !found {
			t.Fatalf("try %d: %v, %v", i, found, err)
		}
	}
}

func TestHungUpPort(t *testing.T) {
	p := newFakePort(nil)
	p.eofTick = -1 // 0, io.EOF at once, forever: a pty whose master closed
	r := mustReader(t, p, idcard.Options{Timeout: 10 * time.Second})
	start := time.Now()
	_, err := r.FindCard(context.Background())
	if !errors.Is(err, idcard.ErrPortClosed) {
		t.Fatalf("got %v, want ErrPortClosed", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v to notice", took)
	}
	if _, err := r.FindCard(context.Background()); !errors.Is(err, idcard.ErrPortClosed) {
		t.Errorf("next command: %v, want ErrPortClosed", err)
	}
}

func TestReadError(t *testing.T) {
	p := newFakePort(nil)
	r := mustReader(t, p, idcard.Options{Timeout: 5 * time.Second})
	cause := errors.New("usb-serial: device disconnected")
	done := make(chan error, 1)
	go func() { _, err := r.ReadBaseInfo(context.Background()); done <- err }()
	p.waitWritten(t, 1) // the command is out; the reader waits for its reply
	p.setReadErr(cause)
	p.feed([]byte{0}) // wake the blocked Read
	select {
	case err := <-done:
		if !errors.Is(err, idcard.ErrPortClosed) || !errors.Is(err, cause) {
			t.Errorf("got %v, want ErrPortClosed wrapping the cause", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("command hung after a read error")
	}
	if err := r.Reset(context.Background()); !errors.Is(err, idcard.ErrPortClosed) {
		t.Errorf("next command: %v", err)
	}
}

func TestWriteError(t *testing.T) {
	p := newFakePort(nil)
	p.writeErr = errors.New("write /dev/ttyUSB0: input/output error")
	r := mustReader(t, p, idcard.Options{})
	if err := r.Reset(context.Background()); !errors.Is(err, idcard.ErrPortClosed) {
		t.Errorf("got %v, want ErrPortClosed", err)
	}
}

func TestCloseUnblocks(t *testing.T) {
	p := newFakePort(nil) // blocks in Read forever
	r := idcard.NewReader(p, idcard.Options{Timeout: 10 * time.Second})
	done := make(chan error, 1)
	go func() { _, err := r.FindCard(context.Background()); done <- err }()
	p.waitWritten(t, 1) // pending: the command is out, no reply will come
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, idcard.ErrClosed) {
			t.Errorf("pending command: %v, want ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("pending command hung after Close")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.SelectCard(context.Background()); !errors.Is(err, idcard.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestContext(t *testing.T) {
	p := newFakePort(nil)
	r := mustReader(t, p, idcard.Options{Timeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancelled while it waits for the reply (FindCard writes first).
		for len(p.written()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := r.FindCard(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := r.FindCard(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, idcard.ErrTimeout) {
		t.Errorf("deadline: %v", err)
	}
}

// TestStaleBytesDiscarded: a late failure reply sitting in the port must
// not be taken for the next command's reply.
func TestStaleBytesDiscarded(t *testing.T) {
	p := newFakePort(func([]byte) []byte { return mustResponse(t, idcard.Response{SW3: 0x90, Data: make([]byte, 8)}) })
	r := mustReader(t, p, idcard.Options{})
	p.feed(mustResponse(t, idcard.Response{SW3: 0x81}))
	p.waitTaken(t) // the pump has read it: it is stale by the time the command goes out
	if err := r.SelectCard(context.Background()); err != nil {
		t.Errorf("SelectCard took a stale reply: %v", err)
	}
}

// TestRecoversFromBadFrames: noise and broken frames before the reply are
// skipped within the same command.
func TestRecoversFromBadFrames(t *testing.T) {
	good := mustResponse(t, idcard.Response{SW3: 0x9F, Data: make([]byte, 4)})
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	var stream []byte
	stream = append(stream, 0x00, 0x13, 0xAA)
	stream = append(stream, bad...)
	stream = append(stream, mustHex(t, "AA AA AA 96 69 00 01")...)
	stream = append(stream, good...)
	p := newFakePort(func([]byte) []byte { return stream })
	p.chunk = 3
	r := mustReader(t, p, idcard.Options{})
	if found, err := r.FindCard(context.Background()); err != nil || !found {
		t.Fatalf("FindCard = %v, %v", found, err)
	}
}

func TestConcurrentCommands(t *testing.T) {
	p := newFakePort(func(req []byte) []byte {
		if req[7] == 0x20 && req[8] == 0x01 {
			return mustResponse(t, idcard.Response{SW3: 0x9F, Data: make([]byte, 4)})
		}
		return mustResponse(t, idcard.Response{SW3: 0x90})
	})
	r := mustReader(t, p, idcard.Options{})
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			if i%2 == 0 {
				_, err := r.FindCard(context.Background())
				errs <- err
				return
			}
			errs <- r.SAMStatus(context.Background())
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestLoggingHasNoCardData(t *testing.T) {
	var buf bytes.Buffer
	log := newTestLogger(&buf)
	p := newFakePort(scriptReply(t, mustReadHex(t, "testdata/base_resident.hex")))
	r := mustReader(t, p, idcard.Options{Log: log})
	c, err := r.ReadBaseInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		t.Fatal("nothing logged at debug level")
	}
	for _, s := range []string{c.IDNumber, c.Name, c.Address} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("log contains %q", s)
		}
	}
}
