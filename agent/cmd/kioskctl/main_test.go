package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{nil, 2, "Usage:"},
		{[]string{"-h"}, 0, "township watch"},
		{[]string{"version"}, 0, "kioskctl "},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"township", "watch"}, 2, "--broker is required"},
		{[]string{"township", "watch", "--broker", "tcp://127.0.0.1:1"}, 1, "connect"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.contains) {
			t.Errorf("kioskctl %v = %d %q; want %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
}
