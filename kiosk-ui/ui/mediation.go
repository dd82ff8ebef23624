package ui

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Labels of the mediation booking.
const (
	labelBookMediation = "预约调解（百姓说理之家）"
	labelAddOther      = "填写对方的称呼和电话（可以不填）"
	labelEditOther     = "重新填写对方"
	labelNoOther       = "不填写对方"
	labelRename        = "改称呼"
)

// stepWho asks the mediation applicant's name and phone on one screen.
const stepWho = "who"

// titlePrefer is the title of the preferred-times step.
const titlePrefer = "您方便的时间"

func (u *UI) startMediation() { u.startFlow(mediationService, mediationSteps, nil) }

// mediationVenue is where a kiosk booking goes: the site names it (GET
// /v1/menu content.booking_venue) and kioskd records it, so the villager is
// not asked to choose between venues they cannot tell apart.
func (u *UI) mediationVenue() (apitype.Venue, bool) {
	for _, v := range u.menu.Content.Venues {
		if v.ID == u.menu.Content.BookingVenue {
			return v, true
		}
	}
	return apitype.Venue{}, false
}

// flowStep is the step of the flow under way that asks what step id asks:
// the mediation booking takes name and phone on one step, and the other
// party and the venue on its confirmation.
func (u *UI) flowStep(id string) string {
	steps := u.draft.steps
	if slices.Contains(steps, id) {
		return id
	}
	switch id {
	case stepName, stepPhone:
		if slices.Contains(steps, stepWho) {
			return stepWho
		}
	case stepOther, stepVenue:
		return stepConfirm
	}
	return id
}

func (u *UI) showCategory() {
	grid := u.grid(4)
	for _, c := range u.menu.Content.Categories {
		grid.Add(newPictoChoice(c, categoryPictogram(c), u.draft.category == c, func() {
			u.touch()
			u.draft.category = c
			u.next(stepCategory)
		}))
	}
	u.step(stepCategory, "是哪一类纠纷？", grid)
}

// showWho asks who the villager is and their phone on one step: a card on
// the reader answers the first half, so with a card it is only the number.
func (u *UI) showWho() {
	p := &u.draft.who
	if !p.named() {
		u.step(stepWho, "您的称呼", u.nameChooser(p, labelTapCard, u.showWho, u.showWho))
		return
	}
	// Who it is stands beside the number (in landscape) rather than
	// above the pad, which on a 1280×800 panel in larger text must start
	// high to end above the fold.
	var who fyne.CanvasObject
	if c := p.card; c != nil {
		who = widget.NewLabel("已读取身份证：" + c.Name)
	} else {
		who = container.NewVBox(widget.NewLabel("称呼："+p.name()),
			widget.NewButton(labelRename, func() { p.surname, p.honorific = "", ""; u.showWho() }))
	}
	u.step(stepWho, "您的电话（调解员会打给您）",
		u.phoneEntryWith(p, who, func(e string) { u.fail(stepWho, e) }, func() { u.next(stepWho) }))
}

// showOther takes the other party, which the villager may add on the
// confirmation: by surname, honorific and phone only — the villager may not
// know more, and need not say. It is not a step of its own: most villagers
// leave it to the mediator, who calls them first and then the other side.
func (u *UI) showOther() {
	d := &u.draft
	remove := widget.NewButton(labelNoOther, func() { d.other, d.otherDone = nil, false; u.showConfirm() })
	if !d.other.named() {
		u.step(stepConfirm, "对方的称呼", container.NewVBox(
			u.nameChooser(d.other, "请点对方的姓。", u.showOther, u.showOther), remove))
		return
	}
	u.step(stepConfirm, "对方的电话（"+d.other.name()+"）", container.NewVBox(
		u.phoneEntry(d.other, func(e string) { u.fail(stepOther, e) }, func() { d.otherDone = true; u.showConfirm() }),
		remove))
}

// showMediationConfirm is the last step: what will be booked, where, and
// an optional way to name the other party.
func (u *UI) showMediationConfirm() {
	d := &u.draft
	if d.other != nil && !d.otherDone {
		u.showOther()
		return
	}
	// Short facts two to a row and the actions on one row, so that on a
	// 1280×800 panel 确认预约 stands above the fold.
	facts := u.grid(2)
	facts.Add(widget.NewLabel("纠纷类型：" + d.category))
	facts.Add(widget.NewLabel("您的称呼：" + d.who.name()))
	facts.Add(widget.NewLabel("您的电话：" + phoneGroups(d.who.phone)))
	if d.who.card != nil {
		facts.Add(widget.NewLabel("身份证：" + d.who.card.IDMasked))
	}
	rows := container.NewVBox(facts, paragraph("希望时间："+preferredLabel(d.prefer)))
	if v, ok := u.mediationVenue(); ok {
		rows.Add(paragraph("调解地点：" + venueLabel(v) + "（调解员打电话时也可以另约地点）"))
	}
	actions := u.grid(3)
	if d.other == nil {
		actions.Add(widget.NewButton(labelAddOther, func() { d.other = &person{}; u.showOther() }))
	} else {
		rows.Add(paragraph("对方：" + d.other.name() + "　" + phoneGroups(d.other.phone)))
		actions.Add(widget.NewButton(labelEditOther, func() { d.other, d.otherDone = &person{}, false; u.showOther() }))
		actions.Add(widget.NewButton(labelNoOther, func() { d.other, d.otherDone = nil, false; u.showConfirm() }))
	}
	confirm := primary(labelConfirm, u.submit)
	if d.submitting {
		confirm.SetText("正在保存……")
		confirm.Disable()
	}
	actions.Add(confirm)
	rows.Add(actions)
	u.step(stepConfirm, "请核对后确认", rows)
}

func venueLabel(v apitype.Venue) string {
	if v.Where == "" {
		return v.Name
	}
	return v.Name + "（" + v.Where + "）"
}

// showPrefer offers half-day sessions over the coming days; the villager
// ticks up to three and the mediator arranges one of them.
func (u *UI) showPrefer() {
	if u.draft.slots == nil {
		u.loadSlots(stepPrefer)
		return
	}
	d := &u.draft
	rows := container.NewVBox(paragraph("可以选 1 到 3 个您方便的时间，调解员会电话确认。"))
	for _, first := range u.days() {
		day := first.Format(time.DateOnly)
		row := u.grid(4)
		for _, s := range d.slots {
			if s.Format(time.DateOnly) != day {
				continue
			}
			chosen := containsTime(d.prefer, s)
			row.Add(choice(dayLabel(s)+" "+sessionName(s), chosen, func() {
				u.touch()
				switch {
				case chosen:
					d.prefer = removeTime(d.prefer, s)
				case len(d.prefer) < maxPreferred:
					d.prefer = append(d.prefer, s)
				default:
					d.err = "最多选 3 个时间。"
				}
				u.showPrefer()
				d.err = ""
			}))
		}
		rows.Add(row)
	}
	rows.Add(primary(labelNext, func() {
		if len(d.prefer) == 0 {
			u.fail(stepPrefer, "请至少选一个时间。")
			return
		}
		u.next(stepPrefer)
	}))
	u.step(stepPrefer, titlePrefer, rows)
}

func (u *UI) submitMediation(d draft) {
	// No venue: kioskd books the site's venue for kiosk bookings.
	req := apitype.MediationRequest{Category: d.category, Applicant: d.who.party()}
	if d.other != nil {
		o := d.other.party()
		req.Other = &o
	}
	for _, s := range d.prefer {
		req.Slots = append(req.Slots, s.Format(time.RFC3339))
	}
	call(u, func(ctx context.Context) (apitype.Mediation, error) { return u.opts.Agent.BookMediation(ctx, req) },
		func(m apitype.Mediation, err error) {
			if !u.draft.active {
				return
			}
			u.draft.submitting = false
			if err != nil {
				u.bookingFailed(err)
				return
			}
			u.draft = draft{}
			u.showDone(receipt{id: m.ID, number: m.Number, lines: []string{
				"调解地点：" + venueLabel(m.Venue),
				"您希望的时间：" + preferredLabel(m.Slots),
				"调解员会打电话（" + m.Applicant.Phone + "）和您约定时间。",
			}})
		})
}

// sessionName names a half-day session by its start.
func sessionName(t time.Time) string {
	switch h := t.Hour(); {
	case h < 12:
		return "上午"
	case h < 18:
		return "下午"
	default:
		return "晚上"
	}
}

func preferredLabel(ts []time.Time) string {
	var out []string
	for _, t := range ts {
		out = append(out, dayLabel(t)+" "+sessionName(t))
	}
	return strings.Join(out, "、")
}

func containsTime(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

func removeTime(ts []time.Time, t time.Time) []time.Time {
	var out []time.Time
	for _, x := range ts {
		if !x.Equal(t) {
			out = append(out, x)
		}
	}
	return out
}
