package kioskd

import (
	"maps"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// withWording serves the core's menu with the site's corrections of the
// screens' texts (content.wording, already checked against the catalogue
// by config): GET /v1/menu wording. It reads the configuration in force,
// so a township bundle's corrections show from the screen's next menu
// load, like the rest of its content.
//
// TODO(issue 17, second pass): core.Menu sets Wording itself, and this
// wrapper goes; agent/core was another change's while this one was made.
type withWording struct{ *core.Core }

func (a withWording) Menu() apitype.Menu {
	m := a.Core.Menu()
	if w := a.Config().Site.Content.Wording; len(w) > 0 {
		m.Wording = maps.Clone(w)
	}
	return m
}
