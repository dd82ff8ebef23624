// Command debcopyright writes a Debian package's copyright file: the
// project's own paragraphs (packaging/deb/copyright), then the licence of
// every Go module linked into the package's programs, and of the Go
// toolchain's standard library, which every Go program carries.
//
// A Go program is statically linked: the package redistributes each of
// those modules, and most of their licences (MIT, BSD) bind us to ship
// their copyright notice and text with it. The list is read from the
// programs themselves (their build information, as `go version -m` shows
// it), so it cannot drift from what was built; the texts come from the
// module cache the build used. A module with no licence file, or with one
// this command cannot name, stops the build: someone must look at it
// before the package ships it.
//
// Usage (packaging/deb/build.sh):
//
//	debcopyright -base packaging/deb/copyright usr/bin/kioskd=var/deb/amd64/bin/kioskd ...
package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
)

func main() {
	base := flag.String("base", "packaging/deb/copyright", "the project's own copyright `file`, written first")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: debcopyright [-base FILE] INSTALLED=BINARY...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	progs, err := parsePrograms(flag.Args())
	if err == nil {
		err = write(os.Stdout, *base, progs, goListModules)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "debcopyright:", err)
		os.Exit(1)
	}
}

// program is one program of the package: where it is installed, and the
// built file read for its modules.
type program struct{ installed, binary string }

func parsePrograms(args []string) ([]program, error) {
	var out []program
	for _, a := range args {
		inst, bin, ok := strings.Cut(a, "=")
		if !ok || inst == "" || bin == "" {
			return nil, fmt.Errorf("%q: want INSTALLED=BINARY, e.g. usr/bin/kioskd=var/deb/amd64/bin/kioskd", a)
		}
		out = append(out, program{strings.TrimPrefix(inst, "/"), bin})
	}
	return out, nil
}

// module is one module linked into some of the programs.
type module struct {
	path, version string
	dir           string   // its source, where its licence files are
	programs      []string // installed paths, sorted
}

// moduleDirs maps module path → directory of the version built. It is `go
// list -m -json all` in production; tests give a table.
type moduleDirs func() (map[string]listed, error)

type listed struct{ version, dir string }

// goListModules asks the go command where each module of the build list
// is: a module replaced by a directory (third_party/fyne) is there.
func goListModules() (map[string]listed, error) {
	out, err := exec.Command("go", "list", "-m", "-json", "all").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list -m all: %w", err)
	}
	m := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var mod struct {
			Path, Version, Dir string
			Replace            *struct{ Path, Version, Dir string }
		}
		if err := dec.Decode(&mod); err != nil {
			return nil, fmt.Errorf("go list -m all: %w", err)
		}
		l := listed{mod.Version, mod.Dir}
		if mod.Replace != nil {
			l = listed{mod.Replace.Version, mod.Replace.Dir}
		}
		m[mod.Path] = l
	}
	return m, nil
}

// linked lists the modules of progs, each with the programs that link it,
// in path order, the Go standard library first (path "std").
func linked(progs []program, dirs moduleDirs) ([]*module, error) {
	all, err := dirs()
	if err != nil {
		return nil, err
	}
	byPath := map[string]*module{}
	add := func(path, version, dir, prog string) {
		m := byPath[path]
		if m == nil {
			m = &module{path: path, version: version, dir: dir}
			byPath[path] = m
		}
		if !slices.Contains(m.programs, prog) {
			m.programs = append(m.programs, prog)
			slices.Sort(m.programs)
		}
	}
	for _, p := range progs {
		bi, err := buildinfo.ReadFile(p.binary)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.binary, err)
		}
		add("std", bi.GoVersion, goroot(), p.installed)
		for _, d := range bi.Deps {
			built := d
			if d.Replace != nil {
				built = d.Replace
			}
			l, ok := all[d.Path]
			switch {
			case !ok || l.dir == "":
				return nil, fmt.Errorf("%s links %s %s, which the go command cannot find in this checkout's build list", p.binary, d.Path, built.Version)
			case built.Version != l.version && !(built.Version == "(devel)" && l.version == ""):
				// A directory replacement is "(devel)" in the binary and
				// has no version in the build list.
				return nil, fmt.Errorf("%s links %s %s, but this checkout builds %s: build the packages from the checkout they are listed from", p.binary, d.Path, built.Version, l.version)
			}
			add(d.Path, displayVersion(built), l.dir, p.installed)
		}
	}
	out := make([]*module, 0, len(byPath))
	for _, m := range byPath {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *module) int {
		if (a.path == "std") != (b.path == "std") {
			if a.path == "std" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.path, b.path)
	})
	return out, nil
}

// displayVersion is a module's version, or the directory it was replaced
// by (our patched Fyne, third_party/fyne).
func displayVersion(m *debug.Module) string {
	if m.Version != "" && m.Version != "(devel)" {
		return m.Version
	}
	return "as patched in " + strings.TrimPrefix(m.Path, "./")
}

func goroot() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// licenceFile matches the names licences go by.
var licenceFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)([-._].*)?$`)

// licenceFiles are a module's licence files: the one at its root, and any
// in its directories but tests', examples' and commands' (a font or a C
// library vendored inside a module comes with its own; a command is never
// linked into another program). Paths are relative, sorted,
// root first.
func licenceFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "_examples", "examples", "example", ".git", "vendor", "cmd":
				if path != dir {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if licenceFile.MatchString(d.Name()) {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b string) int {
		if da, db := strings.Count(a, "/"), strings.Count(b, "/"); da != db {
			return da - db
		}
		return strings.Compare(a, b)
	})
	return out, err
}

// commonLicences are the licences Debian keeps the text of in
// /usr/share/common-licenses: a paragraph may point there instead.
var commonLicences = map[string]string{"Apache-2.0": "Apache-2.0", "MPL-2.0": "MPL-2.0"}

// licenceRules name licences by the sentences each is known by, as SPDX
// ids.
var licenceRules = []struct {
	id  string
	all []string // every one of these
	any []string // and one of these, when given
}{
	{id: "Apache-2.0", all: []string{"Apache License", "Version 2.0"}},
	{id: "EPL-2.0", any: []string{"Eclipse Public License - v 2.0", "Eclipse Public License v2.0", "Eclipse Public License - Version 2.0"}},
	{id: "BSD-3-Clause", all: []string{"Eclipse Distribution License"}}, // the EDL is the BSD-3-Clause text
	{id: "MPL-2.0", any: []string{"Mozilla Public License Version 2.0", "Mozilla Public License, version 2.0"}},
	{id: "OFL-1.1", any: []string{"SIL OPEN FONT LICENSE Version 1.1", "SIL Open Font License, Version 1.1"}},
	{id: "Bitstream-Vera", any: []string{"Bitstream Vera Fonts Copyright", "Bitstream Vera is a trademark"}},
	// Not only "Permission is hereby granted, free of charge": the font
	// licences (OFL, Bitstream Vera) say that too, of their fonts.
	{id: "MIT", all: []string{"Permission is hereby granted, free of charge, to any person obtaining a copy of this software"}},
	{id: "MIT-Modern-Variant", all: []string{"Permission is hereby granted, without written agreement and without license or royalty fees"}}, // HarfBuzz's "Old MIT"
	{id: "ISC", all: []string{"Permission to use, copy, modify, and/or distribute this software for any purpose"}},
	{id: "Zlib", all: []string{"This software is provided 'as-is', without any express or implied warranty", "Altered source versions must be plainly marked"}},
	{id: "BSD-3-Clause", all: []string{"Redistribution and use in source and binary forms"}, any: []string{"Neither the name", "names of its contributors may be used"}},
	{id: "BSD-2-Clause", all: []string{"Redistribution and use in source and binary forms"}},
	{id: "Unlicense", all: []string{"This is free and unencumbered software released into the public domain"}},
}

// classify names a licence text: the SPDX ids of every licence it holds,
// "EPL-2.0 or BSD-3-Clause" for a choice it says is ours (paho's), "X and
// Y" for texts that apply to different parts (go-yaml's); "" when it
// knows none.
func classify(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	var ids []string
	for _, r := range licenceRules {
		ok := true
		for _, s := range r.all {
			ok = ok && strings.Contains(t, s)
		}
		if ok && len(r.any) > 0 {
			ok = slices.ContainsFunc(r.any, func(s string) bool { return strings.Contains(t, s) })
		}
		if !ok {
			continue
		}
		if r.id == "BSD-2-Clause" && slices.Contains(ids, "BSD-3-Clause") {
			continue // the same sentence, already named
		}
		if !slices.Contains(ids, r.id) {
			ids = append(ids, r.id)
		}
	}
	switch {
	case slices.Contains(ids, "EPL-2.0") && slices.Contains(ids, "BSD-3-Clause"):
		return "EPL-2.0 or BSD-3-Clause"
	case slices.Equal(ids, []string{"BSD-3-Clause", "Unlicense"}) && strings.Contains(t, "UNLICENSE or the BSD"):
		return "Unlicense or BSD-3-Clause" // go-text's
	}
	return strings.Join(ids, " and ")
}

// copyrightRE finds the copyright notices in a licence text.
var copyrightRE = regexp.MustCompile(`(?im)^\s*(copyright\s*(\(c\)|©)?\s*\d.*|copyright\s*(\(c\)|©)\s*.*)$`)

func notices(text, modPath string) []string {
	var out []string
	for _, m := range copyrightRE.FindAllString(text, -1) {
		n := strings.Join(strings.Fields(m), " ")
		if len(n) > 200 || strings.Contains(strings.ToLower(n), "copyright notice") || strings.Contains(strings.ToLower(n), "copyright holder") {
			continue
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []string{"the authors of " + modPath + " (its licence names none)"}
	}
	return out
}

// write writes the whole copyright file to w.
func write(w io.Writer, base string, progs []program, dirs moduleDirs) error {
	own, err := os.ReadFile(base)
	if err != nil {
		return err
	}
	mods, err := linked(progs, dirs)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Write(bytes.TrimRight(own, "\n"))
	b.WriteString("\n")
	for _, m := range mods {
		if m.path == "github.com/fengqiao/kiosk" {
			continue // ours: the base file's paragraphs
		}
		files, err := licenceFiles(m.dir)
		if err != nil {
			return fmt.Errorf("%s: %w", m.path, err)
		}
		if m.path == "std" {
			// GOROOT's other licence files are of code not linked
			// (BoringCrypto, tools) or vendored under the Go Authors' own
			// licence.
			files = []string{"LICENSE"}
		}
		if len(files) == 0 {
			return fmt.Errorf("%s %s (in %s) has no licence file: the package may not redistribute it; replace the module or settle its terms", m.path, m.version, strings.Join(m.programs, ", "))
		}
		name := m.path
		if m.path == "std" {
			name = "the Go standard library and runtime, " + m.version
		} else {
			name = "Go module " + m.path + " " + m.version
		}
		for _, f := range files {
			text, err := os.ReadFile(filepath.Join(m.dir, f))
			if err != nil {
				return err
			}
			id := classify(string(text))
			if id == "" {
				return fmt.Errorf("%s %s: %s is no licence this command can name: read it, and teach classify if it lets us redistribute", m.path, m.version, f)
			}
			b.WriteString("\nFiles: " + strings.Join(m.programs, " ") + "\n")
			b.WriteString("Copyright:")
			for i, n := range notices(string(text), m.path) {
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString(" " + n)
			}
			b.WriteString("\nComment: " + name + ", linked into these programs")
			if f != files[0] || len(files) > 1 {
				b.WriteString("; its " + filepath.ToSlash(f))
			}
			b.WriteString(".\nLicense: " + id + "\n")
			if common, ok := commonLicences[id]; ok {
				b.WriteString(" On Debian systems, the full text of this licence is in\n /usr/share/common-licenses/" + common + ".\n")
				if notice, err := os.ReadFile(filepath.Join(m.dir, filepath.Dir(f), "NOTICE")); err == nil {
					b.WriteString(" .\n The module's NOTICE file:\n .\n")
					indent(&b, string(notice))
				}
				continue
			}
			indent(&b, string(text))
		}
	}
	_, err = w.Write(b.Bytes())
	return err
}

// indent writes text as a paragraph's continuation lines: each line after
// a space, an empty line as " ." (Debian's copyright format).
func indent(b *bytes.Buffer, text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for _, line := range strings.Split(strings.Trim(text, "\n"), "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			b.WriteString(" .\n")
			continue
		}
		b.WriteString(" " + line + "\n")
	}
}
