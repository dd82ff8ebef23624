package config

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PatchSchema identifies a township patch (docs/bundles.md, "Patches"): a
// YAML document that changes some values of the site file's bundle
// sections and leaves the rest as the kiosk's site file has them. It
// travels in bundles of kind site-patch, which a kiosk that does not know
// patches refuses as unsupported instead of reading as a whole section.
const PatchSchema = "fengqiao.site-patch/v1"

// WithPatch returns the configuration of c with a township patch merged
// over its site file by RFC 7396 (JSON merge patch, over the YAML the
// technician wrote): a mapping in the patch changes only the keys it names,
// null removes a key (back to its default), and any other value, a list
// above all, replaces the site file's whole. The result is validated as a
// whole by the same rules as a site file, like WithBundle's. name labels
// problems; lines in them are the patch's. c is not changed.
//
// The patch is merged over the site file, not over the bundle in force:
// like a whole-section bundle it says everything township IT wants changed
// from the site file, so a kiosk that missed bundles while offline ends
// right from the latest alone (a retained topic keeps only that one).
func (c *Config) WithPatch(name string, patch []byte, version uint64) (*Config, error) {
	if c.siteRoot == nil {
		return nil, fmt.Errorf("config: %s: a patch needs the site file it changes, and this configuration was not loaded from one", name)
	}
	var b bundleDoc
	doc, err := decodeBytes(name, patch, &b)
	problems, err := decodeProblems(err)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, &Error{Problems: problems}
	}
	problems = bundleKeyProblems(problems)
	ch := &checker{doc: doc}
	if b.Schema != PatchSchema {
		ch.fail("schema", "%q is not a site patch (want %q)", b.Schema, PatchSchema)
	}
	if doc.root.Kind != yaml.MappingNode {
		ch.fail("", "is not a mapping of %s", strings.Join(BundleSections, ", "))
		return nil, &Error{Problems: append(problems, ch.problems...)}
	}
	ch.plainYAML("", doc.root)
	patchNode := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(doc.root.Content); i += 2 {
		if k := doc.root.Content[i]; slices.Contains(BundleSections, k.Value) {
			patchNode.Content = append(patchNode.Content, k, doc.root.Content[i+1])
		}
	}
	if len(patchNode.Content) == 0 {
		ch.fail("", "sets none of %s", strings.Join(BundleSections, ", "))
	}
	problems = append(problems, ch.problems...)
	if len(problems) > 0 {
		// A patch that is itself wrong (a misspelt key, a wrong type)
		// would only add confusing problems once merged.
		return nil, &Error{Problems: problems}
	}

	merged := mergePatch(c.siteRoot, patchNode)
	// Decode only the sections the patch names; the others stay as
	// c.Site has them. Their nodes are the site file's, with the
	// patch's in place: a scalar means what it means in a site file.
	sections := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(patchNode.Content); i += 2 {
		k := patchNode.Content[i].Value
		if v := mappingValue(merged, k); v != nil {
			sections.Content = append(sections.Content, patchNode.Content[i], v)
		}
	}
	var m bundleDoc
	if err := sections.Decode(&m); err != nil {
		problems = append(problems, doc.typeProblems(err)...)
	}
	site := c.Site
	after := &checker{doc: doc} // the problems of what the merge makes
	for i := 0; i+1 < len(patchNode.Content); i += 2 {
		switch patchNode.Content[i].Value {
		case "content":
			site.Content = deref(m.Content)
		case "mediators":
			site.Mediators = deref(m.Mediators)
		case "ui":
			site.UI = deref(m.UI)
		case "records":
			site.Records = deref(m.Records)
			after.recordsKeyGiven(site.Records)
		}
	}
	problems = append(problems, after.problems...)
	return c.withSite(doc, problems, site, version, c.listHints)
}

// listHints explains the problems of a patch that gives a shorter list
// than the site file's: RFC 7396 replaces a list whole, so the items left
// out are gone, which "service \"publicity\" is missing" alone does not say.
func (c *Config) listHints(doc *document, problems []Problem) []Problem {
	var hints []Problem
	var walk func(path string, mine, theirs *yaml.Node)
	walk = func(path string, mine, theirs *yaml.Node) {
		switch {
		case theirs == nil:
		case mine.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(mine.Content); i += 2 {
				k := mine.Content[i].Value
				walk(join(path, k), mine.Content[i+1], mappingValue(theirs, k))
			}
		case mine.Kind == yaml.SequenceNode && theirs.Kind == yaml.SequenceNode &&
			len(mine.Content) < len(theirs.Content) && blames(problems, path):
			hints = append(hints, doc.problem(path, "a list in a patch replaces the site file's whole list: the site file has %d items, the patch %d; give every item the kiosk should keep",
				len(theirs.Content), len(mine.Content)))
		}
	}
	for _, sec := range BundleSections {
		if mine := mappingValue(doc.root, sec); mine != nil {
			walk(sec, mine, mappingValue(c.siteRoot, sec))
		}
	}
	return append(hints, problems...)
}

// deref is *p, or the zero value for a section the patch removed.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// plainYAML refuses what YAML offers beyond JSON's data model that a merge
// patch cannot mean one thing with: anchors and aliases (is a change to the
// anchor a change to every alias?), and a key given twice in one mapping
// (which one wins?).
func (c *checker) plainYAML(path string, n *yaml.Node) {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		c.fail(path, "uses a YAML anchor or alias (&, *); write the value out in a patch")
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			child := join(path, k.Value)
			if seen[k.Value] {
				c.fail(child, "is given twice")
				continue
			}
			seen[k.Value] = true
			c.plainYAML(child, n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			c.plainYAML(fmt.Sprintf("%s[%d]", path, i), item)
		}
	}
}

// mergePatch applies patch to target as RFC 7396 section 2 says, with
// YAML nodes for JSON values: a mapping patch merges key by key, a null
// value removing the key, anything else replaces the target whole. It
// returns the result and changes neither argument: nodes of target that
// the patch does not touch are shared, the mappings on the way to a change
// are copied. target may be nil (no value).
//
// It works on YAML nodes rather than on JSON, so that a scalar keeps the
// exact text and style it was written with (from: "09:00", a date, a
// size like 256MiB) and the merged document decodes by the same rules as
// a site file. For that reason it is written here rather than taken from
// a JSON merge-patch library, which would round-trip every value through
// JSON's types.
func mergePatch(target, patch *yaml.Node) *yaml.Node {
	if patch.Kind != yaml.MappingNode {
		return patch
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: patch.Line, Column: patch.Column}
	if target != nil && target.Kind == yaml.MappingNode {
		cp := *target
		cp.Content = append([]*yaml.Node(nil), target.Content...)
		out = &cp
	}
	for i := 0; i+1 < len(patch.Content); i += 2 {
		key, val := patch.Content[i], patch.Content[i+1]
		j := mappingIndex(out, key.Value)
		switch {
		case isNull(val):
			if j >= 0 {
				out.Content = append(out.Content[:j], out.Content[j+2:]...)
			}
		case j >= 0:
			out.Content[j+1] = mergePatch(out.Content[j+1], val)
		default:
			out.Content = append(out.Content, key, mergePatch(nil, val))
		}
	}
	return out
}

// mappingIndex is the index in m.Content of key's key node, or -1.
func mappingIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// mappingValue is the value of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if i := mappingIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

// isNull says whether n is YAML's null (null, ~ or nothing after the
// colon): JSON's null, which removes a key in a merge patch.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// PatchChange is one value a patch sets, as the site file has it and as
// the patch makes it, for township IT to read before signing.
type PatchChange struct {
	Field string // dotted path, e.g. "content.advisor.duty"
	// Was and Now are the values in YAML's flow style, "" for none (a
	// key the site file leaves out, or the patch removes).
	Was, Now string
}

// PatchChanges lists what a patch sets over c's site file, in the order it
// says them: each value that is not a mapping (a mapping only says where).
// The patch must be one WithPatch accepts.
func (c *Config) PatchChanges(patch []byte) ([]PatchChange, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(patch, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: not a site patch")
	}
	var out []PatchChange
	var walk func(path string, mine, theirs *yaml.Node)
	walk = func(path string, mine, theirs *yaml.Node) {
		if mine.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(mine.Content); i += 2 {
				k := mine.Content[i].Value
				walk(join(path, k), mine.Content[i+1], mappingValue(theirs, k))
			}
			return
		}
		ch := PatchChange{Field: path, Was: flowYAML(theirs)}
		if !isNull(mine) {
			ch.Now = flowYAML(mine)
		}
		out = append(out, ch)
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k := doc.Content[i].Value; slices.Contains(BundleSections, k) {
			walk(k, doc.Content[i+1], mappingValue(c.siteRoot, k))
		}
	}
	return out, nil
}

// flowYAML writes n on one line, without its comments; "" for nil.
func flowYAML(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	var flat func(n *yaml.Node) *yaml.Node
	flat = func(n *yaml.Node) *yaml.Node {
		cp := *n
		cp.HeadComment, cp.LineComment, cp.FootComment = "", "", ""
		if cp.Kind == yaml.MappingNode || cp.Kind == yaml.SequenceNode {
			cp.Style = yaml.FlowStyle
		}
		cp.Content = nil
		for _, c := range n.Content {
			cp.Content = append(cp.Content, flat(c))
		}
		return &cp
	}
	b, err := yaml.Marshal(flat(n))
	if err != nil {
		return n.Value
	}
	return strings.TrimSpace(string(b))
}
