// Package idcardsim owns a simulated ID card reader: a SAM that speaks the
// idcard serial protocol on any io.ReadWriter (a pty master in tests and
// demos), holds at most one card, can pace its replies at a real baud rate
// and can inject line faults. It also owns the fake card fixtures.
//
// It answers like a SAM: find card gives 9F only with a card present (80
// otherwise), select fails with 81 unless a find succeeded since the card
// was placed, and reads fail with 41 unless the card is selected; removing
// the card forgets both.
package idcardsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
)

// Options configure a Sim.
type Options struct {
	// Baud paces replies at their wire time (10 bits per byte, 8N1) and
	// waits out each request's wire time before answering. Zero sends at
	// once.
	Baud int
	// SAMID is the 16-byte management number; zero uses DefaultSAMID.
	SAMID [idcard.SAMIDLen]byte
	// Log receives debug records (commands, faults; never card contents).
	// Nil discards them.
	Log *slog.Logger
}

// Fault is a line or SAM misbehaviour applied to the next reply.
type Fault int

// Faults.
const (
	// FaultNoise sends garbage bytes before the reply.
	FaultNoise Fault = iota + 1
	// FaultBadChecksum flips the reply's CHK byte.
	FaultBadChecksum
	// FaultWrongLength sends the reply with LEN one too small.
	FaultWrongLength
	// FaultShortFrame sends a frame with LEN 2 before the reply.
	FaultShortFrame
	// FaultStall sends the first half of the reply and then nothing.
	FaultStall
	// FaultDrop sends nothing.
	FaultDrop
	// FaultSplit sends the reply one byte per write.
	FaultSplit
)

func (f Fault) String() string {
	switch f {
	case FaultNoise:
		return "noise"
	case FaultBadChecksum:
		return "bad-checksum"
	case FaultWrongLength:
		return "wrong-length"
	case FaultShortFrame:
		return "short-frame"
	case FaultStall:
		return "stall"
	case FaultDrop:
		return "drop"
	case FaultSplit:
		return "split"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Stats counts what crossed the wire.
type Stats struct {
	Requests int // valid request frames received
	BytesIn  int // bytes of those frames
	BytesOut int // bytes written, faults included
}

// Sim is a simulated reader. Its methods are safe for concurrent use.
type Sim struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	card     *idcard.Card
	appended string
	found    bool // a find succeeded since the card was placed
	selected bool
	faults   []Fault
	statuses []byte
	stats    Stats
}

// New returns a Sim with no card.
func New(opts Options) *Sim {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.SAMID == ([idcard.SAMIDLen]byte{}) {
		opts.SAMID = DefaultSAMID()
	}
	return &Sim{opts: opts, log: log}
}

// DefaultSAMID is a made-up management number; FormatSAMID prints it as
// 05.01-20230915-0000123456-0987654321.
func DefaultSAMID() [idcard.SAMIDLen]byte {
	var b [idcard.SAMIDLen]byte
	b[0], b[2] = 5, 1
	putLE32(b[4:], 20230915)
	putLE32(b[8:], 123456)
	putLE32(b[12:], 987654321)
	return b
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// PlaceCard puts c on the reader (replacing any card). The Sim keeps c;
// do not change it afterwards.
func (s *Sim) PlaceCard(c *idcard.Card) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.appended, s.found, s.selected = c, "", false, false
}

// RemoveCard takes the card away.
func (s *Sim) RemoveCard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.appended, s.found, s.selected = nil, "", false, false
}

// SetAppendedAddress gives the card on the reader an appended address
// (追加住址); "" removes it. It is forgotten with the card.
func (s *Sim) SetAppendedAddress(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appended = addr
}

// InjectFault queues f for the next reply; several queue in order.
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// InjectStatus makes the next reply carry sw3 and no data, whatever the
// command; several queue in order.
func (s *Sim) InjectStatus(sw3 byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, sw3)
}

// Stats returns the counters so far.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Serve answers requests on port until ctx is done or port fails. It
// returns ctx.Err() or the read error (io.EOF when the stream ends).
//
// Port reads run in a goroutine that can only end when Read returns:
// cancel ctx and close the port to stop everything.
func (s *Sim) Serve(ctx context.Context, port io.ReadWriter) error {
	type frame struct {
		body []byte
		err  error
	}
	frames := make(chan frame)
	done := make(chan struct{})
	defer close(done)
	go func() {
		d := idcard.NewDecoder(port)
		for {
			body, err := d.Next()
			select {
			case frames <- frame{body, err}:
			case <-done:
				return
			}
			if err != nil && !isFramingErr(err) {
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f := <-frames:
			if f.err != nil && !isFramingErr(f.err) {
				return fmt.Errorf("idcardsim: read: %w", f.err)
			}
			if err := s.answer(ctx, port, f.body, f.err); err != nil {
				return err
			}
		}
	}
}

func isFramingErr(err error) bool {
	return errors.Is(err, idcard.ErrChecksum) || errors.Is(err, idcard.ErrShortFrame) || errors.Is(err, idcard.ErrFrameTooLong)
}

// answer replies to one request (or to a framing error, as a SAM does:
// 10 for a bad checksum, 11 for a bad length).
func (s *Sim) answer(ctx context.Context, port io.Writer, body []byte, ferr error) error {
	var resp idcard.Response
	reqLen := 0
	if ferr != nil {
		resp.SW3 = 0x11
		if errors.Is(ferr, idcard.ErrChecksum) {
			resp.SW3 = 0x10
		}
		s.log.Debug("idcardsim: bad request frame", "err", ferr)
	} else {
		reqLen = len(idcard.Preamble) + 2 + len(body) + 1
		req, err := idcard.ParseRequest(body)
		if err != nil {
			resp.SW3 = 0x11
		} else {
			resp = s.handle(req.Command())
		}
	}
	fault, out, err := s.finish(resp, reqLen)
	if err != nil {
		return err
	}
	if s.opts.Baud > 0 && reqLen > 0 {
		// The request's last byte arrives one wire time after its first.
		if err := sleepCtx(ctx, wireTime(reqLen, s.opts.Baud)); err != nil {
			return err
		}
	}
	s.log.Debug("idcardsim: reply", "sw3", fmt.Sprintf("%02X", resp.SW3), "bytes", len(out), "fault", fault.String())
	chunk := 0
	if fault == FaultSplit {
		chunk = 1
	}
	if err := s.send(ctx, port, out, chunk); err != nil {
		return err
	}
	s.mu.Lock()
	s.stats.BytesOut += len(out)
	s.mu.Unlock()
	return nil
}

// finish applies any queued status override and fault and encodes the
// reply.
func (s *Sim) finish(resp idcard.Response, reqLen int) (Fault, []byte, error) {
	s.mu.Lock()
	if reqLen > 0 {
		s.stats.Requests++
		s.stats.BytesIn += reqLen
	}
	if len(s.statuses) > 0 {
		resp = idcard.Response{SW3: s.statuses[0]}
		s.statuses = s.statuses[1:]
	}
	var fault Fault
	if len(s.faults) > 0 {
		fault = s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()

	out, err := resp.MarshalBinary()
	if err != nil {
		return 0, nil, fmt.Errorf("idcardsim: encode reply: %w", err)
	}
	switch fault {
	case FaultNoise:
		out = append([]byte{0x00, 0xAA, 0x55, 0xAA, 0xAA, 0x96, 0xFF, 0x13}, out...)
	case FaultBadChecksum:
		out[len(out)-1] ^= 0xFF
	case FaultWrongLength:
		n := int(out[5])<<8 | int(out[6]) - 1
		out[5], out[6] = byte(n>>8), byte(n)
	case FaultShortFrame:
		out = append([]byte(idcard.Preamble+"\x00\x02\x00\x02"), out...)
	case FaultStall:
		out = out[:len(out)/2]
	case FaultDrop:
		out = nil
	}
	return fault, out, nil
}

// handle is the SAM's state machine.
func (s *Sim) handle(c idcard.Command) idcard.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := func(data []byte) idcard.Response { return idcard.Response{SW3: idcard.StatusOK, Data: data} }
	fail := func(sw3 byte) idcard.Response { return idcard.Response{SW3: sw3} }
	switch c {
	case idcard.CmdReset:
		s.found, s.selected = false, false
		return ok(nil)
	case idcard.CmdSAMStatus:
		return ok(nil)
	case idcard.CmdSAMID:
		return ok(append([]byte(nil), s.opts.SAMID[:]...))
	case idcard.CmdFindCard:
		if s.card == nil {
			return fail(0x80)
		}
		s.found = true
		return idcard.Response{SW3: idcard.StatusCardFound, Data: make([]byte, 4)}
	case idcard.CmdSelectCard:
		if s.card == nil || !s.found {
			return fail(0x81)
		}
		s.selected = true
		return ok(make([]byte, 8))
	case idcard.CmdReadBase, idcard.CmdReadBaseFingerprint:
		if s.card == nil || !s.selected {
			return fail(0x41)
		}
		data, err := idcard.AppendBaseInfo(nil, s.card, c == idcard.CmdReadBaseFingerprint)
		if err != nil {
			s.log.Debug("idcardsim: card cannot be encoded", "err", err)
			return fail(0x41)
		}
		return ok(data)
	case idcard.CmdReadAppendedAddress:
		if s.card == nil || !s.selected {
			return fail(0x41)
		}
		if s.appended == "" {
			return fail(0x91)
		}
		data, err := encodeUCS2(s.appended, idcard.AppendedAddressLen)
		if err != nil {
			s.log.Debug("idcardsim: appended address cannot be encoded", "err", err)
			return fail(0x41)
		}
		return ok(data)
	}
	return fail(0x21)
}

// encodeUCS2 lays s out as UCS-2LE padded with spaces to size bytes.
func encodeUCS2(s string, size int) ([]byte, error) {
	b := make([]byte, 0, size)
	for _, r := range s {
		if r > 0xFFFF {
			return nil, fmt.Errorf("idcardsim: %U is outside UCS-2", r)
		}
		b = append(b, byte(r), byte(r>>8))
	}
	if len(b) > size {
		return nil, fmt.Errorf("idcardsim: text of %d bytes, room for %d", len(b), size)
	}
	for len(b) < size {
		b = append(b, ' ', 0)
	}
	return b, nil
}

// pacingChunk is how many bytes go per write when pacing: about 5.6 ms of
// wire at 115200 baud, fine enough that the receiver sees a trickle.
const pacingChunk = 64

// send writes out, paced at the baud rate when set. Pacing follows an
// absolute schedule from the first byte, so sleep overshoots do not add
// up.
func (s *Sim) send(ctx context.Context, w io.Writer, out []byte, chunk int) error {
	if len(out) == 0 {
		return nil
	}
	if chunk == 0 {
		chunk = len(out)
		if s.opts.Baud > 0 {
			chunk = pacingChunk
		}
	}
	start := time.Now()
	for sent := 0; sent < len(out); {
		n := min(chunk, len(out)-sent)
		if s.opts.Baud > 0 {
			if err := sleepCtx(ctx, time.Until(start.Add(wireTime(sent+n, s.opts.Baud)))); err != nil {
				return err
			}
		}
		if _, err := w.Write(out[sent : sent+n]); err != nil {
			return fmt.Errorf("idcardsim: write: %w", err)
		}
		sent += n
	}
	return nil
}

// WireTime is how long n bytes take at baud with 8N1 framing (10 bits a
// byte).
func WireTime(n, baud int) time.Duration { return wireTime(n, baud) }

func wireTime(n, baud int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(baud)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
