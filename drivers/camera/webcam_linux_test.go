//go:build linux

package camera_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// TestOpenDevice runs the real adapter on the paths every machine has: a
// missing node is absent, and a node that is not a V4L2 device (ENOTTY on
// VIDIOC_QUERYCAP) is a failure a technician must see.
func TestOpenDevice(t *testing.T) {
	tests := []struct {
		path   string
		absent bool
	}{
		{"/dev/video-kiosk-does-not-exist", true},
		{"/dev/null", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dev, err := camera.OpenDevice(tt.path)
			if err == nil {
				dev.Close()
				t.Fatalf("OpenDevice(%s) succeeded", tt.path)
			}
			if errors.Is(err, camera.ErrAbsent) != tt.absent {
				t.Errorf("err = %v, absent %v", err, tt.absent)
			}
			c, err := camera.NewV4L2(camera.V4L2Config{Name: "front", Path: tt.path})
			if err != nil {
				t.Fatal(err)
			}
			present, err := c.Probe(context.Background())
			if tt.absent && (present || err != nil) {
				t.Errorf("Probe = %v, %v; want false, nil", present, err)
			}
			if !tt.absent && err == nil {
				t.Errorf("Probe = %v, nil; want the error", present)
			}
			_, err = c.Snapshot(context.Background())
			t.Logf("Snapshot: %v", err)
			if err == nil || errors.Is(err, camera.ErrAbsent) != tt.absent {
				t.Errorf("Snapshot err = %v, absent %v", err, tt.absent)
			}
		})
	}
}
