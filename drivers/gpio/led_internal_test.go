package gpio

import (
	"fmt"
	"strings"
	"testing"
)

// TestPatternSteps pins the rhythms a technician tells the patterns apart by.
func TestPatternSteps(t *testing.T) {
	tests := []struct {
		p    Pattern
		want string
	}{
		{Off, "false 1s"},
		{Online, "true 1s"},
		{Offline, "true 1s, false 1s"},
		{Fault, "true 150ms, false 150ms, true 150ms, false 1.05s"},
		{Pattern(42), "false 1s"},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range tt.p.steps() {
			got = append(got, fmt.Sprintf("%v %s", s.on, s.d))
		}
		if got := strings.Join(got, ", "); got != tt.want {
			t.Errorf("%v.steps() = %s, want %s", tt.p, got, tt.want)
		}
	}
}
