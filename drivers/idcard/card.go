package idcard

import (
	"fmt"
	"image"
	"log/slog"
	"strings"
	"time"
	"unicode/utf16"
)

// TextBlockLen is the size of the card's text block.
const TextBlockLen = 256

// longTerm is what the card stores as "valid to" when it never expires.
const longTerm = "长期"

// CardType is the character at byte offset 248 of the text block.
type CardType byte

// Card types the SAM reads.
const (
	Resident      CardType = ' ' // 居民身份证
	HKMacauTaiwan CardType = 'J' // 港澳台居民居住证
	ForeignerOld  CardType = 'I' // 外国人永久居留身份证 (旧版)
	Foreigner2023 CardType = 'Y' // 外国人永久居留身份证 (2023年版)
)

// String gives the card's Chinese name.
func (t CardType) String() string {
	switch t {
	case Resident:
		return "居民身份证"
	case HKMacauTaiwan:
		return "港澳台居民居住证"
	case ForeignerOld:
		return "外国人永久居留身份证(旧版)"
	case Foreigner2023:
		return "外国人永久居留身份证(2023版)"
	}
	return fmt.Sprintf("CardType(%q)", rune(t))
}

// Sex is the card's sex code, stored as one ASCII digit. The zero Sex
// means the field was blank.
type Sex byte

// Sex codes (GB/T 2261.1).
const (
	SexUnknown  Sex = '0' // 未知的性别
	SexMale     Sex = '1' // 男
	SexFemale   Sex = '2' // 女
	SexUnstated Sex = '9' // 未说明的性别
)

// String gives the Chinese word as printed on cards.
func (s Sex) String() string {
	switch s {
	case SexUnknown:
		return "未知"
	case SexMale:
		return "男"
	case SexFemale:
		return "女"
	case SexUnstated:
		return "未说明"
	case 0:
		return ""
	}
	return fmt.Sprintf("Sex(%q)", rune(s))
}

func parseSex(s string) (Sex, error) {
	switch s {
	case "":
		return 0, nil
	case "0", "1", "2", "9":
		return Sex(s[0]), nil
	}
	return 0, fmt.Errorf("%w: sex code %q", ErrTextBlock, s)
}

// Card is what a card's text block (and the photo and fingerprint blocks
// that come with it) says. Which fields are set depends on Type:
//
//	field         resident  J (HK/MO/TW)  I (old foreigner)  Y (2023 foreigner)
//	Name          姓名      姓名          中文姓名           中文姓名
//	EnglishName                           英文姓名           英文姓名
//	Sex           ✓         ✓             ✓                  ✓
//	Nation        民族
//	Birth         ✓         ✓             ✓                  ✓
//	Address       住址      住址
//	IDNumber      身份号码  身份号码      永久居留证号码     身份号码
//	Authority     签发机关  签发机关
//	Valid*        ✓         ✓             ✓                  ✓
//	PassNumber              通行证号码
//	IssueCount              签发次数
//	Nationality                           国籍(alpha-3)      国籍(alpha-3)
//	CardVersion                           证件版本号
//	AuthorityCode                         受理机关代码
//	RenewalCount                                             换证次数
//
// Card's String, GoString and LogValue show only the type and masked name
// and number, so %v, %#v and slog never leak personal data; read the
// fields explicitly where they are really needed.
type Card struct {
	Type          CardType
	Name          string
	EnglishName   string
	Sex           Sex
	Nation        Nation
	Birth         Date
	Address       string
	IDNumber      string
	Authority     string
	ValidFrom     Date
	ValidTo       Date // zero when LongTerm
	LongTerm      bool // 长期: the card does not expire
	PassNumber    string
	IssueCount    string
	Nationality   string
	CardVersion   string
	AuthorityCode string
	RenewalCount  string

	Photo       []byte // raw WLT (normally 1024 bytes); see PhotoDecoder
	Fingerprint []byte // raw fingerprint block (0, 512 or 1024 bytes)
}

// String shows only masked fields.
func (c Card) String() string {
	return fmt.Sprintf("idcard.Card{%s %s %s}", c.Type, MaskName(c.displayName()), Mask(c.IDNumber))
}

// GoString keeps %#v from printing the fields.
func (c Card) GoString() string { return c.String() }

// LogValue shows only masked fields.
func (c Card) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", c.Type.String()),
		slog.String("name", MaskName(c.displayName())),
		slog.String("id", Mask(c.IDNumber)),
	)
}

func (c Card) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.EnglishName
}

// Expired reports whether the card's validity ended before the day of now.
// ValidTo is the last valid day; a long-term card never expires.
func (c *Card) Expired(now time.Time) bool {
	if c.LongTerm || c.ValidTo.IsZero() {
		return false
	}
	return c.ValidTo.Before(DateOf(now))
}

// Validate checks the ID number's format and check digit for the card's
// type. The SAM has already authenticated the card, so a failure here
// points at a garbled read or a forged block, not at a real card.
func (c *Card) Validate() error {
	switch c.Type {
	case Resident:
		return ValidateIDNumber(c.IDNumber)
	case HKMacauTaiwan:
		if err := ValidateIDNumber(c.IDNumber); err != nil {
			return err
		}
		if p := c.IDNumber[:2]; p != "81" && p != "82" && p != "83" {
			return fmt.Errorf("%w: residence permit numbers start 81/82/83", ErrInvalidIDNumber)
		}
		return nil
	case Foreigner2023:
		if err := ValidateIDNumber(c.IDNumber); err != nil {
			return err
		}
		if c.IDNumber[0] != '9' {
			return fmt.Errorf("%w: 2023 foreigner numbers start with 9", ErrInvalidIDNumber)
		}
		return nil
	case ForeignerOld:
		return ValidatePermitNumber(c.IDNumber)
	}
	return fmt.Errorf("%w: unknown card type", ErrInvalidIDNumber)
}

// PhotoDecoder turns a card's WLT photo into an image. The WLT format is
// proprietary: implementations wrap the vendor's library (libwlt.so) where
// a kiosk has it. This package ships none.
type PhotoDecoder interface {
	DecodeWLT(wlt []byte) (image.Image, error)
}

// DecodePhoto decodes the card's photo with d.
func (c *Card) DecodePhoto(d PhotoDecoder) (image.Image, error) {
	if len(c.Photo) == 0 {
		return nil, ErrNoPhoto
	}
	img, err := d.DecodeWLT(c.Photo)
	if err != nil {
		return nil, fmt.Errorf("idcard: decode photo: %w", err)
	}
	return img, nil
}

// textField is one slot of the text block, packed as offset<<8 | size in
// bytes, so the layouts below are constants.
type textField uint16

func (f textField) off() int  { return int(f >> 8) }
func (f textField) size() int { return int(f & 0xFF) }

// The layouts, from the project notes; the resident one was checked
// against HslCommunication's SAMSerial and the THID CVR and hev readers.
const (
	fName       textField = 0<<8 | 30
	fSex        textField = 30<<8 | 2
	fNation     textField = 32<<8 | 4 // 2023 foreigner card: renewal count
	fBirth      textField = 36<<8 | 16
	fAddress    textField = 52<<8 | 70
	fID         textField = 122<<8 | 36
	fAuthority  textField = 158<<8 | 30
	fValidFrom  textField = 188<<8 | 16
	fValidTo    textField = 204<<8 | 16
	fPassNumber textField = 220<<8 | 18
	fIssueCount textField = 238<<8 | 4
	fType       textField = 248<<8 | 2

	fIEnglishName   textField = 0<<8 | 120
	fISex           textField = 120<<8 | 2
	fIPermit        textField = 122<<8 | 30
	fINationality   textField = 152<<8 | 6
	fIChineseName   textField = 158<<8 | 30
	fIBirth         textField = 220<<8 | 16
	fICardVersion   textField = 236<<8 | 4
	fIAuthorityCode textField = 240<<8 | 8

	fYRenewal               = fNation
	fYEnglishA    textField = 52<<8 | 70
	fYEnglishB    textField = 220<<8 | 22 // overflow; see decodeForeigner2023
	fYNationality textField = 242<<8 | 6
)

// String names the slot for error messages.
func (f textField) String() string {
	switch f {
	case fName:
		return "name"
	case fIEnglishName, fYEnglishA:
		return "english name"
	case fYEnglishB:
		return "english name overflow"
	case fSex, fISex:
		return "sex"
	case fNation:
		return "nation/renewal count"
	case fBirth, fIBirth:
		return "birth"
	case fID, fIPermit:
		return "id number"
	case fAuthority: // also the old foreigner card's Chinese name
		return "authority/chinese name"
	case fValidFrom:
		return "valid from"
	case fValidTo:
		return "valid to"
	case fPassNumber:
		return "pass number"
	case fIssueCount:
		return "issue count"
	case fINationality, fYNationality:
		return "nationality"
	case fICardVersion:
		return "card version"
	case fIAuthorityCode:
		return "authority code"
	}
	return fmt.Sprintf("field@%d", f.off())
}

// rawField decodes a slot as UCS-2LE without trimming.
func rawField(b []byte, f textField) string {
	return ucs2(b[f.off() : f.off()+f.size()])
}

// ucs2 decodes little-endian UCS-2. UCS-2 has no surrogate pairs, so each
// code unit is one character and surrogates become U+FFFD; that keeps
// decode and encode exact inverses. An odd last byte is ignored.
func ucs2(b []byte) string {
	var sb strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(b[i]) | rune(b[i+1])<<8
		if utf16.IsSurrogate(u) {
			u = '\uFFFD'
		}
		sb.WriteRune(u)
	}
	return sb.String()
}

// field decodes a slot and drops its padding (spaces; some vendors pad
// with NULs).
func field(b []byte, f textField) string {
	return strings.TrimRight(rawField(b, f), " \x00")
}

func dateField(b []byte, f textField) (Date, error) {
	s := field(b, f)
	if s == "" {
		return Date{}, nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: %s: %v", ErrTextBlock, f, err)
	}
	return d, nil
}

// DecodeText decodes the 256-byte UCS-2LE text block of any of the four
// card types. Photo and Fingerprint are left empty.
func DecodeText(block []byte) (*Card, error) {
	if len(block) != TextBlockLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrTextBlock, len(block), TextBlockLen)
	}
	t := CardType(' ')
	switch u := uint16(block[fType.off()]) | uint16(block[fType.off()+1])<<8; u {
	case ' ', 0: // blank or NUL-padded: resident card
	case 'J', 'I', 'Y':
		t = CardType(u)
	default:
		return nil, fmt.Errorf("%w: card type %q", ErrTextBlock, rune(u))
	}
	c := &Card{Type: t}
	var err error
	switch t {
	case Resident, HKMacauTaiwan:
		err = decodeResident(block, c)
	case ForeignerOld:
		err = decodeForeignerOld(block, c)
	case Foreigner2023:
		err = decodeForeigner2023(block, c)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func decodeValidity(b []byte, c *Card) error {
	var err error
	if c.ValidFrom, err = dateField(b, fValidFrom); err != nil {
		return err
	}
	if field(b, fValidTo) == longTerm {
		c.LongTerm = true
		return nil
	}
	c.ValidTo, err = dateField(b, fValidTo)
	return err
}

func decodeResident(b []byte, c *Card) error {
	var err error
	c.Name = field(b, fName)
	if c.Sex, err = parseSex(field(b, fSex)); err != nil {
		return err
	}
	if c.Type == Resident {
		// J cards leave the nation slot blank.
		switch s := field(b, fNation); {
		case s == "":
		case len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9':
			c.Nation = Nation(int(s[0]-'0')*10 + int(s[1]-'0'))
		default:
			return fmt.Errorf("%w: nation code %q", ErrTextBlock, s)
		}
	}
	if c.Birth, err = dateField(b, fBirth); err != nil {
		return err
	}
	c.Address = field(b, fAddress)
	c.IDNumber = field(b, fID)
	c.Authority = field(b, fAuthority)
	if err := decodeValidity(b, c); err != nil {
		return err
	}
	if c.Type == HKMacauTaiwan {
		c.PassNumber = field(b, fPassNumber)
		c.IssueCount = field(b, fIssueCount)
	}
	return nil
}

func decodeForeignerOld(b []byte, c *Card) error {
	var err error
	c.EnglishName = field(b, fIEnglishName)
	if c.Sex, err = parseSex(field(b, fISex)); err != nil {
		return err
	}
	c.IDNumber = field(b, fIPermit)
	c.Nationality = field(b, fINationality)
	c.Name = field(b, fIChineseName)
	if err := decodeValidity(b, c); err != nil {
		return err
	}
	if c.Birth, err = dateField(b, fIBirth); err != nil {
		return err
	}
	c.CardVersion = field(b, fICardVersion)
	c.AuthorityCode = field(b, fIAuthorityCode)
	return nil
}

func decodeForeigner2023(b []byte, c *Card) error {
	var err error
	c.Name = field(b, fName)
	if c.Sex, err = parseSex(field(b, fSex)); err != nil {
		return err
	}
	c.RenewalCount = field(b, fYRenewal)
	if c.Birth, err = dateField(b, fBirth); err != nil {
		return err
	}
	// The English name continues at offset 220 only when its first slot is
	// full. Vendors disagree about bytes 220–241, so they are read as
	// overflow only then: anything else there is not taken for a name.
	a := rawField(b, fYEnglishA)
	if last := a[len(a)-1]; last != ' ' && last != 0 {
		a += rawField(b, fYEnglishB)
	}
	c.EnglishName = strings.TrimRight(a, " \x00")
	c.IDNumber = field(b, fID)
	if err := decodeValidity(b, c); err != nil {
		return err
	}
	c.Nationality = field(b, fYNationality)
	return nil
}

// textWriter fills a block, remembering the first error.
type textWriter struct {
	b   []byte
	err error
}

func (w *textWriter) put(f textField, s string) {
	if w.err != nil {
		return
	}
	units := make([]uint16, 0, f.size()/2)
	for _, r := range s {
		if r > 0xFFFF || utf16.IsSurrogate(r) {
			w.err = fmt.Errorf("%w: %s: character %U is outside UCS-2", ErrFieldTooLong, f, r)
			return
		}
		units = append(units, uint16(r))
	}
	if len(units)*2 > f.size() {
		w.err = fmt.Errorf("%w: %s: %d characters, room for %d", ErrFieldTooLong, f, len(units), f.size()/2)
		return
	}
	for i, u := range units {
		w.b[f.off()+2*i] = byte(u)
		w.b[f.off()+2*i+1] = byte(u >> 8)
	}
}

func (w *textWriter) sex(f textField, s Sex) {
	switch s {
	case 0:
	case SexUnknown, SexMale, SexFemale, SexUnstated:
		w.put(f, string(rune(s)))
	default:
		if w.err == nil {
			w.err = fmt.Errorf("%w: sex code %q", ErrTextBlock, rune(s))
		}
	}
}

func (w *textWriter) validity(c *Card) {
	w.put(fValidFrom, c.ValidFrom.Compact())
	if c.LongTerm {
		w.put(fValidTo, longTerm)
		return
	}
	w.put(fValidTo, c.ValidTo.Compact())
}

// EncodeText is DecodeText's inverse: it lays c's text fields out in a
// 256-byte block padded with spaces. It fails with ErrFieldTooLong when a
// field does not fit its slot (or is not UCS-2).
func EncodeText(c *Card) ([]byte, error) {
	b := make([]byte, TextBlockLen)
	for i := 0; i < len(b); i += 2 {
		b[i], b[i+1] = ' ', 0
	}
	w := &textWriter{b: b}
	switch c.Type {
	case Resident, HKMacauTaiwan:
		w.put(fName, c.Name)
		w.sex(fSex, c.Sex)
		if c.Type == Resident && c.Nation != 0 {
			if c.Nation < 0 || c.Nation > 99 {
				return nil, fmt.Errorf("%w: nation code %d", ErrTextBlock, int(c.Nation))
			}
			w.put(fNation, fmt.Sprintf("%02d", int(c.Nation)))
		}
		w.put(fBirth, c.Birth.Compact())
		w.put(fAddress, c.Address)
		w.put(fID, c.IDNumber)
		w.put(fAuthority, c.Authority)
		w.validity(c)
		if c.Type == HKMacauTaiwan {
			w.put(fPassNumber, c.PassNumber)
			w.put(fIssueCount, c.IssueCount)
		}
	case ForeignerOld:
		w.put(fIEnglishName, c.EnglishName)
		w.sex(fISex, c.Sex)
		w.put(fIPermit, c.IDNumber)
		w.put(fINationality, c.Nationality)
		w.put(fIChineseName, c.Name)
		w.validity(c)
		w.put(fIBirth, c.Birth.Compact())
		w.put(fICardVersion, c.CardVersion)
		w.put(fIAuthorityCode, c.AuthorityCode)
	case Foreigner2023:
		w.put(fName, c.Name)
		w.sex(fSex, c.Sex)
		w.put(fYRenewal, c.RenewalCount)
		w.put(fBirth, c.Birth.Compact())
		name := []rune(c.EnglishName)
		if n := fYEnglishA.size() / 2; len(name) > n {
			w.put(fYEnglishA, string(name[:n]))
			w.put(fYEnglishB, string(name[n:]))
		} else {
			w.put(fYEnglishA, c.EnglishName)
		}
		w.put(fID, c.IDNumber)
		w.validity(c)
		w.put(fYNationality, c.Nationality)
	default:
		return nil, fmt.Errorf("%w: card type %q", ErrTextBlock, rune(c.Type))
	}
	if w.err != nil {
		return nil, w.err
	}
	b[fType.off()], b[fType.off()+1] = byte(c.Type), 0
	return b, nil
}
