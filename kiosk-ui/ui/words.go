package ui

import "github.com/fengqiao/kiosk/kiosk-ui/wording"

// t is the text of k as this site words it: the township's correction
// (GET /v1/menu wording), else the catalogue's (kiosk-ui/wording).
// Texts that take values go through tf instead; TestEveryKeyIsUsed checks
// which is called with which key.
func (u *UI) t(k wording.Key) string { return wording.Lookup(u.menu.Wording, k) }

// tf is t with the text's {values} filled in.
func (u *UI) tf(k wording.Key, args wording.Args) string {
	return wording.Format(u.t(k), args)
}
