// Command kiosk-ui is the Fengqiao kiosk's touch screen. It is a client of
// kioskd's local API and holds no records itself: kill it at any moment and
// nothing is lost.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/version"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/ui"
)

const usage = `kiosk-ui — the Fengqiao village kiosk touch screen.

It shows the 513 public-legal-service menu and the consultation booking flow,
and talks only to kioskd over its local API socket.

Usage: kiosk-ui [flags]

`

func main() {
	fs := flag.NewFlagSet("kiosk-ui", flag.ExitOnError)
	socket := fs.String("socket", "var/kioskd.sock", "kioskd's local API socket `path`")
	window := fs.String("window", "", "run in a window of `WxH` (e.g. 1280x800) instead of full screen")
	idle := fs.Duration("idle", 0, "return an untouched screen home, wiping what was entered, after `duration` (default: the site config's ui.idle)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, usage)
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	if *showVersion {
		fmt.Println("kiosk-ui", version.String())
		return
	}
	size, err := parseSize(*window)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kiosk-ui: --window: %v\n", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	a := app.NewWithID("cn.fengqiao.kiosk")
	a.Settings().SetTheme(kiosktheme.New())
	w := a.NewWindow("枫桥 · 综治服务一体机")
	if size.IsZero() {
		w.SetFullScreen(true)
	} else {
		w.Resize(size)
		w.SetFixedSize(true)
	}
	u := ui.New(w, ui.Options{Agent: localclient.New(*socket), Log: log, IdleTimeout: *idle})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go u.Run(ctx, 5*time.Second)
	go u.WatchCards(ctx)
	go u.WatchPresence(ctx)
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
}

func parseSize(s string) (fyne.Size, error) {
	if s == "" {
		return fyne.Size{}, nil
	}
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return fyne.Size{}, fmt.Errorf("%q is not WIDTHxHEIGHT", s)
	}
	return fyne.NewSize(float32(w), float32(h)), nil
}
