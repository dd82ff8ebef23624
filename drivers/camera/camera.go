package camera

import (
	"context"
	"errors"
	"sync"
	"time"
)

// MaxFrameBytes is the default cap on one frame: a 1080p JPEG from an IP
// camera is well under 1 MiB and a 1080p YUYV frame is 4 MiB, so a camera
// that sends more is broken or hostile, and the cap keeps it from exhausting
// a 1 GiB board's memory.
const MaxFrameBytes = 8 << 20

// Camera takes JPEG snapshots. Implementations are safe for concurrent use.
type Camera interface {
	// Snapshot returns one whole frame, or an error wrapping ErrAbsent
	// when there is no camera, or the failure. It gives up when ctx is
	// done.
	Snapshot(ctx context.Context) (Frame, error)
}

// Frame is one snapshot.
type Frame struct {
	// JPEG is a whole JPEG image (SOI to EOI) that image/jpeg decodes.
	JPEG []byte
	// Width and Height are the image's size in pixels, from its SOF.
	Width, Height int
	// Time is when the frame was captured, by the camera's clock
	// function (for an HTTP camera: when its answer began).
	Time time.Time
}

// Status is a camera's health as telemetry reports it. Its JSON names follow
// docs/mqtt.md (snake case); LastError never carries credentials.
type Status struct {
	Name string `json:"name"`
	// Present is false when the last Snapshot found no camera
	// (ErrAbsent). Present and Online are false until Checked is set.
	Present bool `json:"present"`
	// Online is true when the last Snapshot returned a frame.
	Online bool `json:"online"`
	// Checked is when the last Snapshot ended.
	Checked time.Time `json:"checked,omitzero"`
	// LastFrame is the Time of the last frame; Width and Height are its
	// resolution.
	LastFrame time.Time `json:"last_frame,omitzero"`
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	// LastError is the last failure's message (not ErrAbsent's, which is
	// not a failure), kept after the camera recovers; LastErrorTime is
	// when it happened.
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	// Failures counts the failed Snapshots in a row; a frame or an
	// absent camera (which is not failing) resets it.
	Failures int `json:"failures"`
}

// Monitor is a Camera that keeps the Status of the camera it wraps from the
// outcome of each Snapshot, so every kind of camera reports health the same
// way without bookkeeping of its own.
type Monitor struct {
	cam Camera
	now func() time.Time

	mu sync.Mutex
	st Status
}

// NewMonitor wraps cam. now stamps Checked and LastErrorTime; nil uses
// time.Now.
func NewMonitor(name string, cam Camera, now func() time.Time) *Monitor {
	if now == nil {
		now = time.Now
	}
	return &Monitor{cam: cam, now: now, st: Status{Name: name}}
}

// Snapshot takes a snapshot with the wrapped camera and records the outcome.
// A cancellation by the caller records nothing: it says nothing about the
// camera.
func (m *Monitor) Snapshot(ctx context.Context) (Frame, error) {
	f, err := m.cam.Snapshot(ctx)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return f, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Checked = now
	switch {
	case err == nil:
		m.st.Present, m.st.Online, m.st.Failures = true, true, 0
		m.st.LastFrame, m.st.Width, m.st.Height = f.Time, f.Width, f.Height
	case errors.Is(err, ErrAbsent):
		m.st.Present, m.st.Online, m.st.Failures = false, false, 0
	default:
		m.st.Present, m.st.Online = true, false
		m.st.Failures++
		m.st.LastError, m.st.LastErrorTime = err.Error(), now
	}
	return f, err
}

// Status returns the camera's health after the last Snapshot.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st
}
