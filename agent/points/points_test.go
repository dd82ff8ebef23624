package points_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/golden"
	"github.com/fengqiao/kiosk/agent/points"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var asOf = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

// testKey is bytes 0…31: the golden vectors below hold for it.
func testKey(t *testing.T) *points.Key {
	t.Helper()
	raw := make([]byte, points.KeySize)
	for i := range raw {
		raw[i] = byte(i)
	}
	k, err := points.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Two resident ID numbers with valid check characters (GB 11643).
const (
	idWithPoints = "11010519491231002X"
	idNoPoints   = "440524188001010014"
)

func mustAccount(t *testing.T, k *points.Key, id string) string {
	t.Helper()
	a, err := k.Account(id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func goodLedger(t *testing.T, k *points.Key, version uint64) *points.Ledger {
	t.Helper()
	stock := 12
	return &points.Ledger{Format: points.Format, Village: "兴村", Version: version, AsOf: asOf, Month: "2026-12",
		Offers: []points.Offer{{Name: "洗衣液", Points: 30, Pictogram: "detergent", Stock: &stock}, {Name: "大米5斤", Points: 50}},
		Rules:  []points.Rule{{Text: "参加村道环境整治", Points: 5}, {Text: "乱扔垃圾", Points: -5}},
		Where:  "村委会一楼 积分超市，每周六上午", KeyID: k.ID(),
		Accounts: map[string]points.Account{
			mustAccount(t, k, idWithPoints): {Balance: 85, Entries: []points.Entry{
				{Date: "2026-12-01", Points: 5, Reason: "参加村道环境整治"},
				{Date: "2026-11-20", Points: 80, Reason: "孝老爱亲 评为好媳妇"},
			}},
		}}
}

// TestAccountKeyGolden holds the account key a township tool in any
// language must compute (docs/points.md): HMAC-SHA256 over the domain and
// the normalised number.
func TestAccountKeyGolden(t *testing.T) {
	k := testKey(t)
	const want = "910d4a9f3fe0f61dbae70cf8e3540baea4adc556db2d4457f927865c974f316a"
	for _, id := range []string{idWithPoints, " 11010519491231002x ", "11010519491231002x"} {
		if got := mustAccount(t, k, id); got != want {
			t.Errorf("Account(%q) = %s, want %s", id, got, want)
		}
	}
	if got := k.ID(); got != "630dcd2966c43366" {
		t.Errorf("ID() = %s, want 630dcd2966c43366", got)
	}
	for _, bad := range []string{"", "1101051949123100", "11010519491231002X1", "110105-19491231002"} {
		if _, err := k.Account(bad); !errors.Is(err, points.ErrBadIDNumber) {
			t.Errorf("Account(%q) = %v, want ErrBadIDNumber", bad, err)
		}
	}
	other, err := points.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if mustAccount(t, other, idWithPoints) == want {
		t.Error("another key gives the same account key")
	}
}

// TestKeyFile: the key file round-trips, a production kiosk refuses one
// others may read, and the dev key's id is DevKeyID.
func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	path := filepath.Join(dir, "points.key")
	if err := os.WriteFile(path, k.Text(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := points.ReadKeyFile(path, true)
	if err != nil || got.ID() != k.ID() {
		t.Fatalf("ReadKeyFile = %v, %v", got, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := points.ReadKeyFile(path, true); !errors.Is(err, points.ErrBadKey) {
		t.Errorf("a key others may read: %v, want ErrBadKey", err)
	}
	if _, err := points.ReadKeyFile(path, false); err != nil {
		t.Errorf("a dev checkout's key: %v", err)
	}
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := points.ReadKeyFile(path, true); !errors.Is(err, points.ErrBadKey) {
		t.Errorf("garbage: %v, want ErrBadKey", err)
	}
	dev, err := points.ReadKeyFile("../../packaging/dev/dev-points.key", false)
	if err != nil || dev.ID() != points.DevKeyID {
		t.Errorf("dev key: %v, %v; want id %s", dev, err, points.DevKeyID)
	}
}

// TestLedgerGolden holds the ledger's JSON, which the township's tools
// write (docs/points.md, docs/schemas/points-ledger.v1.json).
func TestLedgerGolden(t *testing.T) {
	l := goodLedger(t, testKey(t), 7)
	got, err := l.EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "points-ledger.v1.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("ledger encodes as\n%s\nwant (testdata)\n%s", got, want)
	}
	if err := mustMeetSchema(t, "points-ledger.v1.json", want); err != nil {
		t.Errorf("golden ledger does not meet its schema: %v", err)
	}
	content, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := points.Decode(content)
	if err != nil {
		t.Fatalf("Decode(Encode): %v", err)
	}
	if back.Version != 7 || back.Accounts[mustAccount(t, testKey(t), idWithPoints)].Balance != 85 {
		t.Errorf("Decode(Encode) = %+v", back)
	}
}

// TestParse: what the kiosk refuses, each named.
func TestParse(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "points-ledger.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	g := strings.TrimSpace(string(golden))
	longReason := strings.Repeat("好", points.MaxReason+1)
	tests := []struct {
		name, doc string
		want      string // in the error; "" takes it
	}{
		{"golden", g, ""},
		{"unknown member", strings.Replace(g, `{`, `{"names":[],`, 1), "unknown field"},
		{"trailing data", g + "{}", "trailing data"},
		{"other format", strings.Replace(g, points.Format, "fengqiao.points-ledger/v2", 1), "format"},
		{"no version", strings.Replace(g, `"version":7,`, ``, 1), "version is required"},
		{"bad month", strings.Replace(g, `"2026-12"`, `"2026-13"`, 1), "month"},
		{"bad key id", strings.Replace(g, `"630dcd2966c43366"`, `"630DCD2966C43366"`, 1), "key_id"},
		{"offers null", strings.Replace(g, `"offers":[`, `"offers":null,"x":[`, 1), ""},
		{"zero-point offer", strings.Replace(g, `"points":30`, `"points":0`, 1), "offers[0].points"},
		{"negative stock", strings.Replace(g, `"stock":12`, `"stock":-1`, 1), "stock"},
		{"bad pictogram", strings.Replace(g, `"detergent"`, `"../etc"`, 1), "pictogram"},
		{"zero-point rule", strings.Replace(g, `"points":-5`, `"points":0`, 1), "rules[1].points"},
		{"account not hex", strings.Replace(g, `"910d4a9f`, `"910D4A9F`, 1), "is not 64 lower-case hex"},
		{"bad date", strings.Replace(g, `"2026-12-01"`, `"2026-12-32"`, 1), "date"},
		{"entries out of order", strings.Replace(g, `"2026-11-20"`, `"2026-12-02"`, 1), "newest first"},
		{"long reason", strings.Replace(g, `"参加村道环境整治"}`, `"`+longReason+`"}`, 1), "reason"},
		{"zero-point entry", strings.Replace(g, `"points":80`, `"points":0`, 1), "entries[1]: points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := points.Parse([]byte(tt.doc))
			switch {
			case tt.name == "offers null":
				if err == nil {
					t.Error("taken")
				}
			case tt.want == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tt.want != "" && (err == nil || !errors.Is(err, points.ErrBadLedger) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Parse = %v, want ErrBadLedger saying %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "910d4a9f") {
				t.Errorf("the error prints an account key: %v", err)
			}
		})
	}
}

// TestDecodeBomb: content that unpacks past MaxDecoded is refused without
// unpacking it all.
func TestDecodeBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zeros := make([]byte, 1<<20)
	for range points.MaxDecoded>>20 + 2 {
		zw.Write(zeros)
	}
	zw.Close()
	if _, err := points.Decode(buf.Bytes()); !errors.Is(err, points.ErrBadLedger) || !strings.Contains(err.Error(), "decompressed") {
		t.Errorf("Decode(bomb) = %v", err)
	}
	if _, err := points.Decode([]byte("{}")); !errors.Is(err, points.ErrBadLedger) {
		t.Errorf("Decode(not gzip) = %v", err)
	}
}

// mustMeetSchema checks a document against its JSON Schema in
// docs/schemas.
func mustMeetSchema(t *testing.T, schemaFile string, doc []byte) error {
	t.Helper()
	return golden.MeetsSchema(t, filepath.Join("..", "..", "docs", "schemas"), schemaFile, doc)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustBook(t *testing.T, dir string, key *points.Key, clock *fakeClock) *points.Book {
	t.Helper()
	b, err := points.New(points.Options{Dir: dir, SealKey: make([]byte, 32), Key: key,
		Log: slog.New(slog.DiscardHandler), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b.Load()
	return b
}

func mustApply(t *testing.T, b *points.Book, l *points.Ledger) {
	t.Helper()
	content, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(context.Background(), l, content, l.Version); err != nil {
		t.Fatalf("Apply v%d: %v", l.Version, err)
	}
}

// TestBookRefusals: each refusal leaves the ledger in force as it was.
func TestBookRefusals(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	clock := &fakeClock{t: asOf}
	b := mustBook(t, t.TempDir(), k, clock)
	mustApply(t, b, goodLedger(t, k, 7))
	other, _ := points.GenerateKey()
	mismatched := goodLedger(t, k, 9)
	mismatched.KeyID = other.ID()
	tests := []struct {
		name    string
		l       *points.Ledger
		version uint64
		want    error
	}{
		{"replay", goodLedger(t, k, 7), 7, points.ErrReplay},
		{"older", goodLedger(t, k, 6), 6, points.ErrStale},
		{"version not its bundle's", goodLedger(t, k, 8), 9, points.ErrVersion},
		{"another points key", mismatched, 9, points.ErrKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content, err := tt.l.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Apply(ctx, tt.l, content, tt.version); !errors.Is(err, tt.want) {
				t.Errorf("Apply = %v, want %v", err, tt.want)
			}
			if v, _ := b.InForce(); v != 7 {
				t.Errorf("in force v%d after a refusal, want 7", v)
			}
		})
	}
	noKey := mustBook(t, t.TempDir(), nil, clock)
	l := goodLedger(t, k, 7)
	content, _ := l.Encode()
	// Without a points key the public part is still in force (docs/points.md):
	// offers and rules are for everyone; no card finds an account.
	if err := noKey.Apply(ctx, l, content, 7); err != nil {
		t.Errorf("a kiosk without a points key refused the ledger: %v", err)
	}
	if pub, err := noKey.Public(ctx); err != nil || !pub.Available || len(pub.Offers) == 0 {
		t.Errorf("a kiosk without a points key shows %+v, %v; want the ledger's offers", pub, err)
	}
	if _, err := noKey.ByCard(ctx, "张三", idWithPoints); !errors.Is(err, points.ErrNoKey) {
		t.Errorf("ByCard without a key: %v, want ErrNoKey", err)
	}
}

// TestBookViews: a card with points, a card without, a newer ledger
// between the tap and the view, a view after another card, and one
// expired.
func TestBookViews(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	clock := &fakeClock{t: asOf}
	dir := t.TempDir()
	b := mustBook(t, dir, k, clock)

	pub, err := b.Public(ctx)
	if err != nil || pub.Available || pub.Offers == nil || pub.Rules == nil {
		t.Fatalf("Public before a ledger = %+v, %v", pub, err)
	}
	none, err := b.ByCard(ctx, "张三", idWithPoints)
	if err != nil || none.Found || none.Version != 0 || none.View == "" {
		t.Fatalf("ByCard before a ledger = %+v, %v", none, err)
	}

	mustApply(t, b, goodLedger(t, k, 7))
	acc, err := b.ByCard(ctx, "张三", idWithPoints)
	if err != nil || !acc.Found || acc.Balance != 85 || len(acc.Entries) != 2 || acc.Version != 7 || acc.Name != "张三" {
		t.Fatalf("ByCard = %+v, %v", acc, err)
	}
	if !acc.ViewExpires.Equal(asOf.Add(points.ViewTTL)) {
		t.Errorf("view expires %s, want %s", acc.ViewExpires, asOf.Add(points.ViewTTL))
	}
	if _, err := b.View(ctx, none.View); !errors.Is(err, points.ErrNoView) {
		t.Errorf("the view before another tap: %v, want ErrNoView", err)
	}

	// A newer ledger arrives while the screen shows v7.
	newer := goodLedger(t, k, 8)
	a := newer.Accounts[mustAccount(t, k, idWithPoints)]
	a.Balance = 95
	a.Entries = append([]points.Entry{{Date: "2026-12-06", Points: 10, Reason: "调解邻里纠纷"}}, a.Entries...)
	newer.Accounts[mustAccount(t, k, idWithPoints)] = a
	mustApply(t, b, newer)
	clock.Add(time.Minute)
	again, err := b.View(ctx, acc.View)
	if err != nil || again.Balance != 95 || again.Version != 8 || again.Entries[0].Reason != "调解邻里纠纷" {
		t.Errorf("View after v8 = %+v, %v; want v8's 95", again, err)
	}

	// The ledger is kept sealed: a restart finds v8, and the file holds
	// no reason in clear.
	data, err := os.ReadFile(filepath.Join(dir, points.LedgerFile))
	if err != nil || bytes.Contains(data, []byte("调解")) {
		t.Errorf("ledger file: %v, or in clear", err)
	}
	restarted := mustBook(t, dir, k, clock)
	if v, _ := restarted.InForce(); v != 8 {
		t.Errorf("after a restart v%d in force, want 8", v)
	}

	without, err := b.ByCard(ctx, "李四", idNoPoints)
	if err != nil || without.Found || without.Balance != 0 || without.Entries == nil || without.Version != 8 {
		t.Errorf("a card without points = %+v, %v", without, err)
	}
	if _, err := b.View(ctx, acc.View); !errors.Is(err, points.ErrNoView) {
		t.Errorf("张三's view after 李四 tapped: %v, want ErrNoView", err)
	}
	clock.Add(points.ViewTTL)
	if _, err := b.View(ctx, without.View); !errors.Is(err, points.ErrNoView) {
		t.Errorf("an expired view: %v, want ErrNoView", err)
	}
	if _, err := b.View(ctx, ""); !errors.Is(err, points.ErrNoView) {
		t.Errorf("an empty handle: %v, want ErrNoView", err)
	}
}

// TestDamagedFileSetAside: a ledger file that does not open is set aside
// and the kiosk starts without a ledger.
func TestDamagedFileSetAside(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, points.LedgerFile), []byte("fengqiao-points-ledger/v1\ngarbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := mustBook(t, dir, testKey(t), &fakeClock{t: asOf})
	if v, _ := b.InForce(); v != 0 {
		t.Errorf("v%d in force from a damaged file", v)
	}
	if _, err := os.Stat(filepath.Join(dir, points.LedgerFile+".bad")); err != nil {
		t.Errorf("damaged file not set aside: %v", err)
	}
}

// TestLoadWaitsBriefly: before Load has run, the API is answered within
// LoadWait, with ErrLoading, never blocked on a large file.
func TestLoadWaitsBriefly(t *testing.T) {
	b, err := points.New(points.Options{Dir: t.TempDir(), SealKey: make([]byte, 32), Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := b.Public(context.Background()); !errors.Is(err, points.ErrLoading) {
		t.Errorf("Public before Load = %v, want ErrLoading", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s", d)
	}
}

// TestVillageFits measures the village the limits are made for: 3,000
// accounts of 20 entries from a rule book of 40 reasons must make a bundle
// content that, base64 twice (payload, envelope), fits
// bundle.MaxEnvelopeSize with room (docs/points.md).
func TestVillageFits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 6 MB ledger")
	}
	l := villageLedger(t, 3000, 20)
	content, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := l.EncodeJSON()
	envelope := len(content) * 16 / 9 // two base64 layers, about
	t.Logf("3,000 × 20: JSON %d bytes, gzipped %d, envelope about %d", len(js), len(content), envelope)
	if envelope > 900<<10 {
		t.Errorf("a village's ledger makes an envelope of about %d bytes; it must fit 1 MiB with room", envelope)
	}
	if _, err := points.Decode(content); err != nil {
		t.Fatal(err)
	}
	// Kept and loaded again as at a start: what the background load costs.
	dir := t.TempDir()
	k, _ := points.NewKey(make([]byte, points.KeySize))
	if err := mustBook(t, dir, k, &fakeClock{t: asOf}).Apply(context.Background(), l, content, l.Version); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	again := mustBook(t, dir, k, &fakeClock{t: asOf})
	if v, _ := again.InForce(); v != l.Version {
		t.Fatalf("loaded v%d", v)
	}
	t.Logf("loading it at a start took %s (in the background: the API does not wait for it)", time.Since(start))
}

// villageLedger is a village of n accounts of e entries each, with
// reasons from a rule book of 40 (a village's are fewer).
func villageLedger(t testing.TB, n, e int) *points.Ledger {
	raw := make([]byte, points.KeySize)
	k, _ := points.NewKey(raw)
	l := &points.Ledger{Format: points.Format, Village: "兴村", Version: 1, AsOf: asOf, Month: "2026-12",
		Offers: []points.Offer{}, Rules: []points.Rule{}, KeyID: k.ID(), Accounts: map[string]points.Account{}}
	words := []rune("参加村道环境整治清扫垃圾分类宣传志愿服务孝老爱亲邻里互助调解纠纷移风易俗红白喜事简办门前三包庭院整洁")
	var reasons []string
	for i := range 40 {
		n := 6 + (i*7)%30
		var b strings.Builder
		for j := range n {
			b.WriteRune(words[(i*13+j*5)%len(words)])
		}
		reasons = append(reasons, b.String())
	}
	for i := range n {
		id := fmt.Sprintf("%017d", 35010219600101000+i)
		acc, _ := k.Account(id + "0")
		var entries []points.Entry
		day := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
		for j := range e {
			day = day.AddDate(0, 0, -((i+j)%17 + 1))
			entries = append(entries, points.Entry{Date: day.Format(time.DateOnly), Points: []int{5, 10, 2, 20, -5, 1}[(i*3+j)%6], Reason: reasons[(i*7+j*11)%len(reasons)]})
		}
		l.Accounts[acc] = points.Account{Balance: 100 + i%50, Entries: entries}
	}
	return l
}

// TestBookConcurrent: the screen reads (public part, views) while ledgers
// are applied; run with -race.
func TestBookConcurrent(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	b := mustBook(t, t.TempDir(), k, &fakeClock{t: asOf})
	acc, err := b.ByCard(ctx, "张三", idWithPoints)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := b.View(ctx, acc.View)
				if err != nil {
					t.Error(err)
					return
				}
				if v.Version < last {
					t.Errorf("the view went back from v%d to v%d", last, v.Version)
					return
				}
				last = v.Version
				if _, err := b.Public(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for v := uint64(1); v <= 20; v++ {
		mustApply(t, b, goodLedger(t, k, v))
	}
	close(stop)
	wg.Wait()
}

// TestBookOrderOutlivesTheLedgerFile: a ledger file that no longer opens
// is set aside, and the version kept apart still orders what comes next,
// so an older ledger still valid on the broker is not taken back.
func TestBookOrderOutlivesTheLedgerFile(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	clock := &fakeClock{t: asOf}
	dir := t.TempDir()
	b := mustBook(t, dir, k, clock)
	mustApply(t, b, goodLedger(t, k, 7))
	if err := os.WriteFile(filepath.Join(dir, points.LedgerFile), []byte("damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	again := mustBook(t, dir, k, clock)
	if v, _ := again.InForce(); v != 0 {
		t.Fatalf("a damaged ledger file put v%d in force", v)
	}
	if _, err := os.Stat(filepath.Join(dir, points.LedgerFile+".bad")); err != nil {
		t.Errorf("the damaged file was not set aside: %v", err)
	}
	for _, tt := range []struct {
		version uint64
		want    error
	}{{6, points.ErrStale}, {7, points.ErrReplay}, {8, nil}} {
		l := goodLedger(t, k, tt.version)
		content, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := again.Apply(ctx, l, content, tt.version); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("Apply v%d after the file was set aside = %v, want %v", tt.version, err, tt.want)
		}
	}
	if v, _ := again.InForce(); v != 8 {
		t.Errorf("in force v%d, want 8", v)
	}
}

// TestReportedGolden pins the kiosk's points/reported document
// (points-reported/v1) and holds it to its schema in docs/schemas.
func TestReportedGolden(t *testing.T) {
	rep := points.Reported{Schema: points.ReportedSchema, Kiosk: "dev-kiosk-01", Township: "dev-township",
		Version: 1796600000, AsOf: asOf, KeyID: "49421a5bb6d66bc4",
		Refused: []points.Refusal{{Version: 1796500000, Reason: "stale",
			Error: "points: ledger older than the one in force: version 1796500000, in force 1796600000", At: asOf.Add(time.Hour)}},
		Replays: 2, PublishedAt: asOf.Add(2 * time.Hour)}
	got, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "points-reported.v1.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("report encodes as\n%s\nwant (testdata)\n%s", got, want)
	}
	if err := mustMeetSchema(t, "points-reported.v1.json", want); err != nil {
		t.Errorf("golden report: %v", err)
	}
}
