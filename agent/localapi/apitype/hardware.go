package apitype

import "time"

// DeviceUnchecked is a camera not yet checked since kioskd started.
const DeviceUnchecked = "unchecked"

// Hardware is the health of the kiosk's sensors, LED and cameras, in
// GET /v1/status and telemetry. State is DeviceAbsent, DeviceReady or
// DeviceFailed (cameras also DeviceUnchecked).
type Hardware struct {
	PIR     InputStatus    `json:"pir"`
	Tamper  InputStatus    `json:"tamper"`
	LED     LEDStatus      `json:"led"`
	Cameras []CameraStatus `json:"cameras"`
}

// InputStatus is a GPIO input's health and level.
type InputStatus struct {
	State string `json:"state"`
	// Active: motion seen now (pir), the enclosure open (tamper).
	Active bool `json:"active"`
	// Changed is when Active last changed; Since when State did.
	Changed   time.Time `json:"changed,omitzero"`
	Since     time.Time `json:"since,omitzero"`
	Polling   bool      `json:"polling,omitempty"` // the line has no edge detection here
	LastError string    `json:"last_error,omitempty"`
}

// LEDStatus is the status LED: the pattern it shows (online, offline,
// fault) when it works.
type LEDStatus struct {
	State     string `json:"state"`
	Pattern   string `json:"pattern,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// CameraStatus is one camera's health, so the township can count the
// village's cameras online (村(社区)视频监控数和覆盖率).
type CameraStatus struct {
	Name      string     `json:"name"`
	State     string     `json:"state"`
	Checked   *time.Time `json:"checked,omitempty"`
	LastFrame *time.Time `json:"last_frame,omitempty"`
	Width     int        `json:"width,omitempty"`
	Height    int        `json:"height,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Failures  int        `json:"failures"`
}

// PhotoRequest is the body of POST /v1/mediator/cases/{id}/photos: a photo
// of a session just logged, taken only with the parties' consent.
type PhotoRequest struct {
	Session string `json:"session"`
	Consent bool   `json:"consent"`
}

// Photo is the answer: the mediation_photo record committed.
type Photo struct {
	ID     string `json:"id"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

// PresenceEvents is the answer of GET /v1/presence: the last time someone
// was seen in front of the kiosk, so a dimmed screen wakes.
type PresenceEvents struct {
	Seq uint64     `json:"seq"`
	At  *time.Time `json:"at,omitempty"`
}
