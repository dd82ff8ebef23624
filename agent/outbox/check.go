package outbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"go.etcd.io/bbolt"
)

// CheckFile opens the store at path read-only and runs bbolt's consistency
// check over every page. An error wrapping ErrCorrupt means the file is
// damaged; ErrLocked means another process holds it.
//
// bbolt reports some damage by panicking in goroutines of its own, which no
// recover in the caller can catch, so kioskd runs CheckFile in a child process
// (SubprocessVerifier) and a crash there is simply another way of saying
// "corrupt".
func CheckFile(path string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	opts := boltOptions(0, nil)
	opts.ReadOnly = true
	db, err := bbolt.Open(path, 0o600, opts)
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		return fmt.Errorf("%w: %s", ErrLocked, path)
	case err != nil && isOSError(err):
		return fmt.Errorf("outbox: open %s: %w", path, err)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer db.Close()
	var problems []string
	err = db.View(func(tx *bbolt.Tx) error {
		for e := range tx.Check() {
			if len(problems) < 3 {
				problems = append(problems, e.Error())
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

func isOSError(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe)
}

// Exit codes of a store-check child process.
const (
	CheckExitCorrupt = 3
	CheckExitLocked  = 4
)

// CheckMain is the body of a store-check child: it checks path and exits with
// 0, CheckExitCorrupt or CheckExitLocked, explaining on stderr.
func CheckMain(path string) int {
	err := CheckFile(path)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrLocked):
		fmt.Fprintln(os.Stderr, err)
		return CheckExitLocked
	default:
		fmt.Fprintln(os.Stderr, err)
		return CheckExitCorrupt
	}
}

// SubprocessVerifier returns an Options.Verify that runs `exe args... path`,
// a process whose main calls CheckMain(path).
func SubprocessVerifier(exe string, args ...string) func(path string) error {
	return func(path string) error {
		cmd := exec.Command(exe, append(append([]string(nil), args...), path)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &exit) && exit.ExitCode() == CheckExitLocked:
			return fmt.Errorf("%w: %s", ErrLocked, path)
		case errors.As(err, &exit):
			// Exit code 3, or a panic (2), or a signal: all mean the file
			// could not be read through.
			msg := strings.TrimSpace(stderr.String())
			if i := strings.IndexByte(msg, '\n'); i > 0 {
				msg = msg[:i]
			}
			return fmt.Errorf("%w: check exited with %v: %s", ErrCorrupt, err, msg)
		default:
			return fmt.Errorf("outbox: run store check: %w", err)
		}
	}
}
