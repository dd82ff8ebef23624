package casebook

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/golden"

	"go.etcd.io/bbolt"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// storedCase is the golden file of a case as sealed in cases.db. A kiosk
// upgraded in the field opens the book its old version wrote, so this form
// changes only with a migration, never as a side effect of the API's or the
// township's types.
const storedCase = "testdata/case.json"

// mustGoldenBook writes one case with every stored field set through the
// book's own methods, at fixed times and with fixed ids.
func mustGoldenBook(t *testing.T) (*Book, string) {
	t.Helper()
	now := start
	b := mustOpen(t, filepath.Join(t.TempDir(), File), mustKey(t, 7), func() time.Time { return now })
	t.Cleanup(func() { b.Close() })
	c, err := b.Add(Case{ID: "01900000-0000-7000-8000-000000000003", Number: "00002", Origin: OriginBooking,
		Status: StatusBooked, Category: "邻里",
		Venue: Venue{ID: "tea-room", Name: "茶室评理室", Where: "村部二楼茶室"},
		Parties: []Party{
			{Name: "测试二", Phone: "13905991234", IDNumber: "35078219600301402X", IDType: "resident", IDMasked: "3507**********402X"},
			{Name: "李大伯", Phone: "13800001111"},
		},
		Slots: []time.Time{time.Date(2026, 11, 24, 14, 30, 0, 0, loc), time.Date(2026, 11, 25, 19, 30, 0, 0, loc)},
	})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(3 * time.Minute)
	s := Session{ID: "01900000-0000-7000-8000-000000000004", Seq: 3,
		Mediator: Mediator{ID: "dev-mediator", Name: "测试调解员"}, Held: now,
		Category: "邻里", Line: "red", Phrases: []string{"双方陈述了各自诉求", "签订书面调解协议"},
		Note: "约定三月内拆除违建围墙", Outcome: OutcomeSettled, Agreement: true, FollowUp: "2026-12-24", Escalated: true}
	if _, err := b.AddSession(c.ID, s, []Party{{Name: "李小明"}}); err != nil {
		t.Fatal(err)
	}
	now = time.Date(2026, 12, 23, 16, 0, 0, 0, loc)
	if _, _, err := b.FollowUpDone(c.ID, "协议已履行，围墙已拆除"); err != nil {
		t.Fatal(err)
	}
	return b, c.ID
}

// TestStoredCaseGolden pins the plaintext of a sealed case: what the book
// writes is byte for byte the golden file.
func TestStoredCaseGolden(t *testing.T) {
	b, id := mustGoldenBook(t)
	var plain []byte
	err := b.db.View(func(tx *bbolt.Tx) error {
		var err error
		plain, err = b.box.Open(tx.Bucket(bucketCases).Get([]byte(id)), caseAD(id))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	golden.JSON(t, storedCase, plain, *update, "the stored form of a case (old cases.db files would no longer read as written)")
}

// TestReadsStoredCase: a case sealed in the golden form, as an earlier
// version wrote it, reads back whole: nothing of it is dropped or renamed
// on the way into the current types.
func TestReadsStoredCase(t *testing.T) {
	want := golden.MustCompact(t, storedCase)
	var head struct{ ID string }
	if err := json.Unmarshal(want, &head); err != nil {
		t.Fatal(err)
	}
	b := mustOpen(t, filepath.Join(t.TempDir(), File), mustKey(t, 7), fixedNow)
	defer b.Close()
	err := b.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCases).Put([]byte(head.ID), b.box.Seal(nil, want, caseAD(head.ID)))
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Get(head.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("a stored case does not read back whole.\n got: %s\nwant: %s", got, want)
	}
}
