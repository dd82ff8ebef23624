package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/fengqiao/kiosk/agent/mediatorauth"
	"github.com/fengqiao/kiosk/drivers/idcard"
)

// pinPattern: the kiosk's PIN pad has digits only.
var pinPattern = regexp.MustCompile(`^[0-9]{4,8}$`)

// mediatorHash prints the id_sha256 and pin_bcrypt lines of a roster entry.
// The ID number and the PIN are read from stdin, one a line, never from
// argv: arguments end up in shell history and in ps for everyone to see.
func mediatorHash(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl mediator hash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "kioskctl mediator hash: takes no arguments; give the ID number and PIN on stdin")
		return 2
	}
	fmt.Fprintln(stderr, "ID number, then PIN, one a line:")
	in := bufio.NewScanner(stdin)
	var lines []string
	for len(lines) < 2 && in.Scan() {
		lines = append(lines, strings.TrimSpace(in.Text()))
	}
	if len(lines) < 2 {
		fmt.Fprintln(stderr, "kioskctl mediator hash: want two lines on stdin: the ID number, then the PIN")
		return 2
	}
	id, pin := strings.ToUpper(lines[0]), lines[1]
	// The error never repeats the number: it may be on a shared screen.
	if err := idcard.ValidateIDNumber(id); err != nil {
		fmt.Fprintf(stderr, "kioskctl mediator hash: not an 18-character ID number: %v\n", err)
		return 2
	}
	if !pinPattern.MatchString(pin) {
		fmt.Fprintln(stderr, "kioskctl mediator hash: the PIN must be 4 to 8 digits")
		return 2
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.DefaultCost)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "id_sha256: %s\npin_bcrypt: %q\n", mediatorauth.HashIDNumber(id), hash)
	return 0
}
