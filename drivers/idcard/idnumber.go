package idcard

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CheckDigit computes the GB 11643-1999 (ISO 7064 MOD 11-2) check
// character for the first 17 digits of an 18-character number.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: want 17 digits, got %d characters", ErrInvalidIDNumber, len(first17))
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: non-digit at position %d", ErrInvalidIDNumber, i+1)
		}
		sum += int(c-'0') * weights[i]
	}
	return "10X98765432"[sum%11], nil
}

// ValidateIDNumber checks an 18-character number under GB 11643-1999: 17
// digits, a valid birth date at positions 7–14 and the MOD 11-2 check
// character (an upper-case X for 10). It covers the resident card, the
// Hong Kong/Macau/Taiwan residence permit (810000/820000/830000…) and the
// 2023 foreigner card (9…), which all use the same scheme.
//
// The error never contains the number itself.
func ValidateIDNumber(id string) error {
	if len(id) != 18 {
		return fmt.Errorf("%w: want 18 characters, got %d", ErrInvalidIDNumber, utf8.RuneCountInString(id))
	}
	want, err := CheckDigit(id[:17])
	if err != nil {
		return err
	}
	if _, err := ParseDate(id[6:14]); err != nil {
		return fmt.Errorf("%w: birth date part is not a date", ErrInvalidIDNumber)
	}
	if id[17] != want {
		return fmt.Errorf("%w: check character mismatch", ErrInvalidIDNumber)
	}
	return nil
}

// ValidatePermitNumber checks the 15-character number of the old
// foreigner's permanent residence card ('I'): three letters (ISO 3166
// alpha-3 nationality), four digits (issuing area), six digits (birth
// YYMMDD), one sequence digit and a check digit computed with the ICAO
// 9303 7-3-1 weights over the first 14 characters (letters count A=10 …
// Z=35).
func ValidatePermitNumber(id string) error {
	if len(id) != 15 {
		return fmt.Errorf("%w: want 15 characters, got %d", ErrInvalidIDNumber, utf8.RuneCountInString(id))
	}
	for i := range 15 {
		c := id[i]
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if (i < 3 && !letter) || (i >= 3 && !digit) {
			return fmt.Errorf("%w: bad character at position %d", ErrInvalidIDNumber, i+1)
		}
	}
	if id[14] != PermitCheckDigit(id[:14]) {
		return fmt.Errorf("%w: check digit mismatch", ErrInvalidIDNumber)
	}
	return nil
}

// PermitCheckDigit computes the ICAO 9303 check digit of s (digits and
// upper-case letters; anything else, such as the filler '<', counts 0).
func PermitCheckDigit(s string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := range len(s) {
		c := s[i]
		v := 0
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10)
}

// Mask hides the middle of an ID number for display and logs:
//
//	18 characters or more  first 6 and last 2 visible: 350102**********1X
//	10–17 characters       first 3 and last 2 visible: USA**********34
//	5–9 characters         first 1 and last 2 visible: H******78
//	1–4 characters         all hidden
//
// Lengths count characters, not bytes, so non-ASCII input stays valid
// UTF-8.
func Mask(id string) string {
	r := []rune(id)
	head := 0
	switch n := len(r); {
	case n >= 18:
		head = 6
	case n >= 10:
		head = 3
	case n >= 5:
		head = 1
	default:
		return strings.Repeat("*", n)
	}
	tail := 2
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}

// MaskName keeps a name's first character and hides the rest: 张** for a
// three-character name. Latin names keep their first letter too.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	return string(r[:1]) + strings.Repeat("*", len(r)-1)
}
