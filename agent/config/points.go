package config

import (
	"fmt"
	"path/filepath"

	"github.com/fengqiao/kiosk/agent/points"
)

// Points is the kiosk's side of the village's 美德银行 ledger
// (docs/points.md). The ledger itself comes signed from the township; what
// the site file holds is the key that lets a card tap find a villager's
// account in it.
type Points struct {
	// KeyFile holds the township's points key (kioskctl points key gen),
	// relative to the site file, mode 0600 on a production kiosk. Empty:
	// the kiosk shows the village's offers and rules, and a card tap finds
	// no account. It is not a bundle section: the key must never travel
	// over MQTT, where anyone subscribed could try every ID number against
	// the ledger with it.
	KeyFile string `yaml:"key_file"`
}

// PointsKeyFile resolves points.key_file against the site file's
// directory; "" when none is set.
func (c *Config) PointsKeyFile() string {
	return resolve(filepath.Dir(c.SitePath), c.Site.Points.KeyFile)
}

// validatePoints reads the points key file: a production kiosk refuses one
// others may read, and the dev township's, whose key is committed in
// packaging/dev/dev-points.key.
func (s *Site) validatePoints(c *checker, dir string) {
	if s.Points.KeyFile == "" {
		return
	}
	k, err := points.ReadKeyFile(resolve(dir, s.Points.KeyFile), s.Mode == ModeProduction)
	if err != nil {
		c.fail("points.key_file", "%v", err)
		return
	}
	if s.Mode == ModeProduction && k.ID() == points.DevKeyID {
		c.fail("points.key_file", "%v: it is committed in packaging/dev/dev-points.key, so anyone could work out whose account is whose in the ledger; make the township's own with kioskctl points key gen", points.ErrDevKey)
	}
}

// OverridePointsKeyFile replaces points.key_file (kioskd --points-key, which
// make run gives the dev township's key) and checks the file by the same
// rules as the site file's: a flag cannot put the dev key on a production
// kiosk.
func (c *Config) OverridePointsKeyFile(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--points-key: %w", err)
	}
	site := c.Site
	site.Points.KeyFile = abs
	ch := &checker{doc: &document{file: "--points-key", lines: map[string]int{}}}
	site.validatePoints(ch, "")
	if len(ch.problems) > 0 {
		return &Error{Problems: ch.problems}
	}
	c.Site = site
	return nil
}
