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
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
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
	socket := fs.String("socket", apitype.DefaultSocket, "kioskd's local API socket `path`")
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
	// The site config's ui.idle range: below it the 15 s warning would
	// cover every screen as it appears.
	if *idle != 0 && (*idle < 20*time.Second || *idle > 10*time.Minute) {
		fmt.Fprintf(os.Stderr, "kiosk-ui: --idle %v is out of range [20s, 10m], as ui.idle in the site config\n", *idle)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	setGCPolicy(log)

	// One Fyne unit is one panel pixel: the theme sizes type in points
	// from the panel's density (GET /v1/menu panel), and Fyne's own DPI
	// scaling (1.2 on the 149 ppi 10.1" panel under Xwayland) would scale
	// it a second time. FYNE_SCALE set by hand still wins, for a desktop.
	if os.Getenv("FYNE_SCALE") == "" {
		os.Setenv("FYNE_SCALE", "1")
	}
	a := app.NewWithID("cn.fengqiao.kiosk")
	a.Settings().SetTheme(kiosktheme.New())
	w := a.NewWindow("枫桥 · 综治服务一体机")
	if size.IsZero() {
		w.SetFullScreen(true)
	} else {
		w.Resize(size)
		w.SetFixedSize(true)
	}
	u := ui.New(w, ui.Options{Agent: localclient.New(*socket), Log: log, IdleTimeout: *idle, ReleaseMemory: debug.FreeOSMemory})

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

// memoryLimit is the Go memory kiosk-ui may hold before it collects garbage:
// about five times its live heap on the home screen (52 MiB by
// GODEBUG=gctrace=1 on the 1280x800 panel with its 37 px type, 2026-12-06;
// most of it the CJK font, parsed once per text style in use, and
// Fyne's caches), so that only garbage reaches it and each time it costs
// one collection. That figure holds because Fyne parses the fonts once for
// all the ThemeOverrides that use the app theme's fonts (third_party/fyne
// PATCH), not once per override, and because a theme switch (the panel's
// theme at start, 大字) collects the fonts it discards (ui.setTheme).
const memoryLimit = 256 << 20

// setGCPolicy collects garbage by a memory limit rather than by GOGC. With
// GOGC, Go also forces a collection every two minutes, whatever was
// allocated; a kiosk that sits on its home screen all day allocates almost
// nothing, and those forced collections, each marking the whole live heap,
// were then the larger part of its CPU time. GOGC or GOMEMLIMIT in the
// environment (a technician's choice) is left alone.
func setGCPolicy(log *slog.Logger) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit)
	debug.SetGCPercent(-1)
	log.Debug("garbage collected at a memory limit", "limit_mib", memoryLimit>>20)
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
