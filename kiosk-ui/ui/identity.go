package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Surnames offered to a villager without a card, so nobody has to type
// Chinese characters: the commonest surnames of northern Fujian, in that
// order, then a way out for everyone else.
var surnames = [...]string{
	"陈", "林", "黄", "张", "李", "王", "吴", "刘", "杨", "郑",
	"徐", "叶", "周", "詹", "朱", "余", "江", "邱", "胡", "何",
	"谢", "吕", "罗", "魏", "范", "彭", "傅", "蔡", "曾", "游",
}

// otherSurname is person.surname for "none of these": the villager is
// addressed as 先生 or 女士 alone. (It was 村民先生, which nobody is
// called.)
const otherSurname = "\x00other"

// person is someone a flow identifies: by an ID card tapped on the reader,
// or by a surname and an honorific chosen from grids, and a phone number on
// the keypad. It holds personal data: drafts are wiped when a flow ends.
type person struct {
	card      *apitype.CardSummary
	surname   string // "" until chosen; otherSurname for none of the grid
	honorific string // 先生 / 女士, as the site words them (identity.mr, identity.ms)
	phone     string
}

// name is how the kiosk addresses the person: the card's name, 王女士, or
// 女士 alone for a surname not on the grid.
func (p *person) name() string {
	switch {
	case p.card != nil:
		return p.card.Name
	case p.surname == otherSurname:
		return p.honorific
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
			paragraph(u.tf(wording.IdentityCardRead, wording.Args{"name": c.Name, "id": c.IDMasked})),
			primary(u.t(wording.BookingNext), done),
			widget.NewButton(u.t(wording.IdentityWithoutCard), func() {
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
			widget.NewButton(u.t(wording.IdentityOtherSurname), func() { p.surname = otherSurname; redraw() }))
	}
	shown := p.surname
	if shown == otherSurname {
		shown = ""
	}
	mr, ms := u.t(wording.IdentityMr), u.t(wording.IdentityMs)
	g := container.New(u.grid(2).Layout,
		widget.NewButton(shown+mr, func() { p.honorific = mr; done() }),
		widget.NewButton(shown+ms, func() { p.honorific = ms; done() }))
	return container.NewVBox(paragraph(u.t(wording.IdentityAskHonorific)), g,
		widget.NewButton(u.t(wording.IdentitySurnameAgain), func() { p.surname = ""; redraw() }))
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
