package localapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

func screenOf(t *testing.T, f *fixture) apitype.ScreenStatus {
	t.Helper()
	st, err := f.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Screen == nil {
		t.Fatal("status has no screen")
	}
	return *st.Screen
}

// The UI's mark holds the kiosk in use until it runs out, a new mark
// replaces it, and a mark of zero frees the kiosk at once.
func TestScreenInUseMark(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	if s := screenOf(t, f); s.InUse || s.Until != nil || s.MediatorSessions != 0 {
		t.Fatalf("fresh kiosk: %+v, want not in use", s)
	}
	if err := f.client.MarkInUse(ctx, 150*time.Second); err != nil {
		t.Fatal(err)
	}
	s := screenOf(t, f)
	if !s.InUse || s.Until == nil || !s.Until.Equal(now.Add(150*time.Second)) {
		t.Fatalf("after a 150 s mark: %+v, want in use until %s", s, now.Add(150*time.Second))
	}
	f.clock.Advance(149 * time.Second)
	if !screenOf(t, f).InUse {
		t.Fatal("in use no longer 1 s before the mark runs out")
	}
	f.clock.Advance(time.Second)
	if s := screenOf(t, f); s.InUse || s.Until != nil {
		t.Fatalf("the mark ran out: %+v, want not in use", s)
	}

	// The client caps a mark longer than kioskd takes (a site's long
	// mediator reset time) instead of failing it.
	if err := f.client.MarkInUse(ctx, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if s := screenOf(t, f); s.Until == nil || !s.Until.Equal(f.clock.Now().Add(apitype.MaxInUseSeconds*time.Second)) {
		t.Fatalf("after a 2 h mark: %+v, want in use for %d s", s, apitype.MaxInUseSeconds)
	}
	if err := f.client.MarkInUse(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := f.client.MarkInUse(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if s := screenOf(t, f); s.InUse {
		t.Fatalf("after a mark of 0: %+v, want not in use", s)
	}
}

func TestScreenInUseRefusesOutOfRange(t *testing.T) {
	f := mustServe(t)
	for _, body := range []string{`{"seconds":-1}`, `{"seconds":3601}`, `{"seconds":"60"}`, `{"secs":60}`} {
		resp, err := f.raw.Post("http://kioskd/v1/screen/in-use", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", body, resp.StatusCode)
		}
	}
	if screenOf(t, f).InUse {
		t.Error("a refused mark put the kiosk in use")
	}
}

// A signed-in mediator holds the kiosk in use with no mark from the UI,
// until they sign out or their session lapses.
func TestScreenInUseWhileMediatorSignedIn(t *testing.T) {
	f := mustServe(t)
	token := mustSignIn(t, f, f.cards)
	if s := screenOf(t, f); !s.InUse || s.MediatorSessions != 1 || s.Until != nil {
		t.Fatalf("mediator signed in: %+v, want in use by one session", s)
	}
	if err := f.client.MediatorSignOut(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if s := screenOf(t, f); s.InUse || s.MediatorSessions != 0 {
		t.Fatalf("mediator signed out: %+v, want not in use", s)
	}
	mustSignIn(t, f, f.cards)
	f.clock.Advance(f.agent.Config().Site.MediatorSessionIdle())
	if s := screenOf(t, f); s.InUse {
		t.Fatalf("mediator session lapsed: %+v, want not in use", s)
	}
}
