package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// Pictograms of the dispute categories, so a villager who reads little
// finds 邻里 by its two houses. Fyne's bundled Material icons cover a few
// (home, document, "more"); the rest are drawn here from plain shapes on a
// 24-unit grid, part of this repository and under its licence, filled in
// one colour so the theme can colour them.
func svgPictogram(name, body string) fyne.Resource {
	return theme.NewThemedResource(fyne.NewStaticResource(name+".svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">`+body+`</svg>`)))
}

var (
	pictFamily = svgPictogram("family", // two grown-ups and a child
		`<circle cx="7" cy="5.5" r="2.5" fill="#000"/><circle cx="17" cy="5.5" r="2.5" fill="#000"/>`+
			`<circle cx="12" cy="11" r="1.8" fill="#000"/>`+
			`<rect x="4.5" y="9" width="5" height="12" rx="2" fill="#000"/><rect x="14.5" y="9" width="5" height="12" rx="2" fill="#000"/>`+
			`<rect x="10.5" y="13.5" width="3" height="7.5" rx="1.2" fill="#000"/>`)
	pictNeighbours = svgPictogram("neighbours", // two houses side by side
		`<path fill-rule="evenodd" fill="#000" d="M0.5 11.5 L6 5.5 L11.5 11.5 L10.5 11.5 L10.5 19 L1.5 19 L1.5 11.5 Z M5 19 L5 14.5 L7 14.5 L7 19 Z"/>`+
			`<path fill-rule="evenodd" fill="#000" d="M12.5 11.5 L18 5.5 L23.5 11.5 L22.5 11.5 L22.5 19 L13.5 19 L13.5 11.5 Z M17 19 L17 14.5 L19 14.5 L19 19 Z"/>`+
			`<rect x="0.5" y="20" width="23" height="1.5" fill="#000"/>`)
	pictTree = svgPictogram("tree", // hill forest and farmland
		`<polygon points="12,2 5,11 19,11" fill="#000"/><polygon points="12,6 3,17 21,17" fill="#000"/>`+
			`<rect x="10.5" y="16" width="3" height="5" fill="#000"/><rect x="2" y="20.5" width="20" height="1.5" fill="#000"/>`)
	pictFlag = svgPictogram("plot", // a marker staked on a plot of land
		`<rect x="6" y="3" width="1.8" height="17" fill="#000"/><polygon points="7.8,3 18,6.5 7.8,10" fill="#000"/>`+
			`<rect x="2" y="19.5" width="20" height="2" fill="#000"/>`)
	pictCoin = svgPictogram("money", // a coin with ¥
		`<path fill-rule="evenodd" fill="#000" d="M12 2a10 10 0 1 0 0.01 0Z M12 4.5a7.5 7.5 0 1 1 -0.01 0Z"/>`+
			`<polygon points="7.5,6.5 9.5,6.5 12,10 14.5,6.5 16.5,6.5 13,11.5 11,11.5" fill="#000"/>`+
			`<rect x="11" y="11" width="2" height="7" fill="#000"/><rect x="8.5" y="12" width="7" height="1.5" fill="#000"/>`+
			`<rect x="8.5" y="14.5" width="7" height="1.5" fill="#000"/>`)
	pictHelmet = svgPictogram("work", // a worker's helmet
		`<path fill="#000" d="M4 16 A8 8 0 0 1 20 16 Z"/><rect x="2" y="16" width="20" height="2.5" rx="1" fill="#000"/>`+
			`<rect x="11" y="6" width="2" height="5" fill="#000"/>`)
	pictLeaf = svgPictogram("leaf", // a leaf: the environment
		`<path fill="#000" d="M4 20 C4 10 10 4 20 4 C20 14 14 20 4 20 Z"/><rect x="2" y="20" width="5" height="1.8" fill="#000"/>`)
	pictCar = svgPictogram("car", // a car: traffic accidents
		`<polygon points="6,10 8.5,5.5 15.5,5.5 18,10" fill="#000"/><rect x="2" y="10" width="20" height="6" rx="2" fill="#000"/>`+
			`<circle cx="7" cy="17" r="2.5" fill="#000"/><circle cx="17" cy="17" r="2.5" fill="#000"/>`)
	pictCross = svgPictogram("medical", // a medical cross
		`<rect x="9" y="3" width="6" height="18" rx="1" fill="#000"/><rect x="3" y="9" width="18" height="6" rx="1" fill="#000"/>`)
	pictBuilding = svgPictogram("building", // flats and their management
		`<rect x="3" y="3" width="10" height="18" fill="#000"/><rect x="14" y="9" width="7" height="12" fill="#000"/>`)
	// pictPhone is a telephone handset, for 12348: the Material "call"
	// icon's outline (Apache 2.0, as Fyne's bundled icons).
	pictPhone = svgPictogram("phone",
		`<path d="M6.62 10.79c1.44 2.83 3.76 5.14 6.59 6.59l2.2-2.2c.27-.27.67-.36 1.02-.24 1.12.37 2.33.57 3.57.57.55 0 1 .45 1 1V20c0 .55-.45 1-1 1-9.39 0-17-7.61-17-17 0-.55.45-1 1-1h3.5c.55 0 1 .45 1 1 0 1.25.2 2.45.57 3.57.11.35.03.74-.25 1.02l-2.2 2.2z" fill="#000"/>`)
	pictTalk = svgPictogram("talk", // two people talking: any other dispute
		`<rect x="2" y="3" width="14" height="10" rx="3" fill="#000"/><polygon points="5,12 5,17 9.5,12" fill="#000"/>`+
			`<rect x="9" y="9" width="13" height="9" rx="3" fill="#000"/><polygon points="18,17 19,21 14.5,17" fill="#000"/>`)
)

// fixed is a pictogram of our own as the tables below hold them: the
// tables hold functions so that Fyne's own icons among them are looked up
// when a screen is drawn, from the kiosk's theme, and not at start-up,
// before the app runs, when Fyne logs an error for each and answers from
// its default theme.
func fixed(r fyne.Resource) func() fyne.Resource { return func() fyne.Resource { return r } }

// categoryPictograms are the pictograms of the 14 categories of the
// people's-mediation statistics, the default content.categories.
var categoryPictograms = map[string]func() fyne.Resource{
	"婚姻家庭":  fixed(pictFamily),
	"邻里":    fixed(pictNeighbours),
	"房屋宅基地": theme.HomeIcon,
	"合同":    theme.DocumentIcon,
	"损害赔偿":  fixed(pictCoin),
	"山林土地":  fixed(pictTree),
	"征地拆迁":  fixed(pictFlag),
	"劳动争议":  fixed(pictHelmet),
	"村务管理":  theme.ListIcon,
	"环境保护":  fixed(pictLeaf),
	"交通事故":  fixed(pictCar),
	"医患":    fixed(pictCross),
	"物业":    fixed(pictBuilding),
	"其他":    theme.MoreHorizontalIcon,
}

// categoryPictogram is a category's pictogram; a category the township
// added has the pictogram of talk, never a wrong picture.
func categoryPictogram(cat string) fyne.Resource {
	if r, ok := categoryPictograms[cat]; ok {
		return r()
	}
	return pictTalk
}

// pictoChoice is one of several options shown as a large pictogram over
// its name, the whole card a target. A chosen option is outlined and
// ticked, so colour is never the only cue.
type pictoChoice struct {
	widget.BaseWidget
	Label  string
	icon   fyne.Resource
	chosen bool
	onTap  func()
}

func newPictoChoice(label string, icon fyne.Resource, chosen bool, onTap func()) *pictoChoice {
	p := &pictoChoice{Label: label, icon: icon, chosen: chosen, onTap: onTap}
	p.ExtendBaseWidget(p)
	return p
}

// pictoSize is a pictogram's side: three lines of body text, so it grows
// with the larger-text mode.
func pictoSize() float32 { return 3 * theme.Size(theme.SizeNameText) }

func (p *pictoChoice) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(kiosktheme.Card)
	bg.CornerRadius = 12
	bg.StrokeColor = color.NRGBA{R: 0xD8, G: 0xCF, B: 0xC2, A: 0xFF}
	bg.StrokeWidth = 2
	icon := canvas.NewImageFromResource(p.icon)
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSquareSize(pictoSize()))
	label := widget.NewLabelWithStyle(p.Label, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	label.SizeName = theme.SizeNameSubHeadingText
	content := container.NewVBox(container.NewCenter(icon), label)
	objs := []fyne.CanvasObject{bg, container.NewPadded(content)}
	if p.chosen {
		// The chosen look of every option (chosenOption): an ink-blue
		// outline, a pale blue fill and a large ✓, never the main
		// action's red.
		bg.FillColor = kiosktheme.ChosenFill
		bg.StrokeColor = kiosktheme.Chosen
		bg.StrokeWidth = 6
		tick := canvas.NewImageFromResource(chosenTick)
		tick.FillMode = canvas.ImageFillContain
		tick.SetMinSize(fyne.NewSquareSize(pictoSize() / 2))
		objs = append(objs, container.NewPadded(container.NewBorder(
			container.NewBorder(nil, nil, nil, tick), nil, nil, nil)))
	}
	return widget.NewSimpleRenderer(container.NewStack(objs...))
}

// Tapped implements fyne.Tappable.
func (p *pictoChoice) Tapped(*fyne.PointEvent) {
	if p.onTap != nil {
		p.onTap()
	}
}

// MinSize keeps even a short name a comfortable target.
func (p *pictoChoice) MinSize() fyne.Size {
	return p.BaseWidget.MinSize().Max(fyne.NewSize(kiosktheme.MinTouch*2.5, kiosktheme.MinTouch*2))
}

// Pictograms of 我要反映 (issue 20): the four kinds and the grid
// categories, by the names the site content gives them
// (config.RequestPictograms).
var (
	pictLifebuoy = svgPictogram("help", // a lifebuoy: help with a dispute
		`<path fill="#000" d="M21.78 14.08 A10 10 0 0 1 14.08 21.78 L13.14 17.38 A5.5 5.5 0 0 0 17.38 13.14 Z M9.92 21.78 A10 10 0 0 1 2.22 14.08 L6.62 13.14 A5.5 5.5 0 0 0 10.86 17.38 Z M2.22 9.92 A10 10 0 0 1 9.92 2.22 L10.86 6.62 A5.5 5.5 0 0 0 6.62 10.86 Z M14.08 2.22 A10 10 0 0 1 21.78 9.92 L17.38 10.86 A5.5 5.5 0 0 0 13.14 6.62 Z"/>`)
	pictMegaphone = svgPictogram("report", // a megaphone: speaking up
		`<polygon points="3,9 9,9 18,3.5 18,20.5 9,15 3,15" fill="#000"/><rect x="5" y="15" width="3" height="6" rx="1" fill="#000"/>`+
			`<rect x="19.5" y="10.5" width="3" height="3" rx="1" fill="#000"/>`)
	pictRoad = svgPictogram("road", // a road running into the distance, its middle line cut out
		`<path fill-rule="evenodd" fill="#000" d="M9 3 L15 3 L22 21 L2 21 Z M11.2 5 L12.8 5 L12.8 8 L11.2 8 Z M11 10 L13 10 L13 13.5 L11 13.5 Z M10.8 15.5 L13.2 15.5 L13.2 19.5 L10.8 19.5 Z"/>`)
	pictDrop = svgPictogram("water", // a drop of water
		`<path fill="#000" d="M12 2 C12 2 4.5 11 4.5 15.5 A7.5 7.5 0 0 0 19.5 15.5 C19.5 11 12 2 12 2 Z"/>`)
	pictBulb = svgPictogram("light", // a light bulb: street lights
		`<path fill="#000" d="M12 2 A7 7 0 0 0 8 14.7 L8 17 L16 17 L16 14.7 A7 7 0 0 0 12 2 Z"/>`+
			`<rect x="8.5" y="18" width="7" height="1.8" rx="0.8" fill="#000"/><rect x="9.5" y="20.5" width="5" height="1.8" rx="0.8" fill="#000"/>`)
)

// requestPictograms draw the request menu's pictogram names.
var requestPictograms = map[string]func() fyne.Resource{
	"help":       fixed(pictLifebuoy),
	"concern":    fixed(pictTalk),
	"consult":    theme.QuestionIcon,
	"report":     fixed(pictMegaphone),
	"dispute":    fixed(pictNeighbours),
	"clean":      theme.DeleteIcon, // a rubbish bin
	"road":       fixed(pictRoad),
	"hazard":     theme.WarningIcon,
	"other":      theme.MoreHorizontalIcon,
	"family":     fixed(pictFamily),
	"neighbours": fixed(pictNeighbours),
	"tree":       fixed(pictTree),
	"plot":       fixed(pictFlag),
	"money":      fixed(pictCoin),
	"work":       fixed(pictHelmet),
	"leaf":       fixed(pictLeaf),
	"car":        fixed(pictCar),
	"medical":    fixed(pictCross),
	"building":   fixed(pictBuilding),
	"water":      fixed(pictDrop),
	"light":      fixed(pictBulb),
	"talk":       fixed(pictTalk),
}

// requestPictogram is the pictogram named name; a name this build does not
// know has the pictogram of talk, never a blank tile.
func requestPictogram(name string) fyne.Resource {
	if r, ok := requestPictograms[name]; ok {
		return r()
	}
	return pictTalk
}

// Pictograms of 美德银行 (points.go): its home tile, the points shop's
// goods, and the ID card the screen asks for.
var (
	pictStar = svgPictogram("points", // a star: points for good deeds
		`<polygon points="12,2.8 14.5,9.4 21.5,9.7 16,14.1 17.9,20.9 12,17 6.1,20.9 8,14.1 2.5,9.7 9.5,9.4" fill="#000"/>`)
	pictGift = svgPictogram("gift", // a wrapped present: anything the shop offers
		`<rect x="3" y="8" width="18" height="4" rx="1" fill="#000"/><rect x="4.5" y="13" width="15" height="8.5" rx="1" fill="#000"/>`+
			`<path fill="#000" d="M12 8 C10 3 5.5 3.5 6.5 6.5 C7 8 9.5 8 12 8 Z M12 8 C14 3 18.5 3.5 17.5 6.5 C17 8 14.5 8 12 8 Z"/>`)
	pictBowl = svgPictogram("rice", // a bowl heaped with rice
		`<path fill="#000" d="M5 11 C5 6 19 6 19 11 Z"/><path fill="#000" d="M2.5 12 L21.5 12 C21 17 17 20 12 20 C7 20 3 17 2.5 12 Z"/>`+
			`<rect x="8" y="20.5" width="8" height="1.8" rx="0.8" fill="#000"/>`)
	pictIDCard = svgPictogram("id-card", // an ID card: a photo and lines of text
		`<path fill-rule="evenodd" fill="#000" d="M2 5 L22 5 L22 19 L2 19 Z M4 7 L4 17 L20 17 L20 7 Z"/>`+
			`<circle cx="8.5" cy="10.5" r="2" fill="#000"/><path fill="#000" d="M5.5 15.5 C5.5 12.5 11.5 12.5 11.5 15.5 Z"/>`+
			`<rect x="13" y="9.5" width="5.5" height="1.5" fill="#000"/><rect x="13" y="12.5" width="5.5" height="1.5" fill="#000"/>`)
)
