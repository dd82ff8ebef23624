package core_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/request"
)

func mustSubmitWithPhone(t *testing.T, k *kiosk, tel string) apitype.RequestReceipt {
	t.Helper()
	r, err := k.client.SubmitRequest(context.Background(), apitype.RequestSubmit{Kind: "concern", Category: "roads",
		Phrases: []string{"路灯不亮"}, Phone: tel})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustKept(t *testing.T, k *kiosk, seq uint64) []byte {
	t.Helper()
	v, err := k.ob.GetKept(request.Table, seq)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAnswerReachesTheCheck: the township's answers, applied in version
// order, show at the villager's check by number and phone digits; a
// refused answer changes nothing, byte for byte.
func TestAnswerReachesTheCheck(t *testing.T) {
	k := mustServeKiosk(t)
	ctx := context.Background()
	r := mustSubmitWithPhone(t, k, "13905991234")
	other := mustSubmitWithPhone(t, k, "13905990000")
	// Two days after the request: its time to close.
	at := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	answer := func(status, reply string) request.Change {
		return request.Change{Format: request.StatusFormat, Request: r.ID, Seq: r.Seq, Status: status, Reply: reply, By: "镇综治中心", At: at}
	}
	if err := k.agent.ApplyAnswer(ctx, answer(request.StatusAccepted, "已受理，三日内派人查看。"), 100); err != nil {
		t.Fatal(err)
	}
	if err := k.agent.ApplyAnswer(ctx, answer(request.StatusClosed, "路灯已于12月5日修复。"), 101); err != nil {
		t.Fatal(err)
	}
	got, err := k.client.CheckRequest(ctx, r.Number, apitype.RequestProof{Phone4: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != apitype.RequestClosed || got.StatusText != "已办结" || got.Reply != "路灯已于12月5日修复。" ||
		got.By != "镇综治中心" || got.Updated == nil || !got.Updated.Equal(at) {
		t.Errorf("check after the answers = %+v", got)
	}

	before := mustKept(t, k, r.Seq)
	otherBefore := mustKept(t, k, other.Seq)
	wrong := answer(request.StatusClosed, "x")
	wrong.Seq = other.Seq // the number of another request: its id differs
	unknown := answer(request.StatusClosed, "x")
	unknown.Seq = 9999
	for _, tt := range []struct {
		name    string
		change  request.Change
		version uint64
		want    error
	}{
		{"replayed", answer(request.StatusClosed, "路灯已于12月5日修复。"), 101, request.ErrReplay},
		{"older", answer(request.StatusInProgress, "处理中"), 100, request.ErrStale},
		{"for another request of that number", wrong, 102, request.ErrWrongRequest},
		{"for a number this kiosk never gave", unknown, 102, request.ErrUnknownRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := k.agent.ApplyAnswer(ctx, tt.change, tt.version); !errors.Is(err, tt.want) {
				t.Fatalf("ApplyAnswer = %v, want %v", err, tt.want)
			}
			if !bytes.Equal(mustKept(t, k, r.Seq), before) || !bytes.Equal(mustKept(t, k, other.Seq), otherBefore) {
				t.Error("a refused answer changed a stored status")
			}
		})
	}
	// 事件办结率 and the time to close: one of the two requests closed,
	// two days after it was made.
	ind, err := k.agent.Indicators()
	if err != nil {
		t.Fatal(err)
	}
	if ind.EventsCollected != 2 || ind.EventsClosed != 1 || ind.EventsClosedRate == nil || *ind.EventsClosedRate != 0.5 ||
		ind.EventsCloseHours == nil || *ind.EventsCloseHours < 47.9 || *ind.EventsCloseHours > 48.1 {
		t.Errorf("indicators: collected %d, closed %d, rate %v, hours %v", ind.EventsCollected, ind.EventsClosed,
			ptrValue(ind.EventsClosedRate), ptrValue(ind.EventsCloseHours))
	}

	answered, err := k.agent.AnsweredRequests()
	if err != nil {
		t.Fatal(err)
	}
	if len(answered) != 1 || answered[r.Number] != 101 {
		t.Errorf("AnsweredRequests = %v, want only %s at 101", answered, r.Number)
	}
}

func ptrValue(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
