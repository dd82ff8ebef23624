package localapi

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// TestMediatorDrafts: a draft saved under one session comes back under the
// mediator's next one, sealed in the case book meanwhile; logging the
// session, deleting it or a week's wait drops it.
func TestMediatorDrafts(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	token := mustSignIn(t, f, f.cards)
	k, err := f.client.NewCase(ctx, token, apitype.NewCase{Category: "邻里", Parties: []apitype.Party{{Name: "张大哥", Phone: "13800002222"}}})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	form := apitype.DraftForm{Session: apitype.SessionRequest{Category: "邻里", Line: "yellow", Note: "王秀英称界桩被移动",
		Parties: []apitype.Party{{Name: "王女士", Phone: "13812345678"}}}, Agreement: &yes, CardParties: 1}
	d, err := f.client.SaveDraft(ctx, token, k.ID, form)
	if err != nil || d.Case != k.ID || !d.Saved.Equal(f.clock.Now()) {
		t.Fatalf("save draft = %+v, %v", d, err)
	}

	refusals := []struct {
		name, path, body string
		wantCode         int
		wantErr, field   string
	}{
		{"a card token", "/v1/mediator/drafts/" + k.ID, `{"session":{"parties":[{"card":"tok-1"}]}}`, 400, apitype.CodeInvalid, "session.parties[0].card"},
		{"an unknown field", "/v1/mediator/drafts/" + k.ID, `{"session":{},"pin":"1234"}`, 400, apitype.CodeUnknownField, "pin"},
		{"no such case", "/v1/mediator/drafts/no-such-case", `{"session":{}}`, 404, apitype.CodeNotFound, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			code, er, _ := f.call(t, "PUT", tt.path, token, tt.body)
			if code != tt.wantCode || er.Code != tt.wantErr || er.Field != tt.field {
				t.Errorf("= %d %+v, want %d %s on %q", code, er, tt.wantCode, tt.wantErr, tt.field)
			}
		})
	}

	// Signed out, and in again: the draft is the mediator's, not the session's.
	if err := f.client.MediatorSignOut(ctx, token); err != nil {
		t.Fatal(err)
	}
	token = mustSignIn(t, f, f.cards)
	ds, err := f.client.Drafts(ctx, token)
	if err != nil || len(ds.Drafts) != 1 || ds.Drafts[0].Case != k.ID || !reflect.DeepEqual(ds.Drafts[0].Form, form) {
		t.Fatalf("drafts = %+v, %v", ds, err)
	}
	raw, err := os.ReadFile(filepath.Join(f.dir, casebook.File))
	if err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{"界桩", "13812345678"} {
		if bytes.Contains(raw, []byte(clear)) {
			t.Errorf("%q is in %s in clear", clear, casebook.File)
		}
	}

	// Logging the session is the draft's end.
	if _, err := f.client.LogSession(ctx, token, k.ID, apitype.SessionRequest{Category: "邻里", Line: "blue", Outcome: "unsettled"}); err != nil {
		t.Fatal(err)
	}
	mustDrafts(t, f, token, 0, "after the session was logged")

	if _, err := f.client.SaveDraft(ctx, token, k.ID, form); err != nil {
		t.Fatal(err)
	}
	if err := f.client.DeleteDraft(ctx, token, k.ID); err != nil {
		t.Fatal(err)
	}
	mustDrafts(t, f, token, 0, "after DELETE")
	if code, er, _ := f.call(t, "DELETE", "/v1/mediator/drafts/"+k.ID, token, ""); code != http.StatusNoContent {
		t.Errorf("deleting a draft already gone = %d %+v, want 204", code, er)
	}

	if _, err := f.client.SaveDraft(ctx, token, k.ID, form); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(casebook.DraftMaxAge + time.Minute)
	token = mustSignIn(t, f, f.cards)
	mustDrafts(t, f, token, 0, "a week later")
}

func mustDrafts(t *testing.T, f *fixture, token string, want int, when string) {
	t.Helper()
	ds, err := f.client.Drafts(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Drafts) != want {
		t.Errorf("%s: %d drafts, want %d: %+v", when, len(ds.Drafts), want, ds.Drafts)
	}
}
