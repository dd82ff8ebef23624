package camera

import "errors"

// Errors returned by this package. Every error it returns is wrapped as
// "camera: NAME: …" around one of these (or around the underlying cause, such
// as a network error), so callers test with errors.Is; the texts leave out
// the "camera:" prefix because the wrapping adds it.
var (
	// ErrAbsent: there is no camera where the configuration points (no
	// device node, or the USB camera was unplugged). The caller skips the
	// camera and reports it as not present; it is not a failure.
	ErrAbsent = errors.New("not present")

	// ErrTimeout: no whole frame arrived before the Snapshot's deadline
	// or the camera's own Timeout. A cancellation by the caller is
	// reported as context.Canceled instead.
	ErrTimeout = errors.New("timed out waiting for a frame")

	// ErrUnauthorized: an HTTP camera refused the credentials (401 or 403
	// after authenticating), or wants some and none are configured.
	ErrUnauthorized = errors.New("credentials refused")
	// ErrHTTPStatus: an HTTP camera answered with another status than 2xx.
	ErrHTTPStatus = errors.New("unexpected HTTP status")

	// ErrNotJPEG: what the camera sent is not a whole JPEG image (wrong
	// content type, no SOI or EOI marker, broken segments).
	ErrNotJPEG = errors.New("not a JPEG image")
	// ErrFrameTooLarge: a frame, or the part of a stream before it, is
	// larger than the camera's MaxFrameBytes.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrBadStream: an MJPEG stream (multipart/x-mixed-replace) is
	// malformed before its first frame ends.
	ErrBadStream = errors.New("malformed MJPEG stream")

	// ErrBadFrame: a raw V4L2 frame does not have the length its pixel
	// format and size need.
	ErrBadFrame = errors.New("malformed raw frame")
	// ErrNoFormat: the V4L2 device offers none of the pixel formats this
	// package reads (MJPEG, JPEG, YUYV).
	ErrNoFormat = errors.New("no supported pixel format")

	// ErrConfig: NewV4L2 or NewHTTP was given an unusable configuration.
	ErrConfig = errors.New("invalid configuration")
)
