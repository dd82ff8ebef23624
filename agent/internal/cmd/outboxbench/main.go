// Command outboxbench measures the kiosk's delivery path against the goals set
// for it, in one run on one machine, and writes a markdown report (make bench
// writes docs/benchmarks.md). Each goal is only meaningful against a baseline
// measured in the same run, on the same disk and CPUs, so every ratio in the
// report compares figures of that one run.
//
//  1. Durable enqueue. outbox.Enqueue, whose concurrent callers share one
//     transaction and one fsync (group commit), against plain bbolt with one
//     transaction per record: same disk, same value size, same number of
//     producers. Goals: at least 20× the baseline's records/s and a p99
//     latency of at most 50 ms, so that a queue of villagers is not served at
//     the pace of one disk flush each.
//  2. Drain. A kioskd data dir holding 100,000 records (a long outage) is
//     delivered by the real kioskd binary to a real mosquitto, timed at a
//     township subscriber and at kioskd's own queue depth, while kioskd's RSS
//     is sampled. The baseline is a plain paho QoS 1 publisher with no store
//     sending the same payloads. Goals: at least 0.7× the baseline's rate and
//     an RSS rise of at most 10 MiB (a board has 512 MiB for everything).
//     The drain runs in several rounds, each with its own baseline, because a
//     small machine's timings vary from run to run.
//  3. Store size. The store file before the drain and after it: bbolt never
//     shrinks a file by itself, so the outbox compacts it once it drains.
//     Goal: after the drain, the file is the live data plus under 1 MiB.
//  4. Boot (boot.go): exec to the first booking with a 1 GB backlog, cold and
//     warm, against an empty store. Goal: at most 1 s, RSS within 10 MiB.
//  5. Intake (intake.go): bookings through the real kioskd binary's API from
//     this program, a process of its own as the screen is, with 16 and 64
//     clients, against as many goroutines committing one bbolt transaction
//     per record. Goals: 4× and 5× the baseline, p99 at most 50 ms.
//
// Beside the goals the report records what explains them: how many records
// shared each commit, the CPU time of every process during a drain, and when
// kioskd compacted its store.
//
// The program exits 1 when a goal is missed or a measurement fails, after
// writing the report either way, and stops every process it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fengqiao/kiosk/agent/record"
)

// The dev site's kiosk (firmware-configs/sites/dev.yaml), which kioskd runs as.
var devSource = record.Source{Kiosk: "dev-kiosk-01", Township: "dev-township", Village: "dev-village"}

const devConfig = "firmware-configs/sites/dev.yaml"

// Goals.
const (
	goalEnqueueRatio = 20.0
	goalEnqueueP99   = 50 * time.Millisecond
	goalDrainRatio   = 0.7
	goalRSSRise      = 10 << 20
	goalStoreSlack   = 1 << 20
)

type options struct {
	out          string
	dir          string
	producers    int
	enqueueN     int
	enqueueLimit time.Duration
	drainN       int
	intakeN      int
	rounds       int
	bootBytes    int64
	sections     string
	keep         bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == baselinePublisherCmd {
		os.Exit(baselinePublisher(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == fixedAPICmd {
		os.Exit(fixedAPI(os.Args[2:]))
	}
	os.Exit(run())
}

// allSections are the report's sections, in the order they run.
var allSections = []string{"enqueue", "drain", "boot", "intake"}

func run() int {
	var o options
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "report `file` (markdown)")
	flag.StringVar(&o.dir, "dir", "/var/tmp", "parent `dir` of the work dir; must be on a real disk, not tmpfs")
	flag.IntVar(&o.producers, "producers", 32, "concurrent producers in the enqueue benchmark")
	flag.IntVar(&o.enqueueN, "enqueue-records", 20000, "records per side in the enqueue benchmark")
	flag.DurationVar(&o.enqueueLimit, "enqueue-limit", 10*time.Second, "time limit per side in the enqueue benchmark")
	flag.IntVar(&o.drainN, "drain-records", 100000, "records in the drain benchmark")
	flag.IntVar(&o.intakeN, "intake-bookings", 20000, "bookings per client count in the intake benchmark")
	flag.IntVar(&o.rounds, "rounds", 3, "drain rounds, each with its own baseline; boots per boot scenario")
	flag.StringVar(&o.sections, "sections", strings.Join(allSections, ","), "comma-separated `sections` to measure")
	bootMiB := flag.Int64("boot-backlog-mib", 1024, "size of the backlog store in the boot benchmark, MiB")
	flag.BoolVar(&o.keep, "keep", false, "keep the work dir (stores, logs)")
	flag.Parse()
	o.bootBytes = *bootMiB << 20
	sections := strings.Split(o.sections, ",")
	for _, s := range sections {
		if !slices.Contains(allSections, s) {
			logf("-sections: no section %q (there are %s)", s, strings.Join(allSections, ", "))
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep := &report{Command: "go run ./agent/internal/cmd/outboxbench " + strings.Join(os.Args[1:], " "),
		Sections: sections, Started: time.Now(), LoadBefore: loadAverage()}
	err := measure(ctx, o, rep)
	rep.LoadAfter = loadAverage()
	if err != nil {
		rep.Fatal = err.Error()
		logf("FAILED: %v", err)
	}
	if werr := os.WriteFile(o.out, []byte(rep.markdown()), 0o644); werr != nil {
		logf("write report: %v", werr)
		return 1
	}
	logf("report written to %s", o.out)
	missed := 0
	for _, g := range rep.goals() {
		logf("goal: %s: %s, measured %s: %s", g.Name, g.Target, g.Measured, g.verdict())
		if !g.Met {
			missed++
		}
	}
	if err != nil || missed > 0 {
		return 1
	}
	return 0
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "outboxbench: "+format+"\n", args...)
}

// measure runs all three measurements into rep. A failed measurement is
// recorded in rep and the next one still runs.
func measure(ctx context.Context, o options, rep *report) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.dir, "outboxbench-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	if o.keep {
		logf("work dir %s is kept", work)
	} else {
		defer os.RemoveAll(work)
	}
	rep.Machine, err = describeMachine(work)
	if err != nil {
		return err
	}
	if rep.Machine.FSType == "tmpfs" || rep.Machine.FSType == "ramfs" {
		return fmt.Errorf("%s is on %s, where fsync costs nothing and the enqueue figures would mean nothing (use -dir)", work, rep.Machine.FSType)
	}
	logf("work dir %s (%s on %s)", work, rep.Machine.FSType, rep.Machine.Device)

	// Build first, so that the compiler does not compete with the measurements.
	bin, err := buildKioskd(ctx, root, work)
	if err != nil {
		return err
	}

	var errs []error
	if rep.measured("enqueue") {
		rep.Enqueue, err = benchEnqueue(ctx, o, filepath.Join(work, "enqueue"))
		if err != nil {
			rep.EnqueueErr = err.Error()
			errs = append(errs, fmt.Errorf("enqueue: %w", err))
		}
	}
	if rep.measured("drain") {
		rep.Drain, err = benchDrain(ctx, o, root, bin, filepath.Join(work, "drain"))
		if err != nil {
			rep.DrainErr = err.Error()
			errs = append(errs, fmt.Errorf("drain: %w", err))
		}
	}
	if rep.measured("boot") {
		rep.Boot, err = benchBoot(ctx, o, root, bin, filepath.Join(work, "boot"))
		if err != nil {
			rep.BootErr = err.Error()
			errs = append(errs, fmt.Errorf("boot: %w", err))
		}
	}
	if rep.measured("intake") {
		rep.Intake, err = benchIntake(ctx, o, root, bin, filepath.Join(work, "intake"))
		if err != nil {
			rep.IntakeErr = err.Error()
			errs = append(errs, fmt.Errorf("intake: %w", err))
		}
	}
	return errors.Join(errs...)
}

// repoRoot finds the module root from the working directory, for the dev
// config and the kioskd build.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the repository (no go.mod above the working directory)")
		}
		dir = parent
	}
}

func buildKioskd(ctx context.Context, root, work string) (string, error) {
	bin := filepath.Join(work, "kioskd")
	logf("building kioskd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./agent/cmd/kioskd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build kioskd: %w\n%s", err, out)
	}
	return bin, nil
}
