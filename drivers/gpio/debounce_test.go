package gpio

import (
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// TestDebouncer checks the debounce rules on the state machine alone, with
// times in ms from t0.
func TestDebouncer(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type op struct {
		at    int
		edge  bool // an edge; otherwise a sample
		level gpio.Level
	}
	type settled struct {
		at    int // Event.At
		level gpio.Level
	}
	H, L := gpio.High, gpio.Low
	tests := []struct {
		name string
		ops  []op
		want []settled
	}{
		{"quiet line reports nothing", []op{{0, true, L}, {50, false, L}, {1050, false, L}}, nil},
		{"a change that lasts, once", []op{{0, true, H}, {49, false, H}, {50, false, H}, {1050, false, H}, {2050, false, H}},
			[]settled{{0, H}}},
		{"bounces inside the window, once, from the last edge",
			[]op{{0, true, H}, {5, true, L}, {12, true, H}, {30, true, L}, {31, true, H}, {80, false, H}, {81, false, H}},
			[]settled{{31, H}}},
		{"a glitch back to the start reports nothing", []op{{0, true, H}, {10, true, L}, {60, false, L}}, nil},
		{"an edge that reads as before still restarts the window",
			[]op{{0, true, H}, {40, true, H}, {50, false, H}, {90, false, H}}, []settled{{40, H}}},
		{"open then closed, twice", []op{{0, true, H}, {50, false, H}, {500, true, L}, {550, false, L}},
			[]settled{{0, H}, {500, L}}},
		{"polled samples restart the window when they differ",
			[]op{{0, false, H}, {20, false, L}, {40, false, H}, {60, false, H}, {80, false, H}, {100, false, H}},
			[]settled{{40, H}}},
		{"a dropped edge is caught by a sample", []op{{0, false, H}, {50, false, H}}, []settled{{0, H}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := debouncer{window: 50 * time.Millisecond, stable: L, last: L}
			var got []settled
			for _, o := range tt.ops {
				if o.edge {
					d.edge(ms(o.at), o.level)
					continue
				}
				if level, at, ok := d.sample(ms(o.at), o.level); ok {
					got = append(got, settled{int(at.Sub(t0) / time.Millisecond), level})
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("settled %v, want %v", got, tt.want)
			}
		})
	}
}
