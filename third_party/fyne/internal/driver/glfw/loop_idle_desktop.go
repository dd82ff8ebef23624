//go:build !wasm && !test_web_driver

// Fengqiao patch (third_party/fyne/README.md): the GLFW calls behind the loop's
// idle wait.

package glfw

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"

	"github.com/go-gl/glfw/v3.3/glfw"
)

const idleWaitSupported = true

func (d *gLDriver) waitEvents(limit time.Duration) {
	glfw.WaitEventsTimeout(limit.Seconds())
}

// postEmptyEvent may run on any goroutine. go-gl's binding panics with the
// next error on its shared error channel, which may be another call's; that
// error is logged here rather than crash the goroutine that queued a func.
func postEmptyEvent() {
	defer func() {
		if r := recover(); r != nil {
			fyne.LogError("glfw: waking the event loop", errFromPanic(r))
		}
	}()
	glfw.PostEmptyEvent()
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprint(p.v) }

func errFromPanic(r any) error {
	if err, ok := r.(error); ok {
		return err
	}
	return panicError{r}
}
