package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	townshipctl "github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/update/download"
	"github.com/fengqiao/kiosk/agent/updater"
)

// e2eDpkg stands in for dpkg: versions in memory, the .deb checked to be
// the one served.
type e2eDpkg struct {
	mu        sync.Mutex
	installed map[string]string
	debs      [][]byte
}

func (d *e2eDpkg) Installed(_ context.Context, name string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.installed[name], nil
}

func (d *e2eDpkg) Compare(_ context.Context, a, b string) (int, error) {
	return bytes.Compare([]byte(a), []byte(b)), nil
}

func (d *e2eDpkg) Repack(_ context.Context, name, dir string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Like dpkg-repack, leaves a file (the updater records its SHA-256).
	path := filepath.Join(dir, "repacked.deb")
	return path, os.WriteFile(path, []byte("repacked "+name+"\n"), 0o644)
}

// e2eHealth is the real health check, but for the version kioskd reports:
// e2eDpkg installs nothing, so kioskd still runs the test's build.
type e2eHealth struct{ updater.KioskHealth }

func (h e2eHealth) Check(ctx context.Context, b updater.Baseline) error {
	b.KioskdVersion = ""
	return h.KioskHealth.Check(ctx, b)
}

func (d *e2eDpkg) Audit(context.Context) ([]updater.PackageState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []updater.PackageState
	for name, v := range d.installed {
		out = append(out, updater.PackageState{Name: name, Version: v, Status: "installed"})
	}
	return out, nil
}

func (d *e2eDpkg) Install(_ context.Context, debs []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range debs {
		if filepath.Base(p) == "fengqiao-kioskd_9.9.9-1_amd64.deb" {
			d.installed["fengqiao-kioskd"] = "9.9.9-1"
		}
	}
	return nil
}

func (d *e2eDpkg) Remove(context.Context, []string) error { return nil }

// TestUpdateEndToEnd: the township signs an update for one kiosk and pushes
// it to a real Mosquitto; kioskd spools it; the updater verifies it,
// fetches the package from an HTTPS server that requires the kiosk's
// certificate, installs it (dpkg faked), checks the real kioskd's health
// over its local API, and reports; kioskd publishes the report retained,
// and the township reads it in its status.
func TestUpdateEndToEnd(t *testing.T) {
	broker := mosquittotest.Start(t)
	reports := broker.Subscribe(t, mqtttopic.UpdateReported("dev-township", "dev-kiosk-01"))
	dataDir := t.TempDir()
	updDir := t.TempDir()
	p := mustStartKioskd(t, dataDir, broker.URL, "--updater-report", filepath.Join(updDir, "reported.json"))
	ctx := context.Background()

	// The township's update server, mutual TLS with the township CA.
	ca := testpki.NewCA(t, "township CA")
	deb := bytes.Repeat([]byte("fengqiao-kioskd 9.9.9-1\n"), 4096)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pool/fengqiao-kioskd_9.9.9-1_amd64.deb" || len(r.TLS.PeerCertificates) == 0 {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(deb))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).Pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// Signed as kioskctl update sign does; installable at once (the
	// deadline has passed).
	sum := sha256.Sum256(deb)
	m := &update.Manifest{Release: "9.9.9-1", Window: update.Window{Start: 2 * 60, End: 5 * 60}, Deadline: time.Now().Add(-time.Minute),
		Packages: map[string][]update.Package{"amd64": {{Name: "fengqiao-kioskd", Version: "9.9.9-1", Size: int64(len(deb)),
			SHA256: hex.EncodeToString(sum[:]), URL: srv.URL + "/pool/fengqiao-kioskd_9.9.9-1_amd64.deb"}}}}
	content, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindUpdate, Version: 300, Target: bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-01"}},
		NotBefore: now.Add(-time.Minute), Expires: now.Add(time.Hour), Content: content}, mustDevTownshipKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, mqtttopic.UpdateSet("dev-township", "dev-kiosk-01"), env); err != nil {
		t.Fatal(err)
	}

	// The updater, as fengqiao-updater runs it.
	cfg, err := config.Load(devConfig)
	if err != nil {
		t.Fatal(err)
	}
	api := localclient.New(p.socket)
	dpkg := &e2eDpkg{installed: map[string]string{"fengqiao-kioskd": "1.0.0-1"}}
	u, err := updater.Open(updater.Options{
		Dir: updDir, Identity: bundle.Identity{Kiosk: "dev-kiosk-01", Township: "dev-township"}, Arch: "amd64",
		Location: cfg.Location, TownshipKeys: cfg.Site.Control.TownshipKeys,
		Dpkg: dpkg, Screen: updater.KioskScreen{API: api}, Health: e2eHealth{updater.KioskHealth{API: api}},
		Fetcher:    download.New(download.Options{Client: download.NewClient(testpki.ClientTLS(ca, ca.Client(t, "dev-kiosk-01")))}),
		HealthPoll: 100 * time.Millisecond, HealthStable: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dataDir, kioskd.UpdateSpoolDir)
	// A villager's flow on screen (the UI's mark) holds the install back,
	// though the deadline has passed, until the UI frees the kiosk.
	if err := api.MarkInUse(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for r := u.Reported(); r.Status != updater.StatusWaiting || !strings.Contains(r.Error, "villager"); r = u.Reported() {
		if time.Now().After(deadline) {
			t.Fatalf("updater at %+v, want waiting for the villager", r)
		}
		if err := u.ProcessSpool(ctx, spool); err != nil {
			t.Fatal(err)
		}
		if err := u.Step(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, _ := dpkg.Installed(ctx, "fengqiao-kioskd"); v != "1.0.0-1" {
		t.Fatalf("installed %s under a villager's finger", v)
	}
	if err := api.MarkInUse(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for u.Reported().Status != updater.StatusInstalled {
		if time.Now().After(deadline) {
			t.Fatalf("updater at %+v", u.Reported())
		}
		if err := u.ProcessSpool(ctx, spool); err != nil {
			t.Fatal(err)
		}
		if err := u.Step(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, _ := dpkg.Installed(ctx, "fengqiao-kioskd"); v != "9.9.9-1" {
		t.Fatalf("installed %s", v)
	}

	// Published by kioskd, retained, and read by the township.
	timeout := time.After(15 * time.Second)
	for done := false; !done; {
		select {
		case msg := <-reports:
			var r updater.Reported
			json.Unmarshal(msg.Payload(), &r)
			done = r.Status == updater.StatusInstalled && r.Version == 300 && r.Packages["fengqiao-kioskd"] == "9.9.9-1"
		case <-timeout:
			t.Fatal("the installed report was not published")
		}
	}
	states, err := townshipctl.UpdateStatus(ctx, townshipctl.Conn{Broker: broker.URL}, "dev-township", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].Kiosk != "dev-kiosk-01" || states[0].Online != "online" ||
		states[0].Reported == nil || states[0].Reported.Status != updater.StatusInstalled || states[0].Reported.Release != "9.9.9-1" {
		t.Errorf("township sees %+v", states)
	}
}
