package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// The service this flow books.
const advisorService = "legal-advisor"

// Labels of the booking flow.
const (
	labelBack    = "上一步"
	labelCancel  = "取消，返回首页"
	labelNext    = "下一步"
	labelConfirm = "确认预约"
	labelClear   = "清空"
	labelDelete  = "删除"
	labelTapCard = "请把身份证放在读卡器上，自动填写姓名；也可以在下面输入。"
	stepCount    = 6
)

// draft is a booking being entered. It holds a villager's name and number,
// so it is wiped whenever the flow ends, succeeds, or is left idle.
type draft struct {
	active     bool
	topic      string
	slots      []time.Time
	day        string // 2006-01-02 of the chosen day
	slot       time.Time
	name       string
	card       *apitype.CardSummary // the ID card tapped, if any: name, masked number, token
	phone      string
	err        string // shown on the current step
	submitting bool
	stepNo     int // the step on screen, so a card tap can redraw it
}

func (u *UI) startBooking() {
	u.draft = draft{active: true}
	u.showTopic()
}

// step lays out one step of the flow: title, any error, the content, and the
// way back.
func (u *UI) step(n int, title string, content fyne.CanvasObject, back func()) {
	u.draft.stepNo = n
	top := container.NewVBox(heading(fmt.Sprintf("第 %d 步（共 %d 步）　%s", n, stepCount, title)))
	if c := u.draft.card; c != nil && n != 4 {
		top.Add(paragraph("已读取身份证：" + c.Name + "　" + c.IDMasked))
	}
	if u.draft.err != "" {
		msg := canvas.NewText(u.draft.err, kiosktheme.Primary)
		msg.TextSize = kiosktheme.TextSize
		msg.TextStyle.Bold = true
		top.Add(msg)
	}
	nav := container.NewGridWithColumns(2)
	if back != nil {
		nav.Add(widget.NewButton(labelBack, func() { u.draft.err = ""; back() }))
	} else {
		nav.Add(widget.NewLabel(""))
	}
	nav.Add(widget.NewButton(labelCancel, u.goHome))
	u.show(container.NewBorder(container.NewPadded(top), container.NewPadded(nav), nil, nil,
		container.NewVScroll(container.NewPadded(content))))
}

func (u *UI) showTopic() {
	grid := container.NewGridWithColumns(3)
	for _, t := range u.menu.Topics {
		grid.Add(widget.NewButton(t, func() {
			u.draft.topic, u.draft.err = t, ""
			u.showDay()
		}))
	}
	u.step(1, "您想咨询哪方面的问题？", grid, nil)
}

func (u *UI) showDay() {
	if u.draft.slots == nil {
		u.step(2, "选择日期", widget.NewLabel("正在查询法律顾问的值班时间……"), u.showTopic)
		call(u, func(ctx context.Context) (apitype.Slots, error) { return u.opts.Agent.Slots(ctx, advisorService) },
			func(s apitype.Slots, err error) {
				if !u.draft.active {
					return // the villager left while we were asking
				}
				if err != nil {
					u.draft.err = failureText(err)
					u.draft.slots = nil
					u.step(2, "选择日期", widget.NewButton("重新查询", u.showDay), u.showTopic)
					return
				}
				u.draft.slots = append([]time.Time{}, s.Slots...)
				u.showDay()
			})
		return
	}
	grid := container.NewGridWithColumns(3)
	seen := map[string]bool{}
	for _, s := range u.draft.slots {
		day := s.Format(time.DateOnly)
		if seen[day] {
			continue
		}
		seen[day] = true
		first := s
		grid.Add(widget.NewButton(dayLabel(first), func() {
			u.draft.day, u.draft.err = day, ""
			u.showTime()
		}))
	}
	var content fyne.CanvasObject = grid
	if len(seen) == 0 {
		content = paragraph("近期没有可以预约的时间。请拨打 12348 公共法律服务热线咨询。")
	}
	u.step(2, "选择日期", content, u.showTopic)
}

func (u *UI) showTime() {
	grid := container.NewGridWithColumns(4)
	for _, s := range u.draft.slots {
		if s.Format(time.DateOnly) != u.draft.day {
			continue
		}
		grid.Add(widget.NewButton(s.Format("15:04"), func() {
			u.draft.slot, u.draft.err = s, ""
			u.showName()
		}))
	}
	day, _ := time.Parse(time.DateOnly, u.draft.day)
	u.step(3, "选择时间（"+dayLabel(day)+"）", grid, u.showDay)
}

func (u *UI) showName() {
	if c := u.draft.card; c != nil {
		manual := widget.NewButton("不用身份证，手动填写姓名", func() {
			u.draft.card, u.draft.name = nil, ""
			u.showName()
		})
		u.step(4, "您的姓名", container.NewVBox(
			paragraph("已读取身份证："+c.Name+"　"+c.IDMasked),
			primary(labelNext, u.showPhone), manual), u.showTime)
		return
	}
	entry := widget.NewEntry()
	entry.SetPlaceHolder("请输入您的姓名")
	entry.SetText(u.draft.name)
	entry.OnChanged = func(s string) { u.draft.name = s; u.touch() }
	next := func() {
		name := strings.TrimSpace(u.draft.name)
		switch {
		case name == "":
			u.draft.err = "请填写您的姓名。"
		case utf8.RuneCountInString(name) > 30:
			u.draft.err = "姓名太长了，请检查。"
		default:
			u.draft.err = ""
			u.showPhone()
			return
		}
		u.showName()
	}
	entry.OnSubmitted = func(string) { next() }
	u.step(4, "您的姓名", container.NewVBox(paragraph(labelTapCard), entry, primary(labelNext, next)), u.showTime)
	u.win.Canvas().Focus(entry)
}

// showPhone takes the number on an on-screen keypad: a kiosk has no keyboard.
func (u *UI) showPhone() {
	display := canvas.NewText(u.phoneDisplay(), kiosktheme.Foreground)
	display.TextSize = kiosktheme.HeadingSize
	display.TextStyle.Monospace = true
	key := func(label string, apply func(string) string) *widget.Button {
		return widget.NewButton(label, func() {
			u.touch()
			if p := apply(u.draft.phone); len(p) <= 12 {
				u.draft.phone = p
			}
			display.Text = u.phoneDisplay()
			display.Refresh()
		})
	}
	pad := container.NewGridWithColumns(3)
	for _, d := range "123456789" {
		pad.Add(key(string(d), func(p string) string { return p + string(d) }))
	}
	pad.Add(key(labelClear, func(string) string { return "" }))
	pad.Add(key("0", func(p string) string { return p + "0" }))
	pad.Add(key(labelDelete, func(p string) string {
		if p == "" {
			return p
		}
		return p[:len(p)-1]
	}))
	next := primary(labelNext, func() {
		if !plausiblePhone(u.draft.phone) {
			u.draft.err = "请输入11位手机号码，或带区号的固定电话。"
			u.showPhone()
			return
		}
		u.draft.err = ""
		u.showConfirm()
	})
	u.step(5, "您的电话（顾问会打给您）", container.NewVBox(container.NewCenter(display), pad, next), u.showName)
}

func (u *UI) phoneDisplay() string {
	if u.draft.phone == "" {
		return "＿＿＿"
	}
	return u.draft.phone
}

// plausiblePhone is a first check before kioskd's full one: a mobile number
// or a landline with its area code, digits only.
func plausiblePhone(p string) bool {
	switch {
	case len(p) == 11 && p[0] == '1':
		return true
	case len(p) >= 10 && len(p) <= 12 && p[0] == '0':
		return true
	}
	return false
}

func (u *UI) showConfirm() {
	d := u.draft
	rows := container.NewVBox(
		paragraph("咨询事项："+d.topic),
		paragraph("预约时间："+slotLabel(d.slot)),
		paragraph("法律顾问："+u.menu.Advisor.Name),
		paragraph("您的姓名："+strings.TrimSpace(d.name)),
		paragraph("您的电话："+d.phone),
	)
	if d.card != nil {
		rows.Add(paragraph("身份证：" + d.card.IDMasked))
	}
	confirm := primary(labelConfirm, u.submit)
	if d.submitting {
		confirm.SetText("正在保存……")
		confirm.Disable()
	}
	rows.Add(confirm)
	u.step(6, "请核对后确认", rows, u.showPhone)
}

// submit books the draft. The confirmation screen appears only after kioskd
// answers 201, which it does only after the record is on disk.
func (u *UI) submit() {
	if u.draft.submitting {
		return // a second tap while the first is saving must not book twice
	}
	u.draft.submitting = true
	u.draft.err = ""
	u.showConfirm()
	d := u.draft
	req := apitype.BookingRequest{
		Service: advisorService, Topic: d.topic, Name: strings.TrimSpace(d.name),
		Phone: d.phone, Slot: d.slot.Format(time.RFC3339),
	}
	if d.card != nil {
		req.Card, req.Name = d.card.Token, ""
	}
	call(u, func(ctx context.Context) (apitype.Booking, error) { return u.opts.Agent.Book(ctx, req) },
		func(b apitype.Booking, err error) {
			if !u.draft.active {
				return
			}
			u.draft.submitting = false
			if err != nil {
				u.bookingFailed(err)
				return
			}
			u.draft = draft{} // the record is in kioskd; the screen keeps no personal data
			u.showDone(b)
		})
}

// bookingFailed sends the villager back to the step that needs fixing.
func (u *UI) bookingFailed(err error) {
	var apiErr *localclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Field == "" {
		u.opts.Log.Warn("booking not saved", "err", err)
		u.draft.err = failureText(err)
		u.showConfirm()
		return
	}
	switch apiErr.Field {
	case "card":
		u.draft.err = "身份证信息已过期，请重新刷卡，或手动填写姓名。"
		u.draft.card, u.draft.name = nil, ""
		u.showName()
	case "topic":
		u.draft.err = "请重新选择咨询事项。"
		u.showTopic()
	case "slot":
		u.draft.err = "这个时间已经不能预约了，请重新选择。"
		u.draft.slots = nil
		u.showDay()
	case "name":
		u.draft.err = "姓名有误，请检查。"
		u.showName()
	case "phone":
		u.draft.err = "电话号码不正确，请重新输入。"
		u.showPhone()
	default:
		u.opts.Log.Warn("booking refused", "field", apiErr.Field, "code", apiErr.Code)
		u.draft.err = "信息有误，请返回首页重新预约。"
		u.showConfirm()
	}
}

func (u *UI) showDone(b apitype.Booking) {
	number := canvas.NewText("预约号 "+b.Number, kiosktheme.Primary)
	number.TextSize = 64
	number.TextStyle.Bold = true
	number.Alignment = fyne.TextAlignCenter
	lines := container.NewVBox(
		heading("预约成功"),
		container.NewCenter(number),
		paragraph("请记下预约号。"+b.Advisor+"律师会在 "+slotLabel(b.Slot)+" 在村委会法律顾问室等您，也可能先打电话（"+b.Phone+"）和您联系。"),
	)
	if u.status.Broker.State != "connected" {
		lines.Add(paragraph("预约已保存在本机，网络恢复后会自动上报乡镇综治中心。"))
	}
	lines.Add(primary(labelHome, u.goHome))
	u.show(container.NewVScroll(container.NewPadded(lines)))
}
