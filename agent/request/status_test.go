package request_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/golden"
	"github.com/fengqiao/kiosk/agent/request"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var answerAt = time.Date(2026, 12, 5, 1, 30, 0, 0, time.UTC)

func goodChange() request.Change {
	return request.Change{Format: request.StatusFormat, Request: "0193a0c4-7f00-7000-8000-000000000042", Seq: 42,
		Status: request.StatusClosed, Reply: "路灯已于12月5日修复。", By: "镇综治中心", At: answerAt}
}

func mustEncode(t *testing.T, c request.Change) []byte {
	t.Helper()
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChangeGolden holds the wire form of an answer, which a township
// console in any language writes (docs/requests.md).
func TestChangeGolden(t *testing.T) {
	got := mustEncode(t, goodChange())
	path := filepath.Join("testdata", "request-status.v1.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("answer encodes as\n%s\nwant (testdata)\n%s", got, want)
	}
	c, err := request.ParseChange(want)
	if err != nil {
		t.Fatalf("ParseChange(golden): %v", err)
	}
	if c != goodChange() {
		t.Errorf("golden reads back as %+v", c)
	}
}

func TestParseChange(t *testing.T) {
	good := string(mustEncode(t, goodChange()))
	tests := []struct {
		name string
		data string
		want error
	}{
		{name: "valid", data: good},
		{name: "accepted without reply", data: string(mustEncode(t, func() request.Change {
			c := goodChange()
			c.Status, c.Reply = request.StatusAccepted, ""
			return c
		}()))},
		{name: "referred to an office", data: strings.Replace(strings.Replace(good, `"closed"`, `"referred"`, 1), `"by"`, `"to":"镇城建办","by"`, 1)},
		{name: "not JSON", data: "closed", want: request.ErrBadChange},
		{name: "unknown member", data: strings.Replace(good, `{`, `{"priority":1,`, 1), want: request.ErrBadChange},
		{name: "trailing data", data: good + "{}", want: request.ErrBadChange},
		{name: "format from the future", data: strings.Replace(good, "request-status/v1", "request-status/v2", 1), want: request.ErrBadChange},
		{name: "back to submitted", data: strings.Replace(good, `"closed"`, `"submitted"`, 1), want: request.ErrBadChange},
		{name: "unknown status", data: strings.Replace(good, `"closed"`, `"done"`, 1), want: request.ErrBadChange},
		{name: "no seq", data: strings.Replace(good, `"seq":42`, `"seq":0`, 1), want: request.ErrBadChange},
		{name: "no request", data: strings.Replace(good, `"0193a0c4-7f00-7000-8000-000000000042"`, `""`, 1), want: request.ErrBadChange},
		{name: "reply too long", data: strings.Replace(good, "路灯已于12月5日修复。", strings.Repeat("修", request.MaxReply+1), 1), want: request.ErrBadChange},
		{name: "reply at the limit", data: strings.Replace(good, "路灯已于12月5日修复。", strings.Repeat("修", request.MaxReply), 1)},
		{name: "to without referral", data: strings.Replace(good, `"by"`, `"to":"镇城建办","by"`, 1), want: request.ErrBadChange},
		{name: "no time", data: strings.Replace(good, `,"at":"2026-12-05T01:30:00Z"`, ``, 1), want: request.ErrBadChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := request.ParseChange([]byte(tt.data))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ParseChange = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	submitted := request.Stored{ID: goodChange().Request, Status: request.StatusSubmitted}
	accepted := submitted
	accepted.Status, accepted.Version = request.StatusAccepted, 10
	closed := accepted
	closed.Status, closed.Version, closed.Closed = request.StatusClosed, 12, answerAt.Add(-time.Hour)
	change := func(status string) request.Change {
		c := goodChange()
		c.Status = status
		return c
	}
	tests := []struct {
		name       string
		stored     request.Stored
		change     request.Change
		version    uint64
		want       error
		wantClosed time.Time
	}{
		{name: "first answer", stored: submitted, change: change(request.StatusAccepted), version: 1},
		{name: "closed after accepted", stored: accepted, change: change(request.StatusClosed), version: 11, wantClosed: answerAt},
		{name: "reply to a closed request keeps when it closed", stored: closed, change: change(request.StatusClosed), version: 13, wantClosed: answerAt.Add(-time.Hour)},
		{name: "reopened", stored: closed, change: change(request.StatusInProgress), version: 13},
		{name: "any status may follow by version", stored: closed, change: change(request.StatusAccepted), version: 20},
		{name: "replay", stored: accepted, change: change(request.StatusClosed), version: 10, want: request.ErrReplay},
		{name: "older", stored: accepted, change: change(request.StatusClosed), version: 9, want: request.ErrStale},
		{name: "another request of that number", stored: request.Stored{ID: "0193a0c4-7f00-7000-8000-0000000000ff", Status: request.StatusSubmitted},
			change: change(request.StatusClosed), version: 11, want: request.ErrWrongRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.stored.Apply(tt.change, tt.version)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Apply = %v, want %v", err, tt.want)
			}
			if err != nil {
				if got.Version != tt.stored.Version || got.Status != tt.stored.Status {
					t.Errorf("refused answer changed the status: %+v", got)
				}
				return
			}
			if got.Status != tt.change.Status || got.Version != tt.version || got.Reply != tt.change.Reply || !got.Updated.Equal(tt.change.At) {
				t.Errorf("Apply = %+v", got)
			}
			if !got.Closed.Equal(tt.wantClosed) {
				t.Errorf("Closed = %v, want %v", got.Closed, tt.wantClosed)
			}
		})
	}
}

// mustMeetSchema checks a document against its JSON Schema in
// docs/schemas.
func mustMeetSchema(t *testing.T, schemaFile string, doc []byte) error {
	t.Helper()
	return golden.MeetsSchema(t, filepath.Join("..", "..", "docs", "schemas"), schemaFile, doc)
}

// TestGoldenAnswersMeetTheSchemas: the golden answer and report are what
// docs/schemas says, and the schema refuses what the kiosk refuses.
func TestGoldenAnswersMeetTheSchemas(t *testing.T) {
	answer, err := os.ReadFile(filepath.Join("testdata", "request-status.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := mustMeetSchema(t, "request-status.v1.json", answer); err != nil {
		t.Errorf("golden answer: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(string(answer), `"closed"`, `"submitted"`, 1),
		strings.Replace(string(answer), `{`, `{"priority":1,`, 1),
		strings.Replace(string(answer), `"seq":42,`, ``, 1),
	} {
		if err := mustMeetSchema(t, "request-status.v1.json", []byte(bad)); err == nil {
			t.Errorf("the schema takes %s", bad)
		}
		if _, err := request.ParseChange([]byte(bad)); err == nil {
			t.Errorf("the kiosk takes %s", bad)
		}
	}

	rep := request.Reported{Schema: request.ReportedSchema, Kiosk: "dev-kiosk-01", Township: "dev-township",
		Answered: map[string]uint64{"00042": 1796600000},
		Refused: []request.Refusal{{Number: "00042", Version: 1796500000, Reason: "stale",
			Error: "answer to request 00042: request: answer older than the one applied: version 1796500000, applied 1796600000", At: answerAt}},
		Replays: 3, PublishedAt: answerAt.Add(time.Minute)}
	got, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "requests-reported.v1.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("report encodes as\n%s\nwant (testdata)\n%s", got, want)
	}
	if err := mustMeetSchema(t, "requests-reported.v1.json", want); err != nil {
		t.Errorf("golden report: %v", err)
	}
}
