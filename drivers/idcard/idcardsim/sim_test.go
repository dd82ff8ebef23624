package idcardsim_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
	"github.com/fengqiao/kiosk/drivers/serialport"
)

// mustPty opens a pty pair: the master for the simulator, the slave opened
// through drivers/serialport (tarm, 100 ms read timeout) for the driver.
func mustPty(tb testing.TB) (master *os.File, port io.ReadWriteCloser) {
	tb.Helper()
	p, err := idcardsim.OpenPTY()
	if err != nil {
		tb.Fatal(err)
	}
	port, err = serialport.Open(p.Path, 115200)
	if err != nil {
		p.Close()
		tb.Fatal(err)
	}
	// OpenPTY keeps its own slave descriptor; closing p is the "unplug".
	tb.Cleanup(func() {
		p.Close()
		port.Close()
	})
	return p.Master, port
}

// mustServe runs sim on port until the test ends.
func mustServe(tb testing.TB, sim *idcardsim.Sim, port io.ReadWriteCloser) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, port) }()
	tb.Cleanup(func() {
		cancel()
		port.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			tb.Error("Serve did not return")
		}
	})
}

// mustRig wires sim to a Reader over a real pty pair.
func mustRig(tb testing.TB, simOpts idcardsim.Options, opts idcard.Options) (*idcardsim.Sim, *idcard.Reader, *os.File) {
	tb.Helper()
	master, port := mustPty(tb)
	sim := idcardsim.New(simOpts)
	mustServe(tb, sim, master)
	r := idcard.NewReader(port, opts)
	tb.Cleanup(func() { r.Close() })
	return sim, r, master
}

// mustPipeRig wires sim to a Reader over an in-memory pipe.
func mustPipeRig(tb testing.TB, opts idcard.Options) (*idcardsim.Sim, *idcard.Reader) {
	tb.Helper()
	a, b := net.Pipe()
	sim := idcardsim.New(idcardsim.Options{})
	mustServe(tb, sim, a)
	r := idcard.NewReader(b, opts)
	tb.Cleanup(func() { r.Close() })
	return sim, r
}

func withoutFingerprint(c *idcard.Card) *idcard.Card {
	cp := *c
	cp.Fingerprint = nil
	return &cp
}

func TestFixturesOverPty(t *testing.T) {
	sim, r, _ := mustRig(t, idcardsim.Options{}, idcard.Options{})
	ctx := context.Background()
	for i, want := range idcardsim.Fixtures() {
		sim.PlaceCard(want)
		found, err := r.FindCard(ctx)
		if err != nil || !found {
			t.Fatalf("fixture %d: FindCard = %v, %v", i, found, err)
		}
		if err := r.SelectCard(ctx); err != nil {
			t.Fatalf("fixture %d: SelectCard: %v", i, err)
		}
		got, err := r.ReadBaseInfo(ctx)
		if err != nil {
			t.Fatalf("fixture %d: ReadBaseInfo: %v", i, err)
		}
		if !reflect.DeepEqual(got, withoutFingerprint(want)) {
			t.Errorf("fixture %d (%v): read back differently", i, got)
		}
		got, err = r.ReadBaseInfoWithFingerprint(ctx)
		if err != nil {
			t.Fatalf("fixture %d: ReadBaseInfoWithFingerprint: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fixture %d (%v): read back differently with fingerprint", i, got)
		}
		sim.RemoveCard()
		if found, err := r.FindCard(ctx); err != nil || found {
			t.Errorf("fixture %d removed: FindCard = %v, %v", i, found, err)
		}
		if _, err := r.ReadBaseInfo(ctx); !errors.Is(err, idcard.ErrReadFailed) {
			t.Errorf("fixture %d removed: ReadBaseInfo: %v, want ErrReadFailed", i, err)
		}
	}
}

func TestSAMOverPty(t *testing.T) {
	_, r, _ := mustRig(t, idcardsim.Options{}, idcard.Options{})
	ctx := context.Background()
	if err := r.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SAMStatus(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := r.SAMID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id != "05.01-20230915-0000123456-0987654321" {
		t.Errorf("SAMID = %q", id)
	}
}

// TestStateMachine: the sim refuses what a SAM refuses.
func TestStateMachine(t *testing.T) {
	sim, r := mustPipeRig(t, idcard.Options{})
	ctx := context.Background()
	card := idcardsim.Fixtures()[0]
	find := func() error { _, err := r.FindCard(ctx); return err }
	read := func() error { _, err := r.ReadBaseInfo(ctx); return err }
	addr := func() error { _, err := r.ReadAppendedAddress(ctx); return err }
	steps := []struct {
		name string
		act  func()
		run  func() error
		want error
	}{
		{"select, no card", nil, func() error { return r.SelectCard(ctx) }, idcard.ErrSelectFailed},
		{"read, no card", nil, read, idcard.ErrReadFailed},
		{"select before find", func() { sim.PlaceCard(card) }, func() error { return r.SelectCard(ctx) }, idcard.ErrSelectFailed},
		{"find", nil, find, nil},
		{"read before select", nil, read, idcard.ErrReadFailed},
		{"appended address before select", nil, addr, idcard.ErrReadFailed},
		{"select", nil, func() error { return r.SelectCard(ctx) }, nil},
		{"read", nil, read, nil},
		{"no appended address", nil, addr, nil},
		{"reset forgets selection", nil, func() error { return r.Reset(ctx) }, nil},
		{"read after reset", nil, read, idcard.ErrReadFailed},
		{"find again", nil, find, nil},
		{"select again", nil, func() error { return r.SelectCard(ctx) }, nil},
		{"read after removal", func() { sim.RemoveCard() }, read, idcard.ErrReadFailed},
		{"injected status", func() { sim.InjectStatus(0x60) }, func() error { return r.SAMStatus(ctx) }, idcard.ErrSelfTest},
	}
	for _, s := range steps {
		if s.act != nil {
			s.act()
		}
		if err := s.run(); !errors.Is(err, s.want) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
	}
}

func TestAppendedAddress(t *testing.T) {
	sim, r := mustPipeRig(t, idcard.Options{})
	ctx := context.Background()
	sim.PlaceCard(idcardsim.Fixtures()[0])
	const want = "福建省武夷山市示例乡测试村新址9号"
	sim.SetAppendedAddress(want)
	if _, err := r.FindCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SelectCard(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadAppendedAddress(ctx)
	if err != nil || got != want {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestRepliesMatchGoldens: the sim's base-info replies are byte for byte
// the ones built independently from the spec in ../testdata.
func TestRepliesMatchGoldens(t *testing.T) {
	goldens := []struct {
		file    string
		fixture int
	}{
		{"base_resident.hex", 0},
		{"base_resident_longterm.hex", 1},
		{"base_permit_j.hex", 2},
		{"base_foreigner_i.hex", 3},
		{"base_foreigner_y.hex", 4},
		{"base_resident_fingerprint.hex", 0},
	}
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			req, want := mustGolden(t, "../testdata/"+g.file)
			host, samSide := net.Pipe()
			defer host.Close()
			sim := idcardsim.New(idcardsim.Options{})
			mustServe(t, sim, samSide)
			sim.PlaceCard(idcardsim.Fixtures()[g.fixture])
			for _, c := range []idcard.Command{idcard.CmdFindCard, idcard.CmdSelectCard} {
				b, _ := c.Request().MarshalBinary()
				mustExchange(t, host, b)
			}
			if got := mustExchange(t, host, req); string(got) != string(want) {
				t.Errorf("reply differs from golden (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}

// mustGolden returns a golden file's request and reply.
func mustGolden(t *testing.T, path string) (req, reply []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := sc.Text()
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if s[0] == '>' || s[0] == '<' {
			frames = append(frames, nil)
			s = s[1:]
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			t.Fatal(err)
		}
		frames[len(frames)-1] = append(frames[len(frames)-1], b...)
	}
	return frames[0], frames[1]
}

// mustExchange writes req and reads one whole reply frame.
func mustExchange(t *testing.T, c net.Conn, req []byte) []byte {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 7)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	rest := make([]byte, int(head[5])<<8|int(head[6]))
	if _, err := io.ReadFull(c, rest); err != nil {
		t.Fatal(err)
	}
	return append(head, rest...)
}

func TestBadRequestChecksum(t *testing.T) {
	host, samSide := net.Pipe()
	defer host.Close()
	mustServe(t, idcardsim.New(idcardsim.Options{}), samSide)
	got := mustExchange(t, host, []byte("\xAA\xAA\xAA\x96\x69\x00\x03\x20\x01\x21"))
	if got[9] != 0x10 {
		t.Errorf("SW3 %02X, want 10 (checksum error)", got[9])
	}
	got = mustExchange(t, host, []byte("\xAA\xAA\xAA\x96\x69\x00\x03\x77\x01\x75"))
	if got[9] != 0x21 {
		t.Errorf("unknown command: SW3 %02X, want 21", got[9])
	}
}

// TestFaultsOverPty: each fault on a real pty, and the next command works.
func TestFaultsOverPty(t *testing.T) {
	tests := []struct {
		fault     idcardsim.Fault
		wantErr   error // nil: the driver copes within the command
		wantFrame error
	}{
		{idcardsim.FaultNoise, nil, nil},
		{idcardsim.FaultSplit, nil, nil},
		{idcardsim.FaultShortFrame, nil, nil},
		{idcardsim.FaultBadChecksum, idcard.ErrTimeout, idcard.ErrChecksum},
		{idcardsim.FaultWrongLength, idcard.ErrTimeout, idcard.ErrChecksum},
		{idcardsim.FaultStall, idcard.ErrTimeout, nil},
		{idcardsim.FaultDrop, idcard.ErrTimeout, nil},
	}
	sim, r, _ := mustRig(t, idcardsim.Options{}, idcard.Options{Timeout: 400 * time.Millisecond})
	ctx := context.Background()
	sim.PlaceCard(idcardsim.Fixtures()[2])
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			sim.InjectFault(tt.fault)
			found, err := r.FindCard(ctx)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && !found) {
				t.Fatalf("FindCard = %v, %v; want error %v", found, err, tt.wantErr)
			}
			if tt.wantFrame != nil && !errors.Is(err, tt.wantFrame) {
				t.Errorf("%v does not wrap %v", err, tt.wantFrame)
			}
			if found, err := r.FindCard(ctx); err != nil || !found {
				t.Fatalf("next FindCard = %v, %v", found, err)
			}
			if err := r.SelectCard(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := r.ReadBaseInfo(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStallMidBaseRead: the reader stops half way through the 1295-byte
// reply; the driver times out on time.
func TestStallMidBaseRead(t *testing.T) {
	sim, r, _ := mustRig(t, idcardsim.Options{Baud: 115200}, idcard.Options{})
	ctx := context.Background()
	sim.PlaceCard(idcardsim.Fixtures()[0])
	if _, err := r.FindCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SelectCard(ctx); err != nil {
		t.Fatal(err)
	}
	sim.InjectFault(idcardsim.FaultStall)
	start := time.Now()
	_, err := r.ReadBaseInfo(ctx)
	if !errors.Is(err, idcard.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took < idcard.DefaultReadTimeout || took > idcard.DefaultReadTimeout+time.Second {
		t.Errorf("took %v", took)
	}
}

// TestUnplug closes the pty master (the reader goes away): the driver
// reports ErrPortClosed promptly, idle or mid-command, and never hangs.
func TestUnplug(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		sim, r, master := mustRig(t, idcardsim.Options{}, idcard.Options{Timeout: 5 * time.Second})
		sim.PlaceCard(idcardsim.Fixtures()[0])
		if _, err := r.FindCard(context.Background()); err != nil {
			t.Fatal(err)
		}
		master.Close()
		start := time.Now()
		_, err := r.FindCard(context.Background())
		if !errors.Is(err, idcard.ErrPortClosed) {
			t.Fatalf("got %v, want ErrPortClosed", err)
		}
		t.Logf("unplugged while idle: %v", err)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v", took)
		}
	})
	t.Run("mid-command", func(t *testing.T) {
		sim, r, master := mustRig(t, idcardsim.Options{}, idcard.Options{Timeout: 5 * time.Second})
		sim.PlaceCard(idcardsim.Fixtures()[0])
		sim.InjectFault(idcardsim.FaultStall)
		done := make(chan error, 1)
		go func() { _, err := r.FindCard(context.Background()); done <- err }()
		time.Sleep(100 * time.Millisecond)
		master.Close()
		select {
		case err := <-done:
			if !errors.Is(err, idcard.ErrPortClosed) {
				t.Errorf("got %v, want ErrPortClosed", err)
			}
			t.Logf("unplugged mid-command: %v", err)
		case <-time.After(3 * time.Second):
			t.Fatal("command hung after unplug")
		}
	})
}

// TestPacing: at 115200 baud a base read takes at least its wire time.
func TestPacing(t *testing.T) {
	sim, r, _ := mustRig(t, idcardsim.Options{Baud: 115200}, idcard.Options{})
	ctx := context.Background()
	sim.PlaceCard(idcardsim.Fixtures()[0])
	if _, err := r.FindCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SelectCard(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := r.ReadBaseInfo(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	wire := idcardsim.WireTime(10+1295, 115200)
	if took < wire {
		t.Errorf("base read took %v, under its wire time %v", took, wire)
	}
	if wire < 112*time.Millisecond || wire > 114*time.Millisecond {
		t.Errorf("wire time %v, the notes say about 112 ms for the reply alone", wire)
	}
}

func TestFixtures(t *testing.T) {
	a, b := idcardsim.Fixtures(), idcardsim.Fixtures()
	if !reflect.DeepEqual(a, b) {
		t.Error("Fixtures is not deterministic")
	}
	a[0].Name = "changed"
	if idcardsim.Fixtures()[0].Name == "changed" {
		t.Error("Fixtures shares its cards")
	}
	types := map[idcard.CardType]bool{}
	for i, c := range b {
		types[c.Type] = true
		if err := c.Validate(); err != nil {
			t.Errorf("fixture %d: %v", i, err)
		}
		if len(c.Photo) != 1024 {
			t.Errorf("fixture %d: photo of %d bytes", i, len(c.Photo))
		}
		if _, err := idcard.EncodeText(c); err != nil {
			t.Errorf("fixture %d: %v", i, err)
		}
	}
	if len(types) != 4 {
		t.Errorf("fixtures cover %d card types, want 4", len(types))
	}
}

// BenchmarkCardToFields measures card placed → decoded fields (find,
// select, read base) over a pty with the sim paced at 115200 baud, and
// reports it against the wire time of the bytes actually exchanged (10
// bits a byte). x-wire is the ratio; the goal is ≤ 1.3.
func BenchmarkCardToFields(b *testing.B) {
	const baud = 115200
	sim, r, _ := mustRig(b, idcardsim.Options{Baud: baud}, idcard.Options{})
	ctx := context.Background()
	card := idcardsim.Fixtures()[0]
	before := sim.Stats()
	b.ResetTimer()
	for range b.N {
		sim.PlaceCard(card)
		found, err := r.FindCard(ctx)
		if err != nil || !found {
			b.Fatalf("FindCard = %v, %v", found, err)
		}
		if err := r.SelectCard(ctx); err != nil {
			b.Fatal(err)
		}
		c, err := r.ReadBaseInfo(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c.IDNumber != card.IDNumber {
			b.Fatal("wrong card")
		}
	}
	b.StopTimer()
	st := sim.Stats()
	bytesPerOp := float64(st.BytesIn+st.BytesOut-before.BytesIn-before.BytesOut) / float64(b.N)
	wire := float64(idcardsim.WireTime(1, baud)) * bytesPerOp
	perOp := float64(b.Elapsed()) / float64(b.N)
	b.ReportMetric(bytesPerOp, "wire-bytes/op")
	b.ReportMetric(wire/1e6, "wire-ms/op")
	b.ReportMetric(perOp/wire, "x-wire")
}
