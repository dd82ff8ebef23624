// Package version reports which build of Fengqiao is running. The Makefile
// stamps it with -ldflags "-X github.com/fengqiao/kiosk/agent/version.stamp=…".
package version

import "runtime/debug"

// stamp is written by the linker and never assigned at run time.
var stamp string

// String returns the stamped version, the module version, or "dev".
func String() string {
	if stamp != "" {
		return stamp
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
