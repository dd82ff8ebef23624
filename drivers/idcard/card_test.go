package idcard_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// goldens pairs the independently built replies in testdata with the
// fixture they encode.
var goldens = []struct {
	file        string
	fixture     int
	fingerprint bool
}{
	{"testdata/base_resident.hex", 0, false},
	{"testdata/base_resident_longterm.hex", 1, false},
	{"testdata/base_permit_j.hex", 2, false},
	{"testdata/base_foreigner_i.hex", 3, false},
	{"testdata/base_foreigner_y.hex", 4, false},
	{"testdata/base_resident_fingerprint.hex", 0, true},
}

// mustTextBlock returns the 256-byte text block of a golden base reply.
func mustTextBlock(t testing.TB, file string) []byte {
	t.Helper()
	frames := mustReadHex(t, file)
	reply := frames[len(frames)-1].Data
	off := 7 + 3 + 4 // header, SW1-3, two lengths
	if frames[0].Data[8] == 0x10 {
		off += 2 // third length
	}
	return reply[off : off+idcard.TextBlockLen]
}

func textOnly(c *idcard.Card) *idcard.Card {
	cp := *c
	cp.Photo, cp.Fingerprint = nil, nil
	return &cp
}

func TestDecodeTextGolden(t *testing.T) {
	fixtures := idcardsim.Fixtures()
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			block := mustTextBlock(t, g.file)
			got, err := idcard.DecodeText(block)
			if err != nil {
				t.Fatal(err)
			}
			want := textOnly(fixtures[g.fixture])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DecodeText:\n got %#v\nwant %#v\n(fields: %+v)", *got, *want, diffFields(got, want))
			}
			enc, err := idcard.EncodeText(want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, block) {
				t.Errorf("EncodeText differs from golden:\n got % X\nwant % X", enc, block)
			}
		})
	}
}

// diffFields names the fields that differ without printing their values.
func diffFields(a, b *idcard.Card) []string {
	var out []string
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return out
}

// TestDecodeTextHandChecked spells out what each golden holds, read off the
// spec table by hand, so a fixture change cannot silently move both sides.
func TestDecodeTextHandChecked(t *testing.T) {
	tests := []struct {
		file  string
		check func(c *idcard.Card) bool
	}{
		{"testdata/base_resident.hex", func(c *idcard.Card) bool {
			return c.Type == idcard.Resident && c.Name == "测试一" && c.Sex == idcard.SexMale &&
				c.Nation.Name() == "汉族" && c.Nation.Short() == "汉" && c.Birth.String() == "1985-06-15" &&
				c.IDNumber == "350782198506151236" && c.Authority == "武夷山市公安局" &&
				c.ValidFrom.String() == "2020-01-02" && c.ValidTo.String() == "2040-01-02" && !c.LongTerm
		}},
		{"testdata/base_resident_longterm.hex", func(c *idcard.Card) bool {
			return c.Sex == idcard.SexFemale && c.Nation == 22 && c.Nation.Name() == "畲族" &&
				c.IDNumber == "35078219600301402X" && c.LongTerm && c.ValidTo.IsZero()
		}},
		{"testdata/base_permit_j.hex", func(c *idcard.Card) bool {
			return c.Type == idcard.HKMacauTaiwan && c.Nation == 0 && c.PassNumber == "H00001234" &&
				c.IssueCount == "01" && c.IDNumber == "810000199008080028"
		}},
		{"testdata/base_foreigner_i.hex", func(c *idcard.Card) bool {
			return c.Type == idcard.ForeignerOld && c.EnglishName == "SPECIMEN, TEST ONE" && c.Name == "测试外" &&
				c.IDNumber == "UTO350790010116" && c.Nationality == "UTO" && c.Birth.String() == "1990-01-01" &&
				c.CardVersion == "01" && c.AuthorityCode == "3500"
		}},
		{"testdata/base_foreigner_y.hex", func(c *idcard.Card) bool {
			return c.Type == idcard.Foreigner2023 && c.Name == "测试新" && c.RenewalCount == "00" &&
				c.EnglishName == "SPECIMEN-EXAMPLE, TESTNAME MIDDLENAME LONGER" &&
				c.IDNumber == "935999199202020128" && c.Nationality == "UTO"
		}},
	}
	for _, tt := range tests {
		c, err := idcard.DecodeText(mustTextBlock(t, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if !tt.check(c) {
			t.Errorf("%s: fields differ from the hand-read values (%v)", tt.file, c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", tt.file, err)
		}
	}
}

func TestEncodeDecodeRoundTripFixtures(t *testing.T) {
	for i, c := range idcardsim.Fixtures() {
		b, err := idcard.EncodeText(c)
		if err != nil {
			t.Fatalf("fixture %d: %v", i, err)
		}
		got, err := idcard.DecodeText(b)
		if err != nil {
			t.Fatalf("fixture %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, textOnly(c)) {
			t.Errorf("fixture %d: round trip differs in %v", i, diffFields(got, textOnly(c)))
		}
	}
}

// mustBlock builds a text block from (offset, text) pairs over spaces.
func mustBlock(t testing.TB, fields ...any) []byte {
	t.Helper()
	b := bytes.Repeat([]byte{' ', 0}, 128)
	for i := 0; i < len(fields); i += 2 {
		off := fields[i].(int)
		for _, r := range fields[i+1].(string) {
			b[off], b[off+1] = byte(r), byte(r>>8)
			off += 2
		}
	}
	return b
}

func TestDecodeTextErrors(t *testing.T) {
	tests := []struct {
		name  string
		block []byte
	}{
		{"short", make([]byte, 255)},
		{"long", make([]byte, 257)},
		{"unknown type", mustBlock(t, 248, "Q")},
		{"bad sex", mustBlock(t, 30, "3")},
		{"bad nation", mustBlock(t, 32, "0A")},
		{"bad birth", mustBlock(t, 36, "19850230")},
		{"birth with letters", mustBlock(t, 36, "1985O615")},
		{"bad valid from", mustBlock(t, 188, "20201301")},
		{"bad valid to", mustBlock(t, 204, "长久")},
		{"bad I birth", mustBlock(t, 220, "19900132", 248, "I")},
		{"bad Y sex", mustBlock(t, 30, "X", 248, "Y")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := idcard.DecodeText(tt.block); !errors.Is(err, idcard.ErrTextBlock) {
				t.Errorf("got %v, %v; want ErrTextBlock", c, err)
			}
		})
	}
}

func TestDecodeTextPadding(t *testing.T) {
	// NUL padding (some vendors) and a NUL type character read as resident.
	b := make([]byte, idcard.TextBlockLen)
	copy(b, mustBlock(t, 0, "测试")[:4])
	copy(b[36:], mustBlock(t, 0, "19850615")[:16])
	c, err := idcard.DecodeText(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != idcard.Resident || c.Name != "测试" || c.Birth.Compact() != "19850615" || c.Sex != 0 {
		t.Errorf("got %+v", *c)
	}
}

func TestDecodeTextSurrogates(t *testing.T) {
	b := mustBlock(t)
	b[0], b[1] = 0x3D, 0xD8 // lone high surrogate
	c, err := idcard.DecodeText(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "\uFFFD" {
		t.Errorf("name %q, want U+FFFD", c.Name)
	}
}

func TestForeigner2023Overflow(t *testing.T) {
	// Bytes 220–241 are not a name continuation unless the first slot is
	// full: vendors disagree about that area.
	b := mustBlock(t, 52, "SHORT NAME", 220, "VENDORJUNK", 248, "Y")
	c, err := idcard.DecodeText(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.EnglishName != "SHORT NAME" {
		t.Errorf("EnglishName %q", c.EnglishName)
	}
	full := strings.Repeat("A", 35)
	c, err = idcard.DecodeText(mustBlock(t, 52, full, 220, "BCD", 248, "Y"))
	if err != nil {
		t.Fatal(err)
	}
	if c.EnglishName != full+"BCD" {
		t.Errorf("EnglishName %q", c.EnglishName)
	}
}

func TestEncodeTextErrors(t *testing.T) {
	long := strings.Repeat("长", 16)
	tests := []struct {
		name string
		card idcard.Card
		want error
	}{
		{"name too long", idcard.Card{Type: idcard.Resident, Name: long}, idcard.ErrFieldTooLong},
		{"address too long", idcard.Card{Type: idcard.Resident, Address: strings.Repeat("址", 36)}, idcard.ErrFieldTooLong},
		{"outside UCS-2", idcard.Card{Type: idcard.Resident, Name: "测😀"}, idcard.ErrFieldTooLong},
		{"Y english name too long", idcard.Card{Type: idcard.Foreigner2023, EnglishName: strings.Repeat("A", 47)}, idcard.ErrFieldTooLong},
		{"bad sex", idcard.Card{Type: idcard.Resident, Sex: 'M'}, idcard.ErrTextBlock},
		{"bad nation", idcard.Card{Type: idcard.Resident, Nation: 100}, idcard.ErrTextBlock},
		{"bad type", idcard.Card{Type: 'Z'}, idcard.ErrTextBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := idcard.EncodeText(&tt.card); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestNations checks the whole table against the names used by
// HslCommunication, the THID CVR SDK and the hev reader (identical, bar
// hev's typo 德昴 for 德昂).
func TestNations(t *testing.T) {
	const want = "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 " +
		"佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 " +
		"塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 " +
		"其他 外国血统中国籍人士"
	var got []string
	for i, n := range idcard.Nations() {
		got = append(got, n.Short())
		if i < 56 && (int(n) != i+1 || n.Name() != n.Short()+"族") {
			t.Errorf("code %02d: %q/%q", int(n), n.Name(), n.Short())
		}
	}
	if s := strings.Join(got, " "); s != want {
		t.Errorf("table:\n got %s\nwant %s", s, want)
	}
	tests := []struct {
		code       idcard.Nation
		name, text string
	}{
		{1, "汉族", "汉族"},
		{22, "畲族", "畲族"},
		{56, "基诺族", "基诺族"},
		{97, "其他", "其他"},
		{98, "外国血统中国籍人士", "外国血统中国籍人士"},
		{57, "", "Nation(57)"},
		{0, "", "Nation(00)"},
	}
	for _, tt := range tests {
		if tt.code.Name() != tt.name || tt.code.String() != tt.text || tt.code.Known() != (tt.name != "") {
			t.Errorf("%d: Name %q String %q", int(tt.code), tt.code.Name(), tt.code.String())
		}
	}
	for _, name := range []string{"畲族", "畲"} {
		if n, ok := idcard.NationByName(name); !ok || n != 22 {
			t.Errorf("NationByName(%q) = %d, %v", name, int(n), ok)
		}
	}
	if _, ok := idcard.NationByName("火星"); ok {
		t.Error("NationByName found a made-up name")
	}
}

func TestValidateIDNumber(t *testing.T) {
	badDate, err := idcard.CheckDigit("11010519491331002")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id string
		ok bool
	}{
		{"11010519491231002X", true}, // the notes' example
		{"350782198506151236", true},
		{"35078219600301402X", true},
		{"810000199008080028", true},
		{"935999199202020128", true},
		{"350782198506151235", false}, // wrong check digit
		{"11010519491231002x", false}, // lower-case x
		{"11010519491231002", false},  // 17 characters
		{"1101051949123100201", false},
		{"1101051949123100AX", false},
		{"11010519491331002" + string(badDate), false}, // right check, no such day
		{"", false},
		{"１１０１０５１９４９１２３１００２Ｘ", false}, // full-width digits
	}
	for _, tt := range tests {
		err := idcard.ValidateIDNumber(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateIDNumber(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, idcard.ErrInvalidIDNumber) {
				t.Errorf("%q: %v is not ErrInvalidIDNumber", tt.id, err)
			}
			if len(tt.id) >= 10 && strings.Contains(err.Error(), tt.id) {
				t.Errorf("error leaks the number: %v", err)
			}
		}
	}
}

func TestValidatePermitNumber(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"UTO350790010116", true},
		{"UTO350790010115", false},
		{"uto350790010116", false},
		{"UTO3507900101161", false},
		{"UT0350790010116", false},
	}
	for _, tt := range tests {
		if err := idcard.ValidatePermitNumber(tt.id); (err == nil) != tt.ok {
			t.Errorf("ValidatePermitNumber(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
	// ICAO 9303's own specimen: document number L898902C3 has check digit 6.
	if d := idcard.PermitCheckDigit("L898902C3"); d != '6' {
		t.Errorf("ICAO specimen check digit %c, want 6", d)
	}
}

func TestCardValidateByType(t *testing.T) {
	for i, c := range idcardsim.Fixtures() {
		if err := c.Validate(); err != nil {
			t.Errorf("fixture %d: %v", i, err)
		}
	}
	j := &idcard.Card{Type: idcard.HKMacauTaiwan, IDNumber: "350782198506151236"}
	if err := j.Validate(); !errors.Is(err, idcard.ErrInvalidIDNumber) {
		t.Errorf("J card with a resident number: %v", err)
	}
	y := &idcard.Card{Type: idcard.Foreigner2023, IDNumber: "350782198506151236"}
	if err := y.Validate(); !errors.Is(err, idcard.ErrInvalidIDNumber) {
		t.Errorf("Y card with a resident number: %v", err)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"350102199001011234", "350102**********34"},
		{"35010219900101123X", "350102**********3X"},
		{"UTO350790010116", "UTO**********16"},
		{"H00001234", "H******34"},
		{"12345", "1**45"},
		{"1234", "****"},
		{"", ""},
		{"测试一二三四五六七八", "测试一*****七八"},
	}
	for _, tt := range tests {
		if got := idcard.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := idcard.MaskName("测试一"); got != "测**" {
		t.Errorf("MaskName = %q", got)
	}
}

// TestCardNeverPrintsPersonalData prints and logs every fixture every way
// a careless caller might.
func TestCardNeverPrintsPersonalData(t *testing.T) {
	for i, c := range idcardsim.Fixtures() {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		log.Info("card", "card", c, "value", *c)
		log.Info("card", slog.Any("card", c))
		fmt.Fprintf(&buf, "%v %+v %#v %s ", c, c, c, c)
		fmt.Fprintf(&buf, "%v %+v %#v %s", *c, *c, *c, *c)
		fmt.Fprint(&buf, []*idcard.Card{c}, map[string]idcard.Card{"k": *c})
		out := buf.String()
		for _, secret := range []string{c.IDNumber, c.Name, c.EnglishName, c.Address, c.PassNumber, c.Birth.Compact()} {
			if secret != "" && strings.Contains(out, secret) {
				t.Errorf("fixture %d: output contains %q:\n%s", i, secret, out)
			}
		}
		if !strings.Contains(out, idcard.Mask(c.IDNumber)) {
			t.Errorf("fixture %d: masked id missing", i)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"20000229", "2000-02-29", true},
		{"19000229", "", false},
		{"20230431", "", false},
		{"20231301", "", false},
		{"20230100", "", false},
		{"00000101", "", false},
		{"2023011", "", false},
		{"2023-1-1", "", false},
	}
	for _, tt := range tests {
		d, err := idcard.ParseDate(tt.in)
		if (err == nil) != tt.ok || (tt.ok && d.String() != tt.want) {
			t.Errorf("ParseDate(%q) = %v, %v", tt.in, d, err)
		}
	}
}

func TestExpired(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	c := &idcard.Card{ValidTo: idcard.Date{Year: 2026, Month: 9, Day: 1}}
	if c.Expired(at("2026-09-01")) {
		t.Error("expired on its last valid day")
	}
	if !c.Expired(at("2026-09-02")) {
		t.Error("not expired the day after")
	}
	if (&idcard.Card{LongTerm: true}).Expired(at("2999-01-01")) {
		t.Error("long-term card expired")
	}
}

func TestDecodePhotoNoPhoto(t *testing.T) {
	if _, err := (&idcard.Card{}).DecodePhoto(nil); !errors.Is(err, idcard.ErrNoPhoto) {
		t.Errorf("got %v, want ErrNoPhoto", err)
	}
}
