package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Surnames offered to a villager without a card, so nobody has to type
// Chinese characters: the commonest surnames of northern Fujian, in that
// order, then a way out for everyone else.
var surnames = [...]string{
	"陈", "林", "黄", "张", "李", "王", "吴", "刘", "杨", "郑",
	"徐", "叶", "周", "詹", "朱", "余", "江", "邱", "胡", "何",
	"谢", "吕", "罗", "魏", "范", "彭", "傅", "蔡", "曾", "游",
}

// Labels of the identity steps.
const (
	labelOtherSurname = "其他姓氏"
	labelMr           = "先生"
	labelMs           = "女士"
	labelWithoutCard  = "不用身份证，选姓氏"
	labelTapCard      = "请把身份证放在读卡器上；没带身份证，请在下面点您的姓。"
)

// person is someone a flow identifies: by an ID card tapped on the reader,
// or by a surname and an honorific chosen from grids, and a phone number on
// the keypad. It holds personal data: drafts are wiped when a flow ends.
type person struct {
	card      *apitype.CardSummary
	surname   string // "" until chosen; labelOtherSurname for none of the grid
	honorific string // 先生 / 女士
	phone     string
}

// name is how the kiosk addresses the person: the card's name, or 王女士.
func (p *person) name() string {
	switch {
	case p.card != nil:
		return p.card.Name
	case p.surname == labelOtherSurname:
		return "村民" + p.honorific
	}
	return p.surname + p.honorific
}

// named says whether the name step is done.
func (p *person) named() bool { return p.card != nil || (p.surname != "" && p.honorific != "") }

// party is the person as the API takes them: the card token, or the name.
func (p *person) party() apitype.Party {
	if p.card != nil {
		return apitype.Party{Card: p.card.Token, Phone: p.phone}
	}
	return apitype.Party{Name: p.name(), Phone: p.phone}
}

// nameChooser is the content of a name step: with a card, the card's name
// and a way to go without it; without, the surname grid and then 先生/女士.
// done is called once the person is named.
func (u *UI) nameChooser(p *person, hint string, redraw, done func()) fyne.CanvasObject {
	if c := p.card; c != nil {
		return container.NewVBox(
			paragraph("已读取身份证："+c.Name+"　"+c.IDMasked),
			primary(labelNext, done),
			widget.NewButton(labelWithoutCard, func() {
				p.card, p.surname, p.honorific = nil, "", ""
				redraw()
			}))
	}
	if p.surname == "" {
		g := u.grid(6)
		for _, s := range surnames {
			g.Add(widget.NewButton(s, func() { p.surname = s; redraw() }))
		}
		return container.NewVBox(paragraph(hint), g,
			widget.NewButton(labelOtherSurname, func() { p.surname = labelOtherSurname; redraw() }))
	}
	shown := p.surname
	if shown == labelOtherSurname {
		shown = "村民"
	}
	g := container.New(u.grid(2).Layout,
		widget.NewButton(shown+labelMr, func() { p.honorific = labelMr; done() }),
		widget.NewButton(shown+labelMs, func() { p.honorific = labelMs; done() }))
	return container.NewVBox(paragraph("请问怎么称呼您？"), g,
		widget.NewButton("重新选姓氏", func() { p.surname = ""; redraw() }))
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
