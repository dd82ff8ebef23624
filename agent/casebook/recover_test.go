package casebook

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/outbox"
)

// The test binary doubles as the check child, as kioskd does.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "check-store" {
		os.Exit(outbox.CheckMain(os.Args[2]))
	}
	os.Exit(m.Run())
}

func fixedNow() time.Time { return start }

// childVerify is kioskd's Verify: bbolt's check in a child process.
func childVerify(path string) (bool, error) {
	err := outbox.SubprocessVerifier(os.Args[0], "check-store")(path)
	return errors.Is(err, outbox.ErrCorrupt), err
}

// TestDamagedBookIsMovedAside: a damaged case book is kept for salvage, an
// empty one takes its place and works, and Recovered says what happened,
// for three kinds of damage.
func TestDamagedBookIsMovedAside(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(path string)
	}{
		{"garbage", func(path string) {
			os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 4096), 0o600)
		}},
		{"damaged pages", func(path string) {
			raw, _ := os.ReadFile(path)
			for i := 4 * 4096; i < len(raw); i += 97 { // leave the meta pages, smash the tree
				raw[i] ^= 0xff
			}
			os.WriteFile(path, raw, 0o600)
		}},
		{"truncated", func(path string) { os.Truncate(path, 4096+100) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), File)
			key := mustKey(t, 7)
			b := mustOpen(t, path, key, fixedNow)
			for range 50 {
				if _, err := b.Add(Case{Origin: OriginWalkIn, Status: StatusOpen, Category: "邻里",
					Parties: []Party{{Name: "王秀英", Phone: "13812345678"}}}); err != nil {
					t.Fatal(err)
				}
			}
			b.Close()
			tt.damage(path)

			b, err := Open(Options{Path: path, Key: key, Verify: childVerify, Location: loc, Log: slog.New(slog.DiscardHandler), Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			rec := b.Recovered()
			if rec == nil || rec.Reason == "" {
				t.Fatalf("Recovered = %+v", rec)
			}
			if _, err := os.Stat(rec.MovedTo); err != nil {
				t.Errorf("the damaged book was not kept: %v", err)
			}
			c, err := b.Add(Case{Origin: OriginWalkIn, Status: StatusOpen, Category: "邻里"})
			if err != nil || c.Number == "" {
				t.Errorf("the new book takes no case: %+v %v", c, err)
			}
		})
	}
}

// TestBookTakesItsOwnKey: a book sealed with the outbox's key (before the
// book had its own) opens with its new key given the old one as former,
// is sealed again, and then opens with the new key alone.
func TestBookTakesItsOwnKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), File)
	old, own := mustKey(t, 7), mustKey(t, 9)
	b := mustOpen(t, path, old, fixedNow)
	c, err := b.Add(Case{Origin: OriginWalkIn, Status: StatusOpen, Category: "邻里",
		Parties: []Party{{Name: "王秀英", Phone: "13812345678", IDNumber: "35078219600301402X"}}})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()

	opts := Options{Path: path, Key: own, Location: loc, Log: slog.New(slog.DiscardHandler), Now: fixedNow}
	if _, err := Open(opts); !errors.Is(err, ErrBadKey) {
		t.Fatalf("a new key without the former one: %v", err)
	}
	opts.FormerKeys = [][]byte{mustKey(t, 8), old}
	b, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(c.ID)
	if err != nil || got.Parties[0].IDNumber != "35078219600301402X" {
		t.Errorf("after resealing: %+v %v", got, err)
	}
	b.Close()

	opts.FormerKeys = nil
	b, err = Open(opts)
	if err != nil {
		t.Fatalf("the own key alone, after resealing: %v", err)
	}
	if got, err := b.Get(c.ID); err != nil || got.Parties[0].Phone != "13812345678" {
		t.Errorf("reopened: %+v %v", got, err)
	}
	b.Close()
	if _, err := Open(Options{Path: path, Key: old, Location: loc, Log: slog.New(slog.DiscardHandler), Now: fixedNow}); !errors.Is(err, ErrBadKey) {
		t.Errorf("the outbox's key after resealing: %v, want ErrBadKey", err)
	}
}
