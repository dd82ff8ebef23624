package core

import (
	"context"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Hardware is what the core needs from the kiosk's sensors and cameras.
type Hardware interface {
	Status() apitype.Hardware
	WaitPresence(ctx context.Context, after uint64, wait time.Duration) (seq uint64, at time.Time)
	// Photo is a JPEG from the camera that takes consent photos.
	Photo(ctx context.Context) ([]byte, error)
	// PhotoCamera is that camera's state (absent: none).
	PhotoCamera() apitype.DeviceStatus
}

// Presence waits up to wait for someone to be seen in front of the kiosk
// after sighting after (GET /v1/presence).
func (c *Core) Presence(ctx context.Context, after uint64, wait time.Duration) apitype.PresenceEvents {
	if c.hardware == nil {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		return apitype.PresenceEvents{Seq: after}
	}
	seq, at := c.hardware.WaitPresence(ctx, after, wait)
	out := apitype.PresenceEvents{Seq: seq}
	if !at.IsZero() {
		out.At = &at
	}
	return out
}

func (c *Core) hardwareStatus() *apitype.Hardware {
	if c.hardware == nil {
		return nil
	}
	h := c.hardware.Status()
	return &h
}
