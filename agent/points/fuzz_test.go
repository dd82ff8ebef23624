package points_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fengqiao/kiosk/agent/points"
)

// FuzzParseLedger: the ledger's decoder, fed what arrives signed from the
// township (a signature says who sent it, not that it is well formed),
// never panics, and whatever it takes encodes back and reads the same.
func FuzzParseLedger(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "points-ledger.v1.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.TrimSpace(golden))
	f.Add([]byte(`{"format":"fengqiao.points-ledger/v1","accounts":{"a":{"entries":null}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := points.Parse(data)
		if err != nil {
			return
		}
		js, err := l.EncodeJSON()
		if err != nil {
			t.Fatalf("a ledger Parse took does not encode: %v", err)
		}
		back, err := points.Parse(js)
		if err != nil {
			t.Fatalf("a ledger Parse took does not read back: %v", err)
		}
		if back.Version != l.Version || len(back.Accounts) != len(l.Accounts) {
			t.Fatalf("read back as another ledger")
		}
	})
}
