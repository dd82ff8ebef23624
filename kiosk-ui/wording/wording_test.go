package wording

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// constants parses keys.go: constant name → key.
func constants(t *testing.T) map[string]Key {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "keys.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Key{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("keys.go: %s is not a string literal", n.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				out[n.Name] = Key(v)
			}
		}
	}
	return out
}

// TestCatalogue keeps keys.go and zh-CN.yaml the same list of keys.
func TestCatalogue(t *testing.T) {
	consts := constants(t)
	declared := map[Key]string{}
	for name, k := range consts {
		if prev, dup := declared[k]; dup {
			t.Errorf("keys.go: %s and %s are both %q", prev, name, k)
		}
		declared[k] = name
		if !Known(string(k)) {
			t.Errorf("keys.go: %s = %q is not in zh-CN.yaml", name, k)
		}
	}
	for _, k := range Keys() {
		if _, ok := declared[k]; !ok {
			t.Errorf("zh-CN.yaml: %q has no constant in keys.go", k)
		}
		if err := Check(string(k), Default(k)); err != nil {
			t.Errorf("zh-CN.yaml: %s: %v", k, err)
		}
	}
}

// use is one place the screens' code names a key.
type use struct {
	pos  string
	call string   // t, tf, …: the function the key is passed to
	args []string // tf's wording.Args keys; nil when not a literal
}

// uses scans the kiosk's Go source (not tests) for wording.Name.
func uses(t *testing.T) map[string][]use {
	t.Helper()
	out := map[string][]use{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.Dir(path) == "." {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inCall := map[*ast.SelectorExpr]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && len(c.Args) > 0 {
				if sel, ok := keyRef(c.Args[0]); ok {
					inCall[sel] = true
					u := use{pos: fset.Position(c.Pos()).String(), call: funcName(c.Fun)}
					if len(c.Args) > 1 {
						u.args = argNames(c.Args[1])
					}
					out[sel.Sel.Name] = append(out[sel.Sel.Name], u)
				}
			}
			if sel, ok := keyRef(n); ok && !inCall[sel] {
				out[sel.Sel.Name] = append(out[sel.Sel.Name], use{pos: fset.Position(sel.Pos()).String()})
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keyRef(n ast.Node) (*ast.SelectorExpr, bool) {
	sel, ok := n.(*ast.SelectorExpr)
	if !ok {
		return nil, false
	}
	id, ok := sel.X.(*ast.Ident)
	return sel, ok && id.Name == "wording" && ast.IsExported(sel.Sel.Name)
}

func funcName(e ast.Expr) string {
	switch f := e.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// argNames are the keys of a wording.Args{…} literal, sorted.
func argNames(e ast.Expr) []string {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	names := []string{}
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if b, ok := kv.Key.(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(b.Value)
				names = append(names, s)
			}
		}
	}
	slices.Sort(names)
	return names
}

// TestEveryKeyIsUsed keeps the catalogue to what the screens show: a
// township correcting a text nobody sees would wonder why nothing
// changed. Each use must also fill in what the text takes: t for texts
// without values, tf with a wording.Args literal naming each of them.
func TestEveryKeyIsUsed(t *testing.T) {
	found := uses(t)
	consts := constants(t)
	for name := range found {
		if _, ok := consts[name]; !ok && name != "Args" && name != "Key" {
			if _, fn := map[string]bool{"Lookup": true, "Format": true, "Default": true, "Check": true, "Known": true, "Keys": true, "Placeholders": true}[name]; !fn {
				t.Errorf("%s: wording.%s is not a key", found[name][0].pos, name)
			}
		}
	}
	for name, k := range consts {
		us := found[name]
		if len(us) == 0 {
			t.Errorf("%s (%q) is used nowhere in the kiosk's code; remove it from zh-CN.yaml and keys.go", name, k)
		}
		want := Placeholders(Default(k))
		for _, u := range us {
			switch u.call {
			case "t":
				if len(want) > 0 {
					t.Errorf("%s: %s takes %s; use tf", u.pos, k, braces(want))
				}
			case "tf":
				if !slices.Equal(u.args, want) {
					t.Errorf("%s: %s takes %s, the call gives %s", u.pos, k, braces(want), braces(u.args))
				}
			}
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		key, text, want string
	}{
		{"dim.wake", "摸一下屏幕", ""},
		{"dim.woke", "摸一下屏幕", "not a text of the kiosk"},
		{"dim.wake", "  ", "is empty"},
		{"mediation.prefer_too_many", "最多选 3 个。", "takes {n}, not no values"},
		{"mediation.prefer_too_many", "最多选 {m} 个。", "takes {n}, not {m}"},
		{"mediation.prefer_too_many", "最多选 {n} 个{。", "brace"},
		{"mediation.fact_other", "对方：{phone} {name}", ""},
		// 朗读 (2 characters) is a header button: at most 8.
		{"common.read_aloud", "念给我听听吧", ""},
		{"common.read_aloud", "请点这里让机器念给您听", "at most 8"},
		{"common.read_aloud", "念给\n我听", "line break"},
		{"common.read_aloud", "念给\t我听", "control character"},
		{"dim.wake", "摸一下\r屏幕", "line break"},
	} {
		err := Check(c.key, c.text)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Check(%q, %q) = %v", c.key, c.text, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Check(%q, %q) = %v, want %q", c.key, c.text, err, c.want)
		}
	}
}

func TestLookupAndFormat(t *testing.T) {
	over := map[string]string{
		string(DimWake):                "摸一下屏幕",
		string(MediationPreferTooMany): "最多 3 个", // lost {n}: not shown
	}
	if got := Lookup(over, DimWake); got != "摸一下屏幕" {
		t.Errorf("Lookup = %q", got)
	}
	if got := Lookup(over, MediationPreferTooMany); got != Default(MediationPreferTooMany) {
		t.Errorf("an invalid correction is shown: %q", got)
	}
	if got := Format("选 1 到 {n} 个，{x}", Args{"n": 3}); got != "选 1 到 3 个，{x}" {
		t.Errorf("Format = %q", got)
	}
}
