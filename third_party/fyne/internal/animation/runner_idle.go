// Fengqiao patch (third_party/fyne/README.md): lets the event loop tell whether it
// may wait for events.

package animation

// Running reports whether an animation has been started and not yet
// finished, so the driver must keep ticking.
func (r *Runner) Running() bool {
	r.animationMutex.RLock()
	defer r.animationMutex.RUnlock()
	return r.runnerStarted
}
