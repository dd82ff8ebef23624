//go:build wasm || test_web_driver

// Fengqiao patch (third_party/fyne/README.md): the browser's GLFW has no wait, so
// the loop keeps ticking there.

package glfw

import "time"

const idleWaitSupported = false

func (d *gLDriver) waitEvents(time.Duration) {}

func postEmptyEvent() {}
