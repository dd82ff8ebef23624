package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/internal/tstest/golden"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/request"
)

// requestSecret is the test kiosk's request secret.
var requestSecret = bytes.Repeat([]byte{9}, request.SecretSize)

// otherCard is a second villager's card.
var otherCard = core.Identity{Name: "测试三", IDNumber: "350782197011224417", IDMasked: "3507**********4417", IDType: "resident"}

// mustAnswerGolden compares an answer of the API with its golden file in
// testdata/: what the screen is given, field by field.
func mustAnswerGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	golden.JSON(t, filepath.Join("testdata", name), bytes.TrimSpace(fixedIDs(map[string]string{}, body)), *update, "the local API's "+name)
}

// TestRequestAnswersGolden: the menu of 我要反映, a request's 201 answer
// and its check, as the screen receives them.
func TestRequestAnswersGolden(t *testing.T) {
	f := mustServe(t)
	status, _, menu := f.call(t, http.MethodGet, "/v1/requests/menu", "", "")
	if status != http.StatusOK {
		t.Fatalf("menu: %d %s", status, menu)
	}
	mustAnswerGolden(t, "requests_menu.json", menu)

	f.cards.put("villager-card", villagerCard)
	status, _, made := f.call(t, http.MethodPost, "/v1/requests", "",
		`{"kind":"concern","category":"roads","phrases":["路灯不亮","桥梁护栏损坏"],"place":"stone-bridge","card":"villager-card","phone":"139 0599 1234"}`)
	if status != http.StatusCreated {
		t.Fatalf("submit: %d %s", status, made)
	}
	mustAnswerGolden(t, "requests_created.json", made)
	status, _, checked := f.call(t, http.MethodPost, "/v1/requests/00001/check", "", `{"phone4":"1234"}`)
	if status != http.StatusOK {
		t.Fatalf("check: %d %s", status, checked)
	}
	mustAnswerGolden(t, "requests_check.json", checked)
	// With the ids fixed: a random UUID may hold four digits of the phone.
	made, checked = fixedIDs(map[string]string{}, made), fixedIDs(map[string]string{}, checked)
	for _, secret := range []string{"测试二", "13905991234", villagerCard.IDNumber, "1234"} {
		if bytes.Contains(made, []byte(secret)) || bytes.Contains(checked, []byte(secret)) {
			t.Errorf("an answer carries %q", secret)
		}
	}
}

// TestSubmitRequestRefused: each wrong request is a 400 naming its field,
// and nothing is stored.
func TestSubmitRequestRefused(t *testing.T) {
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"empty", `{}`, 400, apitype.CodeRequired, "kind"},
		{"unknown kind", `{"kind":"petition","category":"roads","phrases":["路灯不亮"],"phone":"13905991234"}`, 400, apitype.CodeUnknownKind, "kind"},
		{"unknown category", `{"kind":"concern","category":"traffic","phrases":["路灯不亮"],"phone":"13905991234"}`, 400, apitype.CodeUnknownCategory, "category"},
		{"no phrase", `{"kind":"concern","category":"roads","phrases":[],"phone":"13905991234"}`, 400, apitype.CodeRequired, "phrases"},
		{"a typed phrase", `{"kind":"concern","category":"roads","phrases":["村长不作为"],"phone":"13905991234"}`, 400, apitype.CodeUnknownPhrase, "phrases[0]"},
		{"unknown place", `{"kind":"concern","category":"roads","phrases":["路灯不亮"],"place":"group-9","phone":"13905991234"}`, 400, apitype.CodeUnknownPlace, "place"},
		{"no contact", `{"kind":"concern","category":"roads","phrases":["路灯不亮"]}`, 400, apitype.CodeRequired, "contact"},
		{"expired card", `{"kind":"concern","category":"roads","phrases":["路灯不亮"],"card":"gone"}`, 400, apitype.CodeCardExpired, "card"},
		{"anonymous concern", `{"kind":"concern","category":"roads","phrases":["路灯不亮"],"anonymous":true}`, 400, apitype.CodeInvalid, "anonymous"},
		{"anonymous with a card", `{"kind":"report","category":"roads","phrases":["路灯不亮"],"anonymous":true,"card":"villager-card"}`, 400, apitype.CodeInvalid, "card"},
		{"photo without consent", `{"kind":"concern","category":"roads","phrases":["路灯不亮"],"phone":"13905991234","photo":{}}`, 400, apitype.CodeConsentRequired, "photo.consent"},
		{"photo without a camera", `{"kind":"concern","category":"roads","phrases":["路灯不亮"],"phone":"13905991234","photo":{"consent":true}}`, 409, apitype.CodeNoDevice, ""},
		{"unknown field", `{"kind":"concern","name":"王秀英"}`, 400, apitype.CodeUnknownField, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustServe(t)
			f.cards.put("villager-card", villagerCard)
			status, e, raw := f.call(t, http.MethodPost, "/v1/requests", "", tt.body)
			if status != tt.status || e.Code != tt.code || e.Field != tt.field {
				t.Errorf("got %d %+v, want %d %s on %q (%s)", status, e, tt.status, tt.code, tt.field, raw)
			}
			if d := f.ob.Stats().Depth; d != 0 {
				t.Errorf("%d records stored for a refused request", d)
			}
			// An anonymous report never touches the card it was sent.
			if _, ok := f.cards.Lookup("villager-card"); !ok {
				t.Error("a refused request used up the card")
			}
		})
	}
}

// TestCheckRequest: a request is checked by the card that made it, the
// last four digits of its phone, or not at all; a wrong proof and an
// unknown number get the same answer, and a number is locked after
// core.MaxCheckFailures wrong typed proofs, but never to its card.
func TestCheckRequest(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	f.cards.put("villager-card", villagerCard)
	r, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "help", Category: "dispute",
		Phrases: []string{"茶山承包边界有争议"}, Card: "villager-card", Phone: "13905991234"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.cards.Lookup("villager-card"); ok {
		t.Error("the card's token outlived the request it was used for")
	}
	noMatch := func(what string, number string, proof apitype.RequestProof) {
		t.Helper()
		var apiErr *localclient.APIError
		if _, err := f.client.CheckRequest(ctx, number, proof); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != apitype.CodeNoMatch {
			t.Errorf("%s: %v, want 404 no_match", what, err)
		}
	}
	tests := []struct {
		name  string
		card  *core.Identity
		proof apitype.RequestProof
	}{
		{"its card", &villagerCard, apitype.RequestProof{Card: "tap"}},
		{"its phone's last four", nil, apitype.RequestProof{Phone4: "1234"}},
	}
	for _, tt := range tests {
		if tt.card != nil {
			f.cards.put("tap", *tt.card)
		}
		for _, number := range []string{r.Number, strings.TrimLeft(r.Number, "0")} {
			if tt.card != nil {
				f.cards.put("tap", *tt.card)
			}
			got, err := f.client.CheckRequest(ctx, number, tt.proof)
			if err != nil || got.Number != r.Number || got.Status != apitype.RequestSubmitted || got.Via != request.ViaCard {
				t.Errorf("%s, number %q: %+v %v", tt.name, number, got, err)
			}
		}
	}
	f.cards.put("tap", otherCard)
	noMatch("another card", r.Number, apitype.RequestProof{Card: "tap"})
	noMatch("an unknown number", "09999", apitype.RequestProof{Phone4: "1234"})
	var apiErr *localclient.APIError
	if _, err := f.client.CheckRequest(ctx, r.Number, apitype.RequestProof{}); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeRequired || apiErr.Field != "proof" {
		t.Errorf("no proof: %v", err)
	}
	if _, err := f.client.CheckRequest(ctx, r.Number, apitype.RequestProof{Phone4: "1234", Code: "12345678"}); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeInvalid {
		t.Errorf("two proofs: %v", err)
	}
	if _, err := f.client.CheckRequest(ctx, "abc", apitype.RequestProof{Phone4: "1234"}); !errors.As(err, &apiErr) || apiErr.Field != "number" {
		t.Errorf("a number that is not one: %v", err)
	}
	// A wrong card is not a guess at the keypad: it does not count (the
	// "another card" above), and a locked number still opens to its card.
	for i := 0; i < core.MaxCheckFailures; i++ {
		noMatch("a wrong phone", r.Number, apitype.RequestProof{Phone4: "0000"})
	}
	if _, err := f.client.CheckRequest(ctx, r.Number, apitype.RequestProof{Phone4: "1234"}); !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != apitype.CodeLocked {
		t.Errorf("after %d misses the right proof: %v, want 429 locked", core.MaxCheckFailures, err)
	}
	f.cards.put("tap", villagerCard)
	if got, err := f.client.CheckRequest(ctx, r.Number, apitype.RequestProof{Card: "tap"}); err != nil || got.Number != r.Number {
		t.Errorf("its card while the number is locked: %+v %v, want the request", got, err)
	}
	f.clock.Advance(core.CheckLockout)
	if _, err := f.client.CheckRequest(ctx, r.Number, apitype.RequestProof{Phone4: "1234"}); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
}

// TestRequestsByCard: one card tap lists that villager's requests, newest
// first, and no one else's.
func TestRequestsByCard(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	submit := func(id core.Identity, category, phrase string) apitype.RequestReceipt {
		t.Helper()
		f.cards.put("tap", id)
		r, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "concern", Category: category, Phrases: []string{phrase}, Card: "tap"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := submit(villagerCard, "roads", "路灯不亮")
	submit(otherCard, "sanitation", "垃圾没有及时清运")
	last := submit(villagerCard, "hazards", "房屋墙体开裂")
	if _, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "concern", Category: "roads", Phrases: []string{"路灯不亮"}, Phone: "13905991234"}); err != nil {
		t.Fatal(err)
	}
	f.cards.put("tap", villagerCard)
	got, err := f.client.RequestsByCard(ctx, "tap")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Requests) != 2 || got.Requests[0].Number != last.Number || got.Requests[1].Number != first.Number {
		t.Errorf("requests by card = %+v", got.Requests)
	}
	var apiErr *localclient.APIError
	if _, err := f.client.RequestsByCard(ctx, "tap"); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeCardExpired {
		t.Errorf("the same token again: %v, want card_expired", err)
	}
}

// TestRequestsByCardSkipsUnreadable: a stored status this kioskd cannot
// read (a newer kioskd's, after a rollback) is skipped and counted, and
// the card still finds the villager's other requests.
func TestRequestsByCardSkipsUnreadable(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	var rs []apitype.RequestReceipt
	for _, phrase := range []string{"路灯不亮", "路灯不亮"} {
		f.cards.put("tap", villagerCard)
		r, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "concern", Category: "roads", Phrases: []string{phrase}, Card: "tap"})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if err := f.ob.PutKept(ctx, request.Table, rs[0].Seq, []byte(`{"v":99,"id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	f.cards.put("tap", villagerCard)
	got, err := f.client.RequestsByCard(ctx, "tap")
	if err != nil || len(got.Requests) != 1 || got.Requests[0].Number != rs[1].Number {
		t.Fatalf("requests by card past an unreadable entry = %+v %v", got.Requests, err)
	}
	if n := f.agent.SkippedRequests(); n != 1 {
		t.Errorf("SkippedRequests = %d, want 1", n)
	}
	if _, err := f.agent.AnsweredRequests(); err != nil {
		t.Errorf("answered requests past an unreadable entry: %v", err)
	}
}

// TestAnonymousReceiptPrintsOnce: an anonymous report's receipt carries
// its check code, prints once, and is gone after: the kiosk keeps no code.
func TestAnonymousReceiptPrintsOnce(t *testing.T) {
	f := mustServeDevices(t, false, true)
	ctx := context.Background()
	r, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "report", Category: "hazards",
		Phrases: []string{"电线老化或私拉乱接"}, Place: "tea-factory", Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.Print(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	d, err := f.paper.Doc()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range d.Lines {
		lines = append(lines, l.Text)
	}
	// The time is the hour's, as in the record (docs/requests.md).
	want := []string{"匿名举报回执", "编号：" + r.Number, "事项：举报 · 安全隐患", "　　　电线老化或私拉乱接", "地点：村茶厂",
		"时间：2026年11月24日 周二 10:00", "状态：已提交，待受理", "查询码：" + r.Code[:4] + " " + r.Code[4:],
		"凭编号和查询码在本机查询办理情况。查询码只打印这一次，请妥善保管。", "本举报未记录您的姓名、电话和身份证。", "开发村综治服务一体机"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("printed lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if len(d.QRs) != 0 {
		t.Errorf("an anonymous receipt has QR codes %+v", d.QRs)
	}
	var apiErr *localclient.APIError
	if err := f.client.Print(ctx, r.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("a second print of the code: %v, want 404", err)
	}
}

var codeRE = regexp.MustCompile(`"code":"\d{8}"`)

var anonNumberRE = regexp.MustCompile(`"number":"9\d{5}"`)

// TestAnonymousAnswer: the 201 answer of an anonymous report is the only
// place its code is given, and says nothing identifying.
func TestAnonymousAnswer(t *testing.T) {
	f := mustServe(t)
	status, _, raw := f.call(t, http.MethodPost, "/v1/requests", "",
		`{"kind":"report","category":"sanitation","phrases":["有人往溪里倒垃圾"],"anonymous":true}`)
	if status != http.StatusCreated || !codeRE.Match(raw) {
		t.Fatalf("%d %s", status, raw)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"via", "phone", "name", "card"} {
		if _, ok := got[k]; ok {
			t.Errorf("the answer has %q: %s", k, raw)
		}
	}
	// Its number is random, not the seq (docs/requests.md): six digits
	// beginning with 9.
	if !anonNumberRE.Match(raw) || got["seq"] == nil || fmt.Sprint(got["number"]) == fmt.Sprintf("%05.0f", got["seq"]) {
		t.Errorf("an anonymous report's number is not its own: %s", raw)
	}
	raw = anonNumberRE.ReplaceAll(raw, []byte(`"number":"912345"`))
	mustAnswerGolden(t, "requests_anonymous.json", codeRE.ReplaceAll(raw, []byte(`"code":"12345678"`)))
}

// TestAnonymousReceiptSurvivesAPrinterFault: the check code's one print is
// spent only when the printer takes it; a fault (a pulled cable, a jam)
// leaves it for another try, since the kiosk keeps no other copy.
func TestAnonymousReceiptSurvivesAPrinterFault(t *testing.T) {
	f := mustServeDevices(t, false, true)
	ctx := context.Background()
	r, err := f.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "report", Category: "hazards",
		Phrases: []string{"电线老化或私拉乱接"}, Place: "tea-factory", Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	f.paper.Fail(errors.New("write /dev/ttyUSB1: input/output error"))
	var apiErr *localclient.APIError
	if err := f.client.Print(ctx, r.ID); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeNoDevice {
		t.Fatalf("print on a failing printer: %v, want no_device", err)
	}
	f.paper.Fail(nil)
	for f.printer.Status().State != apitype.DeviceReady {
		time.Sleep(time.Millisecond)
	}
	if err := f.client.Print(ctx, r.ID); err != nil {
		t.Fatalf("print after the fault: %v", err)
	}
	d, err := f.paper.Doc()
	if err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, l := range d.Lines {
		printed = append(printed, l.Text)
	}
	if !slices.Contains(printed, "查询码："+r.Code[:4]+" "+r.Code[4:]) || d.Cuts != 1 {
		t.Errorf("printed %q with %d cuts, want the check code once", printed, d.Cuts)
	}
	if err := f.client.Print(ctx, r.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("a print after the one that worked: %v, want 404", err)
	}
}

// TestProofsNotInErrors: a check's proof travels in the body, so a client
// error (kioskd down) cannot print it; nor the card token of a listing.
func TestProofsNotInErrors(t *testing.T) {
	c := localclient.New(filepath.Join(t.TempDir(), "none.sock"))
	ctx := context.Background()
	for _, proof := range []apitype.RequestProof{{Phone4: "9876"}, {Code: "86421357"}, {Card: "card-token-secret"}} {
		_, err := c.CheckRequest(ctx, "00042", proof)
		if err == nil {
			t.Fatal("a check without kioskd answered")
		}
		for _, secret := range []string{"9876", "86421357", "card-token-secret"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error prints the proof: %v", err)
			}
		}
	}
	if _, err := c.RequestsByCard(ctx, "card-token-secret"); err == nil || strings.Contains(err.Error(), "card-token-secret") {
		t.Errorf("a listing's error: %v", err)
	}
}
