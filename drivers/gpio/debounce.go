package gpio

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// debouncer turns raw changes of a line into settled ones. It is a plain
// state machine that Input.Run feeds with the times it reads, so its rules
// are tested without goroutines or timers.
//
// The rule: a level is reported once the line has been quiet (no edge, no
// different sample) for the whole window, and only if it differs from the
// level reported before. A contact that bounces settles once; a glitch that
// comes back to where it started reports nothing; a level that holds is
// reported once however long it holds.
type debouncer struct {
	window  time.Duration
	stable  gpio.Level // the level last reported, or assumed at start
	last    gpio.Level // the level last read
	pending bool       // a change was seen that has not settled yet
	since   time.Time  // when that change was seen
}

// edge records an edge seen at now, with the level read after it. The
// window starts again even if the level reads as before: an edge means the
// line moved, and a fast bounce can be back before it is read.
func (d *debouncer) edge(now time.Time, level gpio.Level) {
	d.last, d.pending, d.since = level, true, now
}

// sample records a level read at now with no edge to go with it (a poll, or
// a re-read in case the kernel dropped an edge), and settles what is due.
func (d *debouncer) sample(now time.Time, level gpio.Level) (settled gpio.Level, at time.Time, ok bool) {
	if level != d.last {
		d.edge(now, level)
	}
	if !d.pending || now.Before(d.since.Add(d.window)) {
		return d.stable, time.Time{}, false
	}
	d.pending = false
	if d.last == d.stable {
		return d.stable, time.Time{}, false
	}
	d.stable = d.last
	return d.stable, d.since, true
}

// due is when the pending change settles; ok is false with none pending.
func (d *debouncer) due() (at time.Time, ok bool) {
	return d.since.Add(d.window), d.pending
}
