// Package phone owns what the kiosk accepts as a Chinese telephone number and how
// one is shown without revealing it. Both config validation and bookings use it, so
// a number the township puts in a roster is judged by the same rule as a villager's.
package phone

import (
	"errors"
	"regexp"
	"strings"
)

// ErrInvalid is returned for a string that is neither a mainland mobile number
// nor a landline with its area code.
var ErrInvalid = errors.New("want an 11-digit mobile number (1xxxxxxxxxx) or a landline with area code (0xxx-xxxxxxx)")

var (
	mobile   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landline = regexp.MustCompile(`^0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}$`)
	service  = regexp.MustCompile(`^(12348|12345|110|119|120)$`)
)

// Normalize trims the spaces a keypad or a config author may leave in a number.
func Normalize(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// Check reports whether s (already normalized) is a number someone can call back.
func Check(s string) error {
	if mobile.MatchString(s) || landline.MatchString(s) {
		return nil
	}
	return ErrInvalid
}

// CheckContact is Check that also accepts short public-service numbers such as
// the 12348 legal hotline, which are valid in content but never as a villager's
// own number.
func CheckContact(s string) error {
	if service.MatchString(s) {
		return nil
	}
	return Check(s)
}

// Mask keeps the first three and last four digits of a number, enough for a
// villager to recognise their own and for nobody else to use it.
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}
