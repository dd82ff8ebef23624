package ui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// 查询我的反映: a villager checks what they raised at this kiosk, by a
// card tap (every request made with that card), or by a request's number
// and the last four digits of the phone given with it, or for an
// anonymous report its number and the receipt's check code
// (docs/local-api.md, GET /v1/requests…). The status, and the township's
// reply once item 2's downlink brings one, are shown and read aloud.

// checkState is a check under way. It holds a proof being typed: dropped
// with the draft (goHome).
type checkState struct {
	number  string
	proof   string
	byCode  bool
	stage   string // "" the start page, "number", "how", "proof", "result"
	err     string
	results []apitype.Request
	busy    bool
}

// The stages of a check.
const (
	checkStart  = ""
	checkNumber = "number"
	checkHow    = "how"
	checkProof  = "proof"
	checkResult = "result"
)

func (u *UI) startCheck() {
	u.draft = draft{}
	u.rq = nil
	u.chk = &checkState{}
	u.showCheck()
}

// showCheck draws the check's current stage.
func (u *UI) showCheck() {
	c := u.chk
	if c == nil {
		return
	}
	switch c.stage {
	case checkNumber:
		u.showCheckNumber()
	case checkHow:
		u.showCheckHow()
	case checkProof:
		u.showCheckProof()
	case checkResult:
		u.showCheckResult()
	default:
		u.showCheckStart()
	}
}

// checkPage is a page of the check: its title, any error, and the way
// home; speech is what it reads aloud after the title.
func (u *UI) checkPage(title string, rows *fyne.Container, speech string, actions ...fyne.CanvasObject) {
	c := u.chk
	if c.err != "" {
		rows.Objects = append([]fyne.CanvasObject{errorText(c.err)}, rows.Objects...)
		speech = strings.TrimSuffix(c.err, "。") + "。" + speech
	}
	u.page(title, rows, speech, u.showCheck, actions...)
}

func (u *UI) showCheckStart() {
	c := u.chk
	rows := container.NewVBox(paragraph(u.t(wording.CheckHowCard)), paragraph(u.t(wording.CheckHowNumber)))
	if c.busy {
		rows.Add(paragraph(u.t(wording.CheckLoading)))
	}
	byNumber := primary(u.t(wording.CheckByNumber), func() { u.touch(); c.err, c.stage, c.number = "", checkNumber, ""; u.showCheck() })
	u.checkPage(u.t(wording.CheckTitle), rows, u.t(wording.CheckHowCard)+u.t(wording.CheckHowNumber), byNumber)
}

// digitsEntry is a keypad for digits up to maxLen, the digits so far above
// it, and action.
func (u *UI) digitsEntry(value *string, maxLen int, action fyne.CanvasObject) fyne.CanvasObject {
	show := func() string {
		if *value == "" {
			return "＿＿＿"
		}
		return *value
	}
	display := bigText(show(), u.numberSize(), kiosktheme.Foreground)
	display.TextStyle.Monospace = true
	pad := u.keypad(value, maxLen, func() {
		display.Text = show()
		display.Refresh()
	})
	return u.padScreen(pad, []fyne.CanvasObject{container.NewCenter(display)}, action)
}

func (u *UI) showCheckNumber() {
	c := u.chk
	next := primary(u.t(wording.BookingNext), func() {
		if strings.TrimLeft(c.number, "0") == "" {
			c.err = u.t(wording.CheckNumberInvalid)
			u.showCheck()
			return
		}
		c.err, c.stage = "", checkHow
		u.showCheck()
	})
	title := u.t(wording.CheckNumberTitle)
	u.checkPage(title, container.NewVBox(u.digitsEntry(&c.number, 8, next)), title, u.checkBack(checkStart))
}

// checkBack goes back to stage.
func (u *UI) checkBack(stage string) fyne.CanvasObject {
	return widget.NewButton(u.t(wording.BookingBack), func() {
		u.touch()
		u.chk.err, u.chk.stage, u.chk.proof = "", stage, ""
		u.showCheck()
	})
}

// numberLabel is the number as a receipt prints it: 00042.
func numberLabel(n string) string {
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return n
	}
	s := strconv.FormatUint(v, 10)
	for len(s) < 5 {
		s = "0" + s
	}
	return s
}

func (u *UI) showCheckHow() {
	c := u.chk
	how := func(byCode bool) func() {
		return func() { u.touch(); c.byCode, c.proof, c.err, c.stage = byCode, "", "", checkProof; u.showCheck() }
	}
	grid := u.grid(2)
	grid.Add(widget.NewButton(u.t(wording.CheckByPhone4), how(false)))
	grid.Add(widget.NewButton(u.t(wording.CheckByCode), how(true)))
	title := u.tf(wording.CheckProofTitle, wording.Args{"number": numberLabel(c.number)})
	u.checkPage(title, container.NewVBox(grid), u.t(wording.CheckByPhone4)+"，"+u.t(wording.CheckByCode)+"。", u.checkBack(checkNumber))
}

func (u *UI) showCheckProof() {
	c := u.chk
	title, maxLen := u.t(wording.CheckPhone4Title), 4
	if c.byCode {
		title, maxLen = u.t(wording.CheckCodeTitle), 12
	}
	search := primary(u.t(wording.CheckSearch), u.checkByProof)
	if c.busy {
		search.SetText(u.t(wording.CheckLoading))
		search.Disable()
	}
	u.checkPage(title, container.NewVBox(u.digitsEntry(&c.proof, maxLen, search)), title, u.checkBack(checkHow))
}

// checkByProof asks kioskd for the request numbered c.number with the
// phone's last four digits or the check code typed.
func (u *UI) checkByProof() {
	c := u.chk
	if c == nil || c.busy {
		return
	}
	if (!c.byCode && len(c.proof) != 4) || (c.byCode && len(c.proof) < 4) {
		c.err = u.t(wording.CheckProofInvalid)
		u.showCheck()
		return
	}
	proof := apitype.RequestProof{Phone4: c.proof}
	if c.byCode {
		proof = apitype.RequestProof{Code: c.proof}
	}
	c.busy, c.err = true, ""
	u.showCheck()
	number := c.number
	call(u, func(ctx context.Context) (apitype.Request, error) {
		return u.opts.Agent.CheckRequest(ctx, number, proof)
	},
		func(r apitype.Request, err error) {
			if u.chk != c {
				return
			}
			c.busy = false
			if err != nil {
				c.proof = ""
				c.err = u.checkFailure(err)
				u.showCheck()
				return
			}
			c.proof = "" // the proof has done its work
			c.results, c.stage = []apitype.Request{r}, checkResult
			u.showCheck()
		})
}

// checkByCard lists the requests made with the card just tapped.
func (u *UI) checkByCard(card *apitype.CardSummary) {
	c := u.chk
	if c.busy {
		return
	}
	c.busy, c.err, c.proof = true, "", ""
	u.showCheck()
	token := card.Token
	call(u, func(ctx context.Context) (apitype.Requests, error) { return u.opts.Agent.RequestsByCard(ctx, token) },
		func(rs apitype.Requests, err error) {
			if u.chk != c {
				return
			}
			c.busy = false
			if err != nil {
				c.err = u.checkFailure(err)
				u.showCheck()
				return
			}
			c.results, c.stage = rs.Requests, checkResult
			u.showCheck()
		})
}

// checkFailure words a failed check: what to do, never a code.
func (u *UI) checkFailure(err error) string {
	u.opts.Log.Warn("request check failed", "err", err)
	var apiErr *localclient.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case apitype.CodeNoMatch:
			return u.t(wording.CheckFailNoMatch)
		case apitype.CodeLocked:
			return u.t(wording.CheckFailLocked)
		case apitype.CodeCardExpired:
			return u.t(wording.CheckFailCard)
		case apitype.CodeUncheckable: // made before the kiosk lost its request secret
			return u.t(wording.CheckFailLost)
		}
	}
	return u.t(wording.CheckFailOther)
}

// maxCheckSpoken is how many requests a list reads aloud: kioskd takes
// maxSpeechRunes characters at once.
const maxCheckSpoken = 3

func (u *UI) showCheckResult() {
	c := u.chk
	rows := container.NewVBox()
	var speech strings.Builder
	if len(c.results) == 0 {
		rows.Add(paragraph(u.t(wording.CheckNone)))
		speech.WriteString(u.t(wording.CheckNone))
	}
	for i, r := range c.results {
		rows.Add(heading(u.tf(wording.CheckItem, wording.Args{"number": r.Number, "kind": r.KindName, "category": r.CatName})))
		if len(r.Phrases) > 0 {
			line := strings.Join(r.Phrases, "；")
			if r.Place != "" {
				line += "　" + u.tf(wording.RequestSummaryPlace, wording.Args{"place": r.Place})
			}
			rows.Add(paragraph(line))
		}
		status := widget.NewLabelWithStyle(u.tf(wording.CheckStatus, wording.Args{"status": r.StatusText}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		status.Wrapping = fyne.TextWrapWord
		rows.Add(status)
		spoken := i < maxCheckSpoken
		if spoken {
			speech.WriteString(u.tf(wording.CheckItemSpeech, wording.Args{"number": spaced(r.Number), "kind": r.KindName, "category": r.CatName, "status": r.StatusText}))
		}
		// The township's reply arrives with item 2's downlink: until
		// then (or from an older kioskd) there is none to show.
		if r.Reply != "" {
			rows.Add(paragraph(u.tf(wording.CheckReply, wording.Args{"reply": r.Reply})))
			if r.Updated != nil && !r.Updated.IsZero() {
				rows.Add(paragraph(u.tf(wording.CheckUpdated, wording.Args{"time": slotLabel(r.Updated.In(u.opts.Now().Location()))})))
			}
			if spoken {
				speech.WriteString(u.tf(wording.CheckReplySpeech, wording.Args{"reply": strings.TrimSuffix(r.Reply, "。")}))
			}
		} else {
			rows.Add(paragraph(u.t(wording.CheckNoReply)))
		}
	}
	title := u.t(wording.CheckTitle)
	if len(c.results) > 1 {
		title = u.tf(wording.CheckListTitle, wording.Args{"n": len(c.results)})
	}
	again := widget.NewButton(u.t(wording.CheckAgain), func() { u.touch(); u.startCheck() })
	text := speech.String()
	if r := []rune(text); len(r) > maxSpeechRunes-40 {
		text = string(r[:maxSpeechRunes-40])
	}
	u.checkPage(title, rows, text, again)
}
