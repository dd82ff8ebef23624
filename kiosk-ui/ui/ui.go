// Package ui owns the kiosk's touch screens: the "513" home menu, the service
// pages and the consultation booking flow, plus the calm notice shown while the
// township is unreachable.
//
// It talks to kioskd only through the Agent interface (the local API client on
// a kiosk, a fake in tests) and keeps nothing of its own: every record lives in
// kioskd, so the UI can crash and restart without losing anything. A villager's
// details live in the booking draft only until the flow ends or the screen is
// left idle, and are then wiped.
package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// Agent is what the screens need from kioskd.
type Agent interface {
	Status(ctx context.Context) (apitype.Status, error)
	Menu(ctx context.Context) (apitype.Menu, error)
	Slots(ctx context.Context, service string) (apitype.Slots, error)
	Book(ctx context.Context, req apitype.BookingRequest) (apitype.Booking, error)
	CardEvents(ctx context.Context, after uint64, wait time.Duration) (apitype.CardEvents, error)
}

// Options configure the UI.
type Options struct {
	Agent Agent
	Log   *slog.Logger
	Now   func() time.Time
	// Go runs a blocking call to the agent off the UI thread; the result is
	// applied with fyne.Do. Tests pass a runner that calls f at once, so a tap
	// has had all its effects when test.Tap returns.
	Go func(f func())
	// IdleTimeout returns an unattended screen to the home menu and wipes
	// whatever a villager typed.
	IdleTimeout time.Duration
	// CallTimeout bounds one call to kioskd.
	CallTimeout time.Duration
}

// UI is the kiosk's window content.
type UI struct {
	opts Options
	win  fyne.Window

	title      *canvas.Text
	clock      *canvas.Text
	banner     *fyne.Container
	bannerText *widget.Label
	body       *fyne.Container

	menu      apitype.Menu
	hasMenu   bool
	status    apitype.Status
	reachable bool
	draft     draft

	lastActivity time.Time
}

// New builds the UI into win and starts loading the menu.
func New(win fyne.Window, opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Go == nil {
		opts.Go = func(f func()) { go f() }
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	u := &UI{opts: opts, win: win}
	u.title = canvas.NewText("", kiosktheme.Foreground)
	u.title.TextSize = kiosktheme.SubHeadingSize
	u.title.TextStyle.Bold = true
	u.clock = canvas.NewText("", kiosktheme.Foreground)
	u.clock.TextSize = kiosktheme.SubHeadingSize
	u.bannerText = widget.NewLabel("")
	u.bannerText.Wrapping = fyne.TextWrapWord
	bannerBG := canvas.NewRectangle(kiosktheme.Notice)
	u.banner = container.NewStack(bannerBG, container.NewPadded(u.bannerText))
	u.banner.Hide()
	u.body = container.NewStack()

	header := container.NewBorder(nil, nil, u.title, u.clock)
	headerBG := canvas.NewRectangle(kiosktheme.Card)
	top := container.NewVBox(container.NewStack(headerBG, container.NewPadded(header)), u.banner)
	win.SetContent(container.NewBorder(top, nil, nil, nil, u.body))
	u.tickClock()
	u.showLoading()
	u.loadMenu()
	return u
}

// Run refreshes the status banner and the clock and enforces the idle timeout
// until ctx is done.
func (u *UI) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		u.RefreshStatus()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fyne.Do(func() {
			u.tickClock()
			if !u.hasMenu {
				u.loadMenu()
			}
			u.checkIdle()
		})
	}
}

func (u *UI) tickClock() {
	u.clock.Text = u.opts.Now().Format("1月2日 ") + weekdayCN(u.opts.Now().Weekday()) + u.opts.Now().Format(" 15:04")
	u.clock.Refresh()
}

// call runs fn against the agent off the UI thread and then applies done on it.
func call[T any](u *UI, fn func(ctx context.Context) (T, error), done func(T, error)) {
	u.opts.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), u.opts.CallTimeout)
		defer cancel()
		v, err := fn(ctx)
		fyne.Do(func() { done(v, err) })
	})
}

func (u *UI) loadMenu() {
	call(u, u.opts.Agent.Menu, func(m apitype.Menu, err error) {
		if err != nil {
			u.opts.Log.Warn("menu not loaded; retrying", "err", err)
			return
		}
		first := !u.hasMenu
		u.menu, u.hasMenu = m, true
		u.title.Text = m.KioskName
		u.title.Refresh()
		if first {
			u.showHome()
		}
	})
}

// RefreshStatus asks kioskd for the link state and updates the banner.
func (u *UI) RefreshStatus() {
	call(u, u.opts.Agent.Status, func(s apitype.Status, err error) {
		u.reachable = err == nil
		if err == nil {
			u.status = s
		}
		u.updateBanner()
	})
}

func (u *UI) updateBanner() {
	switch {
	case !u.reachable:
		u.bannerText.SetText("本机服务正在启动或重新连接，请稍候……")
		u.banner.Show()
	case u.status.Broker.State != "connected":
		text := "暂时连不上乡镇综治中心。您在本机办理的事项都已安全保存，网络恢复后会自动上报。"
		if n := u.status.Queue.Depth; n > 0 {
			text += fmt.Sprintf("（待上报 %d 条）", n)
		}
		u.bannerText.SetText(text)
		u.banner.Show()
	default:
		u.banner.Hide()
	}
}

// show replaces the body and counts as activity.
func (u *UI) show(obj fyne.CanvasObject) {
	u.touch()
	u.body.Objects = []fyne.CanvasObject{obj}
	u.body.Refresh()
}

// touch records that someone is using the kiosk.
func (u *UI) touch() { u.lastActivity = u.opts.Now() }

func (u *UI) checkIdle() {
	if u.draft.active && u.opts.Now().Sub(u.lastActivity) >= u.opts.IdleTimeout {
		u.opts.Log.Info("booking abandoned on idle; draft wiped")
		u.goHome()
	}
}

// goHome ends any flow, wipes the draft and shows the menu.
func (u *UI) goHome() {
	u.draft = draft{}
	u.showHome()
}

func (u *UI) showLoading() {
	msg := widget.NewLabelWithStyle("正在启动，请稍候……", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	u.show(container.NewCenter(msg))
}

// failureText turns a failure to reach or use kioskd into words for a
// villager. Whatever the cause, it says plainly that nothing was submitted.
func failureText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "本机响应超时，您的预约没有提交，请再按一次“确认预约”。"
	}
	var apiErr *localclient.APIError
	if errors.As(err, &apiErr) && apiErr.Code == apitype.CodeStorageFull {
		return "本机存储已满，暂时无法保存预约。请拨打 12348 或到村委会预约，我们已通知乡镇处理。"
	}
	return "本机暂时无法保存，您的预约没有提交，请稍后再试。"
}
