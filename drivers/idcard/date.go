package idcard

import (
	"fmt"
	"time"
)

// Date is a civil date as printed on a card: no time of day, no zone. The
// zero Date means "absent".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses the card's YYYYMMDD form and rejects impossible dates.
func ParseDate(s string) (Date, error) {
	if len(s) != 8 {
		return Date{}, fmt.Errorf("date %q: want 8 digits", s)
	}
	var n [8]int
	for i := range 8 {
		c := s[i]
		if c < '0' || c > '9' {
			return Date{}, fmt.Errorf("date %q: want 8 digits", s)
		}
		n[i] = int(c - '0')
	}
	d := Date{
		Year:  n[0]*1000 + n[1]*100 + n[2]*10 + n[3],
		Month: time.Month(n[4]*10 + n[5]),
		Day:   n[6]*10 + n[7],
	}
	if !d.valid() {
		return Date{}, fmt.Errorf("date %q: no such day", s)
	}
	return d, nil
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

func (d Date) valid() bool {
	if d.Year < 1 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	// time.Date normalises overflow (Feb 30 → Mar 2); a round trip catches it.
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

// IsZero reports whether d is the zero (absent) date.
func (d Date) IsZero() bool { return d == Date{} }

// String gives YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Compact gives the card's YYYYMMDD form, or "" for the zero Date.
func (d Date) Compact() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day)
}

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}
