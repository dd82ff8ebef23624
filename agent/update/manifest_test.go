package update

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the windows are in Asia/Shanghai whatever the machine has
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	hashB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func sampleManifest() *Manifest {
	return &Manifest{
		Release:  "1.4.0",
		Window:   Window{Start: 2 * 60, End: 5 * 60},
		Deadline: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC),
		Packages: map[string][]Package{
			"arm64": {{Name: "fengqiao-kioskd", Version: "1.4.0-1", Size: 6180020, SHA256: hashA,
				URL: "https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"}},
			"armhf": {{Name: "fengqiao-kioskd", Version: "1.4.0-1", Size: 5870112, SHA256: hashB,
				URL: "https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_armhf.deb"}},
		},
	}
}

func mustMarshal(t testing.TB, m *Manifest) []byte {
	t.Helper()
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return data
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; fengqiao.update/v1 is pinned by it.\n got: %s\nwant: %s", path, got, want)
	}
}

func TestManifestGolden(t *testing.T) {
	data := mustMarshal(t, sampleManifest())
	golden(t, "manifest.json", data)
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustMarshal(t, m); !bytes.Equal(again, data) {
		t.Errorf("round trip changed it:\n%s\n%s", data, again)
	}
	pkgs, err := m.For("arm64")
	if err != nil || len(pkgs) != 1 || pkgs[0].SHA256 != hashA {
		t.Errorf("For(arm64) = %v, %v", pkgs, err)
	}
	if _, err := m.For("amd64"); err == nil || !strings.Contains(err.Error(), "arm64, armhf") {
		t.Errorf("For(amd64) = %v; want the architectures it has named", err)
	}
}

func TestParseRefuses(t *testing.T) {
	good := string(mustMarshal(t, sampleManifest()))
	for name, edit := range map[string][2]string{
		"other format":          {`"fengqiao.update/v1"`, `"fengqiao.update/v2"`},
		"unknown member":        {`"release"`, `"note":"x","release"`},
		"no release":            {`"release":"1.4.0",`, ``},
		"release with newline":  {`"1.4.0"`, `"1.4.0\n"`},
		"no window":             {`"window":"02:00-05:00",`, ``},
		"window without dash":   {`"02:00-05:00"`, `"02:00 05:00"`},
		"window en dash":        {`"02:00-05:00"`, `"02:00–05:00"`},
		"window hour 25":        {`"02:00-05:00"`, `"02:00-25:00"`},
		"window minute 60":      {`"02:00-05:00"`, `"02:60-05:00"`},
		"window not padded":     {`"02:00-05:00"`, `"2:00-5:00"`},
		"window empty":          {`"02:00-05:00"`, `"02:00-02:00"`},
		"window whole day":      {`"02:00-05:00"`, `"00:00-24:00"`},
		"window starts at 24":   {`"02:00-05:00"`, `"24:00-05:00"`},
		"deadline not RFC 3339": {`"2026-12-20T00:00:00Z"`, `"2026-12-20"`},
		"no packages":           {`"packages":{`, `"packages":{},"x":{`},
		"unknown architecture":  {`"armhf"`, `"i386"`},
		"architecture null":     {`"armhf":[`, `"armhf":null,"amd64":[`},
		"architecture empty":    {`"armhf":[`, `"amd64":[],"armhf":[`},
		"package not ours":      {`"name":"fengqiao-kioskd","version":"1.4.0-1","size":6180020`, `"name":"openssh-server","version":"1.4.0-1","size":6180020`},
		"package name upper":    {`"name":"fengqiao-kioskd","version":"1.4.0-1","size":6180020`, `"name":"fengqiao-Kioskd","version":"1.4.0-1","size":6180020`},
		"package twice":         {`"armhf":[{`, `"armhf":[{"name":"fengqiao-kioskd","version":"1.4.0-1","size":1,"sha256":"` + hashB + `","url":"https://a.example/x.deb"},{`},
		"version not Debian":    {`"version":"1.4.0-1","size":6180020`, `"version":"v1.4.0","size":6180020`},
		"version empty":         {`"version":"1.4.0-1","size":6180020`, `"version":"","size":6180020`},
		"size zero":             {`"size":6180020`, `"size":0`},
		"size negative":         {`"size":6180020`, `"size":-1`},
		"size too large":        {`"size":6180020`, `"size":268435457`},
		"size fractional":       {`"size":6180020`, `"size":6180020.5`},
		"sha256 upper case":     {hashA, strings.ToUpper(hashA)},
		"sha256 short":          {hashA, hashA[:63]},
		"sha256 not hex":        {hashA, "z" + hashA[1:]},
		"url http":              {`"https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`, `"http://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`},
		"url without host":      {`"https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`, `"https:///pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`},
		"url with user":         {`"https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`, `"https://u:p@updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`},
		"url not a deb":         {`"https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"`, `"https://updates.xingcun.example/pool/install.sh"`},
		"trailing data":         {`}]}}`, `}]}} {}`},
		"null member":           {`"release":"1.4.0"`, `"release":null`},
	} {
		text := strings.Replace(good, edit[0], edit[1], 1)
		if text == good {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if m, err := Parse([]byte(text)); err == nil {
			t.Errorf("%s: accepted %+v", name, m)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Marshal refuses what Parse refuses.
	m := sampleManifest()
	m.Packages["arm64"][0].SHA256 = "nope"
	if _, err := m.Marshal(); err == nil {
		t.Error("Marshal signed a bad hash")
	}
}

func TestParseAccepts(t *testing.T) {
	good := string(mustMarshal(t, sampleManifest()))
	for name, edit := range map[string][2]string{
		"no deadline":          {`"deadline":"2026-12-20T00:00:00Z",`, ``},
		"deadline with offset": {`"2026-12-20T00:00:00Z"`, `"2026-12-20T08:00:00+08:00"`},
		"window over midnight": {`"02:00-05:00"`, `"23:30-04:00"`},
		"window to midnight":   {`"02:00-05:00"`, `"22:00-24:00"`},
		"version with epoch":   {`"version":"1.4.0-1","size":6180020`, `"version":"2:1.4.0~rc1+git5-1","size":6180020`},
		"url with port":        {`"https://updates.xingcun.example/pool/`, `"https://10.0.0.1:8443/pool/`},
	} {
		text := strings.Replace(good, edit[0], edit[1], 1)
		if text == good {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if _, err := Parse([]byte(text)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWindow(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal("Asia/Shanghai:", err) // time/tzdata is linked in: this cannot be missing
	}
	at := func(hhmm string) time.Time { // a time in Shanghai, given in UTC
		c, err := parseClock(hhmm, false)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 12, 6, c/60, c%60, 0, 0, shanghai).UTC()
	}
	night := Window{Start: 2 * 60, End: 5 * 60}
	late := Window{Start: 23 * 60, End: 1 * 60}
	tests := []struct {
		w    Window
		t    string
		in   bool
		next string // when not in: the opening, Shanghai wall clock, "+1" for the next day
	}{
		{night, "01:59", false, "02:00"},
		{night, "02:00", true, ""},
		{night, "04:59", true, ""},
		{night, "05:00", false, "02:00+1"},
		{night, "14:00", false, "02:00+1"},
		{late, "22:59", false, "23:00"},
		{late, "23:00", true, ""},
		{late, "00:30", true, ""},
		{late, "01:00", false, "23:00"},
	}
	for _, tt := range tests {
		t.Run(tt.w.String()+"@"+tt.t, func(t *testing.T) {
			now := at(tt.t)
			if got := tt.w.Contains(now, shanghai); got != tt.in {
				t.Fatalf("Contains = %v", got)
			}
			next := tt.w.Next(now, shanghai)
			if tt.in {
				if !next.Equal(now) {
					t.Errorf("Next = %v inside the window", next)
				}
				return
			}
			hhmm, plus := strings.CutSuffix(tt.next, "+1")
			want := at(hhmm)
			if plus {
				want = want.AddDate(0, 0, 1)
			}
			if !next.Equal(want) {
				t.Errorf("Next = %v, want %v", next.In(shanghai), want.In(shanghai))
			}
		})
	}
}

func TestMayInstall(t *testing.T) {
	m := sampleManifest() // 02:00-05:00, deadline 2026-12-20T00:00Z
	noon := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	if m.MayInstall(noon, time.UTC) {
		t.Error("installs at noon before the deadline")
	}
	if !m.MayInstall(time.Date(2026, 12, 10, 3, 0, 0, 0, time.UTC), time.UTC) {
		t.Error("does not install in the window")
	}
	if !m.MayInstall(m.Deadline, time.UTC) || !m.MayInstall(m.Deadline.Add(12*time.Hour), time.UTC) {
		t.Error("the deadline does not lift the window")
	}
	m.Deadline = time.Time{}
	if m.MayInstall(noon.AddDate(1, 0, 0), time.UTC) {
		t.Error("no deadline, yet installs outside the window")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustMarshal(f, sampleManifest()))
	f.Add([]byte(`{"format":"fengqiao.update/v1","window":"23:00-01:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses marshals, and parses again to the same.
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("parsed but does not marshal: %v", err)
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("marshalled form does not parse: %v\n%s", err, out)
		}
		if again, _ := m2.Marshal(); !bytes.Equal(again, out) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}
