// Command kioskd is the Fengqiao kiosk agent: it owns the hardware, the durable
// record store and the link to the township, and serves the kiosk UI over a
// local API on a unix socket.
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
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // a minimal kiosk image may lack /usr/share/zoneinfo; slots need Asia/Shanghai

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/sdnotify"
	"github.com/fengqiao/kiosk/agent/version"
)

const usage = `kioskd — the Fengqiao village kiosk agent.

It loads the site config and the board profile it names, opens the record
store in --data, serves the local API on --socket (for kiosk-ui) and delivers
records to the township MQTT broker. Without --config it runs the dev site on
the simulated board, from the repository root; the socket is the packaged
kiosk's unless --socket names another (make run passes var/dev/kioskd.sock).

Usage: kioskd [flags]

`

// exitConfig is kioskd's exit status for a configuration it refuses
// (EX_CONFIG of sysexits.h), so that a script tells it from a crash (a Go
// panic or fatal signal exits with 2).
const exitConfig = 78

// configRetry is how long kioskd under systemd waits before exiting on a
// refused configuration. systemd restarts it (Restart=always), so the
// kiosk tries again twice a minute and comes up by itself once a
// technician has filled in the file, the township has renewed an expired
// certificate or the clock has been set, without a visit and without
// filling the journal at one attempt a second.
const configRetry = 20 * time.Second

// waitBeforeRetry waits d (or until SIGTERM) when systemd runs kioskd, and
// says why in systemctl status. From a shell it returns at once.
func waitBeforeRetry(d time.Duration) {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sdnotify.Status(fmt.Sprintf("configuration refused (journalctl -u fengqiao-kioskd says why); trying again in %s", d))
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// checkStoreCommand is the hidden subcommand of the store-check child.
const checkStoreCommand = "check-store"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	// kioskd checks its store in a child process of itself before opening it:
	// bbolt can crash the process on a damaged file (see outbox.CheckFile).
	if len(args) == 2 && args[0] == checkStoreCommand {
		return outbox.CheckMain(args[1])
	}
	if code, ok := outbox.ChildMain(args, stdout, stderr); ok {
		return code
	}
	fs := flag.NewFlagSet("kioskd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "firmware-configs/sites/dev.yaml", "site config `file` (it names the board profile)")
	dataDir := fs.String("data", "var/kioskd", "data `dir` holding the record store")
	socket := fs.String("socket", apitype.DefaultSocket, "unix socket `path` of the local API (its directory must exist)")
	broker := fs.String("broker", "", "MQTT broker `URL`, overriding the config (e.g. tcp://127.0.0.1:1883)")
	idcardDevice := fs.String("idcard-device", "", "ID-card reader serial `device`, overriding the board (e.g. the pty of kioskctl idcard simulate)")
	pointsKey := fs.String("points-key", "", "the township's 美德银行 points key `file`, overriding the config's points.key_file (make run gives the dev township's)")
	updaterReport := fs.String("updater-report", "", "fengqiao-updater's report `file`: take update bundles for it and publish its report (docs/updates.md)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
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
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kioskd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "kioskd", version.String())
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "kioskd: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := config.Load(*configPath)
	if err == nil && *broker != "" {
		err = cfg.OverrideBroker(*broker)
	}
	if err == nil && *idcardDevice != "" {
		err = cfg.OverrideIDCardDevice(*idcardDevice)
	}
	if err == nil && *pointsKey != "" {
		err = cfg.OverridePointsKeyFile(*pointsKey)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskd: %v\n", err)
		waitBeforeRetry(configRetry)
		return exitConfig
	}

	// A kiosk board has 512 MiB and a browser-free desktop to share it with;
	// kioskd trades a little CPU for a heap that grows half as far between
	// collections while it drains a backlog. GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}

	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "kioskd: cannot find own executable for the store check: %v\n", err)
		return 1
	}

	// SIGHUP too: a terminal closed on kioskd (make run, a technician's
	// SSH session) stops it as cleanly as Ctrl-C, store closed and logged.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err = kioskd.Run(ctx, kioskd.Options{
		Config:  cfg,
		DataDir: *dataDir,
		Socket:  *socket,
		Version: version.String(),
		Log:     log,
		// os.Args[1:] of the child are exactly check-store and the path, so
		// a test binary standing in for kioskd routes it the same way.
		VerifyStore:   outbox.SubprocessVerifier(exe, checkStoreCommand),
		StoreChild:    func(args ...string) *exec.Cmd { return exec.Command(exe, args...) },
		UpdaterReport: *updaterReport,
	})
	if errors.Is(err, context.Canceled) {
		log.Info("kioskd stopped")
		return 0
	}
	log.Error("kioskd failed", "err", err)
	return 1
}
