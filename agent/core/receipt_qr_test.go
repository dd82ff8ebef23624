package core

import (
	"testing"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// TestReceiptQR: a receipt's QR code is the booking's page on the
// township's lookup site, and a site without one prints no QR code at all
// rather than a code a phone shows as bare text.
func TestReceiptQR(t *testing.T) {
	tests := []struct {
		name   string
		lookup string
		want   string
	}{
		{"lookup page", "https://township.example/lookup?n={number}", "https://township.example/lookup?n=00042"},
		{"number in the path", "https://township.example/b/{number}/", "https://township.example/b/00042/"},
		{"no lookup page", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustCore(t)
			// As a township bundle would change it: the next receipt follows.
			cfg := *c.Config()
			cfg.Site.Content.BookingLookup = tt.lookup
			c.ApplyConfig(&cfg)
			receipts := map[string]Receipt{
				"booking":   c.bookingReceipt("00042", booking.Booking{Service: "legal-advisor"}),
				"mediation": c.mediationReceipt("00042", mediation.Booking{Category: "邻里"}),
			}
			for kind, r := range receipts {
				if r.QR != tt.want {
					t.Errorf("%s receipt QR = %q, want %q", kind, r.QR, tt.want)
				}
			}
		})
	}
}
