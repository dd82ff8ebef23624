package casebook

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var (
	loc   = time.FixedZone("CST", 8*3600)
	start = time.Date(2026, 11, 24, 10, 10, 0, 0, loc)
)

func mustOpen(t *testing.T, path string, key []byte, now func() time.Time) *Book {
	t.Helper()
	b, err := Open(Options{Path: path, Key: key, Location: loc, Log: slog.New(slog.DiscardHandler), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustKey(t *testing.T, fill byte) []byte {
	t.Helper()
	return bytes.Repeat([]byte{fill}, 32)
}

// TestPersistsAcrossReopen: cases, sessions, follow-ups and counters
// outlive the process, and the file holds no personal data in clear.
func TestPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), File)
	now := start
	clock := func() time.Time { return now }
	b := mustOpen(t, path, mustKey(t, 7), clock)
	c, err := b.Add(Case{Origin: OriginWalkIn, Status: StatusOpen, Category: "邻里",
		Parties: []Party{{Name: "王秀英", Phone: "13812345678", IDNumber: "35078219600301402X"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != "W0001" || c.ID == "" || !c.Opened.Equal(start) {
		t.Errorf("added %+v", c)
	}
	s := Session{ID: "s1", Outcome: OutcomeSettled, Category: "邻里", Line: "blue", FollowUp: "2026-12-01"}
	if _, err := b.AddSession(c.ID, s, []Party{{Name: "李德福", Phone: "13987654321"}, {Name: "王秀英", Phone: "13812345678", IDNumber: "35078219600301402X"}}); err != nil {
		t.Fatal(err)
	}
	// A book written by a version that counted bookings here: its counts
	// still show in the indicators (now the outbox counts them).
	err = b.update(func(tx *bbolt.Tx) error {
		_, err := increment(tx.Bucket(bucketMeta), []byte(metaBookings+"mediation"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"王秀英", "李德福", "13812345678", "13987654321", "35078219600301402X", "邻里"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the file holds %q in clear", secret)
		}
	}

	if _, err := Open(Options{Path: path, Key: mustKey(t, 8), Location: loc, Log: slog.New(slog.DiscardHandler), Now: clock}); !errors.Is(err, ErrBadKey) {
		t.Errorf("open with another key = %v, want ErrBadKey", err)
	}
	b = mustOpen(t, path, mustKey(t, 7), clock)
	defer b.Close()
	got, err := b.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusSettled || len(got.Parties) != 2 || got.Parties[1].Phone != "13987654321" ||
		len(got.Sessions) != 1 || len(got.FollowUps) != 1 || got.FollowUps[0].Due != "2026-12-01" {
		t.Errorf("after reopen: %+v", got)
	}
	c2, err := b.Add(Case{Origin: OriginWalkIn})
	if err != nil || c2.Number != "W0002" {
		t.Errorf("second walk-in = %+v, %v (numbers must not restart)", c2, err)
	}
	ind, err := b.Indicators(now.Format(time.DateOnly))
	if err != nil || ind.BookingsByService["mediation"] != 1 || ind.Settled != 1 || !ind.Since.Equal(start) {
		t.Errorf("indicators = %+v, %v", ind, err)
	}
	if _, err := b.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get unknown = %v", err)
	}
	if _, _, err := b.FollowUpDone(c2.ID, ""); !errors.Is(err, ErrNoFollowUp) {
		t.Errorf("follow-up on a case with none = %v", err)
	}
}

// TestFollowUpOnTime: on time means on or before the due day, in site time.
func TestFollowUpOnTime(t *testing.T) {
	tests := []struct {
		name   string
		doneAt time.Time
		onTime bool
	}{
		{"the day before", time.Date(2026, 11, 30, 23, 0, 0, 0, loc), true},
		{"late on the due day", time.Date(2026, 12, 1, 23, 30, 0, 0, loc), true},
		{"the day after", time.Date(2026, 12, 2, 0, 5, 0, 0, loc), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			b := mustOpen(t, filepath.Join(t.TempDir(), File), mustKey(t, 1), func() time.Time { return now })
			defer b.Close()
			c, err := b.Add(Case{Origin: OriginWalkIn})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.AddSession(c.ID, Session{ID: "s", Outcome: OutcomeSettled, FollowUp: "2026-12-01"}, nil); err != nil {
				t.Fatal(err)
			}
			now = tt.doneAt
			_, f, err := b.FollowUpDone(c.ID, "")
			if err != nil || f.OnTime != tt.onTime || f.Done == nil {
				t.Errorf("follow-up = %+v, %v; want on time %v", f, err, tt.onTime)
			}
		})
	}
}
