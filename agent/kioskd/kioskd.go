// Package kioskd assembles the agent daemon from its parts — outbox, MQTT link,
// agent core, local API — and runs them until its context ends. The command in
// agent/cmd/kioskd only parses flags and loads the configuration; tests run the
// same Run in-process or as a subprocess.
package kioskd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi"
	"github.com/fengqiao/kiosk/agent/mqttlink"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
)

// Options are what Run needs. Config must already be validated.
type Options struct {
	Config  *config.Config
	DataDir string
	Socket  string
	Version string
	Log     *slog.Logger
	Now     func() time.Time
}

// StoreFile is the bbolt file in the data directory.
const StoreFile = "kiosk.db"

// Run serves until ctx is done and then shuts down in order: the API stops
// taking requests and finishes those in flight, the link says goodbye, and
// only then is the store closed. It returns ctx's error after a clean stop.
func Run(ctx context.Context, opts Options) error {
	log, cfg := opts.Log, opts.Config
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("kioskd: data dir: %w", err)
	}
	ob, err := outbox.Open(filepath.Join(opts.DataDir, StoreFile), log.With("component", "outbox"))
	if err != nil {
		return err
	}
	defer ob.Close()

	k := cfg.Site.Kiosk
	link := mqttlink.New(mqttlink.Options{
		Broker:         cfg.Site.MQTT.Broker,
		Source:         record.Source{Kiosk: k.ID, Township: k.Township, Village: k.Village},
		Version:        opts.Version,
		KeepAlive:      cfg.Site.MQTT.KeepAlive.Duration,
		ConnectTimeout: cfg.Site.MQTT.ConnectTimeout.Duration,
		Log:            log.With("component", "mqtt"),
		Now:            opts.Now,
	}, ob)
	agent := core.New(cfg, opts.Version, ob, link, log.With("component", "core"), opts.Now)

	ln, err := localapi.Listen(opts.Socket)
	if err != nil {
		return err
	}
	log.Info("kioskd running", "kiosk", k.ID, "version", opts.Version, "socket", opts.Socket,
		"broker", cfg.Site.MQTT.Broker, "board", cfg.Board.Name, "pending", ob.Depth())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return localapi.Serve(gctx, ln, localapi.NewHandler(agent, log.With("component", "api")))
	})
	g.Go(func() error { return link.Run(gctx) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
