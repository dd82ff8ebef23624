package booking

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

func mustPlanner(t *testing.T) (*Planner, *time.Location) {
	t.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return NewPlanner(cfg.Site.Content, cfg.Location), cfg.Location
}

func TestSlots(t *testing.T) {
	p, loc := mustPlanner(t)
	// Tuesday 2026-11-24 10:10 in Wuyishan: the rest of Tuesday's morning, then
	// Thursday afternoon and Friday morning.
	now := time.Date(2026, 11, 24, 10, 10, 0, 0, loc)
	slots := p.Slots(now)
	want := []string{"2026-11-24T10:30:00+08:00", "2026-11-24T11:00:00+08:00", "2026-11-24T11:30:00+08:00", "2026-11-26T14:30:00+08:00"}
	for i, w := range want {
		if got := slots[i].Format(time.RFC3339); got != w {
			t.Errorf("slot %d = %s, want %s", i, got, w)
		}
	}
	// 14 days: 2 Tuesdays (3 left today + 6), 2 Thursdays (6 each), 2 Fridays (6 each).
	if len(slots) != 3+6+6+6+6+6 {
		t.Errorf("got %d slots, want 33", len(slots))
	}
	for i := 1; i < len(slots); i++ {
		if !slots[i].After(slots[i-1]) {
			t.Fatalf("slots not strictly increasing at %d", i)
		}
	}
}

// TestOffersIsSlots: Offers answers as a search of Slots would, for every
// 5-minute step (and a few off-grid instants) over the horizon and beyond,
// from several moments of a week, in the site's zone and in one with
// daylight saving, where wall-clock times are skipped and repeated.
func TestOffersIsSlots(t *testing.T) {
	site, loc := mustPlanner(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	dst := site.content
	dst.Advisor.Duty = append(dst.Advisor.Duty, config.DutyWindow{Days: []config.Weekday{config.Weekday(time.Sunday)},
		From: config.ClockTime{Hour: 1}, To: config.ClockTime{Hour: 4}})
	for _, tc := range []struct {
		name string
		p    *Planner
		nows []time.Time
	}{
		{"site", site, []time.Time{
			time.Date(2026, 11, 24, 10, 10, 0, 0, loc), time.Date(2026, 11, 24, 10, 30, 0, 0, loc),
			time.Date(2026, 11, 26, 23, 59, 59, 0, loc), time.Date(2026, 12, 31, 12, 0, 0, 0, loc),
		}},
		{"dst", NewPlanner(dst, ny), []time.Time{
			time.Date(2026, 3, 2, 9, 0, 0, 0, ny), time.Date(2026, 10, 26, 9, 0, 0, 0, ny),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offered := 0
			for _, now := range tc.nows {
				slots := tc.p.Slots(now)
				for c := now.Add(-time.Hour); c.Before(now.AddDate(0, 0, tc.p.content.Advisor.BookingDays+2)); c = c.Add(5 * time.Minute) {
					for _, at := range []time.Time{c, c.Add(time.Second), c.Add(time.Nanosecond).UTC()} {
						want := slices.ContainsFunc(slots, at.Equal)
						if got := tc.p.Offers(at, now); got != want {
							t.Fatalf("now %s: Offers(%s) = %v, Slots has it: %v", now, at, got, want)
						}
						if want {
							offered++
						}
					}
				}
			}
			if offered == 0 {
				t.Fatal("no slot was offered: the test checked nothing")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	p, loc := mustPlanner(t)
	now := time.Date(2026, 11, 24, 10, 10, 0, 0, loc)
	good := Request{Service: "legal-advisor", Topic: "婚姻家庭", Name: " 张三 ", Phone: "138 0000 1111", Slot: "2026-11-26T14:30:00+08:00"}
	body, err := p.Validate(good, now)
	if err != nil {
		t.Fatal(err)
	}
	if body.Name != "张三" || body.Phone != "13800001111" || body.Advisor != "林晓明" || body.Channel != "kiosk" {
		t.Errorf("body = %+v", body)
	}
	utcSlot := good
	utcSlot.Slot = "2026-11-26T06:30:00Z"
	if _, err := p.Validate(utcSlot, now); err != nil {
		t.Errorf("the same instant in UTC must be accepted: %v", err)
	}

	tests := []struct {
		name  string
		edit  func(*Request)
		field string
		code  string
	}{
		{"no service", func(r *Request) { r.Service = "" }, "service", apitype.CodeRequired},
		{"unknown service", func(r *Request) { r.Service = "divorce-lawyer" }, "service", apitype.CodeUnknownService},
		{"service not bookable", func(r *Request) { r.Service = "legal-fair" }, "service", apitype.CodeNotBookable},
		{"unknown topic", func(r *Request) { r.Topic = "税务" }, "topic", apitype.CodeUnknownTopic},
		{"no name", func(r *Request) { r.Name = "  " }, "name", apitype.CodeRequired},
		{"name too long", func(r *Request) {
			r.Name = "张张张张张张张张张张张张张张张张张张张张张张张张张张张张张张张"
		}, "name", apitype.CodeTooLong},
		{"control in name", func(r *Request) { r.Name = "张\x00三" }, "name", apitype.CodeInvalid},
		{"no phone", func(r *Request) { r.Phone = "" }, "phone", apitype.CodeRequired},
		{"bad phone", func(r *Request) { r.Phone = "1234" }, "phone", apitype.CodeInvalid},
		{"no slot", func(r *Request) { r.Slot = "" }, "slot", apitype.CodeRequired},
		{"slot not a time", func(r *Request) { r.Slot = "tomorrow" }, "slot", apitype.CodeInvalid},
		{"slot in past", func(r *Request) { r.Slot = "2026-11-24T10:00:00+08:00" }, "slot", apitype.CodeSlotInPast},
		{"slot off duty", func(r *Request) { r.Slot = "2026-11-25T10:00:00+08:00" }, "slot", apitype.CodeSlotNotOffered},
		{"slot beyond horizon", func(r *Request) { r.Slot = "2026-12-22T09:00:00+08:00" }, "slot", apitype.CodeSlotNotOffered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			tt.edit(&req)
			_, err := p.Validate(req, now)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Code != tt.code {
				t.Fatalf("Validate() = %v, want %s/%s", err, tt.field, tt.code)
			}
		})
	}
}
