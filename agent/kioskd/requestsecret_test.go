package kioskd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fengqiao/kiosk/agent/request"
)

type fakeKept []uint64

func (f fakeKept) ScanKept(_ string, fn func(uint64, []byte) error) error {
	for _, seq := range f {
		if err := fn(seq, nil); err != nil {
			return err
		}
	}
	return nil
}

// TestLoadRequestSecret: a secret is made silently only while no request
// is kept; a missing one with requests kept is a loss, recorded once (the
// last request made under the old secret) and reported once.
func TestLoadRequestSecret(t *testing.T) {
	dir := t.TempDir()
	first, lost, now, err := loadRequestSecret(dir, fakeKept(nil))
	if err != nil || len(first) != request.SecretSize || lost != 0 || now {
		t.Fatalf("first start: %d bytes, lost %d %v, %v", len(first), lost, now, err)
	}
	again, lost, now, err := loadRequestSecret(dir, fakeKept{3, 9})
	if err != nil || !bytes.Equal(again, first) || lost != 0 || now {
		t.Fatalf("a restart: same %v, lost %d %v, %v", bytes.Equal(again, first), lost, now, err)
	}
	os.Remove(filepath.Join(dir, request.SecretFile))
	made, lost, now, err := loadRequestSecret(dir, fakeKept{3, 9})
	if err != nil || bytes.Equal(made, first) || lost != 9 || !now {
		t.Fatalf("secret lost with requests kept: new %v, lost %d %v, %v; want a new secret, lost 9, alert", !bytes.Equal(made, first), lost, now, err)
	}
	_, lost, now, err = loadRequestSecret(dir, fakeKept{3, 9, 12})
	if err != nil || lost != 9 || now {
		t.Errorf("the restart after: lost %d %v, %v; want 9 kept, no second alert", lost, now, err)
	}
}
