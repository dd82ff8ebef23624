package main

import "strings"

// commandUsage is a command's entry in kioskctl's usage: how it is called,
// its arguments after the flags (FILE, SEQ..., DEB...) included, and what
// it does; "" for a name that has none. Each command's -h prints it above
// its flags, so that the two never disagree.
func commandUsage(name string) string {
	lines := strings.Split(usage, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(l, "  kioskctl ") || (t != name && !strings.HasPrefix(t, name+" ")) {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.HasPrefix(lines[j], "   ") {
			j++
		}
		return strings.Join(lines[i:j], "\n")
	}
	return ""
}
