// Package config owns the kiosk's configuration files — the site settings and the
// board profile kept in firmware-configs/ — and the rules that make them valid.
//
// Load reads both files strictly: an unknown key, a value of the wrong type and a
// value out of range are all reported at once, each naming the file, the line and
// the field, so that a technician in a village hall can fix the file in one pass.
// Nothing in the agent reads a configuration that Load has not validated.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Schema identifiers written at the top of each file. A file without the right
// one is refused: a board profile passed as a site file must not half-load.
const (
	SiteSchema  = "fengqiao.site/v1"
	BoardSchema = "fengqiao.board/v1"
)

// Modes of a site. Only a dev site may talk to a broker without TLS.
const (
	ModeDev        = "dev"
	ModeProduction = "production"
)

// Service identifiers of the "513" model, in the order the kiosk shows them.
var ServiceIDs = [5]string{"legal-advisor", "legal-lecture", "legal-checkup", "publicity", "legal-fair"}

// Config is a validated site plus the board profile it names.
type Config struct {
	Site      Site
	Board     Board
	SitePath  string
	BoardPath string
	// Location is the site's time zone, resolved once so that slot arithmetic
	// never depends on the kiosk's TZ environment.
	Location *time.Location
	// ContentVersion is the version of the township bundle whose sections
	// are in force over the site file, 0 for the site file alone.
	ContentVersion uint64

	tls *tls.Config // TLSConfig; built from mqtt.tls by Load and OverrideBroker
	// siteRoot is the site file as written (YAML nodes), which a township
	// patch (WithPatch) is merged over. Never modified: a patch copies the
	// nodes it changes.
	siteRoot *yaml.Node
}

// Site holds the settings of one kiosk in one village.
type Site struct {
	Schema   string  `yaml:"schema"`
	Mode     string  `yaml:"mode"`
	Board    string  `yaml:"board"`
	Timezone string  `yaml:"timezone"`
	Kiosk    Kiosk   `yaml:"kiosk"`
	MQTT     MQTT    `yaml:"mqtt"`
	Storage  Storage `yaml:"storage"`
	Content  Content `yaml:"content"`
	// Mediators may sign in to mediator mode on this kiosk.
	Mediators Mediators `yaml:"mediators"`
	// UI is how the touch screen behaves (the board profile says what
	// screen it is).
	UI UI `yaml:"ui"`
	// Control is the township's remote management of this kiosk.
	Control Control `yaml:"control"`
	// Records is how personal data in the records it publishes is
	// protected from the broker and other subscribers.
	Records Records `yaml:"records"`
	// Cameras are the village's IP cameras the kiosk watches and reports
	// (http); the kiosk's own are in its board profile.
	Cameras []Camera `yaml:"cameras"`
	// Points is the village's 美德银行 ledger's key (points.go).
	Points Points `yaml:"points"`
}

// Control holds the trust root of the township's signed bundles
// (docs/bundles.md).
type Control struct {
	// TownshipKeys are the township's Ed25519 public keys (base64 or hex),
	// trusted at first start. After that the kiosk's trust file in its data
	// directory is authoritative: a key rotation bundle replaces a key
	// without anyone editing this file.
	TownshipKeys []string `yaml:"township_keys"`
	// UpdateRate caps how fast fengqiao-updater downloads a software
	// update, in bytes per second (docs/updates.md): the uplink is shared
	// with the records, which must not wait behind a package. Unset:
	// DefaultUpdateRate.
	UpdateRate ByteSize `yaml:"update_rate"`
}

// Records holds the township's records key (docs/mqtt.md, "Personal data").
type Records struct {
	// TownshipKey is the township's X25519 public key (base64; kioskctl
	// keys gen --encryption prints it). Full phone and ID numbers travel
	// sealed to it; without it they are withheld, and a production kiosk
	// alerts the township at start. It is not a trust root like
	// control.township_keys: a signed bundle's records section replaces
	// it, which is how the township rotates it.
	TownshipKey string `yaml:"township_key"`
}

// DefaultUpdateRate is control.update_rate when the site file leaves it
// out: 64 KiB/s, a third of a weak village 2 Mbit/s uplink, which fetches
// a 7 MB kioskd release in about two minutes.
const DefaultUpdateRate = 64 << 10

// UpdateRateOrDefault is control.update_rate, or DefaultUpdateRate.
func (ct Control) UpdateRateOrDefault() int {
	if ct.UpdateRate == 0 {
		return DefaultUpdateRate
	}
	return int(ct.UpdateRate)
}

// UI holds the settings of the touch screen that township IT may want to
// change per village.
type UI struct {
	// Idle: an untouched screen goes back to the home menu after this long,
	// wiping whatever a villager entered. Elderly villagers read slowly; a
	// kiosk in a busy hall may want it shorter.
	Idle Duration `yaml:"idle"`
	// Voice: each new screen speaks its question, and the screen greets
	// whoever wakes it. On unless set to false: many villagers read
	// poorly, and a button they must first find helps them least; a
	// kiosk beside a quiet office may turn it off.
	Voice *bool `yaml:"voice"`
	// MediatorIdle replaces Idle while a mediator is signed in: a mediator
	// listens to the parties for minutes without touching the screen, and
	// a reset would lose the session form they were filling in.
	MediatorIdle Duration `yaml:"mediator_idle"`
}

// MediatorSessionIdle is how long kioskd keeps an untouched mediator
// session: mediators.idle, but never less than ui.mediator_idle and
// MediatorLapseMargin. A session that lapsed in kioskd before the screen's
// own timeout would sign the mediator out without the warning, and too late
// to save their draft.
func (s *Site) MediatorSessionIdle() time.Duration {
	return max(s.Mediators.Idle.Duration, s.UI.MediatorIdle.Duration+MediatorLapseMargin)
}

// MediatorLapseMargin is how much longer than the screen's reset kioskd
// keeps a mediator's session at least. The two clocks start apart: the
// screen counts from the last touch, kioskd from the last request, which
// the screen sends at most 30 s after a touch (kiosk-ui's mediatorPing);
// at its reset the screen still saves the draft and signs out, which takes
// requests too.
const MediatorLapseMargin = time.Minute

// VoiceOn says whether screens speak on their own (ui.voice).
func (u UI) VoiceOn() bool { return u.Voice == nil || *u.Voice }

// Storage bounds and protects the kiosk's record store.
type Storage struct {
	// Quota bounds the bytes of stored records. At the quota telemetry is
	// evicted oldest first and new governance records are refused.
	Quota ByteSize `yaml:"quota"`
	// KeyFile holds the AES-256 key records are sealed with; empty means
	// outbox.key in the data directory, created at first start.
	KeyFile string `yaml:"key_file"`
	// MaxAttempts is how many failed deliveries send a record to dead letters.
	MaxAttempts int `yaml:"max_attempts"`
	// TelemetryInterval is how often a telemetry record is queued.
	TelemetryInterval Duration `yaml:"telemetry_interval"`
}

// Kiosk names this kiosk and where it stands. The ids become MQTT topic levels.
type Kiosk struct {
	ID       string `yaml:"id"`
	Township string `yaml:"township"`
	Village  string `yaml:"village"`
	Name     string `yaml:"name"`
}

// MQTT is how the kiosk reaches the township broker.
type MQTT struct {
	Broker         string   `yaml:"broker"`
	KeepAlive      Duration `yaml:"keepalive"`
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// MaxPayload is the largest message the township broker accepts (its
	// max_packet_size); larger records are dead-lettered, not retried.
	MaxPayload ByteSize `yaml:"max_payload"`
	// TLS is the kiosk's client certificate and the broker's CA (tls.go).
	TLS TLS `yaml:"tls"`
}

// Content is what the villager-facing menu shows.
type Content struct {
	Advisor    Advisor   `yaml:"advisor"`
	Topics     []string  `yaml:"topics"`
	Services   []Service `yaml:"services"`
	Lecture    Lecture   `yaml:"lecture"`
	Checkup    []Checkup `yaml:"checkup"`
	Publicity  []Place   `yaml:"publicity"`
	Fairs      []Event   `yaml:"fairs"`
	Venues     []Venue   `yaml:"venues"`
	Categories []string  `yaml:"categories"`
	Mediation  Mediation `yaml:"mediation"`
	Phrases    []string  `yaml:"phrases"`
	// Requests is 我要反映: the kinds, grid categories and places a
	// villager's request or report is made of (requests.go).
	Requests Requests `yaml:"requests"`
	// Wording corrects the screens' texts for this site, by catalogue key
	// (kiosk-ui/wording/zh-CN.yaml): {key: text}, only the texts the
	// township rewords. Each key must be the catalogue's and each text
	// take the same {values} as the catalogue's (validateWording).
	Wording map[string]string `yaml:"wording"`
	// BookingLookup is the township's page where a booking is looked up
	// by its number, with {number} where the number goes: the receipt's
	// and the done screen's QR code. Empty: no QR code, and the screen
	// promises none.
	BookingLookup string `yaml:"booking_lookup"`
}

// BookingLookupURL is the lookup page of the booking numbered number, or
// "" when the site has none.
func (c *Content) BookingLookupURL(number string) string {
	return apitype.LookupURL(c.BookingLookup, number)
}

// LookupNumber marks where content.booking_lookup takes the booking number.
const LookupNumber = apitype.LookupNumber

// Lecture is the monthly legal lecture: this month's theme and the touring
// schedule.
type Lecture struct {
	Theme    string  `yaml:"theme"`
	Schedule []Event `yaml:"schedule"`
}

// Event is a dated lecture or legal fair.
type Event struct {
	Title string   `yaml:"title"`
	Place string   `yaml:"place"`
	At    DateTime `yaml:"at"`
}

// Checkup is a legal check-up questionnaire for one kind of household.
type Checkup struct {
	Kind      string     `yaml:"kind"`
	Title     string     `yaml:"title"`
	Questions []Question `yaml:"questions"`
}

// Question is a yes/no check-up question and the advice shown on "yes".
type Question struct {
	ID     string `yaml:"id"`
	Text   string `yaml:"text"`
	Advice string `yaml:"advice"`
}

// Place is a legal-publicity position and its opening hours.
type Place struct {
	Name  string `yaml:"name"`
	Where string `yaml:"where"`
	Hours string `yaml:"hours"`
}

// Venue is a mediation venue of the 百姓说理之家.
type Venue struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Where string `yaml:"where"`
}

// Mediation is when villagers may ask for a mediation: the daily session
// starts offered as preferred slots, over the next BookingDays days.
type Mediation struct {
	Sessions    []ClockTime `yaml:"sessions"`
	BookingDays int         `yaml:"booking_days"`
	// Venue is the id of the venue a villager's booking at the kiosk is
	// made for; empty means the first of Content.Venues. A villager cannot
	// tell 茶室评理室 from 红色评理站, so the screen does not ask: the
	// village names where kiosk bookings go, and the mediator who calls
	// back can agree another place.
	Venue string `yaml:"venue"`
}

// Mediators is the roster of village mediators and how long a signed-in
// mediator may leave the kiosk idle before signing in again.
type Mediators struct {
	Idle   Duration   `yaml:"idle"`
	Roster []Mediator `yaml:"roster"`
}

// Mediator is one roster entry. The config holds no ID number and no PIN:
// only the SHA-256 of the ID number (matched against the card read at sign
// in) and a bcrypt hash of the PIN (kioskctl mediator hash makes both).
type Mediator struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	IDSHA256  string `yaml:"id_sha256"`
	PINBcrypt string `yaml:"pin_bcrypt"`
}

// DefaultCategories are the dispute categories of the people's-mediation
// statistics, used when the site lists none.
func DefaultCategories() []string {
	return []string{"婚姻家庭", "邻里", "房屋宅基地", "合同", "损害赔偿", "山林土地", "征地拆迁",
		"劳动争议", "村务管理", "环境保护", "交通事故", "医患", "物业", "其他"}
}

// CheckupKinds are the households a check-up questionnaire is for.
var CheckupKinds = [2]string{"family", "business"}

// Advisor is the village legal advisor (一村一法律顾问) and their duty hours.
type Advisor struct {
	Name        string       `yaml:"name"`
	Firm        string       `yaml:"firm"`
	Phone       string       `yaml:"phone"`
	Duty        []DutyWindow `yaml:"duty"`
	SlotMinutes int          `yaml:"slot_minutes"`
	BookingDays int          `yaml:"booking_days"`
}

// DutyWindow is a recurring weekly period when the advisor receives villagers.
type DutyWindow struct {
	Days []Weekday `yaml:"days"`
	From ClockTime `yaml:"from"`
	To   ClockTime `yaml:"to"`
}

// Service is one of the five "513" services with how to reach it on each platform.
type Service struct {
	ID        string    `yaml:"id"`
	Title     string    `yaml:"title"`
	Summary   string    `yaml:"summary"`
	Platforms Platforms `yaml:"platforms"`
}

// Platforms are the three "513" platforms: in person, online and the hotline.
type Platforms struct {
	InPerson string `yaml:"in_person"`
	Online   string `yaml:"online"`
	Hotline  string `yaml:"hotline"`
	// OnlineURL is the service's page in the 闽事理 mini-program (its
	// https link), shown as a QR code to scan with WeChat. Empty: the
	// screen shows the online text alone.
	OnlineURL string `yaml:"online_url"`
}

// Board is a hardware profile: what devices a kind of board has and where.
type Board struct {
	Schema      string  `yaml:"schema"`
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Screen      Screen  `yaml:"screen"`
	IDCard      IDCard  `yaml:"idcard"`
	Printer     Printer `yaml:"printer"` // printer.go
	GPIO        GPIO    `yaml:"gpio"`    // hardware.go
	// Cameras are the kiosk's own cameras (v4l2, or simulated).
	Cameras []Camera `yaml:"cameras"`
}

// Screen is the panel's size in pixels and how it is mounted.
type Screen struct {
	Width    int `yaml:"width"`
	Height   int `yaml:"height"`
	Rotation int `yaml:"rotation"`
	// Diagonal is the visible panel's diagonal in inches, from which the
	// screen sizes its type in points and its targets in millimetres.
	// Zero: not known, and the screen keeps its pixel sizes.
	Diagonal float64 `yaml:"diagonal"`
}

// PixelsPerInch is the panel's density, 0 when its diagonal is not known.
func (s Screen) PixelsPerInch() float64 {
	if s.Diagonal <= 0 {
		return 0
	}
	return math.Hypot(float64(s.Width), float64(s.Height)) / s.Diagonal
}

// ID-card reader drivers.
const (
	IDCardNone      = "none"      // no reader: bookings are typed in
	IDCardSerial    = "serial"    // the SAM on a UART or USB-serial bridge
	IDCardSimulated = "simulated" // a reader inside kioskd with no card on it (the dev board)
)

// IDCardDrivers are the driver names a board profile may give its reader.
func IDCardDrivers() []string { return []string{IDCardNone, IDCardSimulated, IDCardSerial} }

// IDCard says how the resident-ID-card reader is attached.
type IDCard struct {
	Driver string `yaml:"driver"`
	Device string `yaml:"device"`
	Baud   int    `yaml:"baud"`
	// PollInterval is how often the reader is asked for a card (≥ 300 ms).
	PollInterval Duration `yaml:"poll_interval"`
}

// Load reads the site file at sitePath and the board profile it names, and
// validates both. The error, if any, is an *Error listing every problem found.
func Load(sitePath string) (*Config, error) {
	var site Site
	// A decode problem (unknown key, wrong type) does not stop validation: the
	// technician at the kiosk should see every problem in one go.
	siteDoc, err := decodeFile(sitePath, &site)
	problems, err := decodeProblems(err)
	if err != nil {
		return nil, err
	}
	if siteDoc == nil { // not YAML at all: nothing to validate
		return nil, &Error{Problems: problems}
	}
	site.applyDefaults()
	cfg := &Config{Site: site, SitePath: sitePath, siteRoot: siteDoc.root}
	problems = mergeProblems(problems, site.validate(siteDoc))
	// The TLS files are checked here, not in validate: their paths are
	// relative to the site file, and a township bundle (WithBundle), which
	// is validated by the same rules, cannot change them.
	tc := &checker{doc: siteDoc}
	cfg.tls = site.validateTLS(tc, filepath.Dir(sitePath), time.Now())
	site.validatePoints(tc, filepath.Dir(sitePath)) // likewise a file beside the site file
	problems = mergeProblems(problems, tc.problems)
	if loc, err := time.LoadLocation(site.Timezone); err == nil && site.Timezone != "" {
		cfg.Location = loc
	}

	problems = siteDoc.unfilledProblems(problems)
	if site.Board != "" && !strings.HasPrefix(site.Board, Placeholder) {
		cfg.BoardPath = boardPath(sitePath, site.Board)
		boardDoc, err := decodeFile(cfg.BoardPath, &cfg.Board)
		cfg.Board.applyDefaults()
		boardProblems, err := decodeProblems(err)
		switch {
		case err != nil:
			problems = append(problems, Problem{File: sitePath, Line: siteDoc.line("board"), Field: "board", Msg: boardProblem(sitePath, site.Board, err)})
		case boardDoc != nil:
			problems = append(problems, mergeProblems(boardProblems, cfg.Board.validate(boardDoc))...)
			problems = append(problems, site.crossCheckCameras(siteDoc, cfg.Board.Cameras)...)
		default:
			problems = append(problems, boardProblems...)
		}
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}

// LoadBoard reads and validates one board profile on its own, for tools that
// check every profile in firmware-configs/.
func LoadBoard(path string) (*Board, error) {
	var b Board
	doc, err := decodeFile(path, &b)
	b.applyDefaults()
	problems, err := decodeProblems(err)
	if err != nil {
		return nil, err
	}
	if doc != nil {
		problems = mergeProblems(problems, b.validate(doc))
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return &b, nil
}

func (b *Board) applyDefaults() {
	if b.IDCard.PollInterval.Duration == 0 {
		b.IDCard.PollInterval.Duration = 500 * time.Millisecond
	}
	b.Printer.applyDefaults()
	b.GPIO.applyDefaults()
	applyCameraDefaults(b.Cameras)
}

func (s *Site) applyDefaults() {
	applyCameraDefaults(s.Cameras)
	if s.MQTT.KeepAlive.Duration == 0 {
		s.MQTT.KeepAlive.Duration = 30 * time.Second
	}
	if s.MQTT.ConnectTimeout.Duration == 0 {
		s.MQTT.ConnectTimeout.Duration = 10 * time.Second
	}
	if s.MQTT.MaxPayload == 0 {
		s.MQTT.MaxPayload = 256 << 10
	}
	if s.Storage.Quota == 0 {
		s.Storage.Quota = 256 << 20
	}
	if s.Storage.MaxAttempts == 0 {
		s.Storage.MaxAttempts = 5
	}
	if s.Storage.TelemetryInterval.Duration == 0 {
		s.Storage.TelemetryInterval.Duration = 15 * time.Minute
	}
	if s.Content.Advisor.SlotMinutes == 0 {
		s.Content.Advisor.SlotMinutes = 30
	}
	if s.Content.Advisor.BookingDays == 0 {
		s.Content.Advisor.BookingDays = 14
	}
	if s.Content.Categories == nil {
		s.Content.Categories = DefaultCategories()
	}
	s.Content.Requests.applyDefaults()
	if s.Content.Mediation.BookingDays == 0 {
		s.Content.Mediation.BookingDays = 7
	}
	if s.Mediators.Idle.Duration == 0 {
		s.Mediators.Idle.Duration = 5 * time.Minute
	}
	if s.UI.Idle.Duration == 0 {
		s.UI.Idle.Duration = 60 * time.Second
	}
	if s.UI.MediatorIdle.Duration == 0 {
		s.UI.MediatorIdle.Duration = DefaultMediatorIdle
	}
}

// DefaultMediatorIdle is ui.mediator_idle when the site leaves it out.
const DefaultMediatorIdle = 10 * time.Minute

// QuestionByID returns the check-up question with that id and the kind of
// its questionnaire.
func (c *Content) QuestionByID(id string) (Question, string, bool) {
	for _, ck := range c.Checkup {
		for _, q := range ck.Questions {
			if q.ID == id {
				return q, ck.Kind, true
			}
		}
	}
	return Question{}, "", false
}

// VenueByID returns the mediation venue with that id.
func (c *Content) VenueByID(id string) (Venue, bool) {
	for _, v := range c.Venues {
		if v.ID == id {
			return v, true
		}
	}
	return Venue{}, false
}

// BookingVenue is the venue a villager's mediation booking at the kiosk
// is made for (Mediation.Venue, else the first venue); false when the site
// has no venues, which validation does not let through.
func (c *Content) BookingVenue() (Venue, bool) {
	if c.Mediation.Venue != "" {
		return c.VenueByID(c.Mediation.Venue)
	}
	if len(c.Venues) == 0 {
		return Venue{}, false
	}
	return c.Venues[0], true
}

// ServiceByID returns the configured service with that id.
func (c *Content) ServiceByID(id string) (Service, bool) {
	for _, s := range c.Services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// String shows a duty window the way a notice on the village hall door would.
func (w DutyWindow) String() string {
	days := ""
	for i, d := range w.Days {
		if i > 0 {
			days += "、"
		}
		days += d.Chinese()
	}
	return fmt.Sprintf("%s %s–%s", days, w.From, w.To)
}

// OverrideIDCardDevice points the reader at device (kioskd --idcard-device),
// e.g. the pty of `kioskctl idcard simulate`; the board's baud stays.
func (c *Config) OverrideIDCardDevice(device string) error {
	abs, err := filepath.Abs(device)
	if err != nil {
		return fmt.Errorf("--idcard-device: %w", err)
	}
	c.Board.IDCard.Driver, c.Board.IDCard.Device = IDCardSerial, abs
	if !slices.Contains(idcardBauds, c.Board.IDCard.Baud) {
		c.Board.IDCard.Baud = 115200
	}
	return nil
}

// OverrideBroker replaces the site's broker URL (kioskd --broker) and checks
// the new one by the same rules as the file, so a flag cannot sneak plain TCP
// onto a production site.
func (c *Config) OverrideBroker(broker string) error {
	site := c.Site
	site.MQTT.Broker = broker
	ch := &checker{doc: &document{file: "--broker", lines: map[string]int{}}}
	site.validateMQTT(ch)
	// A TLS broker may need what the site's own broker did not: a client
	// certificate on a production site.
	tlsCfg := site.validateTLS(ch, filepath.Dir(c.SitePath), time.Now())
	if len(ch.problems) > 0 {
		return &Error{Problems: ch.problems}
	}
	c.Site, c.tls = site, tlsCfg
	return nil
}

// decodeProblems splits decodeFile's error into problems a technician can fix
// in the file and any other error (an unreadable file), which is returned.
func decodeProblems(err error) ([]Problem, error) {
	var cerr *Error
	if errors.As(err, &cerr) {
		return cerr.Problems, nil
	}
	return nil, err
}

// mergeProblems appends the validation problems of fields that decoding has
// not already blamed: a key of the wrong type decodes as zero, and "is
// required" on top of "must be a number" would only confuse.
func mergeProblems(decoded, validated []Problem) []Problem {
	blamed := map[string]bool{}
	for _, p := range decoded {
		if p.Field != "" {
			blamed[p.File+"\x00"+p.Field] = true
		}
	}
	out := decoded
	for _, p := range validated {
		if !blamed[p.File+"\x00"+p.Field] {
			out = append(out, p)
		}
	}
	return out
}

// LoadSiteBoard reads only the board profile that the site file at sitePath
// names, and validates the profile alone. The kiosk's screen session uses
// it to rotate the panel before kioskd is up, as a user that may not read
// the rest of the site's files (the TLS key), and while the site is still
// being filled in.
func LoadSiteBoard(sitePath string) (*Board, error) {
	data, err := os.ReadFile(sitePath)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var s struct {
		Board string `yaml:"board"`
	}
	if err := yaml.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("config: %s: not valid YAML: %w", sitePath, err)
	}
	if s.Board == "" || strings.HasPrefix(s.Board, Placeholder) {
		return nil, fmt.Errorf("config: %s: board is not filled in", sitePath)
	}
	b, err := LoadBoard(boardPath(sitePath, s.Board))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("config: %s: board: %s", sitePath, boardProblem(sitePath, s.Board, err))
	}
	return b, err
}
