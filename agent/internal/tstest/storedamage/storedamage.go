// Package storedamage damages bbolt files the way failing media do, for
// tests of the kiosk's recovery: kinds of damage bbolt cannot see at open,
// so that only the full check finds them.
package storedamage

import (
	"encoding/binary"
	"errors"
	"os"
)

// ErrNoFreePages means the file has no free pages to leak.
var ErrNoFreePages = errors.New("storedamage: no free pages to leak")

// LeakFreePages empties the freelist in force in the bbolt file at path.
// bbolt opens the file as before and every record in it stays readable, but
// the pages that were free are now neither free nor reachable, which
// bbolt's consistency check reports.
func LeakFreePages(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ps := os.Getpagesize()
	if len(raw) < 2*ps {
		return errors.New("storedamage: not a bbolt file")
	}
	// A meta page: a 16-byte page header, then magic, version, page size,
	// flags (4 bytes each), the root bucket (16), the freelist's page id
	// and the page high-water mark (8 each), the txid (8). The newer
	// txid is in force.
	meta := func(i int) (freelist, txid uint64) {
		m := raw[i*ps+16:]
		return binary.LittleEndian.Uint64(m[32:]), binary.LittleEndian.Uint64(m[48:])
	}
	fl, t0 := meta(0)
	if f1, t1 := meta(1); t1 > t0 {
		fl = f1
	}
	if int(fl+1)*ps > len(raw) {
		return errors.New("storedamage: the freelist is not where the meta page says")
	}
	page := raw[int(fl)*ps:]
	// The page header's count (bytes 10-11) says how many ids follow.
	if binary.LittleEndian.Uint16(page[10:]) == 0 {
		return ErrNoFreePages
	}
	binary.LittleEndian.PutUint16(page[10:], 0)
	return os.WriteFile(path, raw, 0o600)
}
