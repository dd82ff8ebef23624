package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// Labels of the home screen, named so tests and the glyph check use the same text.
const (
	labelBookAdvisor = "预约法律顾问（免费）"
	labelHome        = "返回首页"
	labelHotline     = "公共法律服务热线 12348"
)

func (u *UI) showHome() {
	if !u.hasMenu {
		u.showLoading()
		return
	}
	m := u.menu
	book := primary(labelBookAdvisor, u.startBooking)

	tiles := container.NewGridWithColumns(3)
	for _, s := range m.Services {
		tiles.Add(newTile(s.Title, s.Summary, kiosktheme.Card, func() { u.showService(s) }))
	}

	a := m.Advisor
	advisor := paragraph("本村法律顾问：" + a.Name + "（" + a.Firm + "）　值班：" + strings.Join(a.Duty, "；"))

	body := container.NewVBox(
		heading("公共法律服务"),
		book,
		tiles,
		advisor,
		widget.NewLabelWithStyle(labelHotline, fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
	)
	u.show(container.NewVScroll(container.NewPadded(body)))
}

// showService is one of the five services on each of the three platforms.
func (u *UI) showService(s apitype.Service) {
	rows := container.NewVBox(heading(s.Title), paragraph(s.Summary))
	for _, p := range s.Platforms {
		name := widget.NewLabelWithStyle(p.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		rows.Add(container.NewBorder(nil, nil, name, nil, paragraph(p.How)))
	}
	actions := container.NewGridWithColumns(2, widget.NewButton(labelHome, u.goHome))
	if s.Bookable {
		actions.Add(primary("预约"+s.Title, u.startBooking))
	}
	u.show(container.NewBorder(nil, container.NewPadded(actions), nil, nil, container.NewVScroll(container.NewPadded(rows))))
}
