package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadRejectsLinks: a link a villager's phone will open from a QR code
// is refused unless it is https, with its file, line and field named, so a
// technician finds the typo before a villager scans it.
func TestLoadRejectsLinks(t *testing.T) {
	const advisorURL = "online_url: https://msl.dev-township.example/service/legal-advisor"
	const lookup = "booking_lookup: https://dev-township.example/kiosk/lookup?k=dev-kiosk-01&n={number}"
	tests := []struct {
		name      string
		old, new  string
		wantField string
		wantMsg   string
	}{
		{"plain http service page", advisorURL, "online_url: http://msl.dev-township.example/a",
			"content.services[0].platforms.online_url", "must be an https:// link"},
		{"service page without host", advisorURL, "online_url: https:///a",
			"content.services[0].platforms.online_url", "has no host"},
		{"service page with only a port", advisorURL, "online_url: https://:443/a",
			"content.services[0].platforms.online_url", "has no host"},
		{"service page with a password", advisorURL, "online_url: https://admin:secret@msl.example/a",
			"content.services[0].platforms.online_url", "user name or password"},
		{"service page with a full-width space", advisorURL, "online_url: https://msl.example/a　b",
			"content.services[0].platforms.online_url", "contains a space"},
		{"service page not a URL", advisorURL, "online_url: \"https://msl.example/%zz\"",
			"content.services[0].platforms.online_url", "is not a URL"},
		{"service page too long for a QR code", advisorURL, "online_url: https://msl.example/" + strings.Repeat("a", 200),
			"content.services[0].platforms.online_url", "at most 200 fit"},
		{"lookup without the number", lookup, "booking_lookup: https://dev-township.example/lookup",
			"content.booking_lookup", "must contain {number} exactly once"},
		{"lookup with the number twice", lookup, "booking_lookup: https://x.example/{number}/{number}",
			"content.booking_lookup", "must contain {number} exactly once"},
		{"plain http lookup", lookup, "booking_lookup: http://dev-township.example/lookup?n={number}",
			"content.booking_lookup", "must be an https:// link"},
		{"lookup with a space", lookup, "booking_lookup: https://dev-township.example/look up?n={number}",
			"content.booking_lookup", "contains a space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			wantLine := lineOf(t, site, tt.old)
			path := mustWriteConfig(t, replace(tt.old, tt.new)(site), board)
			_, err := Load(path)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error = %v, want *config.Error", err)
			}
			for _, p := range ce.Problems {
				if p.File == path && p.Line == wantLine && p.Field == tt.wantField && strings.Contains(p.Msg, tt.wantMsg) {
					return
				}
			}
			t.Errorf("no problem %s:%d %s: %q in\n%v", path, wantLine, tt.wantField, tt.wantMsg, err)
		})
	}
}

// lineOf is the 1-based line of the first line of text holding s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("no %q in the file", s)
	}
	return strings.Count(text[:i], "\n") + 1
}

// TestLinksAndVoiceLoad: the dev site's links reach the config, the lookup
// page takes the booking number, and voice guidance is on unless a site
// turns it off.
func TestLinksAndVoiceLoad(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(string) string
		wantVoice  bool
		wantLookup string // for booking 00007
	}{
		{"dev site", func(s string) string { return s }, true,
			"https://dev-township.example/kiosk/lookup?k=dev-kiosk-01&n=00007"},
		{"voice left out", replace("  voice: true ", "  # voice"), true,
			"https://dev-township.example/kiosk/lookup?k=dev-kiosk-01&n=00007"},
		{"voice off", replace("  voice: true ", "  voice: false "), false,
			"https://dev-township.example/kiosk/lookup?k=dev-kiosk-01&n=00007"},
		{"no lookup page", replace("  booking_lookup: ", "  # booking_lookup: "), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			cfg, err := Load(mustWriteConfig(t, tt.edit(site), board))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Site.UI.VoiceOn(); got != tt.wantVoice {
				t.Errorf("VoiceOn() = %v, want %v", got, tt.wantVoice)
			}
			if got := cfg.Site.Content.BookingLookupURL("00007"); got != tt.wantLookup {
				t.Errorf("BookingLookupURL(00007) = %q, want %q", got, tt.wantLookup)
			}
			s, _ := cfg.Site.Content.ServiceByID("legal-fair")
			if want := "https://msl.dev-township.example/service/legal-fair"; s.Platforms.OnlineURL != want {
				t.Errorf("legal-fair online_url = %q, want %q", s.Platforms.OnlineURL, want)
			}
		})
	}
}

// TestBundleUISectionVoice: a township bundle's ui section replaces the
// site's whole, so voice guidance follows the bundle, on unless it says
// false.
func TestBundleUISectionVoice(t *testing.T) {
	site, board := mustReadDev(t)
	cfg, err := Load(mustWriteConfig(t, replace("  voice: true ", "  voice: false ")(site), board))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ui string
		want     bool
	}{
		{"voice left out", "ui:\n  idle: 90s\n", true},
		{"voice off", "ui:\n  idle: 90s\n  voice: false\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cfg.WithBundle("bundle 7", []byte("schema: "+BundleSchema+"\n"+tt.ui), 7)
			if err != nil {
				t.Fatal(err)
			}
			if got.Site.UI.VoiceOn() != tt.want {
				t.Errorf("VoiceOn() = %v, want %v", got.Site.UI.VoiceOn(), tt.want)
			}
		})
	}
}
