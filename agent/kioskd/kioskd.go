// Package kioskd assembles the agent daemon from its parts — outbox, MQTT link,
// agent core, local API — and runs them until its context ends. The command in
// agent/cmd/kioskd only parses flags and loads the configuration; tests run the
// same Run in-process or as a subprocess.
package kioskd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fengqiao/kiosk/agent/cardreader"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/hardware"
	"github.com/fengqiao/kiosk/agent/localapi"
	"github.com/fengqiao/kiosk/agent/mqttlink"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/points"
	"github.com/fengqiao/kiosk/agent/printer"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/sdnotify"
	"github.com/fengqiao/kiosk/agent/speech"
	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
	"github.com/fengqiao/kiosk/drivers/serialport"
)

// Options are what Run needs. Config must already be validated.
type Options struct {
	Config  *config.Config
	DataDir string
	Socket  string
	Version string
	Log     *slog.Logger
	Now     func() time.Time
	// VerifyStore checks the case book's file before it is opened
	// (outbox.SubprocessVerifier).
	VerifyStore func(path string) error
	// StoreChild starts a child process of kioskd for the outbox's full
	// check and salvage (outbox.Options.Child).
	StoreChild func(args ...string) *exec.Cmd
	// Pins, if set, resolves GPIO line names instead of the board's driver
	// (tests pass a gpiosim.Board's, to move its lines).
	Pins PinResolver
	// UpdaterReport, if set, is fengqiao-updater's reported.json: kioskd
	// then takes the township's update bundles, spools them in the data
	// dir for the updater, and publishes that report (docs/updates.md).
	UpdaterReport string
}

// Files in the data directory.
const (
	StoreFile = "kiosk.db"   // the outbox (bbolt)
	KeyFile   = "outbox.key" // the outbox's AES key, unless the config names one
)

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
	st := cfg.Site.Storage
	keyPath := st.KeyFile
	if keyPath == "" {
		keyPath = filepath.Join(opts.DataDir, KeyFile)
	}
	// A store with a long backlog takes a while to open after a power cut;
	// systemctl status says so instead of a bare "activating".
	sdnotify.Status("opening the record store")
	key, err := outbox.LoadOrCreateKey(keyPath)
	if err != nil {
		return err
	}
	ob, err := outbox.Open(outbox.Options{
		Path:        filepath.Join(opts.DataDir, StoreFile),
		Key:         key,
		Quota:       int64(st.Quota),
		MaxAttempts: st.MaxAttempts,
		Child:       opts.StoreChild,
		Log:         log.With("component", "outbox"),
		Now:         opts.Now,
	})
	if err != nil {
		return err
	}
	defer ob.Close()

	k := cfg.Site.Kiosk
	// Township bundles in force override the site file's content, mediators
	// and screen settings from here on.
	// The core is made below, from the configuration control returns;
	// control tells of a records key change only once it runs (Start,
	// bundles from the link), by then agent is set.
	var agent *core.Core
	missingTold := false // a records_key_missing alert queued by a change at start
	ctl, cfg, err := control.Open(control.Options{Dir: filepath.Join(opts.DataDir, ControlDir), Base: cfg,
		Log: log.With("component", "control"), Now: opts.Now,
		RecordsKeyChanged: func(ch control.RecordsKeyChange) {
			if agent == nil {
				return
			}
			missingTold = ch.To == ""
			if err := agent.Alert(ctx, recordsKeyAlert(ch)); err != nil {
				log.Error("records key alert not queued", "err", err)
			}
		}})
	if err != nil {
		return err
	}
	bridge := newControlBridge(ctl, k.Township, k.ID, log.With("component", "control"))
	var updates mqttlink.Control // an untyped nil unless the updater is there
	var updatesRun func(context.Context) error
	if opts.UpdaterReport != "" {
		ub := newUpdateBridge(k.Township, k.ID, updateSpool(opts.DataDir), opts.UpdaterReport, log.With("component", "updates"))
		updates, updatesRun = ub, ub.Run
	}
	// The township's answers to villagers' requests: verified with the
	// controller's trust state, applied by the core (set below).
	answers := newAnswersBridge(ctl, nil, k.Township, k.ID, log.With("component", "answers"), opts.Now)
	// The village's 美德银行 ledger: verified likewise, kept by the book,
	// which reads the ledger on disk only once the bridge runs (after the
	// API serves: issue 15's one second holds whatever its size).
	book, err := openPointsBook(cfg, opts.DataDir, log.With("component", "points"), opts.Now)
	if err != nil {
		return err
	}
	pointsLink := newPointsBridge(ctl, book, k.Township, k.ID, log.With("component", "points"), opts.Now)
	link := mqttlink.New(mqttlink.Options{
		Control:        bridge,
		Updates:        updates,
		Requests:       answers,
		Points:         pointsLink,
		Broker:         cfg.Site.MQTT.Broker,
		Source:         record.Source{Kiosk: k.ID, Township: k.Township, Village: k.Village},
		Version:        opts.Version,
		KeepAlive:      cfg.Site.MQTT.KeepAlive.Duration,
		ConnectTimeout: cfg.Site.MQTT.ConnectTimeout.Duration,
		MaxPayload:     int(cfg.Site.MQTT.MaxPayload),
		TLS:            cfg.TLSConfig(),
		Log:            log.With("component", "mqtt"),
		Now:            opts.Now,
	}, ob)
	// The case book has a key of its own. One written before it had one is
	// sealed with the outbox's key, and is sealed again with its own.
	casesKey, err := outbox.LoadOrCreateKey(filepath.Join(opts.DataDir, casebook.KeyFile))
	if err != nil {
		return err
	}
	cases, err := casebook.Open(casebook.Options{Path: filepath.Join(opts.DataDir, casebook.File), Key: casesKey,
		FormerKeys: [][]byte{key}, Verify: damagedBy(opts.VerifyStore),
		Location: cfg.Location, Log: log.With("component", "casebook"), Now: opts.Now})
	if err != nil {
		return err
	}
	defer cases.Close()

	openIDCard, err := idcardOpener(cfg.Board.IDCard, cfg.BoardPath, log.With("component", "idcard"))
	if err != nil {
		return err
	}
	cards := cardreader.New(cardreader.Options{
		Open:     openIDCard,
		Device:   cfg.Board.IDCard.Device,
		Interval: cfg.Board.IDCard.PollInterval.Duration,
		Log:      log.With("component", "idcard"),
		Now:      opts.Now,
	})
	// Speech and the printer are optional: missing or failing, they are
	// reported in GET /v1/devices and never stop kioskd.
	speaker := speech.New(ctx, speech.Options{Log: log.With("component", "speech")})
	defer speaker.Close()
	openPrinter, err := printerOpener(cfg.Board.Printer, cfg.BoardPath, opts.DataDir, log.With("component", "printer"))
	if err != nil {
		return err
	}
	receipts := printer.New(printer.Options{
		Open:   openPrinter,
		Device: cfg.Board.Printer.Device,
		Log:    log.With("component", "printer"),
	})
	// The hardware raises its alerts through the core, which reports the
	// hardware's state: agent is set below, before anything runs, and the
	// hardware alerts only from Run.
	alert := func(ctx context.Context, kind, message, detail string) error {
		return agent.Alert(ctx, core.AlertBody{Kind: kind, Message: message, Detail: detail})
	}
	hwOpts, err := hardwareOptions(cfg, opts.Pins, alert, func() bool {
		state, _, _ := link.State()
		return state == mqttlink.StateConnected
	}, log.With("component", "hardware"), opts.Now)
	if err != nil {
		return err
	}
	hw := hardware.New(hwOpts)

	// Villagers' requests are found again by keyed hashes of a card or a
	// proof (docs/requests.md); the key is the kiosk's own, kept beside
	// the outbox key and never sent.
	requestSecret, secretLostBelow, secretLostNow, err := loadRequestSecret(opts.DataDir, ob)
	if err != nil {
		return err
	}
	agent = core.New(core.Options{
		Config: cfg, Version: opts.Version, Outbox: ob, Link: link,
		Cards: cards, CaseBook: cases, Speaker: speaker, Printer: receipts, Hardware: hw,
		LastBundle: lastOutcome(ctl), RequestSecret: requestSecret,
		CheckLimitsFile: filepath.Join(opts.DataDir, "check-limits.json"), RequestSecretLostBelow: secretLostBelow,
		Points: book, Log: log.With("component", "core"), Now: opts.Now,
	})
	ctl.Start(agent)
	answers.agent = agent
	pointsLink.alert = agent.Alert
	if cfg.Site.Mode == config.ModeProduction && agent.Config().Site.SealKey() == nil && !missingTold {
		// Bookings still work, but nobody at the township can call the
		// villager back: township IT must push the records key.
		err := agent.Alert(ctx, core.AlertBody{Kind: "records_key_missing",
			Message: "no township records key: phone and ID numbers are withheld from the records until a bundle's records section gives one",
			Detail:  "records.township_key is not set in the site file or the bundle in force (kioskctl keys gen --encryption; docs/bundles.md)"})
		if err != nil {
			return fmt.Errorf("kioskd: queue records key alert: %w", err)
		}
	}
	if secretLostNow {
		// The requests kept are not lost, but no card, phone or code can
		// be matched to them any more: a technician restores requests.key
		// from the backup (with kioskd stopped) or the village office
		// answers those villagers itself.
		log.Warn("request secret lost: a new one was made; older requests can no longer be checked", "last_old_number", core.BookingNumber(secretLostBelow))
		err := agent.Alert(ctx, core.AlertBody{Kind: "requests_secret_lost",
			Message: "the request secret (requests.key) was missing while requests were kept; a new one was made, and requests up to number " + core.BookingNumber(secretLostBelow) + " can no longer be checked at the kiosk",
			Detail:  "restore requests.key from the kiosk's backup with kioskd stopped and delete " + secretLostFile + " (docs/requests.md)"})
		if err != nil {
			return fmt.Errorf("kioskd: queue request secret alert: %w", err)
		}
	}
	if rec := cases.Recovered(); rec != nil {
		// Mediators' open cases may be missing on the kiosk until a
		// technician salvages them; villagers are served meanwhile.
		err := agent.Alert(ctx, core.AlertBody{Kind: "casebook_corrupt",
			Message: "the case book was damaged at start and was replaced by an empty one",
			Detail:  rec.Reason + "; old book kept at " + rec.MovedTo})
		if err != nil {
			return fmt.Errorf("kioskd: queue case book alert: %w", err)
		}
	}

	ln, err := localapi.Listen(opts.Socket)
	if err != nil {
		return err
	}
	// Only now is kioskd of use to the screen: systemd starts units that
	// wait for it (kiosk-ui's session) from here.
	if err := sdnotify.Ready(fmt.Sprintf("serving; %d records waiting", ob.Depth())); err != nil {
		log.Warn("cannot tell systemd kioskd is ready", "err", err)
	}
	log.Info("kioskd running", "kiosk", k.ID, "version", opts.Version, "socket", opts.Socket,
		"broker", cfg.Site.MQTT.Broker, "board", cfg.Board.Name, "pending", ob.Depth())
	every := st.TelemetryInterval.Duration

	g, gctx := errgroup.WithContext(ctx)
	// Told at the start of the shutdown, not at its end: systemctl status
	// then says "deactivating" while requests in flight finish.
	g.Go(func() error {
		<-gctx.Done()
		sdnotify.Stopping()
		return nil
	})
	g.Go(func() error {
		return localapi.Serve(gctx, ln, localapi.NewHandler(withWording{agent}, link, cards, log.With("component", "api")))
	})
	g.Go(func() error { return link.Run(gctx) })
	g.Go(func() error { return reportDamagedStores(gctx, ob, agent) })
	g.Go(func() error { return bridge.Run(gctx) })
	g.Go(func() error { return answers.Run(gctx) })
	g.Go(func() error { return pointsLink.Run(gctx) })
	if updatesRun != nil {
		g.Go(func() error { return updatesRun(gctx) })
	}
	g.Go(func() error { return hw.Run(gctx) })
	g.Go(func() error { return cards.Run(gctx) })
	g.Go(func() error { return receipts.Run(gctx) })
	g.Go(func() error { return sendTelemetry(gctx, agent, every, log) })
	g.Go(func() error {
		return sdnotify.Watch(gctx, sdnotify.Options{Check: healthCheck(ob, opts.Socket, opts.Now),
			Log: log.With("component", "watchdog")})
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// openPointsBook makes the points book: the site's points key (checked
// when the site file loaded: readable, not the dev key in production), and
// the kiosk's own key the ledger is sealed with at rest, made at first use.
func openPointsBook(cfg *config.Config, dataDir string, log *slog.Logger, now func() time.Time) (*points.Book, error) {
	var key *points.Key
	if path := cfg.PointsKeyFile(); path != "" {
		var err error
		if key, err = points.ReadKeyFile(path, cfg.Site.Mode == config.ModeProduction); err != nil {
			return nil, fmt.Errorf("kioskd: points.key_file: %w", err)
		}
		log.Info("points key loaded", "key_id", key.ID())
	}
	seal, err := outbox.LoadOrCreateKey(filepath.Join(dataDir, points.SealKeyFile))
	if err != nil {
		return nil, err
	}
	return points.New(points.Options{Dir: dataDir, SealKey: seal, Key: key, Log: log, Now: now})
}

// recordsKeyAlert tells the township that the records key kiosks seal
// phone and ID numbers to changed, or is gone: a number sealed to a key
// the township does not hold, or withheld, is lost to it, so IT must hear
// of every change, not only of a key missing at start.
func recordsKeyAlert(ch control.RecordsKeyChange) core.AlertBody {
	from := ch.From
	if from == "" {
		from = "none"
	}
	if ch.To == "" {
		return core.AlertBody{Kind: "records_key_missing",
			Message: "no township records key any more: phone and ID numbers are withheld from the records until a bundle's records section gives one",
			Detail:  "was " + from + "; " + ch.Why}
	}
	return core.AlertBody{Kind: "records_key_changed",
		Message: "phone and ID numbers are now sealed to township records key " + ch.To + " (was " + from + ")",
		Detail:  ch.Why + "; keep the old private key until every kiosk has delivered what it sealed to it (docs/bundles.md)"}
}

// reportDamagedStores raises an alert for each damaged record store the
// outbox moved aside, found at start or by its background check, once what
// could be read from it has been salvaged.
func reportDamagedStores(ctx context.Context, ob *outbox.Outbox, agent *core.Core) error {
	for {
		select {
		case rec := <-ob.Recoveries():
			// The township must hear of it: records that could not be
			// salvaged may be missing there until a technician looks.
			err := agent.Alert(ctx, core.AlertBody{Kind: "store_corrupt",
				Message: fmt.Sprintf("the record store was found damaged %s and was replaced; %d records were salvaged and will still be delivered, %d could not be read",
					rec.Found, rec.Salvaged, rec.Unreadable),
				Detail: rec.Reason + "; old store kept at " + rec.MovedTo})
			if err != nil {
				return fmt.Errorf("kioskd: queue store alert: %w", err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// damagedBy adapts the store check (outbox.SubprocessVerifier: bbolt's
// check in a child process) to the case book's Verify. Nil checks nothing.
func damagedBy(verify func(path string) error) func(path string) (bool, error) {
	if verify == nil {
		return nil
	}
	return func(path string) (bool, error) {
		err := verify(path)
		return errors.Is(err, outbox.ErrCorrupt), err
	}
}

// sendTelemetry queues a telemetry record every interval. A failure is logged,
// not fatal: telemetry is the first thing to give way when storage is tight.
func sendTelemetry(ctx context.Context, agent *core.Core, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := agent.Telemetry(ctx); err != nil && ctx.Err() == nil {
				log.Warn("telemetry not queued", "err", err)
			}
		}
	}
}

// idcardOpener returns how to open the board's ID-card reader, nil for a
// board without one, or an error wrapping ErrUnknownDriver.
func idcardOpener(c config.IDCard, boardPath string, log *slog.Logger) (cardreader.Opener, error) {
	switch c.Driver {
	case config.IDCardNone:
		return nil, nil
	case config.IDCardSerial:
		return func(context.Context) (cardreader.Driver, io.Closer, error) {
			port, err := serialport.Open(c.Device, c.Baud)
			if err != nil {
				return nil, nil, err
			}
			r := idcard.NewReader(port, idcard.Options{Log: log})
			return r, r, nil // closing the reader closes the port
		}, nil
	case config.IDCardSimulated:
		sim := idcardsim.New(idcardsim.Options{Log: log})
		return func(ctx context.Context) (cardreader.Driver, io.Closer, error) {
			ours, theirs := net.Pipe()
			go sim.Serve(ctx, theirs)
			r := idcard.NewReader(ours, idcard.Options{Log: log})
			return r, closers{r, theirs}, nil
		}, nil
	}
	return nil, unknownDriver(boardPath, "idcard.driver", c.Driver)
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
