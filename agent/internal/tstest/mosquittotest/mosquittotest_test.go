package mosquittotest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
)

// TestStartTLS: the generated TLS listener takes only certificates of its
// CA, uses the CN as the username, and applies the ACL file.
func TestStartTLS(t *testing.T) {
	ca := testpki.NewCA(t, "Test CA")
	server := ca.Server(t)
	acl := filepath.Join(t.TempDir(), "acl")
	if err := os.WriteFile(acl, []byte("pattern readwrite own/%u\nuser reader\ntopic read own/#\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reader := testpki.ClientTLS(ca, ca.Client(t, "reader"))
	b := New(t)
	b.TLS = &TLS{CAFile: ca.CertFile, CertFile: server.CertFile, KeyFile: server.KeyFile, Client: reader}
	b.ACLFile = acl
	b.Start()
	if !strings.HasPrefix(b.URL, "ssl://127.0.0.1:") {
		t.Fatalf("URL = %s", b.URL)
	}
	if _, err := b.Connect(t, testpki.ClientTLS(ca, testpki.Leaf{}), "anonymous"); err == nil {
		t.Error("connected without a certificate")
	}
	other := testpki.NewCA(t, "Other CA")
	if _, err := b.Connect(t, testpki.ClientTLS(ca, other.Client(t, "k1")), "k1"); err == nil {
		t.Error("connected with another CA's certificate")
	}

	msgs := b.Subscribe(t, "own/#")
	k1 := testpki.ClientTLS(ca, ca.Client(t, "k1"))
	// k1 may write only own/k1. The broker acknowledges the denied publish
	// (and then closes the connection), so each goes on a connection of its
	// own; the allowed one, sent after, arrives first.
	for _, topic := range []string{"own/k2", "own/k1"} {
		c, err := b.Connect(t, k1, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if tok := c.Publish(topic, 1, false, topic); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
		c.Disconnect(0)
	}
	select {
	case m := <-msgs:
		if m.Topic() != "own/k1" {
			t.Errorf("the ACL let %s through", m.Topic())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("own/k1 did not arrive")
	}
}
