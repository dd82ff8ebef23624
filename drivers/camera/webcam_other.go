//go:build !linux

package camera

import (
	"errors"
	"fmt"
)

// OpenDevice reports every device absent: V4L2 is Linux's. The package
// still builds elsewhere so that the HTTP camera and the tests of the frame
// handling run on a developer's machine.
func OpenDevice(path string) (Device, error) {
	return nil, fmt.Errorf("open %s: %w: %w", path, ErrAbsent, errors.ErrUnsupported)
}
