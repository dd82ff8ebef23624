package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// Labels of mediator mode.
const (
	labelSignIn       = "登录"
	labelSignOut      = "退出登录"
	labelMediatorHome = "调解员首页"
	labelNewCase      = "新建案件（来访调解）"
	labelFollowUps    = "待回访"
	labelIndicators   = "工作指标"
	labelLogSession   = "记录本次调解"
	labelSaveSession  = "保存调解记录"
	labelFollowUpDone = "已完成回访"
	labelCreateCase   = "建立案件"
	labelTapParty     = "当事人请把身份证放在读卡器上，可以连续刷多张。"
	labelPhoto        = "拍照留存（须当事人同意）"
	labelPhotoAgreed  = "当事人都同意，拍照"
	labelPhotoRefused = "不同意，不拍照"
)

// Line labels carry the colour's name and meaning in words: colour is never
// the only cue.
var lineLabels = map[string]string{
	apitype.LineRed:    "红色（紧急，立即上报）",
	apitype.LineYellow: "黄色（需要关注）",
	apitype.LineBlue:   "蓝色（一般）",
}

var outcomeLabels = map[string]string{
	apitype.OutcomeSettled:   "调解成功",
	apitype.OutcomeUnsettled: "未成功",
	apitype.OutcomeReferred:  "转交上级",
}

var caseStatusLabels = map[string]string{
	apitype.CaseBooked:   "已预约",
	apitype.CaseOpen:     "调解中",
	apitype.CaseSettled:  "已调解成功",
	apitype.CaseReferred: "已转交",
}

// mediatorState is mediator mode: signing in, and what a signed-in mediator
// is entering. It is wiped at sign-out and on idle.
type mediatorState struct {
	waitingCard bool // the sign-in screen waits for the mediator's card
	card        *apitype.CardSummary
	pin         string
	session     *apitype.MediatorSession
	phrases     []string
	form        *sessionForm // a session being logged, or a walk-in case being opened
	photoFor    *photoTarget // the session just saved, which may be photographed
	err         string
	notice      string // shown once on the next mediator page

	drafts map[string]apitype.SessionDraft // by case: forms kept from an earlier sign-in (mediator_draft.go)
}

func (m *mediatorState) signedIn() bool { return m.session != nil }

// photoTarget is a session just saved on a case.
type photoTarget struct{ caseID, session string }

// sessionForm is a session being logged (caseID set) or a walk-in case
// being opened (caseID empty).
type sessionForm struct {
	caseID    string
	parties   []apitype.Party
	shown     []string // what the screen shows of each party
	req       apitype.SessionRequest
	agreement *bool
	adding    *person // a party without a card being added by surname
	saving    bool

	base     apitype.SessionRequest // what the form opened with: a form still like it is not worth a draft
	kept     string                 // the draft last kept in kioskd, encoded; "" for none
	restored string                 // the line saying the form came back from a draft
	drafting sync.WaitGroup         // draft saves on their way: the session waits for them
}

// onCard takes a card read for mediator mode, and says whether it did.
func (m *mediatorState) onCard(u *UI, c *apitype.CardSummary) bool {
	switch {
	case m.waitingCard:
		m.waitingCard, m.card, m.pin, m.err = false, c, "", ""
		u.showPIN()
		return true
	case m.form != nil:
		u.holdCard(c)
		return true
	}
	return m.signedIn() // a stray card while signed in is not a villager's booking
}

// holdCard adds a party by the card just read. kioskd answers only for the
// card it read last, so the form asks it to hold each card as it comes:
// the parties' cards are all still good when the session is saved.
func (u *UI) holdCard(c *apitype.CardSummary) {
	form := u.med.form
	mcall(u, func(ctx context.Context, token string) (apitype.CardSummary, error) {
		return u.opts.Agent.HoldCard(ctx, token, c.Token)
	}, func(h apitype.CardSummary, err error) {
		if u.med.form != form {
			return // the form was left meanwhile
		}
		if err != nil {
			u.med.err = holdFailure(err)
		} else {
			u.med.err = ""
			form.parties = append(form.parties, apitype.Party{Card: h.Token})
			form.shown = append(form.shown, c.Name+"　"+c.IDMasked)
		}
		u.screen.redraw()
	})
}

func holdFailure(err error) string {
	var apiErr *localclient.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeCardExpired:
		return "没有读到这张身份证，请重新刷卡。"
	case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeTooMany:
		return "当事人已经太多了，请先保存。"
	}
	return "刷卡没有成功，请再刷一次。"
}

// startSignIn waits for a mediator's card. A sign-in that failed with the
// card (not on the roster, read too long ago) comes back here with its
// reason in u.med.err, which the page shows.
func (u *UI) startSignIn() {
	u.draft = draft{}
	reason := ""
	if u.med.waitingCard {
		reason = u.med.err
	}
	u.med = mediatorState{waitingCard: true, err: reason}
	rows := container.NewVBox()
	if reason != "" {
		rows.Add(errorText(reason))
	}
	rows.Add(bigText("请把调解员本人的身份证放在读卡器上", theme.SizeNameSubHeadingText, kiosktheme.Foreground))
	u.page("调解员登录", rows, reason+"请把调解员本人的身份证放在读卡器上。", u.startSignIn)
}

func (u *UI) showPIN() {
	m := &u.med
	dots := bigText(strings.Repeat("＊", len(m.pin))+"＿", theme.SizeNameHeadingText, kiosktheme.Foreground)
	pad := u.keypad(&m.pin, 8, func() {
		dots.Text = strings.Repeat("＊", len(m.pin)) + "＿"
		dots.Refresh()
	})
	above := []fyne.CanvasObject{widget.NewLabel("调解员：" + m.card.Name + "　请输入密码")}
	if m.err != "" {
		above = append(above, errorText(m.err))
	}
	above = append(above, container.NewCenter(dots))
	u.page("调解员登录", container.NewVBox(u.padScreen(pad, above, primary(labelSignIn, u.signIn))), "请输入密码。", u.showPIN)
}

func (u *UI) signIn() {
	m := &u.med
	card, pin := m.card.Token, m.pin
	m.pin = ""
	call(u, func(ctx context.Context) (apitype.MediatorSession, error) {
		return u.opts.Agent.MediatorSignIn(ctx, card, pin)
	}, func(s apitype.MediatorSession, err error) {
		if m.card == nil {
			return // signed out meanwhile
		}
		if err != nil {
			var apiErr *localclient.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeLocked:
				m.err = "密码错误次数太多，请过 5 分钟再试。"
			case errors.As(err, &apiErr) && apiErr.Code == apitype.CodeCardExpired:
				u.med = mediatorState{waitingCard: true, err: "身份证信息已过期，请重新刷卡。"}
				u.startSignIn()
				return
			case errors.As(err, &apiErr) && apiErr.StatusCode == 401 && apiErr.Field == "card":
				u.med = mediatorState{waitingCard: true, err: "这张身份证不是本村登记的调解员。"}
				u.startSignIn()
				return
			case errors.As(err, &apiErr) && apiErr.StatusCode == 401:
				m.err = "密码不对，请重新输入。"
			default:
				m.err = failureText(err)
			}
			u.showPIN()
			return
		}
		u.med = mediatorState{session: &s}
		u.opts.Log.Info("mediator signed in", "mediator", s.Mediator.ID)
		u.resumeDrafts()
	})
}

// signOut ends the mediator's session in kioskd and wipes mediator mode. A
// half-filled session form is kept as a draft first, while the token is
// still good; if that fails the sign-out goes ahead all the same.
func (u *UI) signOut() {
	if s := u.med.session; s != nil {
		token := s.Token
		keep := u.draftToKeep()
		do(u, func(ctx context.Context) error {
			if keep != nil {
				keep(ctx, token)
			}
			return u.opts.Agent.MediatorSignOut(ctx, token)
		}, func(error) {})
	}
	u.med = mediatorState{}
}

// mcall is call for a signed-in mediator: a lapsed session (401) signs out
// and asks for the card again.
func mcall[T any](u *UI, fn func(ctx context.Context, token string) (T, error), done func(T, error)) {
	if !u.med.signedIn() {
		u.startSignIn()
		return
	}
	token := u.med.session.Token
	call(u, func(ctx context.Context) (T, error) { return fn(ctx, token) }, func(v T, err error) {
		if !u.med.signedIn() || u.med.session.Token != token {
			return
		}
		var apiErr *localclient.APIError
		if errors.As(err, &apiErr) && apiErr.Code == apitype.CodeUnauthorized {
			u.med = mediatorState{}
			u.startSignIn()
			return
		}
		done(v, err)
	})
}

// mpage is a mediator page: the way back to the mediator's home and sign-out.
func (u *UI) mpage(title string, rows *fyne.Container, redraw func(), actions ...fyne.CanvasObject) {
	nav := []fyne.CanvasObject{widget.NewButton(labelMediatorHome, u.showMediatorHome)}
	nav = append(nav, actions...)
	nav = append(nav, widget.NewButton(labelSignOut, u.goHome))
	body := container.NewVBox()
	if u.med.err != "" {
		body.Add(errorText(u.med.err))
	}
	if u.med.notice != "" {
		body.Add(paragraph(u.med.notice))
		u.med.notice = ""
	}
	body.Objects = append(body.Objects, rows.Objects...)
	u.framePage(title, nil, body, nav, title, redraw)
}

// showMediatorHome lists the cases, and first of all the follow-up visits
// that are due: the reminder a mediator sees on signing in.
func (u *UI) showMediatorHome() {
	u.dropDraft()
	u.med.form = nil
	mcall(u, u.opts.Agent.FollowUps, func(fs apitype.FollowUps, ferr error) {
		mcall(u, u.opts.Agent.Cases, func(cs apitype.Cases, err error) {
			u.drawMediatorHome(fs, ferr, cs, err)
		})
	})
}

func (u *UI) drawMediatorHome(fs apitype.FollowUps, ferr error, cs apitype.Cases, err error) {
	rows := container.NewVBox()
	if ferr == nil {
		if reminder := followUpReminder(fs, u.opts.Now()); reminder != "" {
			rows.Add(errorText(reminder))
		}
	}
	rows.Add(container.New(u.grid(3).Layout,
		primary(labelNewCase, u.startWalkIn),
		widget.NewButton(labelFollowUps, u.showFollowUps),
		widget.NewButton(labelIndicators, u.showIndicators)))
	if err != nil {
		rows.Add(errorText(failureText(err)))
	}
	if len(cs.Cases) == 0 && err == nil {
		rows.Add(paragraph("还没有案件。村民在本机预约调解后会出现在这里。"))
	}
	for _, c := range cs.Cases {
		rows.Add(newTile(caseTitle(c), caseLine(c), kiosktheme.Card, func() { u.showCase(c.ID) }))
	}
	u.mpage("调解员："+u.med.session.Mediator.Name, rows, u.showMediatorHome)
}

// followUpReminder words the visits overdue or due today, or "".
func followUpReminder(fs apitype.FollowUps, now time.Time) string {
	today := now.Format(time.DateOnly)
	dueToday := 0
	for _, f := range fs.FollowUps {
		if f.Due == today {
			dueToday++
		}
	}
	var parts []string
	if fs.Overdue > 0 {
		parts = append(parts, fmt.Sprintf("有 %d 个回访已经过期，请尽快上门回访", fs.Overdue))
	}
	if dueToday > 0 {
		parts = append(parts, fmt.Sprintf("今天有 %d 个回访到期", dueToday))
	}
	if len(parts) == 0 {
		return ""
	}
	return "提醒：" + strings.Join(parts, "；") + "。"
}

func caseTitle(c apitype.CaseSummary) string {
	return "案件 " + c.Number + "　" + c.Category + "　" + caseStatusLabels[c.Status]
}

func caseLine(c apitype.CaseSummary) string {
	s := "申请人：" + c.Applicant + "　" + c.Opened.Format("1月2日")
	if c.Venue != "" {
		s += "　" + c.Venue
	}
	if c.Line != "" {
		s += "　" + lineLabels[c.Line]
	}
	if c.NextFollowUp != nil {
		s += "　回访：" + dayLabel(*c.NextFollowUp)
	}
	return s
}

func (u *UI) showCase(id string) {
	mcall(u, func(ctx context.Context, token string) (apitype.Case, error) {
		return u.opts.Agent.Case(ctx, token, id)
	}, func(c apitype.Case, err error) {
		if err != nil {
			u.med.err = failureText(err)
			u.showMediatorHome()
			return
		}
		u.med.err = ""
		rows := container.NewVBox(paragraph(caseLine(c.CaseSummary)))
		for _, p := range c.Parties {
			line := "当事人：" + p.Name
			if p.Phone != "" {
				line += "　" + p.Phone
			}
			if p.IDMasked != "" {
				line += "　" + p.IDMasked
			}
			rows.Add(paragraph(line))
		}
		if len(c.Slots) > 0 {
			rows.Add(paragraph("村民希望的时间：" + preferredLabel(c.Slots)))
		}
		for _, s := range c.Sessions {
			line := fmt.Sprintf("%s　%s　%s　%s", s.Held.Format("1月2日 15:04"), s.Mediator.Name, outcomeLabels[s.Outcome], strings.Join(s.Phrases, "，"))
			if s.Note != "" {
				line += "　" + s.Note
			}
			rows.Add(paragraph(line))
		}
		var actions []fyne.CanvasObject
		for _, f := range c.FollowUps {
			if f.Done == nil {
				rows.Add(paragraph("回访日期：" + f.Due))
				actions = append(actions, widget.NewButton(labelFollowUpDone, func() { u.followUpDone(c.ID) }))
				break
			}
		}
		if c.Status != apitype.CaseReferred {
			actions = append(actions, primary(labelLogSession, func() { u.startSession(c) }))
		}
		if pt := u.med.photoFor; pt != nil && pt.caseID == c.ID && u.devices.Camera.State == apitype.DeviceReady {
			actions = append(actions, widget.NewButtonWithIcon(labelPhoto, theme.MediaPhotoIcon(), func() { u.askPhotoConsent(*pt) }))
		}
		u.mpage(caseTitle(c.CaseSummary), rows, func() { u.showCase(id) }, actions...)
	})
}

func (u *UI) followUpDone(caseID string) {
	mcall(u, func(ctx context.Context, token string) (apitype.FollowUp, error) {
		return u.opts.Agent.FollowUpDone(ctx, token, caseID, apitype.FollowUpDone{})
	}, func(f apitype.FollowUp, err error) {
		switch {
		case err != nil:
			u.med.err = failureText(err)
		case f.OnTime:
			u.med.notice = "回访已记录（按期完成）。"
		default:
			u.med.notice = "回访已记录（晚于约定日期）。"
		}
		u.showCase(caseID)
	})
}

// startSession opens the session form for case c, with its category.
func (u *UI) startSession(c apitype.Case) {
	base := apitype.SessionRequest{Category: c.Category, Line: c.Line}
	u.med.form = &sessionForm{caseID: c.ID, req: base, base: base}
	if d, ok := u.med.drafts[c.ID]; ok {
		u.med.form = formFromDraft(c.ID, base, d)
	}
	mcall(u, u.opts.Agent.Phrases, func(p apitype.Phrases, err error) {
		if err != nil {
			u.med.err = failureText(err)
		}
		u.med.phrases = p.Phrases
		u.showSessionForm()
	})
}

func (u *UI) startWalkIn() {
	u.med.form = &sessionForm{}
	u.showSessionForm()
}

// showSessionForm is one scrolling form: parties by card (or surname),
// category, line, preset phrases, optional note, outcome, agreement and the
// follow-up date. A walk-in case needs only the first two.
func (u *UI) showSessionForm() {
	f := u.med.form
	r := &f.req
	redraw := u.showSessionForm
	rows := container.NewVBox()
	if f.restored != "" {
		rows.Add(paragraph(f.restored))
	}
	rows.Add(paragraph(labelTapParty))
	for _, s := range f.shown {
		rows.Add(paragraph("当事人：" + s))
	}
	if f.adding != nil {
		p := f.adding
		if !p.named() {
			rows.Add(u.nameChooser(p, "请点当事人的姓。", redraw, redraw))
		} else {
			rows.Add(u.phoneEntry(p, func(e string) { u.med.err = e; redraw() }, func() {
				f.parties = append(f.parties, p.party())
				f.shown = append(f.shown, p.name()+"　"+p.phone)
				f.adding = nil
				redraw()
			}))
		}
	} else {
		rows.Add(widget.NewButton("没带身份证，选姓氏添加当事人", func() { f.adding = &person{}; redraw() }))
	}
	rows.Add(heading("纠纷类型"))
	cats := u.grid(4)
	for _, c := range u.menu.Content.Categories {
		cats.Add(choice(c, r.Category == c, func() { r.Category = c; redraw() }))
	}
	rows.Add(cats)
	if f.caseID == "" {
		u.mpage(labelNewCase, rows, redraw, primary(labelCreateCase, u.createCase))
		return
	}
	rows.Add(heading("红黄蓝分级"))
	lines := u.grid(3)
	for _, l := range []string{apitype.LineRed, apitype.LineYellow, apitype.LineBlue} {
		lines.Add(choice(lineLabels[l], r.Line == l, func() { r.Line = l; redraw() }))
	}
	rows.Add(lines)
	rows.Add(heading("调解摘要（可多选）"))
	phrases := u.grid(2)
	for _, p := range u.med.phrases {
		on := slices.Contains(r.Phrases, p)
		phrases.Add(choice(p, on, func() {
			if on {
				r.Phrases = slices.DeleteFunc(r.Phrases, func(x string) bool { return x == p })
			} else {
				r.Phrases = append(r.Phrases, p)
			}
			redraw()
		}))
	}
	rows.Add(phrases)
	note := widget.NewMultiLineEntry()
	note.SetPlaceHolder("补充说明（可不填）")
	note.SetText(r.Note)
	note.OnChanged = func(s string) { r.Note = s; u.touch() }
	rows.Add(note)
	rows.Add(heading("调解结果"))
	outcomes := u.grid(3)
	for _, o := range []string{apitype.OutcomeSettled, apitype.OutcomeUnsettled, apitype.OutcomeReferred} {
		outcomes.Add(choice(outcomeLabels[o], r.Outcome == o, func() { r.Outcome = o; redraw() }))
	}
	rows.Add(outcomes)
	rows.Add(heading("是否达成协议"))
	rows.Add(container.New(u.grid(2).Layout,
		choice("达成协议", f.agreement != nil && *f.agreement, func() { yes := true; f.agreement = &yes; redraw() }),
		choice("未达成协议", f.agreement != nil && !*f.agreement, func() { no := false; f.agreement = &no; redraw() })))
	if r.Outcome == apitype.OutcomeSettled {
		rows.Add(heading("回访日期"))
		dates := u.grid(3)
		for _, days := range []int{7, 15, 30} {
			d := u.opts.Now().AddDate(0, 0, days).Format(time.DateOnly)
			dates.Add(choice(fmt.Sprintf("%d 天后（%s）", days, d[5:]), r.FollowUp == d, func() { r.FollowUp = d; redraw() }))
		}
		rows.Add(dates)
	}
	save := primary(labelSaveSession, u.saveSession)
	if f.saving {
		save.SetText("正在保存……")
		save.Disable()
	}
	u.mpage(labelLogSession, rows, redraw, save)
	u.keepDraft()
}

// formProblem is what the form still lacks, in words, or "".
func formProblem(f *sessionForm) string {
	r := f.req
	switch {
	case r.Category == "":
		return "请选择纠纷类型。"
	case r.Line == "":
		return "请选择红黄蓝分级。"
	case len(r.Phrases) == 0:
		return "请至少选一条调解摘要。"
	case r.Outcome == "":
		return "请选择调解结果。"
	case f.agreement == nil:
		return "请选择是否达成协议。"
	case r.Outcome == apitype.OutcomeSettled && r.FollowUp == "":
		return "调解成功的案件请选回访日期。"
	}
	return ""
}

func (u *UI) saveSession() {
	f := u.med.form
	if f.saving {
		return
	}
	if p := formProblem(f); p != "" {
		u.med.err = p
		u.showSessionForm()
		return
	}
	f.saving, u.med.err = true, ""
	u.showSessionForm()
	req := f.req
	req.Agreement = *f.agreement
	req.Parties = f.parties
	if req.Outcome != apitype.OutcomeSettled {
		req.FollowUp = ""
	}
	mcall(u, func(ctx context.Context, token string) (apitype.Session, error) {
		// A draft save still on its way could otherwise land after the
		// session and bring the form back as a draft at the next sign-in.
		f.drafting.Wait()
		return u.opts.Agent.LogSession(ctx, token, f.caseID, req)
	}, func(s apitype.Session, err error) {
		f.saving = false
		// The mediator may have left the form while it was saving: say how
		// it went on the next page, without taking them back.
		left := u.med.form != f
		if err != nil {
			if left {
				u.med.notice = "刚才的调解记录没有保存：" + sessionFailure(err)
				return
			}
			u.med.err = sessionFailure(err)
			u.showSessionForm()
			return
		}
		msg := "调解记录已保存。"
		if s.Escalated {
			msg += "已同时上报乡镇综治中心。"
		}
		u.med.notice = msg
		u.med.photoFor = &photoTarget{caseID: f.caseID, session: s.ID}
		delete(u.med.drafts, f.caseID) // kioskd dropped it with the session
		if left {
			return
		}
		u.med.form, u.med.err = nil, ""
		u.showCase(f.caseID)
	})
}

// sessionFailure words a refused session or case for the mediator. The
// screen offers only valid choices, so a field error means something
// changed under the form (a card expired, the site's content was updated).
func sessionFailure(err error) string {
	var apiErr *localclient.APIError
	if errors.As(err, &apiErr) {
		switch {
		case strings.Contains(apiErr.Field, "card"):
			return "当事人的身份证信息已过期，请把这位当事人删掉后重新刷卡。"
		case strings.HasPrefix(apiErr.Field, "parties"):
			return "有一位当事人的信息不完整或电话号码不对，请检查。"
		case apiErr.Field == "category", apiErr.Field == "venue", strings.HasPrefix(apiErr.Field, "phrases"):
			return "本机的选项刚刚更新过，请重新选择后再保存。"
		case apiErr.Field != "":
			return "记录有误，请检查后再保存。"
		case apiErr.Code == apitype.CodeStorageFull:
			return "本机存储已满，这条记录没有保存。请联系乡镇综治中心处理，先用纸质登记。"
		}
	}
	return strings.Replace(failureText(err), "预约", "记录", 1)
}

func (u *UI) createCase() {
	f := u.med.form
	if f.req.Category == "" || len(f.parties) == 0 {
		u.med.err = "请添加当事人并选择纠纷类型。"
		u.showSessionForm()
		return
	}
	req := apitype.NewCase{Category: f.req.Category, Parties: f.parties}
	mcall(u, func(ctx context.Context, token string) (apitype.Case, error) {
		return u.opts.Agent.NewCase(ctx, token, req)
	}, func(c apitype.Case, err error) {
		if u.med.form != f {
			return // left meanwhile; the case, if made, is in the list
		}
		if err != nil {
			u.med.err = sessionFailure(err)
			u.showSessionForm()
			return
		}
		u.med.err = ""
		u.med.form = nil
		u.showCase(c.ID)
	})
}

// askPhotoConsent asks the parties present before any photo is taken: the
// kiosk takes none without a yes on this screen.
func (u *UI) askPhotoConsent(pt photoTarget) {
	rows := container.NewVBox(
		paragraph("拍照前，请调解员当面征得在场每一位当事人的同意。"),
		paragraph("照片只上报乡镇综治中心存档，本机不保存；不同意也不影响调解。"),
		container.New(u.grid(2).Layout,
			primary(labelPhotoAgreed, func() { u.takePhoto(pt) }),
			widget.NewButton(labelPhotoRefused, func() {
				u.med.photoFor, u.med.notice = nil, "没有拍照。"
				u.showCase(pt.caseID)
			})))
	u.mpage("拍照留存", rows, func() { u.askPhotoConsent(pt) })
}

func (u *UI) takePhoto(pt photoTarget) {
	if u.med.photoFor == nil || *u.med.photoFor != pt {
		return // taken already (a second tap), or the mediator moved on
	}
	u.med.photoFor = nil
	mcall(u, func(ctx context.Context, token string) (apitype.Photo, error) {
		return u.opts.Agent.Photo(ctx, token, pt.caseID, apitype.PhotoRequest{Session: pt.session, Consent: true})
	}, func(_ apitype.Photo, err error) {
		if err != nil {
			u.opts.Log.Warn("photo not taken", "err", err)
			u.med.photoFor, u.med.notice = &pt, "拍照没有成功，调解记录不受影响。" // may be tried again
		} else {
			u.med.notice = "照片已保存，将上报乡镇综治中心。"
		}
		u.showCase(pt.caseID)
	})
}

func (u *UI) showFollowUps() {
	mcall(u, u.opts.Agent.FollowUps, func(fs apitype.FollowUps, err error) {
		rows := container.NewVBox()
		if err != nil {
			rows.Add(errorText(failureText(err)))
		}
		if fs.Overdue > 0 {
			rows.Add(errorText(fmt.Sprintf("有 %d 个回访已经过期，请尽快上门回访。", fs.Overdue)))
		}
		if len(fs.FollowUps) == 0 && err == nil {
			rows.Add(paragraph("没有待回访的案件。"))
		}
		for _, f := range fs.FollowUps {
			rows.Add(newTile("案件 "+f.Number+"　回访 "+f.Due, "申请人："+f.Name, kiosktheme.Card, func() { u.showCase(f.Case) }))
		}
		u.mpage(labelFollowUps, rows, u.showFollowUps)
	})
}

func (u *UI) showIndicators() {
	mcall(u, u.opts.Agent.Indicators, func(in apitype.Indicators, err error) {
		rows := container.NewVBox()
		if err != nil {
			rows.Add(errorText(failureText(err)))
		}
		for _, l := range indicatorLines(in) {
			rows.Add(paragraph(l))
		}
		u.mpage(labelIndicators, rows, u.showIndicators)
	})
}

// indicatorLines words the indicators; a rate without cases reads 暂无, not 0%.
func indicatorLines(in apitype.Indicators) []string {
	rate := func(r *float64) string {
		if r == nil {
			return "暂无"
		}
		return fmt.Sprintf("%.1f%%", *r*100)
	}
	lines := []string{
		fmt.Sprintf("矛盾纠纷调解成功率：%s（成功 %d 件，办结 %d 件）", rate(in.SuccessRate), in.Settled, in.CasesClosed),
		fmt.Sprintf("调解次数：%d", in.Sessions),
		fmt.Sprintf("回访按期完成率：%s（按期 %d 次，完成 %d 次，待回访 %d 次）", rate(in.OnTimeRate), in.FollowUpsOnTime, in.FollowUpsDone, in.FollowUpsDue),
	}
	names := map[string]string{advisorService: "法律顾问咨询", checkupService: "法律体检", mediationService: "调解预约"}
	keys := make([]string, 0, len(in.BookingsByService))
	for k := range in.BookingsByService {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := names[k]
		if name == "" {
			name = k
		}
		lines = append(lines, fmt.Sprintf("%s预约：%d 次", name, in.BookingsByService[k]))
	}
	return lines
}
