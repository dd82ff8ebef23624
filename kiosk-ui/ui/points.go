package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// 美德银行 (virtue bank) points (issue 20 item 3). The township pushes the
// village's points ledger as signed content; kioskd answers its public
// part to anyone (GET /v1/points: this month's offers of the points shop,
// the rules, where to spend them) and one villager's account to a card
// tap (POST /v1/points/by-card). Without a card the screen shows the
// public part and asks for the card; with one, the balance in very large
// digits, the recent entries and what the balance buys now.
//
// While a points screen shows, Run's rounds ask kioskd for the ledger's
// version every pointsPollEvery (checkPoints): when a newer ledger came,
// the account is read again by its view handle (POST /v1/points/view), no
// second tap needed, and the screen is drawn again whole, with a notice,
// never part old and part new. A view kioskd no longer knows sends the
// villager back to the public screen, asked to tap again.
//
// From the home screen: the 美德银行积分 tile, then the card: one tap and
// the card (TestPointsWithCardTaps).

// pointsPollEvery is how often a points screen asks for the ledger's
// version: Run's rounds come every 5 s on a screen other than home.
const pointsPollEvery = 5 * time.Second

// maxPointsSpoken is how many entries the account's own speech reads:
// kioskd takes maxSpeechRunes characters at once.
const maxPointsSpoken = 5

// pointsState is a points screen under way. acct is a villager's account:
// it is dropped, with the view handle that reads it again, when the
// villager leaves, taps 看完了, or the screen goes idle (goHome).
type pointsState struct {
	pub     apitype.Points // the public part the screen shows
	loaded  bool
	loadErr bool

	acct    *apitype.PointsAccount // the account shown; nil on the public screen
	noAcct  string                 // the name of a card with no account, "" otherwise
	updated bool                   // the account was read again from a newer ledger
	err     string                 // a failed card read, or a view that expired
	busy    bool                   // a card is being read

	polledAt time.Time // the last poll of the ledger's version
	polling  bool
}

// endPointsView tells kioskd the account on screen is left: its view
// handle would otherwise read the balance for the rest of its life there,
// longer than the screen's idle time.
func (u *UI) endPointsView() {
	if p := u.pts; p != nil && p.acct != nil && p.acct.View != "" {
		view := p.acct.View
		do(u, func(ctx context.Context) error { return u.opts.Agent.EndPointsView(ctx, view) }, func(error) {})
	}
}

// startPoints opens the public points screen and loads the public part.
func (u *UI) startPoints() {
	u.draft = draft{}
	u.rq, u.chk = nil, nil
	u.pts = &pointsState{}
	u.loadPoints()
}

func (u *UI) loadPoints() {
	p := u.pts
	p.loadErr = false
	u.showPoints()
	call(u, u.opts.Agent.Points, func(pub apitype.Points, err error) {
		if u.pts != p {
			return // the villager left while we were asking
		}
		if err != nil {
			u.opts.Log.Warn("points not loaded", "err", err)
			p.loadErr = true
			u.showPoints()
			return
		}
		p.pub, p.loaded = pub, true
		p.polledAt = u.opts.Now()
		u.showPoints()
	})
}

// showPoints draws the account when one is read, else the public screen.
func (u *UI) showPoints() {
	p := u.pts
	if p == nil {
		return
	}
	if p.acct != nil {
		u.showPointsAccount()
		return
	}
	u.showPointsPublic()
}

// redrawPoints draws the points screen again for a newer ledger: nobody
// touched it, so the idle reset still wipes the account in time.
func (u *UI) redrawPoints() {
	u.untouched = true
	defer func() { u.untouched = false }()
	u.showPoints()
}

// asOfDate is the ledger's export date as the screen says it: 12月5日.
func (u *UI) asOfDate(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(u.opts.Now().Location()).Format("1月2日")
}

// monthLabel is the offers' month, "2026-12", as 12月; "" if unknown.
func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return ""
	}
	return t.Format("1月")
}

// entryDate is an entry's day, "2026-11-28", as 11月28日.
func entryDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("1月2日")
}

// pointsChange says a change of points in words, 加 5 分 or 扣 3 分: its
// colour is not the only cue.
func (u *UI) pointsChange(n int) string {
	if n < 0 {
		return u.tf(wording.PointsEntryMinus, wording.Args{"points": -n})
	}
	return u.tf(wording.PointsEntryPlus, wording.Args{"points": n})
}

// offerRow is an offer of the points shop: its pictogram, name, price and
// what is left.
func (u *UI) offerRow(o apitype.PointsOffer) fyne.CanvasObject {
	line := u.tf(wording.PointsOffer, wording.Args{"name": o.Name, "points": o.Points})
	if o.Stock != nil {
		if *o.Stock > 0 {
			line += "　" + u.tf(wording.PointsOfferStock, wording.Args{"n": *o.Stock})
		} else {
			line += "　" + u.t(wording.PointsOfferSoldOut)
		}
	}
	icon := canvas.NewImageFromResource(theme.NewPrimaryThemedResource(offerPictogram(o.Pictogram)))
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSquareSize(1.6 * theme.Size(theme.SizeNameSubHeadingText)))
	return container.NewBorder(nil, nil, container.NewCenter(icon), nil, paragraph(line))
}

// changeRow is a line with a change of points at its end, in bold, in
// green for points earned and ochre for points lost, and in words.
func changeRow(text, change string, lost bool) fyne.CanvasObject {
	c := kiosktheme.Good
	if lost {
		c = kiosktheme.Error
	}
	ch := bigText(change, theme.SizeNameText, c)
	return container.NewBorder(nil, nil, nil, container.NewCenter(ch), paragraph(text))
}

// showPointsPublic is the screen without a card: the prompt to tap one,
// this month's offers, the rules and where to spend points. Before any
// ledger came, it says so plainly.
func (u *UI) showPointsPublic() {
	p := u.pts
	title := u.t(wording.PointsTile)
	rows := container.NewVBox()
	var speech []string
	say := func(s string) { speech = append(speech, strings.TrimSuffix(s, "。")) }
	if p.err != "" {
		rows.Add(errorText(p.err))
		say(p.err)
	}
	var actions []fyne.CanvasObject
	switch {
	case p.loadErr:
		rows.Add(errorText(u.t(wording.PointsLoadFailed)))
		say(u.t(wording.PointsLoadFailed))
		actions = append(actions, widget.NewButton(u.t(wording.PointsRetry), func() { u.touch(); u.loadPoints() }))
	case !p.loaded:
		rows.Add(paragraph(u.t(wording.PointsLoading)))
		say(u.t(wording.PointsLoading))
	case !p.pub.Available:
		rows.Add(heading(u.t(wording.PointsNotYet)))
		say(u.t(wording.PointsNotYet))
	default:
		pub := p.pub
		if p.noAcct != "" {
			rows.Add(heading(u.tf(wording.PointsGreeting, wording.Args{"name": p.noAcct})))
			rows.Add(paragraph(u.t(wording.PointsNoAccount)))
			say(u.t(wording.PointsNoAccount))
		}
		if p.busy {
			rows.Add(paragraph(u.t(wording.PointsReading)))
			say(u.t(wording.PointsReading))
		} else {
			rows.Add(tapCardPrompt(u.t(wording.PointsTapCard)))
			say(u.t(wording.PointsPublicSpeech))
		}
		if d := u.asOfDate(pub.AsOf); d != "" {
			rows.Add(paragraph(u.tf(wording.PointsAsOf, wording.Args{"date": d})))
		}
		rows.Add(heading(u.tf(wording.PointsOffersTitle, wording.Args{"month": monthLabel(pub.Month)})))
		if len(pub.Offers) == 0 {
			rows.Add(paragraph(u.t(wording.PointsNoOffers)))
		}
		for _, o := range pub.Offers {
			rows.Add(u.offerRow(o))
		}
		if pub.Where != "" {
			rows.Add(paragraph(u.tf(wording.PointsWhere, wording.Args{"where": pub.Where})))
		}
		if len(pub.Rules) > 0 {
			rows.Add(heading(u.t(wording.PointsRulesTitle)))
		}
		for _, r := range pub.Rules {
			rows.Add(changeRow(r.Text, u.pointsChange(r.Points), r.Points < 0))
		}
	}
	u.page(title, rows, strings.Join(speech, "。")+"。", u.showPoints, actions...)
}

// tapCardPrompt asks for the card in large words, in a framed box.
func tapCardPrompt(text string) fyne.CanvasObject {
	l := heading(text)
	l.SizeName = theme.SizeNameHeadingText
	box := canvas.NewRectangle(kiosktheme.ChosenFill)
	box.CornerRadius = 12
	box.StrokeColor = kiosktheme.Chosen
	box.StrokeWidth = 3
	icon := canvas.NewImageFromResource(theme.NewThemedResource(pictIDCard))
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSquareSize(2 * theme.Size(theme.SizeNameHeadingText)))
	return container.NewStack(box, container.NewPadded(container.NewBorder(nil, nil, container.NewCenter(icon), nil, l)))
}

// noticeBox is a short notice on a screen, in the offline banner's calm
// amber, in bold words.
func noticeBox(text string) fyne.CanvasObject {
	bg := canvas.NewRectangle(kiosktheme.Notice)
	bg.CornerRadius = 8
	bg.StrokeColor = kiosktheme.Good
	bg.StrokeWidth = 3
	tick := canvas.NewImageFromResource(successTick)
	tick.FillMode = canvas.ImageFillContain
	tick.SetMinSize(fyne.NewSquareSize(markSize()))
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	return container.NewStack(bg, container.NewPadded(container.NewBorder(nil, nil, container.NewCenter(tick), nil, l)))
}

// showPointsAccount is a villager's own points: the greeting, the balance
// in very large digits, the recent entries, what the balance buys now,
// and as of when. Offers are shown only from the ledger the account was
// read from, never from another.
func (u *UI) showPointsAccount() {
	p := u.pts
	a := p.acct
	rows := container.NewVBox()
	if p.updated {
		rows.Add(noticeBox(u.t(wording.PointsUpdated)))
	}
	greeting := u.tf(wording.PointsGreeting, wording.Args{"name": a.Name})
	rows.Add(heading(greeting))
	rows.Add(paragraph(u.t(wording.PointsBalanceLabel)))
	balance := u.tf(wording.PointsBalance, wording.Args{"n": a.Balance})
	digits := bigText(balance, theme.SizeNameHeadingText, kiosktheme.Foreground)
	digits.TextSize *= 2.5
	rows.Add(container.NewCenter(digits))
	asOf := ""
	if d := u.asOfDate(a.AsOf); d != "" {
		asOf = u.tf(wording.PointsAsOf, wording.Args{"date": d})
		rows.Add(paragraph(asOf))
	}
	speech := u.tf(wording.PointsAccountSpeech, wording.Args{"name": a.Name, "n": a.Balance, "as_of": asOf})
	speech = strings.ReplaceAll(speech, "。。", "。")
	if p.updated {
		speech = u.t(wording.PointsUpdated) + speech
	}
	rows.Add(heading(u.t(wording.PointsEntriesTitle)))
	if len(a.Entries) == 0 {
		rows.Add(paragraph(u.t(wording.PointsNoEntries)))
	}
	for i, e := range a.Entries {
		change := u.pointsChange(e.Points)
		date := entryDate(e.Date)
		rows.Add(changeRow(u.tf(wording.PointsEntry, wording.Args{"date": date, "reason": e.Reason}), change, e.Points < 0))
		if i < maxPointsSpoken {
			speech += u.tf(wording.PointsEntrySpeech, wording.Args{"date": date, "reason": strings.TrimSuffix(e.Reason, "。"), "change": change})
		}
	}
	if pub := p.pub; pub.Available && pub.Version == a.Version {
		rows.Add(heading(u.t(wording.PointsCanBuyTitle)))
		n := 0
		for _, o := range pub.Offers {
			if o.Points <= a.Balance && (o.Stock == nil || *o.Stock > 0) {
				rows.Add(u.offerRow(o))
				n++
			}
		}
		if n == 0 {
			rows.Add(paragraph(u.t(wording.PointsCanBuyNone)))
		}
		if pub.Where != "" {
			rows.Add(paragraph(u.tf(wording.PointsWhere, wording.Args{"where": pub.Where})))
		}
	}
	leave := widget.NewButton(u.t(wording.PointsLeave), func() {
		u.touch()
		u.endPointsView()
		p.acct, p.updated, p.err, p.noAcct = nil, false, "", ""
		u.showPoints()
	})
	if r := []rune(speech); len(r) > maxSpeechRunes-40 {
		speech = string(r[:maxSpeechRunes-40])
	}
	u.page(u.t(wording.PointsTile), rows, speech, u.showPoints, leave)
}

// pointsCard takes a card read on a points screen; false if none is on
// screen.
func (u *UI) pointsCard(c *apitype.CardSummary) bool {
	p := u.pts
	if p == nil {
		return false
	}
	if p.busy {
		return true
	}
	if !p.loaded || !p.pub.Available {
		// Nothing to read a card against yet: perhaps the ledger
		// came since.
		u.touch()
		u.loadPoints()
		return true
	}
	type read struct {
		acct apitype.PointsAccount
		pub  *apitype.Points
	}
	// A card tapped over an account replaces it at once: the screen
	// never shows one villager's points while reading another's.
	p.busy, p.err, p.noAcct, p.acct, p.updated = true, "", "", nil, false
	u.showPoints()
	token, have := c.Token, p.pub.Version
	call(u, func(ctx context.Context) (read, error) {
		a, err := u.opts.Agent.PointsByCard(ctx, token)
		if err != nil || !a.Found || a.Version == have {
			return read{acct: a}, err
		}
		// A newer ledger than the public part on screen: its offers, to
		// show beside the account.
		pub, err := u.opts.Agent.Points(ctx)
		if err != nil {
			return read{acct: a}, nil
		}
		return read{acct: a, pub: &pub}, nil
	}, func(r read, err error) {
		if u.pts != p {
			return
		}
		p.busy = false
		if r.pub != nil {
			p.pub = *r.pub
		}
		switch {
		case err != nil:
			p.err = u.pointsFailure(err)
		case !r.acct.Found:
			p.noAcct = r.acct.Name
			if p.noAcct == "" {
				p.noAcct = c.Name
			}
		default:
			a := r.acct
			if a.Name == "" {
				a.Name = c.Name
			}
			p.acct = &a
		}
		p.polledAt = u.opts.Now()
		u.showPoints()
	})
	return true
}

// pointsFailure words a failed card read: what to do, never a code.
func (u *UI) pointsFailure(err error) string {
	u.opts.Log.Warn("points not read", "err", err)
	var apiErr *localclient.APIError
	if errors.As(err, &apiErr) && apiErr.Code == apitype.CodeCardExpired {
		return u.t(wording.PointsFailCard)
	}
	return u.t(wording.PointsFailOther)
}

// checkPoints is a round of Run on a points screen: every pointsPollEvery
// it asks kioskd for the ledger, and when a newer one came reads the
// account again (rereadPoints) or draws the public part again.
func (u *UI) checkPoints() {
	p := u.pts
	if p == nil || p.polling || p.busy || !p.loaded {
		return
	}
	now := u.opts.Now()
	if now.Sub(p.polledAt) < pointsPollEvery {
		return
	}
	p.polledAt, p.polling = now, true
	call(u, u.opts.Agent.Points, func(pub apitype.Points, err error) {
		if u.pts != p {
			return
		}
		p.polling = false
		if err != nil {
			u.opts.Log.Warn("points ledger not polled", "err", err)
			return // the screen stays as it is, whole; the next round asks again
		}
		if p.acct != nil && pub.Version != p.acct.Version {
			u.rereadPoints(p, pub)
			return
		}
		if pub.Version == p.pub.Version && pub.Available == p.pub.Available {
			return // nothing new: no redraw, which repaints the whole window
		}
		p.pub = pub
		// "No points yet" was said of the old ledger: the newer one may
		// have an account for that card. The prompt asks for it again.
		p.noAcct = ""
		u.redrawPoints()
	})
}

// rereadPoints reads the account on screen again by its view handle from
// the newer ledger pub, and draws it again whole with a notice. A view
// kioskd no longer knows sends the villager back to the public screen.
func (u *UI) rereadPoints(p *pointsState, pub apitype.Points) {
	view := p.acct.View
	p.polling = true
	call(u, func(ctx context.Context) (apitype.PointsAccount, error) { return u.opts.Agent.PointsView(ctx, view) },
		func(a apitype.PointsAccount, err error) {
			if u.pts != p {
				return // the villager left while we were asking
			}
			p.polling = false // else the screen would never poll again
			if p.acct == nil || p.acct.View != view {
				return // 看完了, or another card tapped meanwhile
			}
			var apiErr *localclient.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeNotFound:
				p.acct, p.updated, p.pub = nil, false, pub
				p.err = u.t(wording.PointsViewExpired)
			case err != nil:
				// The old account stays on screen, whole: the next
				// round sees the newer ledger and asks again.
				u.opts.Log.Warn("points account not read again", "err", err)
				return
			case !a.Found:
				p.noAcct, p.acct, p.updated, p.pub = p.acct.Name, nil, false, pub
			default:
				if a.Name == "" {
					a.Name = p.acct.Name
				}
				if a.View == "" {
					a.View = view
				}
				p.acct, p.updated = &a, true
				if a.Version == pub.Version {
					p.pub = pub
				}
			}
			u.redrawPoints()
		})
}

// offerPictogram is the pictogram an offer names; an unknown name has a
// gift's, never a blank.
func offerPictogram(name string) fyne.Resource {
	switch name {
	case "rice", "grain":
		return pictBowl
	case "oil":
		return pictDrop
	case "gift", "":
		return pictGift
	}
	if r, ok := requestPictograms[name]; ok {
		return r()
	}
	return pictGift
}
