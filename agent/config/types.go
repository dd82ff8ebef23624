package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"go.yaml.in/yaml/v3"
)

// ByteSize is a size written in YAML as "256MiB", "64 MB" or a plain number of
// bytes. go-humanize parses it: both the SI and the IEC units appear in
// township IT's documents, and a hand-rolled parser would get one of them wrong.
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := humanize.ParseBytes(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode || v > 1<<50 {
		return typeError("line %d: %q is not a size (want e.g. 256MiB or 64MB)", n.Line, n.Value)
	}
	*b = ByteSize(v)
	return nil
}

func (b ByteSize) String() string { return humanize.IBytes(uint64(b)) }

// Duration is a time.Duration written in YAML as "30s" or "5m".
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return typeError("line %d: %q is not a duration (want e.g. 30s or 5m)", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// ClockTime is a time of day, "HH:MM", in the site's time zone.
type ClockTime struct{ Hour, Minute int }

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *ClockTime) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse("15:04", n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return typeError("line %d: %q is not a time of day (want HH:MM, e.g. \"09:00\")", n.Line, n.Value)
	}
	c.Hour, c.Minute = t.Hour(), t.Minute()
	return nil
}

// Minutes is the number of minutes since midnight.
func (c ClockTime) Minutes() int { return c.Hour*60 + c.Minute }

func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// Weekday is a day of the week written in YAML as mon, tue, … sun.
type Weekday time.Weekday

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (w *Weekday) UnmarshalYAML(n *yaml.Node) error {
	d, ok := weekdayNames[strings.ToLower(n.Value)]
	if !ok || n.Kind != yaml.ScalarNode {
		return typeError("line %d: %q is not a day (want mon, tue, wed, thu, fri, sat or sun)", n.Line, n.Value)
	}
	*w = Weekday(d)
	return nil
}

// Chinese is the day's name as shown on the kiosk (周一 … 周日).
func (w Weekday) Chinese() string {
	return [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}[w]
}

// DateTime is a wall-clock date and time, "2006-01-02 15:04", in the site's
// time zone. It stays civil until Config.Location is known: the zone is
// itself a key of the same file.
type DateTime struct {
	Year              int
	Month             time.Month
	Day, Hour, Minute int
	set               bool
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *DateTime) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse("2006-01-02 15:04", n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return typeError("line %d: %q is not a date and time (want \"2006-01-02 15:04\")", n.Line, n.Value)
	}
	*d = DateTime{Year: t.Year(), Month: t.Month(), Day: t.Day(), Hour: t.Hour(), Minute: t.Minute(), set: true}
	return nil
}

// IsZero reports whether the key was absent.
func (d DateTime) IsZero() bool { return !d.set }

// In is the instant in loc.
func (d DateTime) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, d.Hour, d.Minute, 0, 0, loc)
}

func (d DateTime) String() string {
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d", d.Year, d.Month, d.Day, d.Hour, d.Minute)
}
