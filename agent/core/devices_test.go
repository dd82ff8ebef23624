package core

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

func TestReceiptCache(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	r := func(n int) Receipt { return Receipt{Title: "预约回执", QR: fmt.Sprintf("%05d", n)} }
	tests := []struct {
		name  string
		puts  int           // receipts put, one a second, ids r0, r1, …
		after time.Duration // since the last put
		id    string
		want  bool
	}{
		{"just made", 1, 0, "r0", true},
		{"unknown", 1, 0, "nope", false},
		{"nine minutes", 1, 9 * time.Minute, "r0", true},
		{"ten minutes", 1, ReceiptTTL, "r0", false},
		{"newest of many", ReceiptsKept + 5, 0, fmt.Sprintf("r%d", ReceiptsKept+4), true},
		{"oldest kept", ReceiptsKept + 5, 0, "r5", true},
		{"pushed out", ReceiptsKept + 5, 0, "r4", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rc receiptCache
			at := t0
			for i := range tt.puts {
				at = t0.Add(time.Duration(i) * time.Second)
				rc.put(fmt.Sprintf("r%d", i), r(i), at)
			}
			got, _, ok := rc.get(tt.id, at.Add(tt.after))
			if ok != tt.want {
				t.Fatalf("get(%s) ok = %v, want %v", tt.id, ok, tt.want)
			}
			if ok && got.QR != fmt.Sprintf("%05d", mustAtoi(t, tt.id[1:])) {
				t.Errorf("get(%s) = %+v", tt.id, got)
			}
			if len(rc.entries) > ReceiptsKept {
				t.Errorf("%d receipts kept", len(rc.entries))
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

type printed struct{ got []Receipt }

func (p *printed) Print(_ context.Context, r Receipt) error { p.got = append(p.got, r); return nil }

func (p *printed) Status() apitype.DeviceStatus {
	return apitype.DeviceStatus{State: apitype.DeviceReady}
}

// TestBookingReceiptPrints: the receipt printed for a booking, made only
// when it is asked for, is the booking's under the configuration it was
// booked under.
func TestBookingReceiptPrints(t *testing.T) {
	c, _ := mustCore(t)
	p := &printed{}
	c.printer = p
	slots, err := c.Slots("legal-advisor")
	if err != nil || len(slots.Slots) == 0 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	b, err := c.Book(context.Background(), apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英",
		Phone: "13800001111", Slot: slots.Slots[0].Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	want := c.bookingReceipt(b.Number, booking.Booking{Service: b.Service, Topic: b.Topic, Phone: "13800001111", Slot: b.Slot, Advisor: b.Advisor})
	if err := c.Print(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	if len(p.got) != 1 || !reflect.DeepEqual(p.got[0], want) {
		t.Fatalf("printed %+v\nwant %+v", p.got, want)
	}
	if !strings.Contains(strings.Join(want.Lines, "\n"), b.Number) || strings.Contains(strings.Join(want.Lines, "\n"), "王秀英") {
		t.Errorf("receipt lines %q", want.Lines)
	}
}
