// Command fengqiao-updater installs the township's signed software updates
// on a kiosk (agent/updater, docs/updates.md). It runs as root under its own
// systemd unit, fengqiao-updater.service, apart from kioskd, because
// installing fengqiao-kioskd restarts kioskd: the process that replaces
// kioskd must not be kioskd.
//
// kioskd receives the update bundles over MQTT and spools them (--spool);
// fengqiao-updater verifies each with its own trust state, fetches the
// packages over mutual TLS with the kiosk's certificate, installs them in
// the maintenance window while nobody is at the kiosk, checks kioskd's
// health and rolls back if it fails. It writes its report where kioskd
// reads it and publishes it (--dir/reported.json).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/update/download"
	"github.com/fengqiao/kiosk/agent/updater"
	"github.com/fengqiao/kiosk/agent/version"
)

const usage = `fengqiao-updater — installs the township's signed updates on a kiosk.

Usage: fengqiao-updater [flags]

`

// Pacing of the loop: the spool and the state are looked at every tick; a
// bundle refused as not yet valid is tried again every minute.
const (
	tick       = 10 * time.Second
	earlyRetry = time.Minute
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fengqiao-updater", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "/etc/fengqiao/site.yaml", "site config `file`: the kiosk's id, township keys, TLS files and time zone")
	dir := fs.String("dir", "/var/lib/fengqiao-updater", "state `dir`: state, trust state, report and the package cache")
	spool := fs.String("spool", "/var/lib/fengqiao/update-spool", "`dir` where kioskd spools the update bundles it receives")
	socket := fs.String("socket", apitype.DefaultSocket, "kioskd's local API `socket`")
	rate := fs.Int("rate", 0, "download cap in `bytes` per second (default: the site's control.update_rate)")
	arch := fs.String("arch", debArch(), "Debian `architecture` of this kiosk")
	healthTimeout := fs.Duration("health-timeout", 10*time.Minute, "how long the health check after an install may take to pass before it rolls back (`duration`)")
	healthStable := fs.Duration("health-stable", 2*time.Minute, "how long the health check must pass without a break before an update counts as installed (`duration`)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *healthTimeout <= 0 {
		fmt.Fprintln(stderr, "fengqiao-updater: --health-timeout must be positive")
		return 2
	}
	if *healthStable <= 0 {
		fmt.Fprintln(stderr, "fengqiao-updater: --health-stable must be positive")
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "fengqiao-updater", version.String())
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "fengqiao-updater: %v\n", err)
		return 78 // EX_CONFIG, as kioskd
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil { // 0755: kioskd reads reported.json
		fmt.Fprintf(stderr, "fengqiao-updater: %v\n", err)
		return 1
	}
	if *rate <= 0 {
		*rate = cfg.Site.Control.UpdateRateOrDefault()
	}
	api := localclient.New(*socket)
	k := cfg.Site.Kiosk
	u, err := updater.Open(updater.Options{
		Dir:          *dir,
		Identity:     bundle.Identity{Kiosk: k.ID, Township: k.Township},
		Arch:         *arch,
		Location:     cfg.Location,
		TownshipKeys: cfg.Site.Control.TownshipKeys,
		Dpkg:         updater.NewDpkg(*arch),
		Screen:       updater.KioskScreen{API: api},
		Health:       updater.KioskHealth{API: api, UIActive: unitActive(updater.UIUnit), Restarts: unitRestarts, Invocation: unitInvocation},
		Fetcher:      download.New(download.Options{Client: download.NewClient(cfg.TLSConfig()), BytesPerSecond: *rate, Log: log}),
		Log:          log,
		// A test rig under emulation shortens both (make update-boot-test);
		// a kiosk keeps 10 min and 2 min.
		HealthTimeout: *healthTimeout,
		HealthStable:  *healthStable,
	})
	if err != nil {
		fmt.Fprintf(stderr, "fengqiao-updater: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// First finish what a power cut interrupted, before anything new.
	if err := u.Step(ctx); err != nil {
		log.Error("step", "err", err)
	}
	self := executable()
	t := time.NewTicker(tick)
	defer t.Stop()
	lastEarly := time.Now()
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-t.C:
		}
		if err := u.ProcessSpool(ctx, *spool); err != nil {
			log.Error("spool", "err", err)
		}
		if time.Since(lastEarly) >= earlyRetry {
			lastEarly = time.Now()
			if err := u.RetryEarly(ctx); err != nil {
				log.Error("retry", "err", err)
			}
		}
		if err := u.Step(ctx); err != nil {
			log.Error("step", "err", err)
		}
		if !u.Busy() && self != nil && !sameFile(self, executable()) {
			// An update replaced this program; with nothing under way,
			// exit so that systemd (Restart=always) starts the new one.
			log.Info("fengqiao-updater was replaced; restarting into the new one")
			return 0
		}
	}
}

// executable is this program's file as it is now on disk; dpkg replaces
// it with a new file (a new inode) rather than writing into it.
func executable() os.FileInfo {
	path, err := os.Executable()
	if err != nil {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return fi
}

func sameFile(a, b os.FileInfo) bool { return b == nil || os.SameFile(a, b) }

// debArch is the Debian name of the architecture this binary was built for.
func debArch() string {
	if runtime.GOARCH == "arm" {
		return "armhf" // GOARM=7, as packaging/deb/build.sh builds it
	}
	return runtime.GOARCH
}

// unitActive checks a systemd unit with systemctl is-active.
func unitActive(unit string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		out, err := exec.CommandContext(ctx, "systemctl", "is-active", unit).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s is %s", unit, string(out))
		}
		return nil
	}
}

// unitRestarts is systemd's count of the automatic restarts of a unit.
func unitRestarts(ctx context.Context, unit string) (int, error) {
	out, err := exec.CommandContext(ctx, "systemctl", "show", "--property=NRestarts", "--value", unit).Output()
	if err != nil {
		return 0, fmt.Errorf("systemctl show %s: %w", unit, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// unitInvocation is systemd's id of a unit's current run, new at every
// start, automatic or by hand.
func unitInvocation(ctx context.Context, unit string) (string, error) {
	out, err := exec.CommandContext(ctx, "systemctl", "show", "--property=InvocationID", "--value", unit).Output()
	if err != nil {
		return "", fmt.Errorf("systemctl show %s: %w", unit, err)
	}
	return strings.TrimSpace(string(out)), nil
}
