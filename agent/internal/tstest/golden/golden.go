// Package golden pins JSON a test produces to a file under testdata/, the
// way every contract of the kiosk is pinned (the township's records, the
// case book's stored form): the file is indented for review, and only
// whitespace between tokens may differ, so its compact form must equal
// what the code produces byte for byte. Under -update the file is
// rewritten instead, and the diff is what a reviewer reads.
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// MustCompact returns the compact form of the golden JSON file at path.
func MustCompact(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.Bytes()
}

// JSON compares got, compact JSON, with the golden file at path, or
// rewrites the file when update is set. what says what changed if they
// differ (e.g. "the township's booking.v1.json").
func JSON(t testing.TB, path string, got []byte, update bool, what string) {
	t.Helper()
	if update {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := MustCompact(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s changed; it is pinned by %s.\n got: %s\nwant: %s", what, path, got, want)
	}
}
