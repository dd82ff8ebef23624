package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEveryCommandHelp: each command of kioskctl's usage answers -h with
// its entry there, arguments after the flags included, then its flags.
func TestEveryCommandHelp(t *testing.T) {
	// The arguments a command takes after its flags, which -h must show.
	operands := map[string]string{
		"config push":    "FILE",
		"update push":    "FILE",
		"outbox requeue": "SEQ...",
		"update sign":    "DEB...",
		"mediator hash":  "< FILE",
	}
	var commands []string
	for _, l := range strings.Split(usage, "\n") {
		f := strings.Fields(l)
		if strings.HasPrefix(l, "  kioskctl ") && len(f) >= 2 && f[1] != "version" {
			name := f[1]
			if len(f) > 2 && !strings.HasPrefix(f[2], "-") && !strings.HasPrefix(f[2], "[") && f[2] != "<" {
				name += " " + f[2]
			}
			if name == "township requests" {
				// Verbs with entries of their own: the bare command's -h
				// lists them, and each verb's -h shows its own.
				for _, verb := range strings.Split(f[3], "|") {
					commands = append(commands, name+" "+verb)
				}
			}
			commands = append(commands, name)
		}
	}
	if len(commands) < 17 {
		t.Fatalf("found only %d commands in the usage: %v", len(commands), commands)
	}
	for _, name := range commands {
		var out bytes.Buffer
		code := run(context.Background(), append(strings.Fields(name), "-h"), &out, &out)
		entry := commandUsage("kioskctl " + name)
		if code != 0 || entry == "" || !strings.HasPrefix(out.String(), "Usage:\n"+entry+"\n") || !strings.Contains(out.String(), "\nFlags:\n") {
			t.Errorf("kioskctl %s -h = %d\n%s\nwant 0, its usage entry, then its flags", name, code, out.String())
		}
		synopsis := "" // the entry's lines but the description's (indented 8)
		for _, l := range strings.Split(entry, "\n") {
			if !strings.HasPrefix(l, "        ") || strings.HasPrefix(l, "         ") {
				synopsis += l + "\n"
			}
		}
		if op, ok := operands[name]; ok && !strings.HasSuffix(synopsis, " "+op+"\n") {
			t.Errorf("kioskctl %s -h does not show its %s:\n%s", name, op, out.String())
		}
	}
}
