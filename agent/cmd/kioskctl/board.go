package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/fengqiao/kiosk/agent/config"
)

// defaultSite is where the packaged kioskd reads its site file.
const defaultSite = "/etc/fengqiao/site.yaml"

// boardScreen prints the board profile's panel as "WIDTHxHEIGHT ROTATION",
// for the kiosk's screen session (packaging/deb/kiosk-ui/kiosk-session),
// which rotates and sizes the output before kiosk-ui starts.
func boardScreen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl board screen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", defaultSite, "the kiosk's site `file` (it names the board profile)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	b, err := config.LoadSiteBoard(*site)
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl board screen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%dx%d %d\n", b.Screen.Width, b.Screen.Height, b.Screen.Rotation)
	return 0
}
