package ui

import (
	"context"
	"errors"
	"slices"
	"strings"

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

// 我要反映 (issue 20 item 1): a villager raises a request (求助, 反映诉求,
// 咨询) or a report (举报) without typing, offline. Kind, category and
// phrases from kioskd's request menu (GET /v1/requests/menu), a place of
// the village when it lists any, and last, just before submitting, a card
// tap or a phone number, because a card's token lasts only five minutes
// (docs/local-api.md). A 举报 may instead be anonymous: then nothing that
// identifies the villager is asked for, kept on screen or sent.
//
// With a card: 我要反映, kind, category, a phrase, 下一步, a place, 提交:
// seven taps (TestRequestWithCardTaps).

// Step ids of the request flow.
const (
	stepReqKind     = "req-kind"
	stepReqCategory = "req-category"
	stepReqPhrases  = "req-phrases"
	stepReqPlace    = "req-place"
	stepReqContact  = "req-contact"
)

// reqDraft is a request being raised. It may hold the villager's card and
// phone: it is dropped when the flow ends, succeeds, or is left idle
// (goHome).
type reqDraft struct {
	menu    apitype.RequestMenu
	loaded  bool
	steps   []string
	stepID  string
	kind    apitype.RequestKind
	cat     apitype.RequestCategory
	phrases []string
	place   string // a place id, "" for none

	anonymous   bool
	photo       bool // the villager agreed to a photo, taken on 提交
	askingPhoto bool // the consent question is on screen
	who         person
	err         string
	submitting  bool
}

// startRequest begins 我要反映: it loads the request menu, which says what
// the kiosk offers now (the camera, for one), then asks the kind.
func (u *UI) startRequest() {
	u.draft = draft{}
	u.chk = nil
	u.rq = &reqDraft{steps: []string{stepReqKind}}
	u.loadRequestMenu()
}

func (u *UI) loadRequestMenu() {
	r := u.rq
	u.rstep(stepReqKind, u.t(wording.RequestKindTitle), widget.NewLabel(u.t(wording.RequestLoading)))
	call(u, u.opts.Agent.RequestMenu, func(m apitype.RequestMenu, err error) {
		if u.rq != r {
			return // the villager left while we were asking
		}
		if err != nil {
			u.opts.Log.Warn("request menu not loaded", "err", err)
			r.err = u.t(wording.RequestLoadFailed)
			u.rstep(stepReqKind, u.t(wording.RequestKindTitle),
				widget.NewButton(u.t(wording.RequestRetry), func() { r.err = ""; u.loadRequestMenu() }))
			return
		}
		r.menu, r.loaded = m, true
		r.steps = []string{stepReqKind, stepReqCategory, stepReqPhrases}
		if len(m.Places) > 0 {
			r.steps = append(r.steps, stepReqPlace)
		}
		r.steps = append(r.steps, stepReqContact)
		r.err = ""
		u.showReqKind()
	})
}

func (u *UI) drawReqStep(id string) {
	switch id {
	case stepReqKind:
		u.showReqKind()
	case stepReqCategory:
		u.showReqCategory()
	case stepReqPhrases:
		u.showReqPhrases()
	case stepReqPlace:
		u.showReqPlace()
	case stepReqContact:
		u.showReqContact()
	}
}

// reqNext shows the step after id.
func (u *UI) reqNext(id string) {
	r := u.rq
	r.err = ""
	i := slices.Index(r.steps, id)
	u.drawReqStep(r.steps[i+1])
}

// rstep lays out one step of the request flow as step() does a booking's:
// the step indicator, the question, any error, the content, and in the
// band the way back, 不办了, extra actions and the primary action.
func (u *UI) rstep(id, title string, content fyne.CanvasObject, extra ...fyne.CanvasObject) {
	u.rstepSay(id, title, "", content, extra...)
}

// rstepSay is rstep for a step that reads aloud say after its question.
// It is part of the screen's speech from the start: the screen is
// announced with it, and a redraw is known for the same screen by it.
func (u *UI) rstepSay(id, title, say string, content fyne.CanvasObject, extra ...fyne.CanvasObject) {
	r := u.rq
	r.stepID = id
	n := max(0, slices.Index(r.steps, id))
	top := []fyne.CanvasObject{u.newStepIndicator(r.steps, n), u.tight(heading(title))}
	speech := title
	if r.err != "" {
		top = append(top, errorText(r.err))
		speech = strings.TrimSuffix(r.err, "。") + "。" + title
	}
	if say != "" {
		speech = strings.TrimSuffix(speech, "。") + "。" + say
	}
	var nav []fyne.CanvasObject
	if n > 0 {
		prev := r.steps[n-1]
		nav = append(nav, widget.NewButton(u.t(wording.BookingBack), func() {
			r.err, r.askingPhoto = "", false
			u.drawReqStep(prev)
		}))
	}
	nav = append(nav, widget.NewButton(u.t(wording.BookingCancel), u.goHome))
	nav = append(nav, extra...)
	u.frame(top, content, nav, speech, func() { u.drawReqStep(id) })
}

func (u *UI) showReqKind() {
	r := u.rq
	if !r.loaded {
		u.loadRequestMenu()
		return
	}
	grid := u.grid(4)
	var names []string
	for _, k := range r.menu.Kinds {
		names = append(names, k.Name)
		grid.Add(newPictoChoice(k.Name, requestPictogram(k.Pictogram), r.kind.ID == k.ID, func() {
			u.touch()
			if r.kind.ID != k.ID {
				r.anonymous = false
			}
			r.kind = k
			u.reqNext(stepReqKind)
		}))
	}
	u.rstepSay(stepReqKind, u.t(wording.RequestKindTitle), u.tf(wording.RequestKindSpeech, wording.Args{"kinds": strings.Join(names, "、")}), grid)
}

func (u *UI) showReqCategory() {
	r := u.rq
	grid := u.grid(4)
	for _, c := range r.menu.Categories {
		grid.Add(newPictoChoice(c.Name, requestPictogram(c.Pictogram), r.cat.ID == c.ID, func() {
			u.touch()
			if r.cat.ID != c.ID {
				r.phrases = nil // another category's phrases
			}
			r.cat = c
			u.reqNext(stepReqCategory)
		}))
	}
	u.rstep(stepReqCategory, u.t(wording.RequestCategoryTitle), grid)
}

// maxPhrases is how many phrases a request takes: the menu's, at least one.
func (r *reqDraft) maxPhrases() int { return max(1, r.menu.MaxPhrases) }

func (u *UI) showReqPhrases() {
	r := u.rq
	hint := u.tf(wording.RequestPhrasesHint, wording.Args{"n": r.maxPhrases()})
	grid := u.grid(2)
	for _, p := range r.cat.Phrases {
		chosen := slices.Contains(r.phrases, p)
		grid.Add(choice(p, chosen, func() {
			u.touch()
			switch {
			case chosen:
				r.phrases = slices.DeleteFunc(r.phrases, func(x string) bool { return x == p })
			case len(r.phrases) < r.maxPhrases():
				r.phrases = append(r.phrases, p)
			default:
				r.err = u.tf(wording.RequestPhrasesTooMany, wording.Args{"n": r.maxPhrases()})
			}
			u.showReqPhrases()
			r.err = ""
		}))
	}
	next := primary(u.t(wording.BookingNext), func() {
		if len(r.phrases) == 0 {
			r.err = u.t(wording.RequestPhrasesNone)
			u.showReqPhrases()
			return
		}
		u.reqNext(stepReqPhrases)
	})
	u.rstepSay(stepReqPhrases, u.t(wording.RequestPhrasesTitle), hint, container.NewVBox(paragraph(hint), grid, next))
}

func (u *UI) showReqPlace() {
	r := u.rq
	grid := u.grid(4)
	for _, p := range r.menu.Places {
		grid.Add(choice(p.Name, r.place == p.ID, func() {
			u.touch()
			r.place = p.ID
			u.reqNext(stepReqPlace)
		}))
	}
	skip := widget.NewButton(u.t(wording.RequestPlaceSkip), func() {
		u.touch()
		r.place = ""
		u.reqNext(stepReqPlace)
	})
	u.rstep(stepReqPlace, u.t(wording.RequestPlaceTitle), grid, skip)
}

// placeName is the name of the place chosen, "" for none.
func (r *reqDraft) placeName() string {
	for _, p := range r.menu.Places {
		if p.ID == r.place {
			return p.Name
		}
	}
	return ""
}

// summary is what the request says, in one line: 反映诉求：道路设施。路灯不亮
func (u *UI) reqSummary() string {
	r := u.rq
	s := u.tf(wording.RequestSummary, wording.Args{"kind": r.kind.Name, "category": r.cat.Name, "phrases": strings.Join(r.phrases, "；")})
	if p := r.placeName(); p != "" {
		s += "　" + u.tf(wording.RequestSummaryPlace, wording.Args{"place": p})
	}
	return s
}

// showReqContact is the last step: who is asking (a card tap, or a phone
// number), or for a 举报 nobody; an optional photo; and 提交.
func (u *UI) showReqContact() {
	r := u.rq
	if r.askingPhoto {
		u.askReqPhoto()
		return
	}
	submit := primary(u.t(wording.RequestSubmit), u.submitRequest)
	if r.submitting {
		submit.SetText(u.t(wording.RequestSaving))
		submit.Disable()
	}
	var extra []fyne.CanvasObject
	switch {
	case r.anonymous:
		// Said plainly, and nothing to fill in: no card, no phone, no
		// photo.
		rows := container.NewVBox(paragraph(u.reqSummary()),
			paragraph(u.t(wording.RequestAnonymousWhat)), paragraph(u.t(wording.RequestAnonymousCode)), submit)
		back := widget.NewButton(u.t(wording.RequestNotAnonymous), func() { u.touch(); r.anonymous = false; u.showReqContact() })
		u.rstepSay(stepReqContact, u.t(wording.RequestAnonymousTitle), u.t(wording.RequestAnonymousWhat)+u.t(wording.RequestAnonymousCode), rows, back)
		return
	case r.kind.Anonymous:
		extra = append(extra, widget.NewButton(u.t(wording.RequestAnonymous), func() {
			u.touch()
			// Whatever identified the villager goes at once.
			r.anonymous, r.photo, r.who = true, false, person{}
			r.err = ""
			u.showReqContact()
		}))
	}
	if c := r.who.card; c != nil {
		rows := container.NewVBox(
			paragraph(u.tf(wording.RequestContactCard, wording.Args{"name": c.Name, "id": c.IDMasked})),
			paragraph(u.reqSummary()))
		if photo := u.reqPhotoRow(); photo != nil {
			rows.Add(photo)
		}
		rows.Add(widget.NewButton(u.t(wording.RequestWithoutCard), func() { u.touch(); r.who.card = nil; u.showReqContact() }))
		rows.Add(submit)
		u.rstepSay(stepReqContact, u.t(wording.RequestContactTitle), u.tf(wording.RequestContactCard, wording.Args{"name": c.Name, "id": ""}), rows, extra...)
		return
	}
	// No card (yet): the phone on the keypad; a card placed now answers
	// the step instead (requestCard).
	display := bigText(phoneDisplay(r.who.phone), u.numberSize(), kiosktheme.Foreground)
	display.TextStyle.Monospace = true
	pad := u.keypad(&r.who.phone, 12, func() {
		display.Text = phoneDisplay(r.who.phone)
		display.Refresh()
	})
	above := []fyne.CanvasObject{container.NewCenter(display)}
	if r.menu.Photo {
		// Short words, to stand beside the pad on a small panel in
		// larger text: the consent screen explains. Chosen, it carries
		// the chosen look, and a tap takes it back.
		above = append(above, choice(u.t(wording.RequestPhotoShort), r.photo, func() {
			u.touch()
			if r.photo {
				r.photo = false
				u.showReqContact()
				return
			}
			r.askingPhoto = true
			u.askReqPhoto()
		}))
	}
	u.rstep(stepReqContact, u.t(wording.RequestContactTitle), u.padScreen(pad, above, submit), extra...)
}

// reqPhotoRow offers a photo of the problem when the kiosk's consent
// camera is ready (the menu's photo), or says one will be taken; nil
// otherwise.
func (u *UI) reqPhotoRow() fyne.CanvasObject {
	r := u.rq
	if !r.menu.Photo || r.anonymous {
		return nil
	}
	if r.photo {
		return container.NewVBox(paragraph(u.t(wording.RequestPhotoYes)),
			widget.NewButton(u.t(wording.RequestPhotoCancel), func() { u.touch(); r.photo = false; r.err = ""; u.showReqContact() }))
	}
	return widget.NewButtonWithIcon(u.t(wording.RequestPhotoAdd), theme.MediaPhotoIcon(), func() {
		u.touch()
		r.askingPhoto = true
		u.askReqPhoto()
	})
}

// askReqPhoto asks before any photo, as a mediation photo is asked for:
// nothing is taken unless the villager agrees, and then only on 提交.
func (u *UI) askReqPhoto() {
	r := u.rq
	rows := container.NewVBox(paragraph(u.t(wording.RequestPhotoAsk)), paragraph(u.t(wording.RequestPhotoWhy)),
		primary(u.t(wording.RequestPhotoAgreed), func() { u.touch(); r.photo, r.askingPhoto = true, false; u.showReqContact() }))
	refuse := widget.NewButton(u.t(wording.RequestPhotoRefused), func() { u.touch(); r.photo, r.askingPhoto = false, false; u.showReqContact() })
	u.rstepSay(stepReqContact, u.t(wording.RequestPhotoTitle), u.t(wording.RequestPhotoAsk)+u.t(wording.RequestPhotoWhy), rows, refuse)
}

// requestCard takes a card read during the request flow or on the check
// screen; false if neither is on screen.
func (u *UI) requestCard(c *apitype.CardSummary) bool {
	if u.chk != nil {
		u.checkByCard(c)
		return true
	}
	r := u.rq
	if r == nil {
		return false
	}
	if r.submitting || r.anonymous {
		return true // an anonymous report takes no card, not even on screen
	}
	r.who.card = c
	r.err = ""
	u.drawReqStep(r.stepID)
	return true
}

// submitRequest sends the request. The receipt appears only once kioskd
// answers 201, after the record is on disk.
func (u *UI) submitRequest() {
	r := u.rq
	if r == nil || r.submitting {
		return // a second tap while the first is saving must not submit twice
	}
	if !r.anonymous && r.who.card == nil && !plausiblePhone(r.who.phone) {
		if r.who.phone == "" {
			r.err = u.t(wording.RequestFailContact)
		} else {
			r.err = u.t(wording.PhoneInvalid)
		}
		u.showReqContact()
		return
	}
	req := apitype.RequestSubmit{Kind: r.kind.ID, Category: r.cat.ID, Phrases: slices.Clone(r.phrases), Place: r.place}
	if r.anonymous {
		req.Anonymous = true
	} else {
		if r.who.card != nil {
			req.Card = r.who.card.Token
		}
		req.Phone = r.who.phone
		if r.photo {
			req.Photo = &apitype.RequestPhoto{Consent: true}
		}
	}
	r.submitting, r.err = true, ""
	u.showReqContact()
	call(u, func(ctx context.Context) (apitype.RequestReceipt, error) { return u.opts.Agent.SubmitRequest(ctx, req) },
		func(rc apitype.RequestReceipt, err error) {
			if u.rq != r {
				return
			}
			r.submitting = false
			if err != nil {
				u.requestFailed(err)
				return
			}
			u.rq = nil // the record is in kioskd; the screen keeps no card and no phone
			u.showRequestDone(rc)
		})
}

// requestFailed sends the villager back to the step that needs fixing,
// saying that nothing was submitted.
func (u *UI) requestFailed(err error) {
	r := u.rq
	var apiErr *localclient.APIError
	errors.As(err, &apiErr)
	field := ""
	if apiErr != nil {
		field = apiErr.Field
	}
	at, msg := stepReqContact, ""
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = u.t(wording.RequestFailTimeout)
	case apiErr != nil && apiErr.Code == apitype.CodeStorageFull:
		msg = u.t(wording.RequestFailStorage)
	case apiErr != nil && apiErr.Code == apitype.CodeNoDevice, strings.HasPrefix(field, "photo"):
		msg = u.t(wording.RequestFailPhoto)
	case field == "card":
		r.who.card = nil
		msg = u.t(wording.RequestFailCard)
	case field == "phone":
		msg = u.t(wording.RequestFailPhone)
	case field == "contact":
		msg = u.t(wording.RequestFailContact)
	case field == "kind" || field == "anonymous":
		at, msg = stepReqKind, u.t(wording.RequestFailOptions)
		r.loaded = false // the menu changed: load it again
	case field == "category":
		at, msg = stepReqCategory, u.t(wording.RequestFailOptions)
		r.loaded = false
	case strings.HasPrefix(field, "phrases"):
		at, msg = stepReqPhrases, u.t(wording.RequestFailOptions)
		r.phrases = nil
	case field == "place":
		at, msg = stepReqPlace, u.t(wording.RequestFailOptions)
		r.place = ""
	default:
		msg = u.t(wording.RequestFailOther)
	}
	u.opts.Log.Warn("request not submitted", "err", err)
	if !slices.Contains(r.steps, at) {
		at = stepReqContact
	}
	if !r.loaded {
		// Ask kioskd for the menu again, then show the error on the kind.
		r.err = msg
		u.rstep(stepReqKind, u.t(wording.RequestKindTitle), widget.NewLabel(u.t(wording.RequestLoading)))
		call(u, u.opts.Agent.RequestMenu, func(m apitype.RequestMenu, err error) {
			if u.rq != r {
				return
			}
			if err == nil {
				r.menu, r.loaded = m, true
				r.kind, r.cat, r.phrases, r.place = apitype.RequestKind{}, apitype.RequestCategory{}, nil, ""
			}
			r.err = msg
			u.drawReqStep(stepReqKind)
		})
		return
	}
	r.err = msg
	u.drawReqStep(at)
}

// showRequestDone is the receipt: a green ✓, the number, where it stands,
// and for an anonymous report its check code, shown this once.
func (u *UI) showRequestDone(rc apitype.RequestReceipt) {
	framed := func(text string) fyne.CanvasObject {
		t := bigText(text, theme.SizeNameHeadingText, kiosktheme.Foreground)
		card := canvas.NewRectangle(kiosktheme.Card)
		card.CornerRadius = 12
		card.StrokeColor = kiosktheme.Foreground
		card.StrokeWidth = 2
		return container.NewHBox(container.NewStack(card, container.NewPadded(container.NewPadded(t))))
	}
	rows := container.NewVBox(container.NewHBox(successMark(u.t(wording.RequestDone))),
		framed(u.tf(wording.RequestNumber, wording.Args{"number": rc.Number})))
	speech := u.tf(wording.RequestDoneSpeech, wording.Args{"number": spaced(rc.Number)})
	add := func(text string) {
		rows.Add(paragraph(text))
		speech += strings.TrimSuffix(text, "。") + "。"
	}
	if rc.Code != "" {
		rows.Add(framed(u.tf(wording.RequestDoneCode, wording.Args{"code": rc.Code})))
		rows.Add(paragraph(u.t(wording.RequestDoneCodeOnce)))
		// The code is not read aloud: anyone standing by would hear it.
		speech += u.t(wording.RequestDoneCodeSpeech)
	}
	add(u.tf(wording.RequestDoneStatus, wording.Args{"status": rc.StatusText}))
	if u.status.Broker.State != "connected" {
		add(u.t(wording.RequestDoneOffline))
	}
	if rc.Anonymous {
		add(u.t(wording.RequestDoneAnonymous))
	} else {
		add(u.t(wording.RequestDoneNote))
	}
	var band []fyne.CanvasObject
	if u.devices.Printer.State == apitype.DeviceReady {
		var print *widget.Button
		print = widget.NewButtonWithIcon(u.t(wording.RequestPrint), theme.DocumentPrintIcon(), func() {
			u.touch()
			print.Disable()
			do(u, func(ctx context.Context) error { return u.opts.Agent.Print(ctx, rc.ID) }, func(err error) {
				if err != nil {
					u.opts.Log.Warn("request receipt not printed", "err", err)
					print.SetText(u.t(wording.RequestPrintFailed))
					return
				}
				print.SetText(u.t(wording.DonePrinted))
			})
		})
		band = append(band, print)
	}
	band = append(band, primary(u.t(wording.CommonHome), u.goHome))
	u.present(container.NewVScroll(container.NewPadded(rows)),
		screen{redraw: func() { u.showRequestDone(rc) }, speech: speech, band: band, byLink: true})
}
