package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestMediatorHash(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string // in stdout, or stderr on failure
	}{
		{"dev mediator", nil, "350782198506151236\n1234\n", 0, "id_sha256: de6b917dfa52486dbc3d5d358ec1a2a241a308bdb4acfeccc6666b4978e3c40e\n"},
		{"lower-case check digit", nil, "35078219600301402x\n123456\n", 0, "id_sha256: "},
		{"bad check digit", nil, "350782198506151237\n1234\n", 2, "not an 18-character ID number"},
		{"PIN with letters", nil, "350782198506151236\n12ab\n", 2, "4 to 8 digits"},
		{"PIN too short", nil, "350782198506151236\n123\n", 2, "4 to 8 digits"},
		{"one line only", nil, "350782198506151236\n", 2, "two lines"},
		{"ID number in argv", []string{"350782198506151236"}, "", 2, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := mediatorHash(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			where := out.String()
			if tt.code != 0 {
				where = errOut.String()
			}
			if code != tt.code || !strings.Contains(where, tt.want) {
				t.Fatalf("= %d\nstdout %s\nstderr %s\nwant %d with %q", code, out.String(), errOut.String(), tt.code, tt.want)
			}
			if strings.Contains(errOut.String(), "35078219") || strings.Contains(out.String(), "35078219") {
				t.Error("the ID number was echoed")
			}
			if code == 0 {
				_, hash, _ := strings.Cut(out.String(), "pin_bcrypt: ")
				hash = strings.Trim(strings.TrimSpace(hash), `"`)
				pin := strings.Split(tt.stdin, "\n")[1]
				if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pin)) != nil {
					t.Errorf("pin_bcrypt %q does not match the PIN", hash)
				}
			}
		})
	}
}
