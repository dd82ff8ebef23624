// Package sdnotify keeps systemd told how kioskd is doing: READY=1 once the
// record store is open and the local API is listening, STATUS= lines that a
// technician reads in `systemctl status`, and WATCHDOG=1 pings that are sent
// only while kioskd's own health check passes.
//
// The pings come from the health check, never from a bare timer: a timer
// goroutine keeps ticking in a kioskd whose committer is deadlocked or whose
// API no longer answers, and systemd would never know. With the pings tied
// to real work, such a kioskd misses its WatchdogSec and systemd kills and
// restarts it (Restart=always).
//
// Outside systemd (no NOTIFY_SOCKET) every call is a no-op, so the same
// binary runs from a shell, from tests and from `make run`.
package sdnotify

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Health checks that kioskd is doing its work and returns a one-line status
// for systemctl status. It must return within ctx's deadline.
type Health func(ctx context.Context) (status string, err error)

// statusEvery is how often the status line is refreshed when systemd does not
// watch kioskd (no WatchdogSec).
const statusEvery = 30 * time.Second

// Ready tells systemd that kioskd has started: the store is open and the API
// listens. A Type=notify unit counts as started only from here, so units
// ordered after it (the kiosk screen) find an answering kioskd.
func Ready(status string) error {
	return notify("READY=1\nSTATUS=" + oneLine(status))
}

// Status replaces the status line alone (e.g. while the store is opening,
// which takes long on a large store after a power cut).
func Status(status string) error {
	return notify("STATUS=" + oneLine(status))
}

// Stopping tells systemd that kioskd is shutting down on purpose.
func Stopping() error {
	return notify("STOPPING=1\nSTATUS=stopping")
}

// Options configure Watch.
type Options struct {
	// Check is the health check behind each ping.
	Check Health
	Log   *slog.Logger
}

// Watch runs the health check at a third of systemd's WatchdogSec and pings
// the watchdog after each check that passes, until ctx is done. Each check
// may take up to that third; a kioskd whose check fails or hangs for a whole
// WatchdogSec is therefore killed. Without a watchdog it only refreshes the
// status line; without systemd it waits for ctx.
func Watch(ctx context.Context, opts Options) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	ping := timeout > 0
	every := timeout / 3
	if !ping {
		if os.Getenv("NOTIFY_SOCKET") == "" {
			<-ctx.Done() // not under systemd: nobody to tell
			return ctx.Err()
		}
		every = statusEvery
	}
	log.Debug("reporting to systemd", "watchdog", timeout, "check_every", every)
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		cctx, cancel := context.WithTimeout(ctx, every)
		status, err := opts.Check(cctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err != nil:
			// No ping: if this lasts for WatchdogSec, systemd restarts us.
			if !failing {
				log.Error("health check failed; not pinging systemd's watchdog", "err", err)
			}
			failing = true
			notify("STATUS=unhealthy: " + oneLine(err.Error()))
		case ping:
			if failing {
				log.Info("health check passes again")
			}
			failing = false
			notify("WATCHDOG=1\nSTATUS=" + oneLine(status))
		default:
			failing = false
			notify("STATUS=" + oneLine(status))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func notify(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// oneLine keeps a status from breaking the newline-separated protocol.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
