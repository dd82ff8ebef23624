package phone

import "testing"

func TestCheck(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		desc string
	}{
		{"13800001111", true, "mobile"},
		{"19912345678", true, "mobile 199"},
		{"0599-5317356", true, "landline with dash"},
		{"05995317356", true, "landline without dash"},
		{"010-12345678", false, "landline subscriber cannot start with 1"},
		{"010-22345678", true, "Beijing landline"},
		{"12800001111", false, "mobile prefix 12"},
		{"1380000111", false, "10 digits"},
		{"138000011112", false, "12 digits"},
		{"12348", false, "hotline is not a personal number"},
		{"", false, "empty"},
		{"１３８００００１１１１", false, "full-width digits"},
	}
	for _, tt := range tests {
		if err := Check(tt.in); (err == nil) != tt.ok {
			t.Errorf("%s: Check(%q) = %v, want ok=%v", tt.desc, tt.in, err, tt.ok)
		}
	}
	if err := CheckContact("12348"); err != nil {
		t.Errorf("CheckContact(12348) = %v", err)
	}
}

func TestMaskAndNormalize(t *testing.T) {
	if got := Mask("13800001111"); got != "138****1111" {
		t.Errorf("Mask = %q", got)
	}
	if got := Mask("12345"); got != "*****" {
		t.Errorf("Mask short = %q", got)
	}
	if got := Normalize(" 138 0000 1111 "); got != "13800001111" {
		t.Errorf("Normalize = %q", got)
	}
}
