package ui

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

var labelPoints = txt(wording.PointsTile)

// showAccount opens 美德银行 from the home screen and places 陈桂英's card.
func showAccount(t *testing.T, u *UI, p *tapper) {
	t.Helper()
	p.tile(labelPoints)
	u.onCardEvent(tappedCard) // placing the card is not a tap on the screen
	mustSee(t, p.w, "128 分")
}

// notOnScreen fails if substr is anywhere on screen.
func notOnScreen(t *testing.T, u *UI, substr string) {
	t.Helper()
	if onScreen(u.win, substr) {
		t.Errorf("%q still on screen; texts: %q", substr, texts(u.win))
	}
}

// TestPointsWithCardTaps: from the home screen to one's own balance in one
// tap and the card (issue 20 item 3 asks at most 3): the balance in large
// digits, the entries with 加/扣 in words, what the balance buys now, as
// of when; and all of it read aloud.
func TestPointsWithCardTaps(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tile(labelPoints)
	// The public part: the prompt, the offers, the rules, where.
	mustSee(t, w, txt(wording.PointsTapCard))
	mustSee(t, w, "11月积分超市能换的东西")
	mustSee(t, w, "大米 5 斤：50 分　还剩 12 件")
	mustSee(t, w, "食用油 1 桶：80 分　"+txt(wording.PointsOfferSoldOut))
	mustSee(t, w, "洗衣粉 1 袋：20 分")
	mustSee(t, w, "乱倒垃圾，每次")
	mustSee(t, w, "扣 5 分")
	mustSee(t, w, "在哪里换：村委会一楼积分超市，每周六上午")
	mustSee(t, w, "积分截至 11月24日")
	u.onCardEvent(tappedCard) // placing the card is not a tap on the screen
	mustSee(t, w, "陈桂英，您好")
	mustSee(t, w, "128 分")
	mustSee(t, w, "11月22日　调解邻里矛盾")
	mustSee(t, w, "加 10 分")
	mustSee(t, w, "11月15日　柴草堆在路边")
	mustSee(t, w, "扣 5 分")
	mustSee(t, w, txt(wording.PointsCanBuyTitle))
	mustSee(t, w, "大米 5 斤：50 分")
	notOnScreen(t, u, "保温杯")     // 150 points: more than the balance
	notOnScreen(t, u, "食用油 1 桶") // none left
	notOnScreen(t, u, txt(wording.PointsRulesTitle))
	mustSee(t, w, "积分截至 11月24日")
	if p.taps > 3 {
		t.Errorf("home to balance took %d taps, want at most 3", p.taps)
	}
	t.Logf("home to balance: %d taps and the card", p.taps)
	if got := agent.pts.byCard; len(got) != 1 || got[0] != pointsToken {
		t.Errorf("by-card asked for %v", got)
	}
	s := u.readAloudText()
	for _, want := range []string{"陈桂英，您现在有 128 分", "积分截至 11月24日", "11月22日，调解邻里矛盾，加 10 分", "柴草堆在路边，扣 5 分"} {
		if !contains(s, want) {
			t.Errorf("reads aloud %q, without %q", s, want)
		}
	}
	// 看完了: the account goes, the public part stays, and kioskd forgets
	// the view at once.
	p.tap(txt(wording.PointsLeave))
	notOnScreen(t, u, "陈桂英")
	notOnScreen(t, u, "128 分")
	mustSee(t, w, txt(wording.PointsTapCard))
	agent.mu.Lock()
	ended := slices.Clone(agent.pts.ended)
	agent.mu.Unlock()
	if len(ended) != 1 || ended[0] == "" {
		t.Errorf("views ended by 看完了: %q, want the account's", ended)
	}
	p.tap(labelHome)
	if u.pts != nil {
		t.Error("the points screen's state outlived going home")
	}
}

// TestPointsCardWithoutAccount: a card the ledger has no account for is
// told so kindly, and sees the public part; no booking starts. A newer
// ledger takes the words back, since it may have the account.
func TestPointsCardWithoutAccount(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tile(labelPoints)
	u.onCardEvent(noPointsCard)
	mustSee(t, w, "李建国，您好")
	mustSee(t, w, txt(wording.PointsNoAccount))
	mustSee(t, w, "大米 5 斤：50 分")
	mustSee(t, w, txt(wording.PointsRulesTitle))
	mustSee(t, w, txt(wording.PointsTapCard))
	notOnScreen(t, u, txt(wording.PointsBalanceLabel))
	if u.draft.active {
		t.Error("a card on the points screen started a booking")
	}
	// A newer ledger: "no points" was said of the old one, and goes.
	agent.pushLedger(2, 128, testEntries...)
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	notOnScreen(t, u, txt(wording.PointsNoAccount))
	notOnScreen(t, u, "李建国")
	mustSee(t, w, txt(wording.PointsTapCard))
	// The next villager's card replaces the kind words with their points.
	u.onCardEvent(tappedCard)
	mustSee(t, w, "128 分")
	notOnScreen(t, u, "李建国")
}

// TestPointsNoLedgerYet: before the township's first ledger, the screen
// says plainly that the village's points are not on this kiosk yet, and a
// card tapped there asks kioskd again instead of starting a booking.
func TestPointsNoLedgerYet(t *testing.T) {
	agent := newFakeAgent()
	agent.pts.ledger = nil
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tile(labelPoints)
	mustSee(t, w, txt(wording.PointsNotYet))
	notOnScreen(t, u, txt(wording.PointsTapCard))
	u.onCardEvent(tappedCard)
	if u.draft.active || len(agent.pts.byCard) != 0 {
		t.Errorf("a card with no ledger: booking %v, by-card %v", u.draft.active, agent.pts.byCard)
	}
	mustSee(t, w, txt(wording.PointsNotYet))
	// The ledger arrives: the next round of Run shows it.
	agent.pushLedger(1, 128, testEntries...)
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	mustSee(t, w, txt(wording.PointsTapCard))
}

// TestPointsLedgerUpdateWhileShown: a newer ledger arriving while an
// account shows is read by the view handle, with no second tap, and the
// screen is drawn again whole with a notice; the redraw is nobody's
// touch. Before pointsPollEvery nothing is asked.
func TestPointsLedgerUpdateWhileShown(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	showAccount(t, u, p)
	touched := u.lastActivity
	polls := agent.pts.polls
	agent.pushLedger(2, 143, append([]apitype.PointsEntry{{Date: "2026-11-25", Points: 15, Reason: "照顾孤寡老人"}}, testEntries...)...)
	clock.t = clock.t.Add(pointsPollEvery - 1)
	u.checkPoints()
	if agent.pts.polls != polls {
		t.Errorf("polled %d times before %v had passed", agent.pts.polls-polls, pointsPollEvery)
	}
	mustSee(t, w, "128 分")
	clock.t = clock.t.Add(1)
	u.checkPoints()
	mustSee(t, w, "143 分")
	mustSee(t, w, txt(wording.PointsUpdated))
	mustSee(t, w, "11月25日　照顾孤寡老人")
	mustSee(t, w, "积分截至 11月25日")
	notOnScreen(t, u, "保温杯") // 150: more than 143
	notOnScreen(t, u, "128 分")
	notOnScreen(t, u, "积分截至 11月24日")
	if got := agent.pts.viewed; len(got) != 1 || got[0] != "view-"+pointsToken {
		t.Errorf("views read %v", got)
	}
	if len(agent.pts.byCard) != 1 {
		t.Errorf("the card was asked for again: %v", agent.pts.byCard)
	}
	if !u.lastActivity.Equal(touched) {
		t.Error("the redraw for a newer ledger counted as someone's touch")
	}
	if s := u.readAloudText(); !contains(s, "143 分") || contains(s, "128") {
		t.Errorf("reads aloud %q", s)
	}
	// The same ledger again: nothing read, nothing redrawn.
	viewed := len(agent.pts.viewed)
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	if len(agent.pts.viewed) != viewed {
		t.Error("the account was read again for the same ledger")
	}
}

// TestPointsUpdateNeverMixed: while kioskd cannot answer the view, the old
// account stays on screen whole, old balance with old offers; the next
// round shows the new one.
func TestPointsUpdateNeverMixed(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	showAccount(t, u, p)
	agent.pushLedger(2, 30)
	agent.pts.ledger.Offers[0].Name = "新米 5 斤"
	// The version is polled, then kioskd fails the view.
	failing := &failingView{fakeAgent: agent}
	u.opts.Agent = failing
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	mustSee(t, w, "128 分")
	mustSee(t, w, "大米 5 斤")
	notOnScreen(t, u, "新米")
	notOnScreen(t, u, txt(wording.PointsUpdated))
	u.opts.Agent = agent
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	mustSee(t, w, "30 分")
	mustSee(t, w, "洗衣粉 1 袋：20 分")
	notOnScreen(t, u, "大米 5 斤") // 50: more than 30
}

// failingView is kioskd answering the ledger but not the view.
type failingView struct{ *fakeAgent }

func (f *failingView) PointsView(ctx context.Context, view string) (apitype.PointsAccount, error) {
	return apitype.PointsAccount{}, errors.New("kioskd restarting")
}

// TestPointsViewExpired: a view kioskd no longer knows sends the villager
// back to the public screen, asked to tap again; nothing of the account
// is left.
func TestPointsViewExpired(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	showAccount(t, u, p)
	agent.pushLedger(2, 143)
	agent.pts.viewGone = true
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	mustSee(t, w, txt(wording.PointsViewExpired))
	mustSee(t, w, txt(wording.PointsTapCard))
	notOnScreen(t, u, "128 分")
	notOnScreen(t, u, "143 分")
	notOnScreen(t, u, "陈桂英")
	if u.pts.acct != nil {
		t.Error("the account outlived its view")
	}
	// Tapped again: the new balance.
	agent.pts.viewGone = false
	u.onCardEvent(tappedCard)
	mustSee(t, w, "143 分")
	notOnScreen(t, u, txt(wording.PointsViewExpired))
}

// TestPointsFailuresShown: an expired card token and kioskd unreachable
// are said as the other screens say them, on the public screen.
func TestPointsFailuresShown(t *testing.T) {
	agent := newFakeAgent()
	u, w, _ := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tile(labelPoints)
	u.onCardEvent(apitype.CardEvent{Seq: 9, Kind: apitype.CardRead, Card: &apitype.CardSummary{Token: expiredToken, Name: "陈桂英"}})
	mustSee(t, w, txt(wording.PointsFailCard))
	mustSee(t, w, txt(wording.PointsTapCard))
	agent.pts.err = errors.New("dial unix: connection refused")
	u.onCardEvent(tappedCard)
	mustSee(t, w, txt(wording.PointsFailOther))
	notOnScreen(t, u, txt(wording.PointsFailCard))
	// Opening the screen while kioskd is away: a retry.
	p.tap(labelHome)
	p.tile(labelPoints)
	mustSee(t, w, txt(wording.PointsLoadFailed))
	agent.pts.err = nil
	p.tap(txt(wording.PointsRetry))
	mustSee(t, w, txt(wording.PointsTapCard))
}

// TestPointsWipedOnIdle: the account goes when the screen goes idle, view
// handle and all, like any villager's details; opening the screen again
// shows only the public part.
func TestPointsWipedOnIdle(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	showAccount(t, u, p)
	clock.t = u.lastActivity.Add(u.opts.IdleTimeout - IdleWarning)
	u.checkIdle()
	if !u.IdleWarned() {
		t.Fatal("no idle warning on the account screen")
	}
	clock.t = u.lastActivity.Add(u.opts.IdleTimeout)
	u.checkIdle()
	if !u.screen.home || u.pts != nil {
		t.Fatalf("after the idle reset: home %v, points state %+v", u.screen.home, u.pts)
	}
	notOnScreen(t, u, "128 分")
	notOnScreen(t, u, "陈桂英")
	// kioskd forgets the view too: it would read the balance for minutes
	// after the screen's idle reset.
	agent.mu.Lock()
	ended := slices.Clone(agent.pts.ended)
	agent.mu.Unlock()
	if len(ended) != 1 || ended[0] == "" {
		t.Errorf("views ended at the idle reset: %q, want the account's", ended)
	}
	p.tile(labelPoints)
	mustSee(t, w, txt(wording.PointsTapCard))
	notOnScreen(t, u, "128 分")
}

// TestPointsPollingResumesAfterLeave: an account left (看完了) while its
// view was being read again leaves the screen polling still.
func TestPointsPollingResumesAfterLeave(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	showAccount(t, u, p)
	agent.pushLedger(2, 143)
	var leave func()
	u.opts.Agent = &leavingView{fakeAgent: agent, leave: func() { leave() }}
	leave = func() { p.tap(txt(wording.PointsLeave)) }
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	notOnScreen(t, u, "143 分")
	mustSee(t, w, txt(wording.PointsTapCard))
	if u.pts.polling {
		t.Fatal("polling stuck after the account was left during a view read")
	}
	u.opts.Agent = agent
	agent.pushLedger(3, 143)
	agent.pts.ledger.Offers[0].Name = "新米 5 斤"
	clock.t = clock.t.Add(pointsPollEvery)
	u.checkPoints()
	mustSee(t, w, "新米 5 斤")
}

// leavingView is the villager tapping 看完了 while kioskd reads the view.
type leavingView struct {
	*fakeAgent
	leave func()
}

func (f *leavingView) PointsView(ctx context.Context, view string) (apitype.PointsAccount, error) {
	f.leave()
	return f.fakeAgent.PointsView(ctx, view)
}
