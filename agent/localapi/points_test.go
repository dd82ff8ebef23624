package localapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/points"
)

// mustPointsKey is the test township's points key: bytes 7 repeated.
func mustPointsKey(t *testing.T) *points.Key {
	t.Helper()
	k, err := points.NewKey(bytes.Repeat([]byte{7}, points.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pointsLedger is the village's ledger at version v, with balance for
// villagerCard's account (otherCard has none).
func pointsLedger(t *testing.T, v uint64, balance int, newest string) *points.Ledger {
	t.Helper()
	k := mustPointsKey(t)
	acc, err := k.Account(villagerCard.IDNumber)
	if err != nil {
		t.Fatal(err)
	}
	stock := 8
	return &points.Ledger{Format: points.Format, Village: "开发村", Version: v, AsOf: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC),
		Month: "2026-11", Where: "村委会一楼 积分超市，每周六上午", KeyID: k.ID(),
		Offers: []points.Offer{{Name: "洗衣液", Points: 30, Pictogram: "detergent", Stock: &stock}, {Name: "大米5斤", Points: 50}},
		Rules:  []points.Rule{{Text: "参加村道环境整治", Points: 5}, {Text: "乱扔垃圾", Points: -5}},
		Accounts: map[string]points.Account{acc: {Balance: balance, Entries: []points.Entry{
			{Date: "2026-11-22", Points: 5, Reason: newest},
			{Date: "2026-11-01", Points: balance - 5, Reason: "孝老爱亲"},
		}}}}
}

func (f *fixture) mustApplyLedger(t *testing.T, l *points.Ledger) {
	t.Helper()
	content, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.points.Apply(context.Background(), l, content, l.Version); err != nil {
		t.Fatal(err)
	}
}

var viewRE = regexp.MustCompile(`"view":"[0-9a-f]{32}"`)

// TestPointsGolden: the public part and an account, as the screen
// receives them (the view handle is random, so fixed here).
func TestPointsGolden(t *testing.T) {
	f := mustServe(t)
	get := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, "http://kioskd"+path, strings.NewReader(body))
		resp, err := f.raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return viewRE.ReplaceAll(b, []byte(`"view":"0123456789abcdef0123456789abcdef"`))
	}
	mustAnswerGolden(t, "points_none.json", get("GET", "/v1/points", ""))
	f.mustApplyLedger(t, pointsLedger(t, 3, 85, "参加村道环境整治"))
	mustAnswerGolden(t, "points.json", get("GET", "/v1/points", ""))
	f.cards.put("tap", villagerCard)
	mustAnswerGolden(t, "points_account.json", get("POST", "/v1/points/by-card", `{"card":"tap"}`))
}

// TestPointsByCard: a card with points, a card without, a ledger update
// arriving while the screen shows the old one, and a view that expired.
func TestPointsByCard(t *testing.T) {
	f := mustServe(t)
	ctx := context.Background()
	var apiErr *localclient.APIError

	pub, err := f.client.Points(ctx)
	if err != nil || pub.Available || pub.Offers == nil {
		t.Fatalf("before a ledger: %+v, %v", pub, err)
	}
	f.mustApplyLedger(t, pointsLedger(t, 3, 85, "参加村道环境整治"))
	pub, err = f.client.Points(ctx)
	if err != nil || !pub.Available || pub.Version != 3 || len(pub.Offers) != 2 || *pub.Offers[0].Stock != 8 || len(pub.Rules) != 2 {
		t.Fatalf("public part = %+v, %v", pub, err)
	}

	// A card with points; its token is spent.
	f.cards.put("tap", villagerCard)
	acc, err := f.client.PointsByCard(ctx, "tap")
	if err != nil || !acc.Found || acc.Balance != 85 || len(acc.Entries) != 2 || acc.Version != 3 || acc.Name != villagerCard.Name {
		t.Fatalf("a card with points: %+v, %v", acc, err)
	}
	if _, err := f.client.PointsByCard(ctx, "tap"); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeCardExpired {
		t.Errorf("the same token again: %v, want card_expired", err)
	}

	// A newer ledger arrives while the screen shows v3: the view reads v4.
	f.mustApplyLedger(t, pointsLedger(t, 4, 90, "调解邻里纠纷"))
	f.clock.Advance(time.Minute)
	again, err := f.client.PointsView(ctx, acc.View)
	if err != nil || again.Balance != 90 || again.Version != 4 || again.Entries[0].Reason != "调解邻里纠纷" || again.View != acc.View {
		t.Errorf("the view after v4: %+v, %v; want v4's 90", again, err)
	}

	// A card without points: found false, not an error; the earlier
	// villager's view ends.
	f.cards.put("tap2", otherCard)
	none, err := f.client.PointsByCard(ctx, "tap2")
	if err != nil || none.Found || none.Balance != 0 || none.Entries == nil || none.Version != 4 {
		t.Errorf("a card without points: %+v, %v", none, err)
	}
	if _, err := f.client.PointsView(ctx, acc.View); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != apitype.CodeNotFound {
		t.Errorf("the first view after another card: %v, want 404 not_found", err)
	}

	// The screen left the account: another handle ends nothing, its own
	// ends it at once, and ending it again is no error either.
	if err := f.client.EndPointsView(ctx, acc.View); err != nil {
		t.Fatalf("ending a view no longer kept: %v", err)
	}
	if _, err := f.client.PointsView(ctx, none.View); err != nil {
		t.Fatalf("another handle's end ended this view: %v", err)
	}
	if err := f.client.EndPointsView(ctx, none.View); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PointsView(ctx, none.View); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("an ended view: %v, want 404", err)
	}
	f.cards.put("tap3", otherCard)
	if none, err = f.client.PointsByCard(ctx, "tap3"); err != nil {
		t.Fatal(err)
	}

	// Expired.
	f.clock.Advance(points.ViewTTL)
	if _, err := f.client.PointsView(ctx, none.View); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("an expired view: %v, want 404", err)
	}
	if _, err := f.client.PointsView(ctx, ""); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeRequired {
		t.Errorf("no view: %v, want required", err)
	}
	if _, err := f.client.PointsByCard(ctx, "never-read"); !errors.As(err, &apiErr) || apiErr.Code != apitype.CodeCardExpired {
		t.Errorf("an unknown token: %v, want card_expired", err)
	}
}
