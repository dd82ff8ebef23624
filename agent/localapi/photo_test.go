package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// fakeHardware has a consent camera that returns jpg, or fails with err.
type fakeHardware struct {
	jpg []byte
	err error
}

func (f *fakeHardware) Status() apitype.Hardware { return apitype.Hardware{} }
func (f *fakeHardware) WaitPresence(context.Context, uint64, time.Duration) (uint64, time.Time) {
	return 0, time.Time{}
}
func (f *fakeHardware) Photo(context.Context) ([]byte, error) { return f.jpg, f.err }
func (f *fakeHardware) PhotoCamera() apitype.DeviceStatus {
	return apitype.DeviceStatus{State: apitype.DeviceReady}
}

func mustJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPhoto: a session's photo is taken only with the parties' consent,
// for a session of that case, on a kiosk with a consent camera; it reaches
// the outbox shrunk to at most 800 px as a mediation_photo record.
func TestPhoto(t *testing.T) {
	ctx := context.Background()
	// mustSession signs a mediator in on f and logs a session of a new
	// case: what a photo is taken of.
	mustSession := func(f *fixture) (token, id string, s apitype.Session) {
		t.Helper()
		token = mustSignIn(t, f, f.cards)
		mustBookMediation(t, f)
		id = mustCaseID(t, f, token)
		s, err := f.client.LogSession(ctx, token, id, apitype.SessionRequest{Category: "邻里", Line: "blue", Outcome: "unsettled"})
		if err != nil {
			t.Fatal(err)
		}
		return token, id, s
	}

	bare := mustServe(t)
	token, id, s := mustSession(bare)
	if code, er, _ := bare.call(t, "POST", "/v1/mediator/cases/"+id+"/photos", token, `{"session":"`+s.ID+`","consent":true}`); code != 409 || er.Code != apitype.CodeNoDevice {
		t.Errorf("without a camera: %d %+v", code, er)
	}

	hw := &fakeHardware{jpg: mustJPEG(t, 1280, 720)}
	f := mustServeWith(t, serveOptions{hardware: hw})
	token, id, s = mustSession(f)
	path := "/v1/mediator/cases/" + id + "/photos"
	good := `{"session":"` + s.ID + `","consent":true}`
	if d, err := f.client.Devices(ctx); err != nil || d.Camera.State != apitype.DeviceReady {
		t.Errorf("devices %+v, %v", d, err)
	}
	tests := []struct {
		name, path, token, body string
		status                  int
		code, field             string
	}{
		{"no consent", path, token, `{"session":"` + s.ID + `","consent":false}`, 400, "consent_required", "consent"},
		{"consent left out", path, token, `{"session":"` + s.ID + `"}`, 400, "consent_required", "consent"},
		{"no session", path, token, `{"consent":true}`, 400, "required", "session"},
		{"another case's session", path, token, `{"session":"x","consent":true}`, 400, "invalid", "session"},
		{"unknown case", "/v1/mediator/cases/nope/photos", token, good, 404, apitype.CodeNotFound, ""},
		{"signed out", path, "", good, 401, apitype.CodeUnauthorized, ""},
		{"unknown field", path, token, `{"session":"` + s.ID + `","consent":true,"flash":true}`, 400, apitype.CodeUnknownField, "flash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, er, _ := f.call(t, "POST", tt.path, tt.token, tt.body)
			if code != tt.status || er.Code != tt.code || er.Field != tt.field {
				t.Errorf("= %d %+v, want %d %s on %q", code, er, tt.status, tt.code, tt.field)
			}
		})
	}
	before := len(mustRecords(t, f.ob))
	p, err := f.client.Photo(ctx, token, id, apitype.PhotoRequest{Session: s.ID, Consent: true})
	if err != nil || p.Width != 800 || p.Height != 450 {
		t.Fatalf("photo %+v, %v", p, err)
	}
	recs := mustRecords(t, f.ob)
	if len(recs) != before+1 || recs[before].Type != "mediation_photo" || recs[before].ID != p.ID {
		t.Fatalf("records %+v", recs[before:])
	}
	var body struct {
		Session string `json:"session"`
		JPEG    []byte `json:"jpeg"`
	}
	if err := json.Unmarshal(recs[before].Body, &body); err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(body.JPEG))
	if err != nil || cfg.Width != 800 || cfg.Height != 450 || body.Session != s.ID || len(body.JPEG) != p.Bytes {
		t.Errorf("photo in the record: %dx%d (%v), session %q", cfg.Width, cfg.Height, err, body.Session)
	}

	hw.err = errors.New("camera: kiosk-front: no frame in 5s")
	if code, er, _ := f.call(t, "POST", path, token, good); code != 409 || er.Code != apitype.CodeNoDevice {
		t.Errorf("camera failing: %d %+v", code, er)
	}
}
