package casebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// mustDraftBook is a book with one case and a clock the test moves.
func mustDraftBook(t *testing.T) (b *Book, path, caseID string, now *time.Time) {
	t.Helper()
	path = filepath.Join(t.TempDir(), File)
	clock := start
	b = mustOpen(t, path, mustKey(t, 7), func() time.Time { return clock })
	t.Cleanup(func() { b.Close() })
	c, err := b.Add(Case{Origin: OriginWalkIn, Status: StatusOpen, Category: "邻里"})
	if err != nil {
		t.Fatal(err)
	}
	return b, path, c.ID, &clock
}

// TestDraftsSealedAndKeptPerMediator: a draft comes back to its mediator
// only, replaces their earlier one on the same case, survives a reopen,
// and the file never holds the form in clear.
func TestDraftsSealedAndKeptPerMediator(t *testing.T) {
	b, path, caseID, now := mustDraftBook(t)
	form := json.RawMessage(`{"note":"王秀英称界桩被移动","phone":"13812345678"}`)
	if err := b.PutDraft(Draft{Mediator: "m01", Case: caseID, Form: json.RawMessage(`{"note":"旧"}`)}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Minute)
	if err := b.PutDraft(Draft{Mediator: "m01", Case: caseID, Form: form}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b = mustOpen(t, path, mustKey(t, 7), func() time.Time { return *now })
	defer b.Close()

	tests := []struct {
		mediator string
		want     int
	}{
		{"m01", 1},
		{"m0", 0}, // a prefix of another mediator's id sees nothing of theirs
		{"m02", 0},
	}
	for _, tt := range tests {
		ds, err := b.Drafts(tt.mediator)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != tt.want {
			t.Fatalf("%s: %d drafts, want %d: %+v", tt.mediator, len(ds), tt.want, ds)
		}
	}
	ds, _ := b.Drafts("m01")
	if d := ds[0]; d.Case != caseID || !d.Saved.Equal(start.Add(time.Minute)) || !bytes.Equal(d.Form, form) {
		t.Errorf("draft = %+v %s", d, d.Form)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{"王秀英", "13812345678", "界桩"} {
		if bytes.Contains(raw, []byte(clear)) {
			t.Errorf("%q is in the file in clear", clear)
		}
	}

	if err := b.DeleteDraft("m01", caseID); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteDraft("m01", caseID); err != nil {
		t.Errorf("deleting a draft already gone: %v", err)
	}
	if ds, _ := b.Drafts("m01"); len(ds) != 0 {
		t.Errorf("deleted draft still there: %+v", ds)
	}
}

// TestDraftsExpire: a draft past DraftMaxAge is not given back, and the
// next save drops it from the file.
func TestDraftsExpire(t *testing.T) {
	b, _, caseID, now := mustDraftBook(t)
	if err := b.PutDraft(Draft{Mediator: "m01", Case: caseID, Form: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(DraftMaxAge - time.Minute)
	if ds, _ := b.Drafts("m01"); len(ds) != 1 {
		t.Fatalf("a draft younger than %v is gone", DraftMaxAge)
	}
	*now = now.Add(2 * time.Minute)
	if ds, _ := b.Drafts("m01"); len(ds) != 0 {
		t.Errorf("a draft older than %v is given back: %+v", DraftMaxAge, ds)
	}
	if err := b.PutDraft(Draft{Mediator: "m02", Case: caseID, Form: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	*now = start // as if the clock stepped back: the stale draft is gone for good
	if ds, _ := b.Drafts("m01"); len(ds) != 0 {
		t.Errorf("a stale draft survived the next save: %+v", ds)
	}
}

// TestStaleDraftsLeaveTheFileAtOpen: a draft past DraftMaxAge leaves the
// file when the book next opens, with no save to trigger it.
func TestStaleDraftsLeaveTheFileAtOpen(t *testing.T) {
	b, path, caseID, _ := mustDraftBook(t)
	for _, m := range []string{"m01", "m02"} {
		if err := b.PutDraft(Draft{Mediator: m, Case: caseID, Form: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	count := func(at time.Time) int {
		t.Helper()
		b := mustOpen(t, path, mustKey(t, 7), func() time.Time { return at })
		defer b.Close()
		n := 0
		b.db.View(func(tx *bbolt.Tx) error {
			if bk := tx.Bucket(bucketDrafts); bk != nil {
				n = bk.Stats().KeyN
			}
			return nil
		})
		return n
	}
	if n := count(start.Add(DraftMaxAge - time.Minute)); n != 2 {
		t.Fatalf("%d drafts in the file before they are stale, want 2", n)
	}
	if n := count(start.Add(DraftMaxAge + time.Minute)); n != 0 {
		t.Errorf("%d stale drafts still in the file after an open", n)
	}
}

func TestPutDraftRefuses(t *testing.T) {
	b, _, caseID, _ := mustDraftBook(t)
	tests := []struct {
		name    string
		d       Draft
		wantErr error
	}{
		{"unknown case", Draft{Mediator: "m01", Case: "no-such-case", Form: json.RawMessage(`{}`)}, ErrNotFound},
		{"no mediator", Draft{Case: caseID, Form: json.RawMessage(`{}`)}, nil},
		{"slash in mediator", Draft{Mediator: "m/01", Case: caseID, Form: json.RawMessage(`{}`)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.PutDraft(tt.d)
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("PutDraft = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestSessionDropsItsDraft: the session a mediator logs takes their draft
// on that case with it, in the same commit; another mediator's stays.
func TestSessionDropsItsDraft(t *testing.T) {
	b, _, caseID, _ := mustDraftBook(t)
	for _, m := range []string{"m01", "m02"} {
		if err := b.PutDraft(Draft{Mediator: m, Case: caseID, Form: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	commits := b.Commits()
	if _, err := b.AddSession(caseID, Session{ID: "s1", Mediator: Mediator{ID: "m01"}, Outcome: OutcomeUnsettled}, nil); err != nil {
		t.Fatal(err)
	}
	if n := b.Commits() - commits; n != 1 {
		t.Errorf("logging a session took %d commits, want 1", n)
	}
	tests := []struct {
		mediator string
		want     int
	}{{"m01", 0}, {"m02", 1}}
	for _, tt := range tests {
		if ds, _ := b.Drafts(tt.mediator); len(ds) != tt.want {
			t.Errorf("%s: %d drafts after m01's session, want %d", tt.mediator, len(ds), tt.want)
		}
	}
}
