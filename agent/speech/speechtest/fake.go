// Package speechtest is a fake read-aloud device for tests of what uses
// speech: it records what it was asked to say instead of saying it.
package speechtest

import (
	"sync"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Fake records utterances. Its zero value is a ready device.
type Fake struct {
	mu     sync.Mutex
	spoken []string
	err    error
	state  string
}

// SetFailing makes Speak return err (nil: speak again) and Status report
// it as failed.
func (f *Fake) SetFailing(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
	f.state = ""
	if err != nil {
		f.state = apitype.DeviceFailed
	}
}

// Speak records text.
func (f *Fake) Speak(text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.spoken = append(f.spoken, text)
	return nil
}

// Status reports ready, or failed after SetFailing.
func (f *Fake) Status() apitype.DeviceStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return apitype.DeviceStatus{State: f.state, LastError: f.err.Error()}
	}
	return apitype.DeviceStatus{State: apitype.DeviceReady}
}

// Spoken returns what was said, in order.
func (f *Fake) Spoken() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.spoken...)
}
