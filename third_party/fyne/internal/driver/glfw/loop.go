package glfw

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/internal/app"
	"fyne.io/fyne/v2/internal/async"
	"fyne.io/fyne/v2/internal/cache"
	"fyne.io/fyne/v2/internal/driver/common"
	"fyne.io/fyne/v2/internal/painter"
	"fyne.io/fyne/v2/internal/scale"
)

type funcData struct {
	f    func()
	done chan struct{} // Zero allocation signalling channel
}

// channel for queuing functions on the main thread
var (
	funcQueue        = async.NewUnboundedChan[funcData]()
	running, drained atomic.Bool
)

// Fengqiao patch (third_party/fyne/README.md): the loop below no longer wakes 60
// times a second for ever. After quietFramesBeforeIdle frames in which
// nothing was drawn, animated or run on main, the main thread blocks in
// glfwWaitEventsTimeout until the X server has an event for it, a goroutine
// queues a function (fyne.Do), an animation is started, or idleWaitLimit
// passes. fyne-io/fyne#2506; the same idea as the unmerged fyne-io/fyne#5422,
// without its re-queuing of input events.
// quietFramesBeforeIdle frames with nothing painted or animated end the
// ticking: half a second at 60 Hz, so that a drag or a run of taps stays smooth.
const quietFramesBeforeIdle = 30

// idleWaitLimit bounds a wait, in case something marks a canvas dirty without
// going through fyne.Do (Fyne logs that as a threading error). It is long:
// each wake costs the main thread and the Go scheduler's sysmon about as much
// as everything else an idle kiosk-ui does (at 1 s, 60 wakes a minute were
// most of its CPU time). FENGQIAO_FYNE_IDLE_WAIT (a Go duration) sets it, so
// that a test can take the bound away and see that every wake is explicit.
var idleWaitLimit = durationFromEnv("FENGQIAO_FYNE_IDLE_WAIT", 10*time.Second)

func durationFromEnv(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

var (
	// queued counts functions sent to funcQueue and not yet taken off it:
	// the loop must not wait while one is on its way through the queue.
	queued atomic.Int64

	// waitMu orders waiting against wakeMain, so that a function queued just
	// before the loop waits is seen by it, one queued just after wakes it, and
	// no empty event is posted once the loop has stopped waiting (and perhaps
	// terminated GLFW).
	waitMu  sync.Mutex
	waiting bool
)

// wakeMain makes a loop that waits for events return from the wait.
func wakeMain() {
	waitMu.Lock()
	defer waitMu.Unlock()
	if waiting {
		postEmptyEvent()
	}
}

// waitForEvents blocks the main thread until there is something to do, or
// for at most idleWaitLimit.
func (d *gLDriver) waitForEvents() {
	waitMu.Lock()
	waiting = true
	waitMu.Unlock()
	select {
	case <-d.done:
	default:
		if queued.Load() == 0 && !d.animation.Running() {
			d.waitEvents(idleWaitLimit)
		}
	}
	waitMu.Lock()
	waiting = false
	waitMu.Unlock()
}

// Arrange that main.main runs on main thread.
func init() {
	runtime.LockOSThread()
	async.SetMainGoroutine()
}

// force a function f to run on the main thread
func runOnMain(f func()) {
	runOnMainWithWait(f, true)
}

// force a function f to run on the main thread and specify if we should wait for it to return
func runOnMainWithWait(f func(), wait bool) {
	// If we are on main before app run just execute - otherwise add it to the main queue and wait.
	// We also need to run it as-is if the app is in the process of shutting down as the queue will be stopped.
	if (!running.Load() && async.IsMainGoroutine()) || drained.Load() {
		f()
		return
	}

	queued.Add(1)
	if wait {
		done := common.DonePool.Get()
		defer common.DonePool.Put(done)

		funcQueue.In() <- funcData{f: f, done: done}
		wakeMain()
		<-done
	} else {
		funcQueue.In() <- funcData{f: f}
		wakeMain()
	}
}

// drawSingleFrame reports whether it painted any window.
func (d *gLDriver) drawSingleFrame() (painted bool) {
	refreshed := false
	for _, win := range d.windowList() {
		w := win.(*window)
		if w.closing {
			continue
		}

		// CheckDirtyAndClear must be checked after visibility,
		// because when a window becomes visible, it could be
		// showing old content without a dirty flag set to true.
		// Do the clear if and only if the window is visible.
		if !w.visible || !w.canvas.CheckDirtyAndClear() {
			// Window hidden or not being redrawn, mark canvasForObject
			// cache alive if it hasn't been done recently
			// n.b. we need to make sure threshold is a bit *after*
			// time.Now() - CacheDuration()
			threshold := time.Now().Add(10*time.Second - cache.ValidDuration)
			if w.lastWalkedTime.Before(threshold) {
				w.canvas.WalkTrees(nil, func(node *common.RenderCacheNode, _ fyne.Position) {
					// marks canvas for object cache entry alive
					_ = cache.GetCanvasForObject(node.Obj())
					// marks renderer cache entry alive
					if wid, ok := node.Obj().(fyne.Widget); ok {
						_, _ = cache.CachedRenderer(wid)
					}
				})
				w.lastWalkedTime = time.Now()
			}
			continue
		}

		painted = true
		w.RunWithContext(func() {
			if w.driver.repaintWindow(w) {
				refreshed = true
			}
		})
	}
	cache.Clean(refreshed)
	return painted
}

func (d *gLDriver) runGL() {
	if !running.CompareAndSwap(false, true) {
		return // Run was called twice.
	}

	d.init()
	if d.trayStart != nil {
		d.trayStart()
	}

	fyne.CurrentApp().Settings().AddListener(func(set fyne.Settings) {
		painter.ClearFontCache()
		cache.ResetThemeCaches()
		app.ApplySettingsWithCallback(set, fyne.CurrentApp(), func(w fyne.Window) {
			c, ok := w.Canvas().(*glCanvas)
			if !ok {
				return
			}
			c.applyThemeOutOfTreeObjects()
			c.reloadScale()
		})
	})

	if f := fyne.CurrentApp().Lifecycle().(*app.Lifecycle).OnStarted(); f != nil {
		f()
	}

	const frame = time.Second / 60
	eventTick := time.NewTicker(frame)
	quietFrames := 0
	for {
		if idleWaitSupported && quietFrames >= quietFramesBeforeIdle {
			d.waitForEvents()
			// What woke the loop is drawn now, not a frame later. An event
			// that changed nothing (a wake at idleWaitLimit, a pointer
			// moving over nothing) sends it straight back to waiting; a
			// queued function gets run and one frame after it.
			switch {
			case d.runFrame(true):
				quietFrames = 0
			case queued.Load() > 0 || d.quitting():
				quietFrames = quietFramesBeforeIdle - 1
			default:
				continue
			}
			eventTick.Reset(frame)
		}
		select {
		case <-d.done:
			eventTick.Stop()
			d.Terminate()
			l := fyne.CurrentApp().Lifecycle().(*app.Lifecycle)
			if f := l.OnStopped(); f != nil {
				l.QueueEvent(f)
			}

			// as we are shutting down make sure we drain the pending funcQueue and close it out.
			for len(funcQueue.Out()) > 0 {
				f := <-funcQueue.Out()
				queued.Add(-1)
				if f.done != nil {
					f.done <- struct{}{}
				}
			}
			drained.Store(true)
			funcQueue.Close()
			return
		case f := <-funcQueue.Out():
			queued.Add(-1)
			// A function is not a sign of more to come, as input is: it
			// gets the frame that paints what it changed, and if that
			// frame paints, the frames after it.
			if quietFrames > quietFramesBeforeIdle-1 { // Fyne's go.mod says go1.19: no min
				quietFrames = quietFramesBeforeIdle - 1
			}
			f.f()
			if f.done != nil {
				f.done <- struct{}{}
			}
		case <-eventTick.C:
			if d.runFrame(false) {
				quietFrames = 0
			} else if quietFrames++; idleWaitSupported && quietFrames == quietFramesBeforeIdle {
				eventTick.Stop()
			}
		}
	}
}

func (d *gLDriver) quitting() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// runFrame is one tick of the loop: input events, window state, animations
// and painting. It reports whether there was anything to animate or paint.
// woken is a frame run on waking from a wait: when it has nothing to paint
// or animate it stops before drawSingleFrame, whose walk of every object to
// keep Fyne's caches alive is the dearest part of an empty frame. Skipping
// it keeps stock Fyne's guarantee, since caches are only cleaned in
// drawSingleFrame, after the walk of any window not painted for a while.
func (d *gLDriver) runFrame(woken bool) (busy bool) {
	d.pollEvents()
	for i := 0; i < len(d.windows); i++ {
		w := d.windows[i].(*window)
		if w.viewport == nil {
			continue
		}

		if w.viewport.ShouldClose() {
			busy = true
			d.destroyWindow(w, i)
			i-- // Trailing windows are moved forward one step.
			continue
		}

		expand := w.shouldExpand
		fullScreen := w.fullScreen

		if expand && !fullScreen {
			busy = true
			w.fitContent()
			shouldExpand := w.shouldExpand
			w.shouldExpand = false
			view := w.viewport

			if shouldExpand && runtime.GOOS != "js" {
				view.SetSize(w.shouldWidth, w.shouldHeight)
			}
		}
	}

	busy = busy || d.animation.Running()
	if woken && !busy && !d.anyDirty() {
		return false
	}
	d.animation.TickAnimations()
	if d.drawSingleFrame() {
		busy = true
	}
	return busy
}

// anyDirty reports whether a visible window has something to paint, leaving
// its dirty flag as it was.
func (d *gLDriver) anyDirty() bool {
	for _, win := range d.windowList() {
		w := win.(*window)
		if w.closing || !w.visible {
			continue
		}
		if w.canvas.CheckDirtyAndClear() {
			w.canvas.SetDirty()
			return true
		}
	}
	return false
}

func (d *gLDriver) destroyWindow(w *window, index int) {
	w.visible = false
	w.viewport.Destroy()
	w.destroy(d)

	if index < len(d.windows)-1 {
		copy(d.windows[index:], d.windows[index+1:])
	}
	d.windows[len(d.windows)-1] = nil
	d.windows = d.windows[:len(d.windows)-1]

	if len(d.windows) == 0 {
		d.Quit()
	}
}

func (d *gLDriver) repaintWindow(w *window) bool {
	canvas := w.canvas
	freed := false
	if canvas.EnsureMinSize() {
		w.shouldExpand = true
	}
	freed = canvas.FreeDirtyTextures() > 0

	updateGLContext(w)
	canvas.paint(canvas.Size())

	view := w.viewport
	visible := w.visible

	if view != nil && visible {
		view.SwapBuffers()
	}

	// mark that we have walked the window and don't
	// need to walk it again to mark caches alive
	w.lastWalkedTime = time.Now()
	return freed
}

// refreshWindow requests that the specified window be redrawn
func refreshWindow(w *window) {
	w.canvas.SetDirty()
}

func updateGLContext(w *window) {
	canvas := w.canvas
	size := canvas.Size()

	// w.width and w.height are not correct if we are maximised, so figure from canvas
	winWidth := float32(scale.ToScreenCoordinate(canvas, size.Width)) * canvas.texScale
	winHeight := float32(scale.ToScreenCoordinate(canvas, size.Height)) * canvas.texScale

	canvas.Painter().SetFrameBufferScale(canvas.texScale)
	canvas.Painter().SetOutputSize(int(winWidth), int(winHeight))
}
