package main

import (
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
)

// siteContent checks a --content file against a kiosk's site file exactly as
// that kiosk will, and returns the kind of bundle it travels as: a patch
// (schema fengqiao.site-patch/v1, docs/bundles.md "Patches") as site-patch,
// anything else as a site bundle, whose own check refuses a wrong schema.
// The file's schema line decides, so township IT needs no flag that could
// disagree with it. For a patch it writes to w what the patch changes on
// that site, old value and new, to read before pushing.
func siteContent(base *config.Config, name string, data []byte, version uint64, w io.Writer) (string, error) {
	var head struct {
		Schema string `yaml:"schema"`
	}
	if yaml.Unmarshal(data, &head) != nil || head.Schema != config.PatchSchema {
		_, err := base.WithBundle(name, data, version)
		return bundle.KindSite, err
	}
	if _, err := base.WithPatch(name, data, version); err != nil {
		return "", err
	}
	changes, err := base.PatchChanges(data)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "the patch sets, on %s (%s):\n", base.Site.Kiosk.ID, base.SitePath)
	for _, c := range changes {
		fmt.Fprintf(w, "  %s\n    was %s\n    now %s\n", c.Field, orNone(c.Was), orNone(c.Now))
	}
	return bundle.KindSitePatch, nil
}

func orNone(v string) string {
	if v == "" {
		return "(not set)"
	}
	return v
}
