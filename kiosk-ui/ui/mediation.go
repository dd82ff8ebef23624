package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Labels of the mediation booking.
const (
	labelBookMediation = "预约调解（百姓说理之家）"
	labelSkipOther     = "不填写对方，下一步"
	labelAddOther      = "填写对方的称呼和电话"
)

func (u *UI) startMediation() { u.startFlow(mediationService, mediationSteps, nil) }

func (u *UI) showVenue() {
	grid := u.grid(2)
	for _, v := range u.menu.Content.Venues {
		label := v.Name
		if v.Where != "" {
			label += "（" + v.Where + "）"
		}
		grid.Add(choice(label, u.draft.venue != nil && u.draft.venue.ID == v.ID, func() {
			u.draft.venue = &v
			u.next(stepVenue)
		}))
	}
	u.step(stepVenue, "您想在哪里调解？", grid)
}

func (u *UI) showCategory() {
	grid := u.grid(3)
	for _, c := range u.menu.Content.Categories {
		grid.Add(choice(c, u.draft.category == c, func() {
			u.draft.category = c
			u.next(stepCategory)
		}))
	}
	u.step(stepCategory, "是哪一类纠纷？", grid)
}

// showOther asks for the other party: optional, and by surname, honorific
// and phone only — the villager may not know more, and need not say.
func (u *UI) showOther() {
	d := &u.draft
	if d.other == nil {
		u.step(stepOther, "对方是谁？（可以不填）", container.NewVBox(
			paragraph("调解员会先联系您，再约对方。知道对方电话的，可以留下。"),
			primary(labelSkipOther, func() { d.noOther = true; u.next(stepOther) }),
			widget.NewButton(labelAddOther, func() { d.other = &person{}; u.showOther() })))
		return
	}
	remove := widget.NewButton("不填写对方", func() { d.other = nil; u.showOther() })
	if !d.other.named() {
		u.step(stepOther, "对方的称呼", container.NewVBox(
			u.nameChooser(d.other, "请点对方的姓。", u.showOther, u.showOther), remove))
		return
	}
	u.step(stepOther, "对方的电话（"+d.other.name()+"）", container.NewVBox(
		u.phoneEntry(d.other, func(e string) { u.fail(stepOther, e) }, func() { u.next(stepOther) }),
		remove))
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
	u.step(stepPrefer, "您方便的时间", rows)
}

func (u *UI) submitMediation(d draft) {
	req := apitype.MediationRequest{Venue: d.venue.ID, Category: d.category, Applicant: d.who.party()}
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
				"调解地点：" + m.Venue.Name + "（" + m.Venue.Where + "）",
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
