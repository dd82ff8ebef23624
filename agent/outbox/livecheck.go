package outbox

// The full check, while the kiosk serves.
//
// bbolt is copy-on-write with checksummed meta pages: a crash or a power cut
// does not damage a store that bbolt opened, so reading the whole file before
// every open (which took half a minute, cold, with a 1 GB backlog) bought
// little. What can damage it is the medium: an SD card that lies about
// fsync, or one that wears out. So Open opens at once, and the whole file
// is checked afterwards, in a child process, only when there is reason to:
// the store was not closed cleanly (the marker file is still there), or the
// last full check is older than Options.CheckEvery.
//
// The child reads the live file through the parent's own file descriptor:
// bbolt locks the file (flock), and a second open of it, even read-only,
// would wait for the parent to close it. The child's read-only open turns
// the parent's exclusive lock into a shared one for as long as it runs,
// which still keeps a second kioskd out; the parent takes it back
// exclusively after.
//
// The child must see pages that no commit rewrites while it reads them.
// bbolt reuses a freed page only once no read transaction of the parent can
// see it, and the parent cannot see the child's; so the parent opens a read
// transaction and holds the committer until the child has opened its own on
// the same snapshot (it prints its txid), and keeps its own open until the
// child is done. Pages of that snapshot are then never reused under it.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
)

const (
	// openMarkerSuffix names the file that exists while the store is open,
	// and after a shutdown that owed a full check it did not finish. Found
	// at Open, it means the check is due.
	openMarkerSuffix = ".open"
	// checkedSuffix names the file holding when the last full check passed.
	checkedSuffix = ".checked"
	// DefaultCheckEvery is how often the whole store is checked after
	// clean shutdowns.
	DefaultCheckEvery = 7 * 24 * time.Hour
)

// errInconclusive means the check did not get to a verdict (the child saw
// another snapshot, or the map had to grow); it is tried again later.
var errInconclusive = errors.New("outbox: store check inconclusive")

// Child commands: kioskd's main routes these to ChildMain.
const (
	ChildCheck   = "check-store-live"
	ChildSalvage = "salvage-store"
)

// Exit codes of a child, beyond CheckExitCorrupt and CheckExitLocked.
const (
	// CheckExitMoved: the child's snapshot was not the parent's.
	CheckExitMoved = 5
)

// ChildMain runs the child command in args (ChildCheck or ChildSalvage) and
// returns its exit code; ok is false if args name no child command.
func ChildMain(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	switch {
	case len(args) == 3 && args[0] == ChildCheck:
		want, err := strconv.ParseUint(args[2], 10, 64)
		if err != nil {
			fmt.Fprintln(stderr, "outbox: bad snapshot id:", err)
			return 2, true
		}
		return liveCheckMain(args[1], want, stdout, stderr), true
	case len(args) == 2 && args[0] == ChildSalvage:
		return salvageMain(args[1], stdout, stderr), true
	}
	return 0, false
}

// liveCheckMain checks the store open in the parent as fd 3. It never
// closes the store: bbolt's Close would unlock the parent's file.
func liveCheckMain(path string, want uint64, stdout, stderr io.Writer) int {
	f := os.NewFile(3, path)
	// The freelist is read now, while the parent holds its commits: read
	// later (by default, in Check) it would be the one the meta page names
	// by then, a newer one that lists as free pages this snapshot still uses.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout, PreLoadFreelist: true,
		OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil }})
	if err != nil {
		fmt.Fprintln(stderr, "outbox: open for check:", err)
		return CheckExitCorrupt
	}
	tx, err := db.Begin(false)
	if err != nil {
		fmt.Fprintln(stderr, "outbox: begin check:", err)
		return CheckExitCorrupt
	}
	fmt.Fprintf(stdout, "snapshot %d\n", tx.ID())
	if uint64(tx.ID()) != want {
		fmt.Fprintf(stderr, "outbox: check saw snapshot %d, not the parent's %d\n", tx.ID(), want)
		return CheckExitMoved
	}
	var problems []string
	for e := range tx.Check() {
		if len(problems) < 3 {
			problems = append(problems, e.Error())
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(stderr, strings.Join(problems, "; "))
		return CheckExitCorrupt
	}
	return 0
}

// checkLive runs the full check of the open store in a child process. It
// returns nil, an error wrapping ErrCorrupt, errInconclusive, or ctx's error.
func (o *Outbox) checkLive(ctx context.Context) error {
	o.checking.Store(true)
	defer o.checking.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Hold the committer (and compaction) until the child has its snapshot.
	o.dbMu.Lock()
	held := true
	release := func() {
		if held {
			held = false
			o.dbMu.Unlock()
		}
	}
	defer release()
	if err := o.usable(); err != nil {
		return err
	}
	tx, err := o.db.Begin(false)
	if err != nil {
		return fmt.Errorf("outbox: begin check: %w", err)
	}
	defer tx.Rollback()
	// Before the child's first byte: a file grown past the map while the
	// check runs would make a commit wait for tx, so the check gives way.
	mapped := int64(o.mapSize)
	file := o.file
	cmd := o.opts.Child(ChildCheck, o.opts.Path, strconv.FormatUint(uint64(tx.ID()), 10))
	cmd.ExtraFiles = []*os.File{file}
	dieWithParent(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("outbox: start check: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("outbox: start check: %w", err)
	}
	// Whatever happens, the parent ends up holding its file exclusively again.
	defer relock(file)
	exited := make(chan error, 1)
	snapshot := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		snapshot <- line
		io.Copy(io.Discard, out)
		exited <- cmd.Wait()
	}()
	select {
	case <-snapshot:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
	case <-ctx.Done():
		cmd.Process.Kill()
	}
	release()

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return o.checkVerdict(ctx, err, &stderr)
		case <-tick.C:
			if fi, err := os.Stat(o.opts.Path); err == nil && fi.Size() > mapped*3/4 {
				cmd.Process.Kill()
				<-exited
				return fmt.Errorf("%w: the store grew near its memory map during the check", errInconclusive)
			}
		case <-ctx.Done():
			cmd.Process.Kill()
			<-exited
			return ctx.Err()
		}
	}
}

func (o *Outbox) checkVerdict(ctx context.Context, err error, stderr *bytes.Buffer) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i > 0 {
		msg = msg[i+1:]
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == CheckExitMoved:
		return fmt.Errorf("%w: %s", errInconclusive, msg)
	case errors.As(err, &exit) && exit.ExitCode() == CheckExitLocked:
		return fmt.Errorf("%w: %s", errInconclusive, msg)
	case errors.As(err, &exit) && exit.ExitCode() < 0:
		// Killed by a signal (the OOM killer, a shutdown): no verdict. A
		// fault in bbolt is a Go panic, exit code 2.
		return fmt.Errorf("%w: check ended by %v", errInconclusive, err)
	case errors.As(err, &exit):
		// Exit code 3, or a panic (2): the file could not be read through.
		return fmt.Errorf("%w: check exited with %v: %s", ErrCorrupt, err, msg)
	default:
		return fmt.Errorf("outbox: run store check: %w", err)
	}
}

// relock takes the store's lock back exclusively after a check child
// shared it (or, if its open failed, released it).
func relock(f *os.File) {
	for range 20 {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkDue tells whether Open owes the store a full check: it was not
// closed cleanly, or the last check passed too long ago (or in the
// future: the clock may be wrong at boot, and a check costs no waiting).
func (o *Outbox) checkDue(existed bool) (bool, string) {
	if !existed {
		writeFileSync(o.opts.Path+checkedSuffix, stamp(o.opts.Now()), 0o600)
		return false, ""
	}
	if _, err := os.Stat(o.opts.Path + openMarkerSuffix); err == nil {
		return true, "the store was not closed cleanly"
	}
	b, err := os.ReadFile(o.opts.Path + checkedSuffix)
	if err != nil {
		return true, "no full check on record"
	}
	last, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
	if err != nil {
		return true, "no full check on record"
	}
	now := o.opts.Now()
	switch age := now.Sub(last); {
	case age < 0:
		return true, "the last full check is dated in the future"
	case age >= o.opts.CheckEvery:
		return true, "the last full check was " + age.Round(time.Hour).String() + " ago"
	}
	return false, ""
}

func stamp(t time.Time) []byte { return []byte(t.UTC().Format(time.RFC3339) + "\n") }

// markOpen records that the store is open (and so owes a check if it is
// not closed cleanly).
func (o *Outbox) markOpen() {
	if err := writeFileSync(o.opts.Path+openMarkerSuffix, stamp(o.opts.Now()), 0o600); err != nil {
		o.log.Warn("cannot mark the store open; a crash will not be followed by a full check", "err", err)
		return
	}
	syncDir(filepath.Dir(o.opts.Path))
}

// markClosed removes the marker, unless a check is still owed.
func (o *Outbox) markClosed() {
	if o.checkOwed.Load() {
		return
	}
	if os.Remove(o.opts.Path+openMarkerSuffix) == nil {
		syncDir(filepath.Dir(o.opts.Path))
	}
}

// backgroundCheck runs the owed full check, retrying an inconclusive one,
// and replaces a damaged store.
func (o *Outbox) backgroundCheck(ctx context.Context, why string) {
	defer o.bg.Done()
	defer close(o.checkDone)
	o.log.Info("checking the whole store in the background", "why", why)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := o.checkLive(ctx)
		switch {
		case err == nil:
			o.checkOwed.Store(false)
			writeFileSync(o.opts.Path+checkedSuffix, stamp(o.opts.Now()), 0o600)
			o.log.Info("store checked", "took", time.Since(start).Round(time.Millisecond))
			return
		case errors.Is(err, ErrCorrupt):
			o.log.Error("the background check found the store damaged", "err", err)
			o.replaceDamaged(ctx, err)
			o.checkOwed.Store(false)
			return
		case errors.Is(err, errInconclusive) && attempt < 5:
			wait := time.Duration(attempt) * 30 * time.Second
			wait += rand.N(wait / 2) // jittered: kiosks rebooted together do not check together
			o.log.Warn("store check inconclusive; trying again", "err", err, "in", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
		default:
			if ctx.Err() == nil {
				o.log.Error("store check did not run", "err", err)
			}
			return
		}
	}
}

// replaceDamaged moves the live store aside, opens a new one in its place
// and salvages into it every record still readable from the old one. The
// kiosk keeps taking records throughout; they wait on dbMu for the swap.
func (o *Outbox) replaceDamaged(ctx context.Context, reason error) {
	o.dbMu.Lock()
	o.db.Close()
	rec, err := moveAside(o.opts.Path, o.opts.Now(), reason)
	if err == nil {
		o.db, err = openBolt(o.opts.Path, o.mapSize, &o.file)
	}
	if err == nil {
		err = protect(o.prepare)
	}
	o.dbMu.Unlock()
	if err != nil {
		o.breakStore(fmt.Errorf("replace a damaged store: %w", err))
		return
	}
	rec.Found = "by the background check"
	o.log.Error("store was damaged; moved aside and started a new one", "moved_to", rec.MovedTo, "reason", rec.Reason)
	o.salvageInto(ctx, rec)
}

// damaged replaces the store in the background after a commit or a read
// hit damage in it (bbolt panicked): before the full check got to it, or
// when none was owed.
func (o *Outbox) damaged(reason error) {
	if !o.replacing.CompareAndSwap(false, true) {
		return
	}
	select {
	case <-o.quit:
		return
	default:
	}
	o.log.Error("the store is damaged where it was just read", "err", reason)
	// A check still reading the old store holds a read transaction on it,
	// which closing it would wait for with every commit held up behind.
	o.stopCheck()
	o.bg.Add(1)
	go func() {
		defer o.bg.Done()
		defer o.replacing.Store(false)
		o.replaceDamaged(o.ctx, reason)
	}()
}

// dieWithParent has the child killed if kioskd dies first (kill -9 by the
// watchdog, say): an orphaned check child would go on sharing the store's
// lock, and the next kioskd could not open it until the child finished.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
