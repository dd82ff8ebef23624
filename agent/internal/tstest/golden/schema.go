package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// MeetsSchema checks doc against the JSON Schema (draft 2020-12, formats
// asserted) in the file schemaFile of the directory schemas (docs/schemas,
// which the township's tools are written against). A schema that does not
// read or compile fails the test; a document that does not meet it is the
// returned error, so a test can also hold that a schema refuses.
func MeetsSchema(t testing.TB, schemas, schemaFile string, doc []byte) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	path := filepath.Join(schemas, schemaFile)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sdoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(path, sdoc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}
