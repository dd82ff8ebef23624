// This file: latency figures: percentiles and rates of a series of timed operations.

package main

import (
	"math"
	"slices"
	"time"
)

type latencies struct {
	d       []time.Duration
	Elapsed time.Duration
}

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }

func (l *latencies) finish(elapsed time.Duration) {
	l.Elapsed = elapsed
	slices.Sort(l.d)
}

func (l latencies) N() int { return len(l.d) }

// Pct is the nearest-rank percentile p (0 < p ≤ 1).
func (l latencies) Pct(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(l.d)))) - 1
	return l.d[max(i, 0)]
}

func (l latencies) Max() time.Duration { return l.Pct(1) }

func (l latencies) Rate() float64 { return rate(len(l.d), l.Elapsed) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
