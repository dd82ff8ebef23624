package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Service ids of the five 513 services.
const (
	serviceLecture   = "legal-lecture"
	servicePublicity = "publicity"
	serviceFair      = "legal-fair"
)

func (u *UI) showHome() {
	if !u.hasMenu {
		u.showLoading()
		return
	}
	m := u.menu
	// Two columns at most: a third squeezes a service's line of
	// explanation under its pictogram on a portrait panel.
	tiles := u.fillGrid(2)
	if u.form() == formWide {
		tiles = u.fillGrid(3)
	}
	for _, s := range m.Services {
		tiles.Add(withPictogram(newTile(s.Title, s.Summary, kiosktheme.Card, func() { u.showService(s) }),
			theme.NewPrimaryThemedResource(servicePictogram(s.ID)), false))
	}
	// 美德银行 (issue 20 item 3): a sixth tile, which fills the grid's
	// last row beside the five services.
	tiles.Add(withPictogram(newTile(u.t(wording.PointsTile), u.t(wording.PointsTileSummary), kiosktheme.Card, u.startPoints),
		theme.NewPrimaryThemedResource(pictStar), false))
	a := m.Advisor
	advisor := u.tf(wording.HomeAdvisor, wording.Args{"name": a.Name, "firm": a.Firm, "duty": strings.Join(a.Duty, "；")})
	bookAdvisor, bookMediation := u.t(wording.HomeBookAdvisor), u.t(wording.MediationBook)
	advisorKey, advisorTile := bookingKey(bookAdvisor, theme.AccountIcon(), u.startBooking)
	mediationKey, mediationTile := bookingKey(bookMediation, pictTalk, u.startMediation)
	bookings := u.fillGrid(2)
	bookings.Add(advisorTile)
	bookings.Add(mediationTile)
	hotlineKey := newHotlineBlock(u.t(wording.HomeHotline), u.showHotline)
	// 我要反映 and its check (issue 20): a row of their own under the
	// bookings, smaller than they are and not in the main action's red.
	raiseKey, raiseTile := requestKey(u.t(wording.RequestRaise), pictMegaphone, u.startRequest)
	checkKey, checkTile := requestKey(u.t(wording.RequestCheck), theme.SearchIcon(), u.startCheck)
	var requests fyne.CanvasObject
	if cols, _ := bookings.Layout.(*fillGrid).cols(bookings.Objects); cols == 1 && u.form() != formPortrait {
		// The bookings stacked on a landscape panel (a small one in
		// larger text): a third row would be under the fold, so the
		// two stand in a column beside them, plain keys with shorter
		// words: beside the advisor's key there is room for five
		// characters.
		raiseKey = widget.NewButton(u.t(wording.RequestRaise), u.startRequest)
		checkKey = widget.NewButton(u.t(wording.RequestCheckShort), u.startCheck)
		side := container.New(&homeLayout{weight: []float32{1, 1}}, raiseKey, checkKey)
		bookings = container.NewBorder(nil, nil, nil, side, bookings)
	} else {
		g := u.fillGrid(2)
		g.Add(raiseTile)
		g.Add(checkTile)
		requests = g
	}
	u.homeKeys = []fyne.CanvasObject{advisorKey, mediationKey, raiseKey, checkKey, hotlineKey}
	// The bookings first and largest; 我要反映 and its check; the
	// services; 12348; the advisor's hours; and last, small, the
	// mediators' way in. On a portrait totem the keys grow to fill the
	// upper part, the bookings most.
	rows := []fyne.CanvasObject{bookings, requests, tiles, hotlineKey, paragraph(advisor),
		container.NewHBox(widget.NewButton(u.t(wording.HomeMediator), u.startSignIn))}
	weight := []float32{3, 1, 4, 1}
	if requests == nil {
		rows, weight = slices.Delete(rows, 1, 2), []float32{3, 4, 1}
	}
	var band []fyne.CanvasObject
	if u.form() != formPortrait {
		// On a landscape panel 12348 stands in the band, below the
		// bookings: under the services it is under the fold.
		i := slices.Index(rows, fyne.CanvasObject(hotlineKey))
		rows = slices.Delete(rows, i, i+1)
		band = append(band, hotlineKey)
	}
	body := container.New(&homeLayout{weight: weight}, rows...)
	speech := u.tf(wording.HomeSpeech, wording.Args{"kiosk": m.KioskName, "advisor": bookAdvisor, "mediation": bookMediation})
	speech = strings.TrimSuffix(speech, "。") + "。" + u.tf(wording.RequestHomeSpeech, wording.Args{"raise": u.t(wording.RequestRaise), "check": u.t(wording.RequestCheck)})
	u.present(container.NewVScroll(container.NewPadded(body)), screen{redraw: u.showHome, speech: speech, home: true, band: band})
}

// showHotline is what the 12348 block opens: the number in very large
// digits and what the line is for. The kiosk has no telephone: the
// villager dials it on their own.
func (u *UI) showHotline() {
	number := bigText(hotline, theme.SizeNameHeadingText, kiosktheme.Foreground)
	number.TextSize *= 3
	rows := container.NewVBox(
		container.NewCenter(number),
		paragraph(u.t(wording.HomeHotlineWhat)),
		paragraph(u.t(wording.HomeHotlineHow)),
	)
	speech := u.tf(wording.HomeHotlineSpeech, wording.Args{"number": spaced(hotline)})
	u.page(u.t(wording.HomeHotlineTitle), rows, speech, u.showHotline)
}

// page lays out a page that is not a step of a flow: its content, and at
// the bottom the way home plus any actions.
func (u *UI) page(title string, content *fyne.Container, speech string, redraw func(), actions ...fyne.CanvasObject) {
	nav := append([]fyne.CanvasObject{widget.NewButton(u.t(wording.CommonHome), u.goHome)}, actions...)
	body := container.NewVBox(content.Objects...)
	u.framePage(title, nil, body, nav, title+"。"+speech, redraw)
}

// showService is one of the five services on each of the three platforms,
// with the content that service has.
func (u *UI) showService(s apitype.Service) {
	rows := container.NewVBox(paragraph(s.Summary))
	speech := s.Summary + "。"
	c := u.menu.Content
	add := func(text string) {
		rows.Add(paragraph(text))
		speech += text + "。"
	}
	var actions []fyne.CanvasObject
	switch s.ID {
	case advisorService:
		a := u.menu.Advisor
		add(u.tf(wording.HomeServiceLawyer, wording.Args{"name": a.Name, "firm": a.Firm}))
		actions = append(actions, primary(u.t(wording.HomeServiceBook), u.startBooking))
	case serviceLecture:
		if c.Lecture.Theme != "" {
			add(u.tf(wording.HomeLectureTheme, wording.Args{"theme": c.Lecture.Theme}))
		}
		for _, e := range c.Lecture.Schedule {
			rows.Add(u.eventRow(s.ID, e))
			speech += eventLine(e) + "。"
		}
	case checkupService:
		// In the bar at the bottom, beside the way home: the three ways
		// to reach the service take the page's height on a small panel.
		for _, k := range c.Checkup {
			actions = append(actions, primary(k.Title, func() { u.startCheckup(k) }))
		}
	case servicePublicity:
		for _, p := range c.Publicity {
			line := p.Name + "：" + p.Where
			if p.Hours != "" {
				line += "（" + p.Hours + "）"
			}
			add(line)
		}
	case serviceFair:
		if len(c.Fairs) == 0 {
			add(u.t(wording.HomeNoFair))
		}
		for _, e := range c.Fairs {
			rows.Add(u.eventRow(s.ID, e))
			speech += eventLine(e) + "。"
		}
	}
	// The three ways to reach the service come first, in place of the
	// summary the home tile just showed: the QR code must be on screen
	// whole, on the smallest panel in larger text too. The summary is
	// still spoken.
	tiles, how := u.platformTiles(s)
	rows.Objects[0] = tiles
	speech = s.Summary + "。" + how + strings.TrimPrefix(speech, s.Summary+"。")
	u.page(s.Title, rows, speech, func() { u.showService(s) }, actions...)
}

func eventLine(e apitype.Event) string {
	return slotLabel(e.At) + "　" + e.Title + "（" + e.Place + "）"
}

// checkup is a legal check-up under way: the questionnaire and the answers
// so far. It holds no personal data.
type checkup struct {
	kind    apitype.Checkup
	answers []apitype.CheckupAnswer
}

func (u *UI) startCheckup(k apitype.Checkup) {
	u.draft = draft{active: true}
	u.showQuestion(&checkup{kind: k})
}

// showQuestion asks the next unanswered question, one per screen, answered
// with two large buttons; then sums up.
func (u *UI) showQuestion(c *checkup) {
	i := len(c.answers)
	if i == len(c.kind.Questions) {
		u.showCheckupResult(c)
		return
	}
	q := c.kind.Questions[i]
	answer := func(yes bool) func() {
		return func() {
			c.answers = append(c.answers, apitype.CheckupAnswer{Question: q.ID, Yes: yes})
			u.showQuestion(c)
		}
	}
	title := u.tf(wording.CheckupQuestionTitle, wording.Args{"title": c.kind.Title, "n": i + 1, "total": len(c.kind.Questions)})
	rows := container.NewVBox(heading(q.Text), container.New(u.grid(2).Layout,
		widget.NewButton(u.t(wording.CheckupYes), answer(true)), widget.NewButton(u.t(wording.CheckupNo), answer(false))))
	var actions []fyne.CanvasObject
	if i > 0 {
		actions = append(actions, widget.NewButton(u.t(wording.CheckupPrevious), func() { c.answers = c.answers[:i-1]; u.showQuestion(c) }))
	}
	u.page(title, rows, strings.TrimSuffix(q.Text, "。")+"。"+u.t(wording.CheckupHow), func() { u.showQuestion(c) }, actions...)
}

func (u *UI) showCheckupResult(c *checkup) {
	rows := container.NewVBox()
	speech := ""
	for i, a := range c.answers {
		if q := c.kind.Questions[i]; a.Yes && q.Advice != "" {
			rows.Add(paragraph("· " + q.Advice))
			speech += q.Advice + "。"
		}
	}
	if len(rows.Objects) == 0 {
		rows.Add(paragraph(u.t(wording.CheckupNoRisk)))
		speech = u.t(wording.CheckupNoRisk)
	} else {
		rows.Objects = append([]fyne.CanvasObject{paragraph(u.t(wording.CheckupAdvice))}, rows.Objects...)
	}
	book := primary(u.t(wording.CheckupBook), func() { u.startFlow(checkupService, checkupSteps, c.answers) })
	u.page(u.tf(wording.CheckupResultTitle, wording.Args{"title": c.kind.Title}), rows, speech, func() { u.showCheckupResult(c) }, book)
}
