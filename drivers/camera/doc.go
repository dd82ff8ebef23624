// Package camera owns the kiosk's still cameras: taking one JPEG snapshot
// from a USB camera over V4L2 or from a village IP camera over HTTP, and the
// health of each camera as telemetry reports it.
//
// A Camera only takes snapshots; the kiosk never streams video. Both kinds
// hand back a Frame whose bytes are a whole JPEG that image/jpeg decodes:
// MJPEG frames from USB cameras get the default Huffman tables that many of
// them leave out, and YUYV frames are encoded here. Monitor wraps any Camera
// and keeps the Status a caller publishes (present, online, last frame,
// resolution, last error).
//
// "Not present" is told apart from "failed", as periph does for its drivers:
// a kiosk built without a camera, or whose USB camera is unplugged, returns
// errors wrapping ErrAbsent, which a caller skips and reports; anything else
// is a fault worth an alert. Every error this package returns starts with
// "camera: NAME:" and wraps one of the sentinels in errors.go or the
// underlying cause.
//
// Like every driver, the V4L2 logic receives its device through a small
// interface (Device) instead of opening paths: only OpenDevice, the thin
// adapter over github.com/blackjack/webcam (pure Go, so kioskd keeps
// CGO_ENABLED=0), touches /dev/video*. The HTTP camera receives the
// *http.Client it uses. camera/cameratest is a fake Camera for tests.
//
// Credentials: IP cameras take passwords in the URL's user information or
// in its query (…/snapshot.cgi?user=admin&pwd=…). Neither ever appears in an
// error, a Status or a String: URLs are shown with the password and every
// query value replaced by "xxxxx". Nothing in this package logs.
package camera
