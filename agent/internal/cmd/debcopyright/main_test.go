package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"MIT", "Copyright (c) 2013 Ben Johnson\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of\nthis software and associated documentation files", "MIT"},
		{"BSD-3-Clause", "Redistribution and use in source and binary forms, with or without\nmodification ... * Neither the name of Google Inc. nor", "BSD-3-Clause"},
		{"BSD-2-Clause", "Redistribution and use in source and binary forms, with or without modification, are permitted", "BSD-2-Clause"},
		{"Apache-2.0", "                                 Apache License\n                           Version 2.0, January 2004", "Apache-2.0"},
		{"go-yaml's two", "Apache License Version 2.0 ... Permission is hereby granted, free of charge, to any person obtaining a copy of this software", "Apache-2.0 and MIT"},
		{"paho's choice", "Eclipse Public License - v 2.0 ... Eclipse Distribution License v1.0 ... Redistribution and use in source and binary forms ... Neither the name", "EPL-2.0 or BSD-3-Clause"},
		{"a font's OFL, which also grants permission free of charge", "SIL OPEN FONT LICENSE Version 1.1 ... Permission is hereby granted, free of charge, to any person obtaining a copy of the Font Software", "OFL-1.1"},
		{"ISC", "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee", "ISC"},
		{"Zlib", "This software is provided 'as-is', without any express or implied warranty. ... 2. Altered source versions must be plainly marked as such", "Zlib"},
		{"unknown", "All rights reserved. Do not copy.", ""},
	}
	for _, tt := range tests {
		if got := classify(tt.text); got != tt.want {
			t.Errorf("%s: classify = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// mustBuildKioskd builds kioskd as the packages do (pure Go), once for
// the tests that read it.
func mustBuildKioskd(t *testing.T) string {
	t.Helper()
	kioskdOnce.Do(func() {
		dir, err := os.MkdirTemp("", "debcopyright")
		if err != nil {
			kioskdErr = err
			return
		}
		kioskdBin = filepath.Join(dir, "kioskd")
		cmd := exec.Command("go", "build", "-trimpath", "-o", kioskdBin, "../../../cmd/kioskd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			kioskdErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if kioskdErr != nil {
		t.Fatal(kioskdErr)
	}
	return kioskdBin
}

var (
	kioskdOnce sync.Once
	kioskdBin  string
	kioskdErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if kioskdBin != "" {
		os.RemoveAll(filepath.Dir(kioskdBin))
	}
	os.Exit(code)
}

// TestEveryLinkedModuleIsListed: the copyright file of a package holding
// kioskd names every module kioskd links, and the Go runtime, each in a
// paragraph of Debian's format with its licence.
func TestEveryLinkedModuleIsListed(t *testing.T) {
	bin := mustBuildKioskd(t)
	var out bytes.Buffer
	if err := write(&out, "../../../../packaging/deb/copyright", []program{{"usr/bin/kioskd", bin}}, goListModules); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.HasPrefix(text, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/") {
		t.Errorf("the project's own paragraphs are not first:\n%.300s", text)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range bi.Deps {
		if !strings.Contains(text, "Comment: Go module "+d.Path+" "+d.Version+",") {
			t.Errorf("kioskd links %s %s; the copyright file does not list it", d.Path, d.Version)
		}
	}
	for _, want := range []string{
		"Comment: the Go standard library and runtime, " + bi.GoVersion + ", linked into these programs.\nLicense: BSD-3-Clause\n",
		"Comment: Go module go.etcd.io/bbolt ",
		"License: EPL-2.0 or BSD-3-Clause\n",
		" On Debian systems, the full text of this licence is in\n /usr/share/common-licenses/Apache-2.0.\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q", want)
		}
	}
	// Debian's format: paragraphs of fields, continuation lines indented,
	// no blank line inside a field; each Files paragraph has its
	// Copyright and License.
	for i, para := range strings.Split(strings.TrimSuffix(text, "\n"), "\n\n") {
		fields := map[string]bool{}
		for _, line := range strings.Split(para, "\n") {
			if strings.HasPrefix(line, " ") {
				continue
			}
			name, _, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.Contains(name, " ") {
				t.Fatalf("paragraph %d: %q is neither a field nor a continuation", i, line)
			}
			fields[name] = true
		}
		if fields["Files"] && (!fields["Copyright"] || !fields["License"]) {
			t.Errorf("paragraph %d lacks Copyright or License:\n%.300s", i, para)
		}
	}
}

// TestAModuleWithoutALicenceStopsTheBuild: nothing is written for a
// module whose terms nobody has read.
func TestAModuleWithoutALicenceStopsTheBuild(t *testing.T) {
	bin := mustBuildKioskd(t)
	bare := t.TempDir()
	dirs := func() (map[string]listed, error) {
		m, err := goListModules()
		if err == nil {
			l := m["go.etcd.io/bbolt"]
			m["go.etcd.io/bbolt"] = listed{l.version, bare}
		}
		return m, err
	}
	var out bytes.Buffer
	err := write(&out, "../../../../packaging/deb/copyright", []program{{"usr/bin/kioskd", bin}}, dirs)
	if err == nil || !strings.Contains(err.Error(), "go.etcd.io/bbolt") || !strings.Contains(err.Error(), "no licence file") {
		t.Errorf("write = %v, want an error naming go.etcd.io/bbolt", err)
	}
}
