package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/internal/editdist"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File  string
	Line  int    // 0 when the field is missing altogether
	Field string // dotted path, e.g. "content.advisor.duty[1].from"
	Msg   string
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Field == "" {
		return loc + ": " + p.Msg
	}
	return loc + ": " + p.Field + ": " + p.Msg
}

// Error lists every problem found in the configuration files.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid configuration:\n  " + strings.Join(lines, "\n  ")
}

// document remembers where each field sits in a file, so that validation can
// point at a line.
type document struct {
	file string
	// root is the document as parsed, kept so that a merge patch
	// (patch.go) works on what the technician wrote, scalars as written.
	root  *yaml.Node
	lines map[string]int // field path → line
	paths map[int]string // line → deepest field path on it
	// unfilled are the fields whose value is still a Placeholder.
	unfilled []Problem
}

// Placeholder starts the value of a key that a packaged template leaves for
// the township to fill in (e.g. "FILL-IN: the kiosk id, like xingcun-01").
// Such a file is refused with a list of exactly those keys, rather than with
// whatever each placeholder happens to break.
const Placeholder = "FILL-IN"

// unfilledProblems lists the placeholders left in the file, and the others
// without the problems those placeholders cause.
func (d *document) unfilledProblems(others []Problem) []Problem {
	return mergeProblems(d.unfilled, others)
}

// line is where field is written or, for a missing field, where its nearest
// parent is, so "is required" still points the technician at the right block.
func (d *document) line(field string) int {
	for field != "" {
		if l, ok := d.lines[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

func (d *document) problem(field, format string, args ...any) Problem {
	return Problem{File: d.file, Line: d.line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
}

var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// decodeFile parses path into v, reporting unknown keys and type errors as an
// *Error with file, line and field. Other failures (unreadable file) are plain.
func decodeFile(path string, v any) (*document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return decodeBytes(path, data, v)
}

// decodeBytes is decodeFile for a document that is not a file (a township
// bundle's content); path names it in problems.
func decodeBytes(path string, data []byte, v any) (*document, error) {
	doc := &document{file: path, lines: map[string]int{}, paths: map[int]string{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Problems: []Problem{{File: path, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	if len(root.Content) == 0 {
		return nil, &Error{Problems: []Problem{{File: path, Msg: "file is empty"}}}
	}
	doc.root = root.Content[0]
	var problems []Problem
	doc.walk(root.Content[0], reflect.TypeOf(v).Elem(), "", &problems)
	if err := root.Content[0].Decode(v); err != nil {
		problems = append(problems, doc.typeProblems(err)...)
	}
	if len(problems) > 0 {
		return doc, &Error{Problems: problems}
	}
	return doc, nil
}

// walk records the line of every field and reports keys that the Go type does
// not have. yaml's own KnownFields check names the Go type, not the field path,
// which is no help to a technician.
func (d *document) walk(n *yaml.Node, t reflect.Type, path string, problems *[]Problem) {
	if path != "" {
		d.lines[path] = n.Line
		d.paths[n.Line] = path
	}
	if hint, ok := strings.CutPrefix(n.Value, Placeholder); ok && n.Kind == yaml.ScalarNode {
		msg := "not filled in: the township's value goes here"
		if hint = strings.TrimSpace(strings.TrimLeft(hint, ":：- ")); hint != "" {
			msg += " (" + hint + ")"
		}
		d.unfilled = append(d.unfilled, Problem{File: d.file, Line: n.Line, Field: path, Msg: msg})
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			child := join(path, key.Value)
			ft, ok := fields[key.Value]
			if !ok {
				*problems = append(*problems, Problem{File: d.file, Line: key.Line, Field: child, Msg: "unknown key" + suggest(key.Value, fields)})
				continue
			}
			d.lines[child] = key.Line
			d.walk(val, ft, child, problems)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		// Free keys (content.wording): their lines, for problems that
		// name a key; which keys are allowed is validation's business.
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			child := join(path, key.Value)
			d.lines[child] = key.Line
			d.walk(val, t.Elem(), child, problems)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			d.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest names the known key closest to a misspelt one.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3
	for name := range fields {
		if d := editdist.Distance(key, name); d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

var linePrefix = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeProblems turns yaml's "line N: cannot unmarshal …" messages into problems
// that name the field on that line.
func (d *document) typeProblems(err error) []Problem {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []Problem{{File: d.file, Msg: err.Error()}}
	}
	var out []Problem
	for _, msg := range te.Errors {
		p := Problem{File: d.file, Msg: msg}
		if m := linePrefix.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Field = d.paths[p.Line]
			p.Msg = m[2]
		}
		out = append(out, p)
	}
	return out
}

// typeError makes a custom unmarshaler's complaint join yaml's list of type
// errors instead of aborting the whole decode, so every bad value is reported.
func typeError(format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf(format, args...)}}
}
