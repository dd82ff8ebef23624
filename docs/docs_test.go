// Package docs holds the documentation; its test holds the command lines
// in it to the programs they run (make docs-check, part of make test).
//
// A fenced block marked sh holds commands meant to be run. Each command in
// one is checked: one of this repository's programs must know every flag
// given (asked with -h, from the freshly built program), take a value where
// one is given and take the arguments given after the flags; a make target
// must be in the Makefile; a script named by path must exist; any other
// program must be installed here (Debian's own tools: openssl, apt,
// systemctl). A block marked text (or json, yaml…) is output or an example,
// not run; an unmarked block that starts a line with one of the programs
// is an error, so commands cannot hide from the check. The commands that
// need no kiosk, broker or board are run (TestDocCommandsRun). Every flag default
// the docs quote is compared with the program's, and every default of a
// site-file or board-profile setting with what kioskd applies.
package docs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/config"
)

// ours are this repository's programs, built for the test.
var ours = []string{"kioskd", "kioskctl", "kiosk-ui", "fengqiao-updater"}

var packages = map[string]string{
	"kioskd":           "./agent/cmd/kioskd",
	"kioskctl":         "./agent/cmd/kioskctl",
	"kiosk-ui":         "./kiosk-ui/cmd/kiosk-ui",
	"fengqiao-updater": "./agent/cmd/fengqiao-updater",
}

// docFiles are the documents whose command lines are checked.
func docFiles(t *testing.T) []string {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md", "../packaging/README.md"}, files...)
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// programs builds the repository's programs once, into a directory of
// the test's.
func programs(t *testing.T) string {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "docs-check-bin")
		if buildErr != nil {
			return
		}
		args := []string{"build", "-o", binDir + "/"}
		for _, p := range ours {
			args = append(args, packages[p])
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// block is a fenced block of a document.
type block struct {
	file  string
	line  int // of the opening fence
	lang  string
	lines []string
}

func blocks(t *testing.T, file string) []block {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []block
	var cur *block
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &block{file: file, line: n, lang: strings.TrimSpace(strings.TrimPrefix(l, "```"))}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	if cur != nil {
		t.Errorf("%s:%d: fenced block never closed", file, cur.line)
	}
	return out
}

// commandLike is how a command line starts.
var commandLike = regexp.MustCompile(`^\s*(\$ )?(sudo |bin/|\./)?(kioskd|kioskctl|kiosk-ui|fengqiao-updater|make|mosquitto|curl|apt|apt-get|systemctl|install|openssl)( |$)`)

// TestDocCommands checks every command line of the docs' sh blocks.
func TestDocCommands(t *testing.T) {
	checked := 0
	for _, file := range docFiles(t) {
		for _, b := range blocks(t, file) {
			switch b.lang {
			case "sh":
			case "":
				for i, l := range b.lines {
					if commandLike.MatchString(l) {
						t.Errorf("%s:%d: a command in an unmarked block: mark it ```sh to have it checked, or ```text if it is output", file, b.line+1+i)
					}
				}
				continue
			default:
				continue
			}
			for _, c := range commands(t, b) {
				checkCommand(t, c, false)
				checked++
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d commands checked: is the parsing lost?", checked)
	}
}

// command is one simple command of an sh block, its words with
// redirections, operators and comments taken out.
type command struct {
	file  string
	line  int
	words []string
}

func (c command) String() string {
	return fmt.Sprintf("%s:%d: %s", c.file, c.line, strings.Join(c.words, " "))
}

// commands splits an sh block into simple commands. A block whose lines
// start "$ " is a transcript: only those lines are commands.
func commands(t *testing.T, b block) []command {
	transcript := slices.ContainsFunc(b.lines, func(l string) bool { return strings.HasPrefix(l, "$ ") })
	var out []command
	var heredoc string
	for i := 0; i < len(b.lines); i++ {
		n := b.line + 1 + i
		l := b.lines[i]
		if heredoc != "" {
			if strings.TrimSpace(l) == heredoc {
				heredoc = ""
			}
			continue
		}
		if transcript {
			if !strings.HasPrefix(l, "$ ") {
				continue
			}
			l = strings.TrimPrefix(l, "$ ")
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(b.lines) {
			i++
			l = strings.TrimSuffix(l, `\`) + " " + b.lines[i]
		}
		words, delim, err := split(l)
		if err != nil {
			t.Errorf("%s:%d: %v", b.file, n, err)
			continue
		}
		heredoc = delim
		for _, w := range words {
			out = append(out, command{file: b.file, line: n, words: w})
		}
	}
	return out
}

// split parses one shell line into its simple commands' words: quotes and
// backslashes as sh reads them, comments dropped, ; & && || | separating
// commands, redirections dropped. It returns the delimiter of a here
// document the line opens.
func split(line string) (cmds [][]string, heredoc string, err error) {
	var words []string
	var w strings.Builder
	inWord := false
	end := func() {
		if inWord {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	flush := func() {
		end()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, "", fmt.Errorf("unterminated ' in %q", line)
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				w.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, "", fmt.Errorf("unterminated \" in %q", line)
			}
			inWord = true
			i = j
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		case c == '#' && !inWord:
			flush()
			return cmds, heredoc, nil
		case c == ' ' || c == '\t':
			end()
		case c == ';' || c == '&' || c == '|':
			if c == '&' && inWord && strings.HasSuffix(w.String(), ">") { // 2>&1
				w.WriteByte(c)
				continue
			}
			flush()
		case c == '<' || c == '>':
			// A redirection: its operator and target word are not the
			// command's. 2> and the like: drop the fd number too.
			if inWord && strings.Trim(w.String(), "0123456789") == "" {
				w.Reset()
				inWord = false
			}
			end()
			j := i
			for j < len(line) && strings.IndexByte("<>&", line[j]) >= 0 {
				j++
			}
			op := line[i:j]
			for j < len(line) && line[j] == ' ' {
				j++
			}
			k := j
			for k < len(line) && strings.IndexByte(" ;|&", line[k]) < 0 {
				k++
			}
			if op == "<<" || op == "<<-" {
				heredoc = strings.Trim(line[j:k], `'"`)
			}
			if strings.HasSuffix(op, "&") { // >&2: the target is a digit, already taken
				k = j
				for k < len(line) && line[k] >= '0' && line[k] <= '9' {
					k++
				}
			}
			i = k - 1
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return cmds, heredoc, nil
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// checkCommand checks one command as the comment at the top says; a
// mention in the text only for its program, command and flags.
func checkCommand(t *testing.T, c command, mention bool) {
	t.Helper()
	words := c.words
	for len(words) > 0 && (words[0] == "sudo" || assignment.MatchString(words[0])) {
		words = words[1:]
	}
	if len(words) == 0 {
		return
	}
	prog := words[0]
	name := strings.TrimPrefix(strings.TrimPrefix(prog, "bin/"), "/usr/bin/")
	switch {
	case slices.Contains(ours, name):
		checkOurs(t, c, name, words[1:], mention)
	case prog == "make":
		for _, target := range words[1:] {
			if !strings.HasPrefix(target, "-") && !strings.Contains(target, "=") && !makeTargets(t)[target] {
				t.Errorf("%v: make has no target %q", c, target)
			}
		}
	case strings.Contains(prog, "/") && !filepath.IsAbs(prog):
		if _, err := os.Stat(filepath.Join("..", prog)); err != nil {
			t.Errorf("%v: no %s in the repository", c, prog)
		}
	case prog == "umask" || prog == "cd" || prog == "export":
	default:
		if _, err := lookPath(prog); err != nil {
			// A script of the repository installed on the township's
			// machine (township-certs.sh) is named without its path.
			if found, _ := filepath.Glob(filepath.Join("../packaging/*", prog)); len(found) == 0 {
				t.Errorf("%v: no program %s here nor script of that name in packaging/", c, prog)
			}
		}
	}
}

// lookPath finds a program as root's PATH would (sbin included).
func lookPath(prog string) (string, error) {
	if p, err := exec.LookPath(prog); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(dir, prog)); err == nil {
			return filepath.Join(dir, prog), nil
		}
	}
	return "", fmt.Errorf("%s: not found", prog)
}

var (
	targetsOnce sync.Once
	targets     map[string]bool
)

func makeTargets(t *testing.T) map[string]bool {
	targetsOnce.Do(func() {
		targets = map[string]bool{}
		raw, err := os.ReadFile("../Makefile")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(raw), -1) {
			targets[m[1]] = true
		}
	})
	return targets
}

// flagSpec is what a program's -h says of one flag.
type flagSpec struct {
	takesValue bool
	def        string // what -h shows after "(default "; "" if nothing
}

// help is what -h says of one program or kioskctl command.
type help struct {
	text     string
	flags    map[string]flagSpec
	operands bool // takes arguments after its flags (FILE, SEQ..., DEB...)
}

var (
	helpMu    sync.Mutex
	helpCache = map[string]*help{}
)

var flagLine = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9-]*)(?: ([^\t ]+))?(?:\t|$)`)
var defaultText = regexp.MustCompile(`\(default:? "?([^")]*)"?\)`)

// helpOf runs the program with args and -h, and reads its flags.
func helpOf(t *testing.T, prog string, args ...string) *help {
	t.Helper()
	key := prog + " " + strings.Join(args, " ")
	helpMu.Lock()
	defer helpMu.Unlock()
	if h, ok := helpCache[key]; ok {
		return h
	}
	cmd := exec.Command(filepath.Join(programs(t), prog), append(slices.Clone(args), "-h")...)
	cmd.Env = append(os.Environ(), "DISPLAY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 {
			t.Fatalf("%s -h: %v\n%s", key, err, out)
		}
	}
	h := &help{text: string(out), flags: map[string]flagSpec{}}
	lines := strings.Split(h.text, "\n")
	var last string
	for _, l := range lines {
		if m := flagLine.FindStringSubmatch(l); m != nil {
			last = m[1]
			h.flags[last] = flagSpec{takesValue: m[2] != ""}
			if i := strings.IndexByte(l, '\t'); i >= 0 { // a one-letter flag: its usage on the same line
				l = l[i:]
			} else {
				continue
			}
		}
		if last != "" {
			if m := defaultText.FindStringSubmatch(l); m != nil {
				f := h.flags[last]
				f.def = m[1]
				h.flags[last] = f
			}
		}
	}
	if prog == "kioskctl" {
		// The synopsis of kioskctl COMMAND -h: the lines before the
		// description (indented 8) end with its operands, if any.
		var syn []string
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "        ") && !strings.HasPrefix(l, "         ") || l == "" {
				break
			}
			syn = append(syn, l)
		}
		f := strings.Fields(strings.Join(syn, " "))
		if len(f) > 0 {
			lastWord := strings.TrimSuffix(f[len(f)-1], "...") // [--key FILE]... is optional still
			h.operands = lastWord == strings.ToUpper(lastWord) && !strings.HasSuffix(lastWord, "]") &&
				(len(f) < 2 || (!strings.HasPrefix(f[len(f)-2], "-") && f[len(f)-2] != "<"))
		}
	}
	helpCache[key] = h
	return h
}

// kioskctlCommand splits a kioskctl line's arguments into its command (one
// word or two, as its usage names them) and the rest.
func kioskctlCommand(args []string) (cmd []string, rest []string) {
	switch {
	case len(args) == 0:
		return nil, nil
	case args[0] == "doctor" || args[0] == "version" || len(args) == 1:
		return args[:1], args[1:]
	case args[0] == "township" && args[1] == "requests" && len(args) > 2 && !strings.HasPrefix(args[2], "-"):
		return args[:3], args[3:] // its verbs are commands of their own
	}
	return args[:2], args[2:]
}

// checkOurs checks a command line of one of the repository's programs: its
// command (kioskctl's), its flags and their values, its arguments. A
// mention in the text (`kiosk-ui --idle`) names flags without values, and
// is held to the flags alone.
func checkOurs(t *testing.T, c command, prog string, args []string, mention bool) {
	t.Helper()
	var sub []string
	if prog == "kioskctl" {
		sub, args = kioskctlCommand(args)
		if len(sub) == 0 {
			t.Errorf("%v: kioskctl without a command", c)
			return
		}
		if sub[0] == "version" {
			return
		}
	}
	h := helpOf(t, prog, sub...)
	if prog == "kioskctl" && !usageNames(h.text, sub) {
		t.Errorf("%v: kioskctl has no command %q:\n%s", c, strings.Join(sub, " "), h.text)
		return
	}
	var operands []string
	for i := 0; i < len(args); i++ {
		a := strings.Trim(args[i], "[]") // [--township ID]: optional, still a flag of the command
		if a == "" || a == "…" || a == "..." {
			continue
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			operands = append(operands, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			continue
		}
		f, ok := h.flags[name]
		switch {
		case !ok:
			t.Errorf("%v: %s %s has no flag --%s", c, prog, strings.Join(sub, " "), name)
		case f.takesValue && !hasValue:
			if !mention && (i+1 >= len(args) || strings.HasPrefix(args[i+1], "-")) {
				t.Errorf("%v: --%s needs a value", c, name)
			}
			i++
		case !f.takesValue && hasValue && value != "true" && value != "false":
			t.Errorf("%v: --%s takes no value", c, name)
		}
	}
	switch {
	case mention:
	case len(operands) > 0 && !h.operands:
		t.Errorf("%v: %s %s takes no arguments after its flags, given %q", c, prog, strings.Join(sub, " "), operands)
	case len(operands) == 0 && h.operands:
		t.Errorf("%v: %s %s needs its arguments after the flags:\n%s", c, prog, strings.Join(sub, " "), h.text)
	}
}

// paragraphs are a document's text outside fenced blocks, a paragraph
// (lines up to a blank one; each table row alone) a string, its lines
// joined by spaces.
func paragraphs(t *testing.T, file string) []paragraph {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []paragraph
	var cur []string
	start := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, paragraph{file, start, strings.Join(cur, " ")})
		}
		cur = nil
	}
	fenced := false
	for i, l := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			flush()
			fenced = !fenced
		case fenced:
		case strings.TrimSpace(l) == "":
			flush()
		case strings.HasPrefix(l, "|"):
			flush()
			out = append(out, paragraph{file, i + 1, l})
		default:
			if len(cur) == 0 {
				start = i + 1
			}
			cur = append(cur, strings.TrimSpace(l))
		}
	}
	flush()
	return out
}

type paragraph struct {
	file string
	line int
	text string
}

var codeSpan = regexp.MustCompile("`([^`]+)`")
var inlineCommand = regexp.MustCompile(`^(sudo )?(bin/)?(kioskd|kioskctl|kiosk-ui|fengqiao-updater) .*-`)

// TestDocInlineCommands checks the commands quoted in the text, as
// `kioskctl config push --broker URL FILE`, as those of sh blocks are:
// those with a flag at least, and no alternatives (sign|push).
func TestDocInlineCommands(t *testing.T) {
	checked := 0
	for _, file := range docFiles(t) {
		for _, p := range paragraphs(t, file) {
			for _, m := range codeSpan.FindAllStringSubmatch(p.text, -1) {
				span := m[1]
				if !inlineCommand.MatchString(span) || strings.ContainsAny(span, "|…") {
					continue
				}
				cmds, _, err := split(span)
				if err != nil {
					t.Errorf("%s:%d: %v", file, p.line, err)
					continue
				}
				for _, words := range cmds {
					checkCommand(t, command{file: file, line: p.line, words: words}, true)
					checked++
				}
			}
		}
	}
	t.Logf("%d commands in the text checked", checked)
}

// flagDefaults are the flag defaults the docs quote: in file, pattern
// (a regular expression) must match, and its group is the default as
// quoted, which must be the program's (for kioskctl, PROG is "kioskctl
// COMMAND").
var flagDefaults = []struct {
	file, pattern, prog, flag string
}{
	{"../README.md", "its default, `([^`]+)`", "kioskd", "socket"},
	{"local-api.md", "unix socket \\(default `([^`]+)`", "kioskd", "socket"},
	{"config.md", "`kioskd --config FILE` picks the site file \\(default `([^`]+)`", "kioskd", "config"},
	{"bundles.md", "`--version` defaults to (the current Unix time, which only grows)", "kioskctl config sign", "version"},
	{"updates.md", "`--version` defaults to (the current Unix time), like `config sign`", "kioskctl update sign", "version"},
	{"updates.md", "a kiosk keeps the defaults, `--health-timeout` (\\w+)", "fengqiao-updater", "health-timeout"},
	{"updates.md", "and `--health-stable`\\s+(\\w+)", "fengqiao-updater", "health-stable"},
	{"bundles.md", "waiting `--wait`, ([0-9]+ ?s) by default", "kioskctl config push", "wait"},
	{"bundles.md", "higher `--version` \\(the default, (the current Unix time), is\\)", "kioskctl config sign", "version"},
	{"points.md", "\\(`--recent`, ([0-9]+) by default\\)", "kioskctl points sign", "recent"},
	{"points.md", "`--version` defaults to (the current Unix time)", "kioskctl points sign", "version"},
	{"bundles.md", "--scopes`, `([a-z-]+)` alone by default", "kioskctl operator certify", "scopes"},
}

// notFlagDefaults are paragraphs that speak of a default and name a flag,
// where the default is not the flag's.
var notFlagDefaults = []struct{ file, text string }{
	{"config.md", "| `ui.idle` |"},                              // the site file's default; kiosk-ui --idle overrides it
	{"bundles.md", "turns voice guidance back on, its default"}, // ui.voice's
	{"benchmarks.md", "**Chromium**"},                           // Debian's defaults of Chromium
	{"config.md", "| `points.key_file` |"},                      // the site setting's default; keys gen --points makes the file
}

// TestDocFlagDefaults: every flag default quoted in the docs is the
// program's, and a paragraph that speaks of a default beside a flag is
// one of those checked here (or said not to be a flag's).
func TestDocFlagDefaults(t *testing.T) {
	for _, d := range flagDefaults {
		raw, err := os.ReadFile(d.file)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(raw)), " ")
		m := regexp.MustCompile(d.pattern).FindStringSubmatch(text)
		if m == nil {
			t.Errorf("%s no longer says %q: if the passage moved, move its entry in flagDefaults", d.file, d.pattern)
			continue
		}
		f := strings.Fields(d.prog)
		spec, ok := helpOf(t, f[0], f[1:]...).flags[d.flag]
		switch {
		case !ok:
			t.Errorf("%s quotes the default of %s --%s, which has no such flag", d.file, d.prog, d.flag)
		case !sameDefault(m[1], spec.def):
			t.Errorf("%s quotes %q as the default of %s --%s; it is %q", d.file, m[1], d.prog, d.flag, spec.def)
		}
	}

	flagNamed := regexp.MustCompile("`--[a-z][a-z-]*|(kioskd|kioskctl|kiosk-ui|fengqiao-updater)[^`]* --[a-z]")
	for _, file := range docFiles(t) {
		for _, p := range paragraphs(t, file) {
			if !strings.Contains(p.text, "default") || !flagNamed.MatchString(p.text) {
				continue
			}
			covered := false
			for _, d := range flagDefaults {
				covered = covered || (d.file == file && regexp.MustCompile(d.pattern).MatchString(p.text))
			}
			for _, n := range notFlagDefaults {
				covered = covered || (n.file == file && strings.Contains(p.text, n.text))
			}
			if !covered {
				t.Errorf("%s:%d speaks of a default beside a flag, unchecked: add the quote to flagDefaults (or notFlagDefaults):\n%s", file, p.line, p.text)
			}
		}
	}
}

// sameDefault: a quoted default and the program's, durations by value
// (10m is 10m0s, 1 s is 1s), a description by its first clause.
func sameDefault(quoted, actual string) bool {
	if quoted == actual || strings.HasPrefix(actual, quoted+",") { // "the current Unix time, which only grows"
		return true
	}
	q, err1 := time.ParseDuration(strings.ReplaceAll(quoted, " ", "")) // 1 s
	a, err2 := time.ParseDuration(actual)
	return err1 == nil && err2 == nil && q == a
}

// configDefault finds "`KEY` … (default VALUE" in a paragraph or table
// row: a setting's default as the docs quote it.
var configDefault = regexp.MustCompile("^\\| `([a-z_]+(?:\\.[a-z_]+)+)`(?:, `([a-z_.]+)`)? \\|.*?(?:\\(|; )default ([0-9][^;),]*)|`([a-z_]+(?:\\.[a-z_]+)+)` \\(default ([0-9][^;),]*)\\)")

// TestDocConfigDefaults: every default of a site-file or board-profile
// setting the docs quote, "(default 30s)", is what kioskd applies when the
// setting is left out: the dev site and board are loaded with the setting
// taken out, and the value found there compared.
func TestDocConfigDefaults(t *testing.T) {
	checked := 0
	for _, file := range docFiles(t) {
		for _, p := range paragraphs(t, file) {
			for _, m := range configDefault.FindAllStringSubmatch(p.text, -1) {
				keys, quoted := []string{m[1], m[2]}, m[3]
				if m[4] != "" {
					keys, quoted = []string{m[4]}, m[5]
				}
				for _, key := range keys {
					if key == "" {
						continue
					}
					actual, err := defaultOf(t, key)
					if err != nil {
						t.Errorf("%s:%d: %s: %v", file, p.line, key, err)
						continue
					}
					if !sameQuantity(quoted, actual) {
						t.Errorf("%s:%d: %s quoted with default %q; kioskd applies %v", file, p.line, key, quoted, actual)
					}
					t.Logf("%s:%d: %s: default %s", file, p.line, key, quoted)
					checked++
				}
			}
		}
	}
	if checked < 15 {
		t.Errorf("only %d quoted defaults of settings checked: is the parsing lost?", checked)
	}
}

// defaultOf loads the dev site and board with key (site or board) left
// out, and returns the value kioskd then holds for it.
func defaultOf(t *testing.T, key string) (any, error) {
	dir := t.TempDir()
	siteRaw, err := os.ReadFile("../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	boardRaw, err := os.ReadFile("../firmware-configs/boards/dev-sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	boardPath := filepath.Join(dir, "board.yaml")
	site, board := yamlDoc(t, siteRaw), yamlDoc(t, boardRaw)
	setKey(site, "board", boardPath)
	path := strings.Split(key, ".")
	inSite := hasField(reflect.TypeOf(config.Site{}), path)
	inBoard := hasField(reflect.TypeOf(config.Board{}), path)
	switch {
	case inSite:
		deleteKey(site, path)
	case inBoard:
		deleteKey(board, path)
	default:
		return nil, fmt.Errorf("neither a site-file nor a board-profile setting")
	}
	for f, doc := range map[string]*yaml.Node{filepath.Join(dir, "site.yaml"): site, boardPath: board} {
		out, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(dir, "site.yaml"))
	if err != nil {
		return nil, fmt.Errorf("the dev site without it: %v", err)
	}
	v := reflect.ValueOf(cfg.Site)
	if !inSite {
		v = reflect.ValueOf(cfg.Board)
	}
	for _, name := range path[:len(path)-1] {
		v = fieldByTag(v, name)
	}
	field := fieldByTag(v, path[len(path)-1])
	// A default applied where the setting is used, not at load
	// (control.update_rate): the parent's FieldOrDefault method says it.
	for i := 0; i < v.NumField(); i++ {
		if strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0] == path[len(path)-1] {
			if m := v.MethodByName(v.Type().Field(i).Name + "OrDefault"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
				return m.Call(nil)[0].Convert(field.Type()).Interface(), nil
			}
		}
	}
	return field.Interface(), nil
}

func yamlDoc(t *testing.T, raw []byte) *yaml.Node {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

func setKey(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: value}
		}
	}
}

// deleteKey takes the setting at path out of a mapping, if it is there.
func deleteKey(m *yaml.Node, path []string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
		deleteKey(m.Content[i+1], path[1:])
	}
}

func fieldByTag(v reflect.Value, name string) reflect.Value {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for i := 0; i < v.NumField(); i++ {
		if tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]; tag == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

func hasField(typ reflect.Type, path []string) bool {
	for _, name := range path {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return false
		}
		found := false
		for i := 0; i < typ.NumField(); i++ {
			if tag := strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]; tag == name {
				typ, found = typ.Field(i).Type, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// sameQuantity compares a default as the docs write it ("30s", "256KiB",
// "5 minutes", "7") with the value kioskd holds.
func sameQuantity(quoted string, actual any) bool {
	q := strings.TrimSpace(quoted)
	for long, short := range map[string]string{" minutes": "m", " minute": "m", " min": "m", " seconds": "s", " s": "s", " hours": "h", " ms": "ms"} {
		if strings.HasSuffix(q, long) {
			q = strings.TrimSuffix(q, long) + short
		}
	}
	switch a := actual.(type) {
	case config.Duration:
		d, err := time.ParseDuration(q)
		return err == nil && d == a.Duration
	case config.ByteSize: // 256KiB, 64 KiB/s
		var b config.ByteSize
		return yaml.Unmarshal([]byte(strings.TrimSuffix(strings.ReplaceAll(q, " ", ""), "/s")), &b) == nil && b == a
	}
	return q == fmt.Sprint(actual)
}

// TestDocTablesWhole: a blank line inside a table ends it there, and
// Markdown shows the rest as a paragraph of pipes (as config.md's site
// table was once).
func TestDocTablesWhole(t *testing.T) {
	for _, file := range docFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		for i := 2; i < len(lines); i++ {
			if strings.HasPrefix(lines[i], "| ") && strings.TrimSpace(lines[i-1]) == "" && strings.HasPrefix(lines[i-2], "| ") &&
				(i+1 == len(lines) || !strings.HasPrefix(lines[i+1], "|-") && !strings.HasPrefix(lines[i+1], "|:")) {
				t.Errorf("%s:%d: a table row after a blank line that ends its table", file, i+1)
			}
		}
	}
}

// TestDocCommandsRun runs the doc commands that need no kiosk, broker or
// board, in a directory of their own, and holds them to what the docs
// show: the transcript's output lines, or what the text says they print.
func TestDocCommandsRun(t *testing.T) {
	for _, tt := range []struct {
		file, command string
		stdin         string   // typed in, as the transcript shows
		want          []string // lines of the transcript, or words the text promises
	}{
		{"../README.md", "bin/kioskd --help", "", []string{"Usage: kioskd [flags]", "-socket path"}},
		{"bundles.md", "kioskctl keys gen --out township.key", "", []string{"control:\n  township_keys:\n    - "}},
		{"config.md", "$ kioskctl mediator hash", "350782198506151236\n1234\n", []string{
			"ID number, then PIN, one a line:",
			"id_sha256: de6b917dfa52486dbc3d5d358ec1a2a241a308bdb4acfeccc6666b4978e3c40e",
			`pin_bcrypt: "$2a$10$`}},
	} {
		raw, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(raw)
		if !strings.Contains(doc, "\n"+tt.command) {
			t.Errorf("%s no longer has the command line %q: change its entry here with it", tt.file, tt.command)
			continue
		}
		for _, w := range tt.want {
			if strings.HasPrefix(tt.command, "$ ") && !strings.Contains(doc, w) {
				t.Errorf("%s's transcript of %q no longer shows %q: change its entry here with it", tt.file, tt.command, w)
			}
		}
		words, _, err := split(strings.TrimPrefix(tt.command, "$ "))
		if err != nil || len(words) != 1 {
			t.Fatalf("%q: %v", tt.command, err)
		}
		args := words[0]
		cmd := exec.Command(filepath.Join(programs(t), strings.TrimPrefix(args[0], "bin/")), args[1:]...)
		cmd.Dir = t.TempDir()
		cmd.Stdin = strings.NewReader(tt.stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %s: %v\n%s", tt.file, tt.command, err, out)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: %s printed\n%s\nwithout %q, as the docs show", tt.file, tt.command, out, w)
			}
		}
	}
}

// usageNames tells whether a kioskctl -h starts with the entry of sub; a
// word of the entry may list alternatives (accept|progress|close), verbs
// that share it.
func usageNames(help string, sub []string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(help, "Usage:\n"), "\n")
	words := strings.Fields(first)
	if !strings.HasPrefix(help, "Usage:\n  kioskctl ") || len(words) < len(sub)+1 {
		return false
	}
	for i, w := range sub {
		if words[i+1] != w && !slices.Contains(strings.Split(words[i+1], "|"), w) {
			return false
		}
	}
	return true
}
