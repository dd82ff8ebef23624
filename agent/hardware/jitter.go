package hardware

import "math/rand/v2"

// jitter is uniform in [0, 1).
func jitter() float64 { return rand.Float64() }
