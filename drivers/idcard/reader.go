package idcard

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Default per-command timeouts. A base read makes the SAM talk to the card
// over RF for up to about 2 s; everything else is answered by the SAM
// itself well within a second.
const (
	DefaultTimeout     = time.Second
	DefaultReadTimeout = 3 * time.Second
)

const (
	// maxPending caps the bytes the pump keeps while no command is waiting
	// (a chattering line must not grow memory); the oldest are dropped.
	maxPending = 64 << 10
	// A port's read that returns 0, io.EOF faster than fastEOF is not a read
	// timeout (tarm's shortest is 100 ms) but a hung-up line; after
	// maxFastEOFs of those in a row the pump reports ErrPortClosed.
	fastEOF     = 5 * time.Millisecond
	maxFastEOFs = 50
	// eofBackoff paces re-reads of a port that keeps saying EOF at once, so
	// the pump does not spin a core.
	eofBackoff = 2 * time.Millisecond
)

// Options configure a Reader.
type Options struct {
	// Timeout applies to every command when set. When zero, base-info reads
	// get DefaultReadTimeout and all other commands DefaultTimeout.
	Timeout time.Duration
	// Log receives debug records about commands and framing problems
	// (never card contents). Nil discards them.
	Log *slog.Logger
}

// Reader drives a SAM over a serial port.
//
// One pump goroutine per Reader reads the port into a buffer, so a command
// can give up on time even when the port's Read blocks forever (a pty) or
// returns 0, io.EOF at every read timeout (github.com/tarm/serial): the
// command waits on the buffer with a timer, never on Read itself.
//
// Commands are serialised; a Reader is safe for concurrent use.
type Reader struct {
	port io.ReadWriter
	opts Options
	log  *slog.Logger

	cmdMu sync.Mutex // one exchange at a time

	inMu    sync.Mutex
	pending []byte        // bytes the pump read that no command has taken yet
	notify  chan struct{} // cap 1: "pending grew"

	dead    chan struct{} // closed when the pump exits
	pumpErr error         // why it exited; written before dead is closed

	closing   chan struct{}
	closeOnce sync.Once
}

// NewReader starts a Reader on port. Call Close to stop its goroutine.
func NewReader(port io.ReadWriter, opts Options) *Reader {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reader{
		port:    port,
		opts:    opts,
		log:     log,
		notify:  make(chan struct{}, 1),
		dead:    make(chan struct{}),
		closing: make(chan struct{}),
	}
	go r.pump()
	return r
}

// Close stops the Reader. Its pump goroutine can only leave a blocked Read
// when the port lets go, so Close closes port if it is an io.Closer: from
// NewReader on, the Reader owns the port. Close waits up to closeWait for
// the pump to exit and is safe to call more than once.
func (r *Reader) Close() error {
	var err error
	r.closeOnce.Do(func() {
		close(r.closing)
		if c, ok := r.port.(io.Closer); ok {
			if cerr := c.Close(); cerr != nil {
				err = fmt.Errorf("idcard: close port: %w", cerr)
			}
		}
		t := time.NewTimer(closeWait)
		defer t.Stop()
		select {
		case <-r.dead:
		case <-t.C:
			// A port whose Read ignores Close: the pump exits when Read
			// finally returns. Nothing waits for it.
			r.log.Warn("idcard: port read still blocked after close")
		}
	})
	return err
}

// closeWait bounds Close; tarm's blocking reads end within their 100 ms
// read timeout, a pty's at once.
const closeWait = 2 * time.Second

func (r *Reader) pump() {
	buf := make([]byte, 2048)
	fast := 0
	for {
		select {
		case <-r.closing:
			r.pumpErr = ErrClosed
			close(r.dead)
			return
		default:
		}
		start := time.Now()
		n, err := r.port.Read(buf)
		if n > 0 {
			r.inMu.Lock()
			r.pending = append(r.pending, buf[:n]...)
			if over := len(r.pending) - maxPending; over > 0 {
				r.pending = r.pending[:copy(r.pending, r.pending[over:])]
			}
			r.inMu.Unlock()
			select {
			case r.notify <- struct{}{}:
			default:
			}
			fast = 0
		}
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			select {
			case <-r.closing:
				r.pumpErr = ErrClosed
			default:
				r.pumpErr = fmt.Errorf("%w: %w", ErrPortClosed, err)
			}
			close(r.dead)
			return
		case n > 0:
		case time.Since(start) >= fastEOF:
			// An honest read timeout: "no data yet".
			fast = 0
		default:
			if fast++; fast >= maxFastEOFs {
				r.pumpErr = fmt.Errorf("%w: port keeps returning end of file (hung up)", ErrPortClosed)
				close(r.dead)
				return
			}
			t := time.NewTimer(eofBackoff)
			select {
			case <-t.C:
			case <-r.closing:
				t.Stop()
			}
		}
	}
}

// take moves the pump's bytes into s.
func (r *Reader) take(s *scanner) {
	r.inMu.Lock()
	s.push(r.pending)
	r.pending = r.pending[:0]
	r.inMu.Unlock()
}

// discard drops stale bytes (a late reply to a command that timed out,
// line noise) so they cannot pass for the next reply.
func (r *Reader) discard() int {
	r.inMu.Lock()
	n := len(r.pending)
	r.pending = r.pending[:0]
	r.inMu.Unlock()
	select {
	case <-r.notify:
	default:
	}
	return n
}

func (r *Reader) timeout(c Command) time.Duration {
	if r.opts.Timeout > 0 {
		return r.opts.Timeout
	}
	if c == CmdReadBase || c == CmdReadBaseFingerprint {
		return DefaultReadTimeout
	}
	return DefaultTimeout
}

// exchange sends c and waits for the first valid reply frame. Framing
// errors are logged and skipped (the scanner resynchronises); the last one
// is wrapped into the timeout error so the caller sees why.
func (r *Reader) exchange(ctx context.Context, c Command) (Response, error) {
	r.cmdMu.Lock()
	defer r.cmdMu.Unlock()
	select {
	case <-r.closing:
		return Response{}, fmt.Errorf("%s: %w", c, ErrClosed)
	case <-r.dead:
		return Response{}, fmt.Errorf("%s: %w", c, r.pumpErr)
	default:
	}
	if n := r.discard(); n > 0 {
		r.log.Debug("idcard: discarded stale bytes", "cmd", c.String(), "bytes", n)
	}
	req, err := c.Request().MarshalBinary()
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w", c, err)
	}
	start := time.Now()
	if _, err := r.port.Write(req); err != nil {
		return Response{}, fmt.Errorf("%s: write: %w: %w", c, ErrPortClosed, err)
	}
	timer := time.NewTimer(r.timeout(c))
	defer timer.Stop()

	var (
		s        scanner
		frameErr error
		dead     bool
	)
	for {
		r.take(&s)
		for {
			body, err := s.next()
			if errors.Is(err, errNeedMore) {
				break
			}
			if err == nil {
				var resp Response
				if resp, err = ParseResponse(body); err == nil {
					r.log.Debug("idcard: reply", "cmd", c.String(), "sw3", fmt.Sprintf("%02X", resp.SW3),
						"data", len(resp.Data), "took", time.Since(start), "noise", s.skipped)
					return resp, nil
				}
			}
			frameErr = err
			r.log.Debug("idcard: bad frame", "cmd", c.String(), "err", err)
		}
		if dead {
			return Response{}, fmt.Errorf("%s: %w", c, r.pumpErr)
		}
		select {
		case <-r.notify:
		case <-r.dead:
			dead = true // one more pass: the pump may have left bytes behind
		case <-r.closing:
			return Response{}, fmt.Errorf("%s: %w", c, ErrClosed)
		case <-timer.C:
			if frameErr != nil {
				return Response{}, fmt.Errorf("%s: %w (last frame error: %w)", c, ErrTimeout, frameErr)
			}
			if s.partial() {
				return Response{}, fmt.Errorf("%s: %w: reply stopped mid-frame", c, ErrTimeout)
			}
			return Response{}, fmt.Errorf("%s: %w", c, ErrTimeout)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return Response{}, fmt.Errorf("%s: %w: %w", c, ErrTimeout, ctx.Err())
			}
			return Response{}, fmt.Errorf("%s: %w", c, ctx.Err())
		}
	}
}

// command runs c and turns a failure status into an error.
func (r *Reader) command(ctx context.Context, c Command) (Response, error) {
	resp, err := r.exchange(ctx, c)
	if err != nil {
		return resp, err
	}
	if err := resp.Err(); err != nil {
		return resp, fmt.Errorf("%s: %w", c, err)
	}
	return resp, nil
}

// Reset resets the SAM (10 FF).
func (r *Reader) Reset(ctx context.Context) error {
	_, err := r.command(ctx, CmdReset)
	return err
}

// SAMStatus checks the SAM (11 FF); a failed self-test gives ErrSelfTest.
func (r *Reader) SAMStatus(ctx context.Context) error {
	_, err := r.command(ctx, CmdSAMStatus)
	return err
}

// SAMID reads the SAM's management number (12 FF) in its conventional
// printed form; see FormatSAMID.
func (r *Reader) SAMID(ctx context.Context) (string, error) {
	resp, err := r.command(ctx, CmdSAMID)
	if err != nil {
		return "", err
	}
	id, err := FormatSAMID(resp.Data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", CmdSAMID, err)
	}
	return id, nil
}

// SAMIDLen is the size of the SAM id reply.
const SAMIDLen = 16

// FormatSAMID prints the 16-byte SAM id the way vendor tools show it:
//
//	AA.BB-CCCCCCCC-DDDDDDDDDD-EEEEEEEEEE
//
// AA and BB are the low bytes of two little-endian 16-bit words (bytes
// 0–1, 2–3), C, D and E unsigned 32-bit little-endian integers (bytes 4–7,
// 8–11, 12–15), zero-padded to 2, 2, 8, 10 and 10 digits. The field layout
// is HslCommunication's (ExtractSafeModuleNumber); HSL prints D and E with
// at least 9 digits and as signed integers, which would show large values
// as negative, so the widths here follow the THID CVR SDK's licence string
// (%02d%02d-%08d-%010d). Use the raw bytes where the exact text matters.
func FormatSAMID(b []byte) (string, error) {
	if len(b) != SAMIDLen {
		return "", fmt.Errorf("%w: SAM id of %d bytes, want %d", ErrLength, len(b), SAMIDLen)
	}
	le := binary.LittleEndian
	return fmt.Sprintf("%02d.%02d-%08d-%010d-%010d",
		b[0], b[2], le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:])), nil
}

// FindCard asks whether a card is in the field (20 01). No card (SW3 80)
// is not an error: it returns false, nil. Every source answers 9F for a
// found card; a plain 90 is a success code too and is taken as found.
func (r *Reader) FindCard(ctx context.Context) (bool, error) {
	resp, err := r.exchange(ctx, CmdFindCard)
	if err != nil {
		return false, err
	}
	switch resp.SW3 {
	case StatusCardFound, StatusOK:
		return true, nil
	case 0x80:
		return false, nil
	}
	return false, fmt.Errorf("%s: %w", CmdFindCard, resp.Err())
}

// SelectCard selects the card found by FindCard (20 02).
func (r *Reader) SelectCard(ctx context.Context) error {
	_, err := r.command(ctx, CmdSelectCard)
	return err
}

// ReadBaseInfo reads the text and photo (30 01) of the selected card.
func (r *Reader) ReadBaseInfo(ctx context.Context) (*Card, error) {
	resp, err := r.command(ctx, CmdReadBase)
	if err != nil {
		return nil, err
	}
	c, err := ParseBaseInfo(resp.Data, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CmdReadBase, err)
	}
	return c, nil
}

// ReadBaseInfoWithFingerprint reads text, photo and fingerprint (30 10).
func (r *Reader) ReadBaseInfoWithFingerprint(ctx context.Context) (*Card, error) {
	resp, err := r.command(ctx, CmdReadBaseFingerprint)
	if err != nil {
		return nil, err
	}
	c, err := ParseBaseInfo(resp.Data, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CmdReadBaseFingerprint, err)
	}
	return c, nil
}

// ReadAppendedAddress reads the address the police appended after the card
// was issued (30 03; 70 bytes UCS-2LE). A card without one makes the SAM
// answer 91, which gives "", nil.
func (r *Reader) ReadAppendedAddress(ctx context.Context) (string, error) {
	resp, err := r.exchange(ctx, CmdReadAppendedAddress)
	if err != nil {
		return "", err
	}
	if resp.SW3 == 0x91 {
		return "", nil
	}
	if err := resp.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", CmdReadAppendedAddress, err)
	}
	if len(resp.Data)%2 != 0 || len(resp.Data) > AppendedAddressLen {
		return "", fmt.Errorf("%s: %w: %d bytes", CmdReadAppendedAddress, ErrLength, len(resp.Data))
	}
	return DecodeUCS2(resp.Data), nil
}

// AppendedAddressLen is the size of the appended-address reply.
const AppendedAddressLen = 70

// DecodeUCS2 decodes UCS-2LE text and drops its space/NUL padding.
func DecodeUCS2(b []byte) string {
	return strings.TrimRight(ucs2(b), " \x00")
}

// ParseBaseInfo decodes the data of a 30 01 reply (text length, photo
// length, text, photo) or, with fingerprint, of a 30 10 reply (text,
// photo and fingerprint lengths, then the three blocks).
func ParseBaseInfo(data []byte, fingerprint bool) (*Card, error) {
	nlen := 2
	if fingerprint {
		nlen = 3
	}
	if len(data) < 2*nlen {
		return nil, fmt.Errorf("%w: base info of %d bytes", ErrLength, len(data))
	}
	sizes := make([]int, nlen)
	total := 2 * nlen
	for i := range sizes {
		sizes[i] = int(binary.BigEndian.Uint16(data[2*i:]))
		total += sizes[i]
	}
	if total != len(data) {
		return nil, fmt.Errorf("%w: base info lengths add up to %d, reply has %d", ErrLength, total, len(data))
	}
	off := 2 * nlen
	c, err := DecodeText(data[off : off+sizes[0]])
	if err != nil {
		return nil, err
	}
	off += sizes[0]
	c.Photo = clone(data[off : off+sizes[1]])
	off += sizes[1]
	if fingerprint {
		c.Fingerprint = clone(data[off : off+sizes[2]])
	}
	return c, nil
}

// AppendBaseInfo is ParseBaseInfo's inverse, used by simulators and tests.
func AppendBaseInfo(dst []byte, c *Card, fingerprint bool) ([]byte, error) {
	text, err := EncodeText(c)
	if err != nil {
		return dst, err
	}
	blocks := [][]byte{text, c.Photo}
	if fingerprint {
		blocks = append(blocks, c.Fingerprint)
	}
	for _, b := range blocks {
		if len(b) > 0xFFFF {
			return dst, fmt.Errorf("%w: block of %d bytes", ErrFrameTooLong, len(b))
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(b)))
	}
	for _, b := range blocks {
		dst = append(dst, b...)
	}
	return dst, nil
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
