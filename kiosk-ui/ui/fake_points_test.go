package ui

import (
	"context"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// fakePoints is the fake kioskd's 美德银行 (GET /v1/points, POST
// /v1/points/by-card and /v1/points/view). Until a test calls
// (*fakeAgent).pushLedger, no ledger has come (Available false), as on a
// new kiosk; newFakeAgent pushes testLedger so the tour shows the screens.
type fakePoints struct {
	ledger   *apitype.Points
	balances map[string]int                   // by card token: the cards with an account
	entries  map[string][]apitype.PointsEntry // by card token
	views    map[string]string                // view handle → card token
	viewGone bool                             // every view answers 404, as once it expired
	err      error                            // every call fails with it (kioskd unreachable)
	polls    int                              // GET /v1/points asked
	byCard   []string
	viewed   []string
	ended    []string // view handles the screen said it left
}

// The card with an account in testLedger, and one without.
const (
	pointsToken   = "tok-1" // tappedCard: 陈桂英
	noPointsToken = "tok-nopoints"
)

var noPointsCard = apitype.CardEvent{Seq: 11, Kind: apitype.CardRead, Card: &apitype.CardSummary{
	Token: noPointsToken, Type: "resident", Name: "李建国", Sex: "男", IDMasked: "350782**********17"}}

// testLedger is the village's ledger as the township pushed it, numbered v.
func testLedger(v uint64) apitype.Points {
	asOf := time.Date(2026, 11, 24, 18, 0, 0, 0, cst)
	return apitype.Points{
		Available: true, Village: "星村", Version: v, AsOf: &asOf, Month: "2026-11",
		Offers: []apitype.PointsOffer{
			{Name: "大米 5 斤", Points: 50, Pictogram: "rice", Stock: ptr(12)},
			{Name: "食用油 1 桶", Points: 80, Pictogram: "oil", Stock: ptr(0)},
			{Name: "洗衣粉 1 袋", Points: 20},
			{Name: "保温杯", Points: 150, Pictogram: "gift", Stock: ptr(3)},
		},
		Rules: []apitype.PointsRule{
			{Text: "参加村里的义务劳动，每次", Points: 5},
			{Text: "调解邻里矛盾成功", Points: 10},
			{Text: "乱倒垃圾，每次", Points: -5},
		},
		Where: "村委会一楼积分超市，每周六上午",
	}
}

// pushLedger applies the ledger numbered v, with the card's balance and
// entries as that ledger has them.
func (f *fakeAgent) pushLedger(v uint64, balance int, entries ...apitype.PointsEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := testLedger(v)
	if v > 1 {
		at := l.AsOf.AddDate(0, 0, int(v)-1)
		l.AsOf = &at
	}
	f.pts.ledger = &l
	f.pts.balances = map[string]int{pointsToken: balance}
	f.pts.entries = map[string][]apitype.PointsEntry{pointsToken: entries}
}

// testEntries are 陈桂英's recent entries, newest first.
var testEntries = []apitype.PointsEntry{
	{Date: "2026-11-22", Points: 10, Reason: "调解邻里矛盾"},
	{Date: "2026-11-15", Points: -5, Reason: "柴草堆在路边"},
	{Date: "2026-11-08", Points: 5, Reason: "参加义务劳动"},
}

func (f *fakeAgent) Points(context.Context) (apitype.Points, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pts.polls++
	if f.pts.err != nil {
		return apitype.Points{}, f.pts.err
	}
	if f.pts.ledger == nil {
		return apitype.Points{Offers: []apitype.PointsOffer{}, Rules: []apitype.PointsRule{}}, nil
	}
	return *f.pts.ledger, nil
}

// account answers as kioskd does: from the ledger in force now.
func (f *fakeAgent) account(card, view string) apitype.PointsAccount {
	l := f.pts.ledger
	bal, ok := f.pts.balances[card]
	a := apitype.PointsAccount{Found: ok, Version: l.Version, AsOf: l.AsOf, Entries: []apitype.PointsEntry{}}
	if card == pointsToken || card == noPointsToken {
		a.Name = map[string]string{pointsToken: "陈桂英", noPointsToken: "李建国"}[card]
	}
	if ok {
		a.Balance, a.Entries = bal, append(a.Entries, f.pts.entries[card]...)
		a.View, a.ViewExpires = view, time.Date(2026, 11, 25, 10, 5, 0, 0, cst)
	}
	return a
}

func (f *fakeAgent) PointsByCard(_ context.Context, card string) (apitype.PointsAccount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pts.byCard = append(f.pts.byCard, card)
	switch {
	case f.pts.err != nil:
		return apitype.PointsAccount{}, f.pts.err
	case card == expiredToken:
		return apitype.PointsAccount{}, errCardExpired
	case f.pts.ledger == nil:
		return apitype.PointsAccount{}, &localclient.APIError{StatusCode: 503, Code: "unavailable", Message: "no ledger yet"}
	}
	view := "view-" + card
	if f.pts.views == nil {
		f.pts.views = map[string]string{}
	}
	f.pts.views[view] = card
	return f.account(card, view), nil
}

func (f *fakeAgent) PointsView(_ context.Context, view string) (apitype.PointsAccount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pts.viewed = append(f.pts.viewed, view)
	if f.pts.err != nil {
		return apitype.PointsAccount{}, f.pts.err
	}
	card, ok := f.pts.views[view]
	if !ok || f.pts.viewGone {
		return apitype.PointsAccount{}, &localclient.APIError{StatusCode: 404, Code: apitype.CodeNotFound, Message: "view expired"}
	}
	return f.account(card, view), nil
}

func (f *fakeAgent) EndPointsView(_ context.Context, view string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pts.ended = append(f.pts.ended, view)
	delete(f.pts.views, view)
	return nil
}
