package kioskd

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/drivers/gpio/gpiosim"
)

// TestTamperAlertReachesTownship: the enclosure's switch opening on the
// kiosk becomes an alert record that a township subscriber receives on a
// real Mosquitto; /v1/status shows the tamper open and every device's
// health, the cameras the dev board and site configure included.
func TestTamperAlertReachesTownship(t *testing.T) {
	broker := mosquittotest.Start(t)
	alerts := broker.Subscribe(t, mqtttopic.Record("dev-township", "dev-kiosk-01", "alert"))
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.OverrideBroker(broker.URL); err != nil {
		t.Fatal(err)
	}
	board := gpiosim.NewBoard()
	dir := t.TempDir()
	socket := filepath.Join(dir, "kioskd.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, DataDir: filepath.Join(dir, "data"), Socket: socket, Version: "test",
			Log: slog.New(slog.DiscardHandler), Pins: board.Pin})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	})
	c := localclient.New(socket)
	status := func() apitype.Status {
		t.Helper()
		for range 500 {
			if st, err := c.Status(context.Background()); err == nil && st.Hardware != nil {
				return st
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("kioskd did not answer")
		return apitype.Status{}
	}
	waitFor := func(what string, ok func(apitype.Hardware) bool) apitype.Hardware {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			h := *status().Hardware
			if ok(h) {
				return h
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: hardware %+v", what, h)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	h := waitFor("devices up", func(h apitype.Hardware) bool {
		return h.Tamper.State == apitype.DeviceReady && h.PIR.State == apitype.DeviceReady && h.LED.State == apitype.DeviceReady &&
			len(h.Cameras) == 2 && h.Cameras[0].State == apitype.DeviceReady && h.Cameras[1].State == apitype.DeviceReady
	})
	if h.Cameras[0].Name != "kiosk-front" || h.Cameras[1].Name != "village-gate" || h.Cameras[0].Width != 640 {
		t.Errorf("cameras %+v", h.Cameras)
	}

	board.Line(gpiosim.Tamper).Set(gpio.High) // the door opens
	select {
	case m := <-alerts:
		var rec struct {
			Type string `json:"type"`
			Body struct {
				Kind string `json:"kind"`
			} `json:"body"`
		}
		if err := json.Unmarshal(m.Payload(), &rec); err != nil || rec.Body.Kind != "tamper_open" {
			t.Errorf("alert %s (%v)", m.Payload(), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no tamper alert reached the township")
	}
	waitFor("tamper open, LED on fault", func(h apitype.Hardware) bool { return h.Tamper.Active && h.LED.Pattern == "fault" })
	ledLit(t, board.Line(gpiosim.LED))
}

// ledLit waits for the fault pattern's flash to light the LED once.
func ledLit(t *testing.T, p *gpiosim.Pin) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if p.Read() == gpio.High {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the LED never lit")
}
