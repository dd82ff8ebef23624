package main

import (
	"slices"
	"strings"
)

// commandUsage is a command's entry in kioskctl's usage: how it is called,
// its arguments after the flags (FILE, SEQ..., DEB...) included, and what
// it does; "" for a name that has none. Each command's -h prints it above
// its flags, so that the two never disagree.
func commandUsage(name string) string {
	lines := strings.Split(usage, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "  kioskctl ") || !entryNames(strings.Fields(l), strings.Fields(name)) {
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

// entryNames tells whether the first words of a usage line name the
// command: a word may list alternatives ("accept|progress|close"), one
// entry for verbs that take the same flags.
func entryNames(line, name []string) bool {
	if len(line) < len(name) {
		return false
	}
	for i, w := range name {
		if line[i] != w && !slices.Contains(strings.Split(line[i], "|"), w) {
			return false
		}
	}
	return true
}

// commandUsages is every entry of a command whose verbs have entries of
// their own (kioskctl township requests): what its bare -h prints.
func commandUsages(name string) string {
	var out []string
	lines := strings.Split(usage, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "  kioskctl ") || !entryNames(strings.Fields(lines[i]), strings.Fields(name)) {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.HasPrefix(lines[j], "   ") {
			j++
		}
		out = append(out, lines[i:j]...)
		i = j - 1
	}
	return strings.Join(out, "\n")
}
