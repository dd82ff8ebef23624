package main

// 4. Boot. A kiosk boots cold after every power cut, and nobody can book
// until kioskd serves. Measured: from the exec of the real kioskd binary to
// its first 201 booking through the local API (GET /v1/slots, then POST
// /v1/bookings, retried until one succeeds), and kioskd's RSS at that
// moment, on a store holding a ~1 GiB backlog and on an empty one, with the
// page cache dropped (cold) and with the store read into it (warm). The
// backlog boots after a power cut (SIGKILL, so the full check is owed and
// runs in the background) and after a clean shutdown. The township broker is
// reachable, so the drain of the backlog starts during the boot too.
// Goals: the backlog's cold boot within 1 s; its RSS within 10 MiB of the
// empty store's under the same cache.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/outbox"
)

const (
	goalBootCold = time.Second
	goalBootRSS  = 10 << 20
)

type bootRow struct {
	Store    string // "empty" or "backlog"
	Shutdown string // how the previous run ended: "power cut" or "clean"
	Cache    string // "cold" or "warm"
	Times    []time.Duration
	Mem      []memSample
}

func (r *bootRow) medianTime() time.Duration {
	d := slices.Clone(r.Times)
	slices.Sort(d)
	return d[len(d)/2]
}

func (r *bootRow) medianRSS() int64 {
	var v []int64
	for _, m := range r.Mem {
		v = append(v, m.RSS)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

type bootResult struct {
	Records   int
	FileBytes int64
	Rounds    int
	Rows      []*bootRow
}

func (b *bootResult) row(store, shutdown, cache string) *bootRow {
	for _, r := range b.Rows {
		if r.Store == store && r.Shutdown == shutdown && r.Cache == cache {
			return r
		}
	}
	return nil
}

func benchBoot(ctx context.Context, o options, root, bin, dir string) (*bootResult, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("dropping the page cache for the cold boots needs root")
	}
	config, err := bootConfig(root, dir)
	if err != nil {
		return nil, err
	}
	br, err := startBroker(ctx, filepath.Join(dir, "broker"))
	if err != nil {
		return nil, err
	}
	defer br.stop()
	backlog := filepath.Join(dir, "backlog")
	res := &bootResult{Rounds: o.rounds}
	logf("boot: filling a store to %s", mib(o.bootBytes))
	if res.Records, res.FileBytes, err = fillBacklog(ctx, backlog, o.bootBytes); err != nil {
		return nil, err
	}
	// A first run that ends in a power cut: from here the full check is owed.
	if _, err := bootOnce(ctx, bin, config, backlog, br.url, filepath.Join(dir, "prep.log"), syscall.SIGKILL); err != nil {
		return nil, err
	}
	for _, sc := range []struct {
		store, shutdown, cache string
	}{
		{"empty", "clean", "cold"}, {"empty", "clean", "warm"},
		{"backlog", "power cut", "cold"}, {"backlog", "power cut", "warm"},
		{"backlog", "clean", "cold"}, {"backlog", "clean", "warm"},
	} {
		row := &bootRow{Store: sc.store, Shutdown: sc.shutdown, Cache: sc.cache}
		res.Rows = append(res.Rows, row)
		stop := syscall.SIGTERM
		if sc.shutdown == "power cut" {
			stop = syscall.SIGKILL
		} else if sc.store == "backlog" {
			if err := settleCheck(ctx, bin, config, backlog, br.url, filepath.Join(dir, "settle.log")); err != nil {
				return nil, err
			}
		}
		for i := range o.rounds {
			data := backlog
			if sc.store == "empty" {
				data = filepath.Join(dir, fmt.Sprintf("empty-%s-%d", sc.cache, i))
			}
			if err := setCache(sc.cache, filepath.Join(data, kioskd.StoreFile), bin); err != nil {
				return nil, err
			}
			logPath := filepath.Join(dir, strings.ReplaceAll(fmt.Sprintf("boot-%s-%s-%s-%d.log", sc.store, sc.shutdown, sc.cache, i), " ", "-"))
			b, err := bootOnce(ctx, bin, config, data, br.url, logPath, stop)
			if err != nil {
				return nil, fmt.Errorf("%s store, %s cache: %w", sc.store, sc.cache, err)
			}
			row.Times, row.Mem = append(row.Times, b.took), append(row.Mem, b.mem)
			logf("boot: %s store after a %s, %s cache: first booking %s after exec, RSS %s",
				sc.store, sc.shutdown, sc.cache, ms(b.took), mib(b.mem.RSS))
		}
	}
	return res, nil
}

// bootConfig writes the dev site with a quota the backlog fits in.
func bootConfig(root, dir string) (string, error) {
	site, err := os.ReadFile(filepath.Join(root, devConfig))
	if err != nil {
		return "", err
	}
	board, err := os.ReadFile(filepath.Join(root, "firmware-configs/boards/dev-sim.yaml"))
	if err != nil {
		return "", err
	}
	s := strings.Replace(string(site), "quota: 256MiB", "quota: 8GiB", 1)
	if s == string(site) {
		return "", errors.New("boot: the dev site no longer says quota: 256MiB")
	}
	for _, d := range []string{"sites", "boards"} {
		if err := os.MkdirAll(filepath.Join(dir, "config", d), 0o755); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "config", "sites", "boot.yaml")
	if err := os.WriteFile(filepath.Join(dir, "config", "boards", "dev-sim.yaml"), board, 0o644); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(s), 0o644)
}

// fillBacklog enqueues bookings into a kioskd data dir until its store file
// is size bytes.
func fillBacklog(ctx context.Context, dataDir string, size int64) (int, int64, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return 0, 0, err
	}
	key, err := outbox.LoadOrCreateKey(filepath.Join(dataDir, kioskd.KeyFile))
	if err != nil {
		return 0, 0, err
	}
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dataDir, kioskd.StoreFile), Key: key, Quota: 8 << 30})
	if err != nil {
		return 0, 0, err
	}
	defer ob.Close()
	const chunk = 50000
	n := 0
	for ob.Stats().FileBytes < size {
		_, err := produce(ctx, chunk, 512, time.Hour, func(int) error {
			env, err := newBooking(time.Now())
			if err == nil {
				_, err = ob.Enqueue(ctx, env)
			}
			return err
		})
		if err != nil {
			return n, 0, fmt.Errorf("fill: %w", err)
		}
		n += chunk
	}
	st := ob.Stats()
	return n, st.FileBytes, ob.Close()
}

// settleCheck runs kioskd until the full check owed after a power cut has
// passed, and stops it cleanly: the next start owes none.
func settleCheck(ctx context.Context, bin, config, dataDir, brokerURL, logPath string) error {
	if _, err := os.Stat(filepath.Join(dataDir, kioskd.StoreFile+".open")); err != nil {
		return nil // no check owed
	}
	d, err := startKioskdWith(bin, config, dataDir, brokerURL, logPath)
	if err != nil {
		return err
	}
	defer d.stop()
	for deadline := time.Now().Add(10 * time.Minute); ; {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), `msg="store checked"`) {
			break
		}
		if d.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return d.explain(errors.New("the full check did not pass"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	if _, err := os.Stat(filepath.Join(dataDir, kioskd.StoreFile+".open")); err == nil {
		return errors.New("a clean stop after the check left the open marker")
	}
	return nil
}

// setCache drops the page cache, or reads the store and binary into it.
func setCache(cache, store, bin string) error {
	if cache == "warm" {
		for _, f := range []string{store, bin} {
			if err := readAll(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
		return fmt.Errorf("drop the page cache: %w", err)
	}
	return nil
}

func readAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

type bootMeasure struct {
	took time.Duration
	mem  memSample
}

// bootOnce execs kioskd, books as soon as its API lets it, reads its memory
// at the 201, and ends it with stop.
func bootOnce(ctx context.Context, bin, config, dataDir, brokerURL, logPath string, stop syscall.Signal) (bootMeasure, error) {
	d, err := startKioskdWith(bin, config, dataDir, brokerURL, logPath)
	if err != nil {
		return bootMeasure{}, err
	}
	defer func() {
		d.Signal(stop)
		d.stop()
	}()
	c := localclient.New(d.socket)
	for deadline := d.started().Add(2 * time.Minute); ; {
		slots, err := c.Slots(ctx, "legal-advisor")
		if err == nil && len(slots.Slots) > 1 {
			_, err = c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "其他", Name: "测试村民",
				Phone: "13800000000", Slot: slots.Slots[1].Format(time.RFC3339)})
			if err == nil {
				took := time.Since(d.started())
				mem, err := readMem(d.pid())
				return bootMeasure{took: took, mem: mem}, err
			}
			var apiErr *localclient.APIError
			if errors.As(err, &apiErr) {
				return bootMeasure{}, d.explain(fmt.Errorf("booking refused: %w", err))
			}
		}
		if d.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return bootMeasure{}, d.explain(errors.New("no booking taken"))
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *report) writeBoot(w writer) {
	b := r.Boot
	if b == nil {
		w("## 4. Boot\n\nNot measured: `%s`\n\n", oneLine(r.BootErr))
		return
	}
	w("## 4. Boot\n\n")
	w("From the exec of the kioskd binary to its first 201 booking through the local API (slots, then a booking, retried every millisecond), and kioskd's VmRSS at that moment. "+
		"The backlog is %d bookings in a %s store, its quota raised to hold them; the township broker is reachable, so the drain starts during the boot. "+
		"Cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before the exec (the binary is dropped too, as after a power cut); warm: the store and binary read just before. "+
		"After a power cut (SIGKILL) the full check of the store is owed and runs in a child process while kioskd serves; after a clean stop it is not. Medians of %d boots.\n\n",
		b.Records, mib(b.FileBytes), b.Rounds)
	w("| Store | Previous stop | Cache | First booking after exec | RSS then | RssAnon | RssFile | Each boot |\n|---|---|---|---|---|---|---|---|\n")
	for _, row := range b.Rows {
		var each []string
		for _, t := range row.Times {
			each = append(each, fmt.Sprintf("%.0f", float64(t)/float64(time.Millisecond)))
		}
		m := row.Mem[len(row.Mem)/2]
		w("| %s | %s | %s | %s | %s | %s | %s | %s ms |\n", row.Store, row.Shutdown, row.Cache, ms(row.medianTime()),
			mib(row.medianRSS()), mib(m.Anon), mib(m.File), strings.Join(each, ", "))
	}
	w("\n")
}

func (r *report) bootGoals() []goal {
	b := r.Boot
	if b == nil {
		return []goal{{"Boot", "measured", "failed", false}}
	}
	var gs []goal
	for _, shutdown := range []string{"power cut", "clean"} {
		cold := b.row("backlog", shutdown, "cold")
		gs = append(gs, goal{fmt.Sprintf("Boot to the first booking, %s backlog, cold cache, after a %s", mib(b.FileBytes), shutdown),
			"≤ " + ms(goalBootCold), ms(cold.medianTime()), cold.medianTime() <= goalBootCold})
	}
	for _, cache := range []string{"cold", "warm"} {
		empty := b.row("empty", "clean", cache).medianRSS()
		worst := max(b.row("backlog", "power cut", cache).medianRSS(), b.row("backlog", "clean", cache).medianRSS())
		gs = append(gs, goal{"RSS at the first booking, backlog vs empty store, " + cache + " cache",
			"≤ empty + " + mib(goalBootRSS), fmt.Sprintf("%s vs %s", mib(worst), mib(empty)), worst-empty <= goalBootRSS})
	}
	return gs
}
