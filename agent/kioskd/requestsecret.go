package kioskd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/request"
)

// secretLostFile records, in kioskd's data directory, the highest seq of
// the requests kept when the request secret was found missing and made
// again: those requests can no longer be checked (docs/requests.md).
const secretLostFile = "requests.key.lost"

// keptScanner is what loadRequestSecret needs of the outbox.
type keptScanner interface {
	ScanKept(table string, fn func(seq uint64, value []byte) error) error
}

// loadRequestSecret reads the kiosk's request secret, or makes it. A
// secret is made silently only while no request is kept: with requests
// kept, a missing secret was lost (a restore without it, a wiped file),
// and every proof of those requests is now unmatchable. kioskd then still
// makes a new secret, so villagers can raise and check new requests, but
// records the last request made under the old one (lostBelow; checks of
// it and below answer "uncheckable", not a miss) and tells the caller to
// raise the requests_secret_lost alert (lostNow).
func loadRequestSecret(dataDir string, ob keptScanner) (secret []byte, lostBelow uint64, lostNow bool, err error) {
	path := filepath.Join(dataDir, request.SecretFile)
	lostPath := filepath.Join(dataDir, secretLostFile)
	if b, err := os.ReadFile(lostPath); err == nil {
		if lostBelow, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return nil, 0, false, fmt.Errorf("kioskd: %s: %w", lostPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, false, fmt.Errorf("kioskd: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		var last uint64
		if err := ob.ScanKept(request.Table, func(seq uint64, _ []byte) error { last = seq; return nil }); err != nil {
			return nil, 0, false, fmt.Errorf("kioskd: requests kept: %w", err)
		}
		if last > lostBelow {
			// Written before the new secret: a crash in between finds the
			// secret still missing and does this again, to the same end.
			if err := writeAtomic(lostPath, []byte(strconv.FormatUint(last, 10)+"\n")); err != nil {
				return nil, 0, false, err
			}
			lostBelow, lostNow = last, true
		}
	}
	secret, err = outbox.LoadOrCreateKey(path)
	if err != nil {
		return nil, 0, false, err
	}
	return secret, lostBelow, lostNow, nil
}

// writeAtomic writes a small file by a synced temporary file renamed.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("kioskd: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("kioskd: write %s: %w", path, err)
	}
	return nil
}
