// Package speech owns the kiosk's read-aloud: speaking a screen's text
// through the espeak-ng command on the default ALSA device, one utterance
// at a time, and reporting whether the kiosk can speak at all.
//
// Voice. Debian 12's espeak-ng 1.51 has two Mandarin voices, and only one
// reads hanzi as Mandarin. Measured with `espeak-ng -q -x` on 你好，请选择服务:
//
//	-v cmn              (en)nI55Tr'i:55_| h,eI55@55Tr'i:55(cmn)_| ...
//	-v cmn-latn-pinyin  n'i35_| X'Au214_| tS;h'i35N_| S;'y&21n_| ts'o-35_| f'u35_| wu33_|
//
// "cmn" (and "zh", which picks it) turns each hanzi into pinyin with a tone
// digit and then switches to English to read it: "ni three, hao three". The
// "cmn-latn-pinyin" voice gives Mandarin phonemes with tones, third-tone
// sandhi included (你 35 before 好 214), so it is DefaultVoice.
//
// Personal data: spoken text can hold a name; nothing here logs it.
package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// DefaultVoice reads Chinese characters as Mandarin (see the package doc).
const DefaultVoice = "cmn-latn-pinyin"

// DefaultSpeed in words per minute: espeak-ng's 175 is fast for the older
// villagers who use read-aloud most.
const DefaultSpeed = 140

// MaxRunes bounds one utterance: a screen's worth of text, not a document.
const MaxRunes = 500

// Errors of Speak.
var (
	ErrAbsent  = errors.New("speech: espeak-ng is not installed")
	ErrTooLong = errors.New("speech: text too long")
	ErrClosed  = errors.New("speech: closed")
)

// Options configure an Espeak.
type Options struct {
	Binary string // the command, looked up in PATH; default "espeak-ng"
	Voice  string // default DefaultVoice
	Speed  int    // words per minute; default DefaultSpeed
	Log    *slog.Logger
}

// Espeak speaks through espeak-ng. Its methods are safe for concurrent use.
type Espeak struct {
	path  string // "" when espeak-ng is missing: the device is absent
	voice string
	speed int
	log   *slog.Logger

	mu     sync.Mutex // serialises Speak and Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the current utterance's process has exited
	closed bool

	statusMu sync.Mutex
	status   apitype.DeviceStatus
}

// New finds espeak-ng and checks that it has the voice. A missing command
// makes the device absent, which is not an error: boards without a speaker
// are built without it. A command that fails the check is "failed".
func New(ctx context.Context, opts Options) *Espeak {
	if opts.Binary == "" {
		opts.Binary = "espeak-ng"
	}
	if opts.Voice == "" {
		opts.Voice = DefaultVoice
	}
	if opts.Speed <= 0 {
		opts.Speed = DefaultSpeed
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	e := &Espeak{voice: opts.Voice, speed: opts.Speed, log: opts.Log,
		status: apitype.DeviceStatus{State: apitype.DeviceAbsent}}
	path, err := exec.LookPath(opts.Binary)
	if err != nil {
		e.log.Info("no read-aloud: espeak-ng not found", "binary", opts.Binary)
		return e
	}
	e.path = path
	e.status.State = apitype.DeviceReady
	// -q: phonemes only, no audio; fails at once when the voice is missing.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-q", "-x", "-v", e.voice, "--stdin")
	cmd.Stdin = strings.NewReader("你好")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.setStatus(apitype.DeviceFailed, fmt.Errorf("espeak-ng -v %s: %v: %s", e.voice, err, lastLine(out)))
		e.log.Warn("read-aloud unavailable", "voice", e.voice, "err", e.status.LastError)
	}
	return e
}

// Status is the read-aloud device's health for GET /v1/devices.
func (e *Espeak) Status() apitype.DeviceStatus {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	return e.status
}

func (e *Espeak) setStatus(state string, err error) {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	e.status.State = state
	e.status.LastError = ""
	if err != nil {
		e.status.LastError = err.Error()
	}
}

func (e *Espeak) args(extra ...string) []string {
	return append([]string{"-v", e.voice, "-s", strconv.Itoa(e.speed), "--stdin"}, extra...)
}

// Speak starts reading text aloud and returns without waiting for it to
// finish. An utterance still playing is cut off first: a villager who taps
// "read aloud" on the next screen wants that screen, not the end of the
// last one. Text goes in on stdin, so text starting with '-' is never taken
// for an option.
func (e *Espeak) Speak(text string) error {
	if e.path == "" {
		return ErrAbsent
	}
	if n := len([]rune(text)); n > MaxRunes {
		return fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, MaxRunes)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.stopLocked()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, e.path, e.args()...)
	cmd.Stdin = strings.NewReader(text)
	stderr := &capped{max: 4 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		cancel()
		e.setStatus(apitype.DeviceFailed, err)
		return fmt.Errorf("speech: start espeak-ng: %w", err)
	}
	done := make(chan struct{})
	e.cancel, e.done = cancel, done
	runes := len([]rune(text))
	go func() {
		defer close(done)
		err := cmd.Wait()
		interrupted := ctx.Err() != nil
		cancel()
		switch {
		case interrupted:
			e.log.Debug("utterance cut off", "runes", runes)
		case err != nil:
			e.setStatus(apitype.DeviceFailed, fmt.Errorf("espeak-ng: %v: %s", err, stderr.lastLine()))
			e.log.Warn("read-aloud failed", "err", err, "stderr", stderr.lastLine())
		case stderr.hasError():
			// Measured: with no sound card espeak-ng exits 0 after ALSA's
			// "Unknown PCM default" and "error: No such file or directory";
			// stderr is the only sign that nothing was heard.
			e.setStatus(apitype.DeviceFailed, fmt.Errorf("espeak-ng: %s", stderr.lastLine()))
			e.log.Warn("read-aloud produced no sound", "stderr", stderr.lastLine())
		default:
			e.setStatus(apitype.DeviceReady, nil)
		}
	}()
	return nil
}

// stopLocked ends the current utterance, if any, and waits for its process
// to exit, so two never play over each other.
func (e *Espeak) stopLocked() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	e.cancel, e.done = nil, nil
}

// Stop cuts off the current utterance.
func (e *Espeak) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopLocked()
}

// Close stops speaking for good; kioskd calls it at shutdown so that no
// espeak-ng outlives it.
func (e *Espeak) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopLocked()
	e.closed = true
	return nil
}

// Synthesize writes text spoken by the voice to a WAV file instead of the
// sound card (espeak-ng -w), and waits for it. Tests use it to prove the
// voice produces audio for Chinese text on a machine without a sound card.
func (e *Espeak) Synthesize(ctx context.Context, text, wavPath string) error {
	if e.path == "" {
		return ErrAbsent
	}
	cmd := exec.CommandContext(ctx, e.path, e.args("-w", wavPath)...)
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("speech: espeak-ng -w: %v: %s", err, lastLine(out))
	}
	return nil
}

// capped keeps the first max bytes written to it.
type capped struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) lastLine() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lastLine(c.buf.Bytes())
}

func (c *capped) hasError() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range strings.Split(c.buf.String(), "\n") {
		if strings.HasPrefix(l, "error:") || strings.HasPrefix(l, "Error:") {
			return true
		}
	}
	return false
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
