package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// Services the flows book.
const (
	advisorService   = "legal-advisor"
	checkupService   = "legal-checkup"
	mediationService = "mediation"
)

// Labels of the booking flows.
const (
	labelBack    = "上一步"
	labelCancel  = "取消，返回首页"
	labelNext    = "下一步"
	labelConfirm = "确认预约"
	labelClear   = "清除"
	labelDelete  = "删除"
)

// Step ids. A flow is a list of them; a step's number and its way back
// follow from its place in the list.
const (
	stepTopic    = "topic"
	stepDay      = "day"
	stepTime     = "time"
	stepName     = "name"
	stepPhone    = "phone"
	stepConfirm  = "confirm"
	stepVenue    = "venue"
	stepCategory = "category"
	stepOther    = "other"
	stepPrefer   = "prefer"
)

// Flows, as their steps.
var (
	consultSteps   = []string{stepTopic, stepDay, stepTime, stepName, stepPhone, stepConfirm}
	checkupSteps   = []string{stepDay, stepTime, stepName, stepPhone, stepConfirm}
	mediationSteps = []string{stepCategory, stepWho, stepPrefer, stepConfirm}
)

// maxPreferred is how many preferred slots a mediation booking offers.
const maxPreferred = 3

// draft is a booking being entered. It holds a villager's name and number,
// so it is wiped whenever the flow ends, succeeds, or is left idle.
type draft struct {
	active  bool
	steps   []string
	stepID  string // the step on screen, so a card tap can redraw it
	service string

	// consultation and check-up
	topic   string
	checkup []apitype.CheckupAnswer
	slots   []time.Time // offered by kioskd
	day     string      // 2006-01-02 of the chosen day
	slot    time.Time

	// mediation
	category  string
	other     *person // the other party, if the villager names them
	otherDone bool    // the other party's name and phone are entered
	prefer    []time.Time

	who        person
	err        string // shown on the current step
	submitting bool
}

func (u *UI) startBooking() { u.startFlow(advisorService, consultSteps, nil) }

// startFlow begins a booking of service through steps, keeping a card
// already tapped.
func (u *UI) startFlow(service string, steps []string, checkup []apitype.CheckupAnswer) {
	card := u.draft.who.card
	if !u.draft.active {
		card = nil
	}
	u.draft = draft{active: true, service: service, steps: steps, checkup: checkup}
	u.draft.who.card = card
	if service == checkupService {
		u.draft.topic = "法律体检"
	}
	u.drawStep(steps[0])
}

func (u *UI) drawStep(id string) {
	switch id {
	case stepTopic:
		u.showTopic()
	case stepDay:
		u.showDay()
	case stepTime:
		u.showTime()
	case stepName:
		u.showName()
	case stepPhone:
		u.showPhone()
	case stepConfirm:
		u.showConfirm()
	case stepWho:
		u.showWho()
	case stepCategory:
		u.showCategory()
	case stepOther:
		u.showOther()
	case stepPrefer:
		u.showPrefer()
	}
}

// next shows the step after id. A villager whose card was read skips the
// name step: the card has answered it.
func (u *UI) next(id string) {
	i := slices.Index(u.draft.steps, id)
	n := u.draft.steps[i+1]
	if n == stepName && u.draft.who.card != nil {
		n = u.draft.steps[i+2]
	}
	u.draft.err = ""
	u.drawStep(n)
}

// step lays out one step of the flow: title, any error, the content, and the
// way back.
func (u *UI) step(id, title string, content fyne.CanvasObject) {
	u.draft.stepID = id
	steps := u.draft.steps
	n := slices.Index(steps, id)
	top := []fyne.CanvasObject{newStepIndicator(steps, n), u.tight(heading(title))}
	if c := u.draft.who.card; c != nil && id != stepName && id != stepWho {
		top = append(top, paragraph("已读取身份证："+c.Name+"　"+c.IDMasked))
	}
	speech := title
	if u.draft.err != "" {
		top = append(top, errorText(u.draft.err))
		speech = strings.TrimSuffix(u.draft.err, "。") + "。" + title
	}
	var nav []fyne.CanvasObject
	if n > 0 {
		prev := steps[n-1]
		nav = append(nav, widget.NewButton(labelBack, func() { u.draft.err = ""; u.drawStep(prev) }))
	} else {
		nav = append(nav, widget.NewButton(labelHome, u.goHome))
	}
	nav = append(nav, widget.NewButton(labelCancel, u.goHome))
	u.frame(top, content, nav, speech, func() { u.drawStep(id) })
}

// fail shows err on step id, or on the step of this flow that asks it.
func (u *UI) fail(id, err string) {
	u.draft.err = err
	u.drawStep(u.flowStep(id))
}

func (u *UI) showTopic() {
	grid := u.grid(3)
	for _, t := range u.menu.Topics {
		grid.Add(choice(t, u.draft.topic == t, func() {
			u.draft.topic = t
			u.next(stepTopic)
		}))
	}
	u.step(stepTopic, "您想咨询哪方面的问题？", grid)
}

// loadSlots asks kioskd for the service's slots, then draws step id again.
// The placeholder carries the step's own title, so that the step is
// announced once, as it appears, and not again when the slots arrive.
func (u *UI) loadSlots(id string) {
	service := u.draft.service
	u.step(id, slotsTitle(id), widget.NewLabel("正在查询可以预约的时间……"))
	call(u, func(ctx context.Context) (apitype.Slots, error) { return u.opts.Agent.Slots(ctx, service) },
		func(s apitype.Slots, err error) {
			if !u.draft.active || u.draft.service != service {
				return // the villager left while we were asking
			}
			if err != nil {
				u.draft.err = failureText(err)
				u.step(id, slotsTitle(id), widget.NewButton("重新查询", func() { u.draft.err = ""; u.loadSlots(id) }))
				return
			}
			u.draft.slots = append([]time.Time{}, s.Slots...)
			u.drawStep(id)
		})
}

// slotsTitle is the title of the step that waits for slots.
func slotsTitle(id string) string {
	if id == stepPrefer {
		return titlePrefer
	}
	return "选择日期"
}

// days lists the distinct days of the offered slots, in order.
func (u *UI) days() []time.Time {
	var out []time.Time
	seen := map[string]bool{}
	for _, s := range u.draft.slots {
		if d := s.Format(time.DateOnly); !seen[d] {
			seen[d] = true
			out = append(out, s)
		}
	}
	return out
}

func (u *UI) showDay() {
	if u.draft.slots == nil {
		u.loadSlots(stepDay)
		return
	}
	grid := u.grid(3)
	for _, first := range u.days() {
		day := first.Format(time.DateOnly)
		grid.Add(choice(dayLabel(first), u.draft.day == day, func() {
			u.draft.day = day
			u.next(stepDay)
		}))
	}
	var content fyne.CanvasObject = grid
	if len(grid.Objects) == 0 {
		content = paragraph("近期没有可以预约的时间。请拨打 12348 公共法律服务热线咨询。")
	}
	u.step(stepDay, "选择日期", content)
}

func (u *UI) showTime() {
	grid := u.grid(4)
	for _, s := range u.draft.slots {
		if s.Format(time.DateOnly) != u.draft.day {
			continue
		}
		grid.Add(choice(s.Format("15:04"), s.Equal(u.draft.slot), func() {
			u.draft.slot = s
			u.next(stepTime)
		}))
	}
	day, _ := time.Parse(time.DateOnly, u.draft.day)
	u.step(stepTime, "选择时间（"+dayLabel(day)+"）", grid)
}

func (u *UI) showName() {
	u.step(stepName, "您的姓名", u.nameChooser(&u.draft.who, labelTapCard, u.showName, func() { u.next(stepName) }))
}

// showPhone takes the number on an on-screen keypad: a kiosk has no keyboard.
func (u *UI) showPhone() {
	u.step(stepPhone, "您的电话（工作人员会打给您）", u.phoneEntry(&u.draft.who,
		func(e string) { u.fail(stepPhone, e) }, func() { u.next(stepPhone) }))
}

func (u *UI) showConfirm() {
	d := &u.draft
	if d.service == mediationService {
		u.showMediationConfirm()
		return
	}
	rows := container.NewVBox()
	rows.Add(paragraph("咨询事项：" + d.topic))
	rows.Add(paragraph("预约时间：" + slotLabel(d.slot)))
	rows.Add(paragraph("法律顾问：" + u.menu.Advisor.Name))
	rows.Add(paragraph("您的姓名：" + d.who.name()))
	rows.Add(paragraph("您的电话：" + d.who.phone))
	if d.who.card != nil {
		rows.Add(paragraph("身份证：" + d.who.card.IDMasked))
	}
	confirm := primary(labelConfirm, u.submit)
	if d.submitting {
		confirm.SetText("正在保存……")
		confirm.Disable()
	}
	rows.Add(confirm)
	u.step(stepConfirm, "请核对后确认", rows)
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
	if d.service == mediationService {
		u.submitMediation(d)
		return
	}
	req := apitype.BookingRequest{
		Service: d.service, Topic: d.topic, Name: d.who.name(),
		Phone: d.who.phone, Slot: d.slot.Format(time.RFC3339), Checkup: d.checkup,
	}
	if d.who.card != nil {
		req.Card, req.Name = d.who.card.Token, ""
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
			u.showDone(receipt{id: b.ID, number: b.Number, lines: []string{
				b.Advisor + "律师会在 " + slotLabel(b.Slot) + " 在村委会法律顾问室等您，也可能先打电话（" + b.Phone + "）和您联系。",
			}})
		})
}

// bookingFailed sends the villager back to the step that needs fixing.
func (u *UI) bookingFailed(err error) {
	var apiErr *localclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Field == "" {
		u.opts.Log.Warn("booking not saved", "err", err)
		u.fail(stepConfirm, failureText(err))
		return
	}
	field := apiErr.Field
	switch {
	case field == "card" || strings.HasSuffix(field, ".card"):
		u.draft.who.card = nil
		u.fail(stepName, "身份证信息已过期，请重新刷卡，或选择您的姓氏。")
	case field == "topic":
		u.fail(stepTopic, "请重新选择咨询事项。")
	case field == "slot" || strings.HasPrefix(field, "slots"): // slots[N] names one of a mediation's
		u.draft.slots, u.draft.prefer = nil, nil
		if u.draft.service == mediationService {
			u.fail(stepPrefer, "这个时间已经不能预约了，请重新选择。")
		} else {
			u.fail(stepDay, "这个时间已经不能预约了，请重新选择。")
		}
	case field == "name" || strings.HasSuffix(field, ".name"):
		u.fail(stepName, "姓名有误，请重新选择。")
	case field == "phone" || field == "applicant.phone":
		u.fail(stepPhone, "电话号码不正确，请重新输入。")
	case strings.HasPrefix(field, "other"):
		u.fail(stepOther, "对方的信息有误，请重新填写或跳过。")
	case field == "venue":
		u.fail(stepVenue, "本机的调解地点设置有误，预约没有提交。请拨打 12348 或到村委会预约。")
	case field == "category":
		u.fail(stepCategory, "请重新选择纠纷类型。")
	default:
		u.opts.Log.Warn("booking refused", "field", apiErr.Field, "code", apiErr.Code)
		u.fail(stepConfirm, "信息有误，请返回首页重新预约。")
	}
}
