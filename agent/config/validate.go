package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/agent/internal/phone"
)

// idPattern keeps ids usable as MQTT topic levels and file names: no '/', '+',
// '#', spaces or upper case that a broker ACL might treat differently.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Baud rates the ID-card SAM supports (GA 467).
var idcardBauds = []int{9600, 19200, 38400, 57600, 115200}

type checker struct {
	doc      *document
	problems []Problem
}

func (c *checker) fail(field, format string, args ...any) {
	c.problems = append(c.problems, c.doc.problem(field, format, args...))
}

func (c *checker) required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		c.fail(field, "is required")
		return false
	}
	return true
}

func (c *checker) text(field, value string, maxRunes int) {
	if c.required(field, value) && utf8.RuneCountInString(value) > maxRunes {
		c.fail(field, "is %d characters long; at most %d fit on the screen", utf8.RuneCountInString(value), maxRunes)
	}
}

func (c *checker) id(field, value string) {
	if c.required(field, value) && !idPattern.MatchString(value) {
		c.fail(field, "%q must be lower-case letters, digits and '-' (at most 63), starting with a letter or digit", value)
	}
}

func (c *checker) oneOf(field, value string, allowed ...string) {
	if c.required(field, value) && !slices.Contains(allowed, value) {
		c.fail(field, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

func (c *checker) between(field string, v, lo, hi int) {
	if v < lo || v > hi {
		c.fail(field, "%d is out of range [%d, %d]", v, lo, hi)
	}
}

// maxLinkBytes bounds a link shown as a QR code: a longer one makes a
// denser code that an old phone cannot read off the screen, and the
// receipt printer takes at most 256 bytes.
const maxLinkBytes = 200

// link checks an optional link a villager's phone opens from a QR code.
// Only https: WeChat warns about, or refuses, anything else, and an
// elderly villager stops at the warning.
func (c *checker) link(field, value string) {
	if value == "" {
		return
	}
	u, err := url.Parse(value)
	switch {
	case err != nil:
		c.fail(field, "%q is not a URL: %v", value, err)
	case u.Scheme != "https":
		c.fail(field, "%q must be an https:// link (WeChat warns about anything else)", value)
	case u.Hostname() == "":
		c.fail(field, "%q has no host, e.g. https://township.example/page", value)
	case u.User != nil:
		c.fail(field, "%q carries a user name or password; a link on a public screen must not", value)
	case strings.IndexFunc(value, unicode.IsSpace) >= 0:
		c.fail(field, "%q contains a space (perhaps a full-width one pasted from a document); write it as %%20", value)
	case len(value) > maxLinkBytes:
		c.fail(field, "is %d bytes long; at most %d fit in a QR code a phone reads off the screen", len(value), maxLinkBytes)
	}
}

// lookupLink checks content.booking_lookup: a link with {number} once,
// which is a valid link with a booking number in its place.
func (c *checker) lookupLink(field, value string) {
	if value == "" {
		return
	}
	if n := strings.Count(value, LookupNumber); n != 1 {
		c.fail(field, "%q must contain %s exactly once, where the booking number goes (e.g. https://township.example/lookup?n=%s)", value, LookupNumber, LookupNumber)
		return
	}
	c.link(field, strings.Replace(value, LookupNumber, "00000", 1))
}

func (s *Site) validate(doc *document) []Problem {
	c := &checker{doc: doc}
	if s.Schema != SiteSchema {
		c.fail("schema", "%q is not a site file (want %q)", s.Schema, SiteSchema)
	}
	c.oneOf("mode", s.Mode, ModeDev, ModeProduction)
	c.required("board", s.Board)
	if c.required("timezone", s.Timezone) {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			c.fail("timezone", "%q is not a known time zone (e.g. Asia/Shanghai)", s.Timezone)
		}
	}

	c.id("kiosk.id", s.Kiosk.ID)
	c.id("kiosk.township", s.Kiosk.Township)
	c.id("kiosk.village", s.Kiosk.Village)
	c.text("kiosk.name", s.Kiosk.Name, 40)

	s.validateMQTT(c)
	s.validateStorage(c)
	s.Content.validate(c)
	s.Content.validateVillagerContent(c)
	s.Content.validateMediation(c)
	s.Content.Requests.validate(c)
	s.Content.validateWording(c)
	s.Mediators.validate(c)
	if d := s.UI.Idle.Duration; d < 20*time.Second || d > 10*time.Minute {
		c.fail("ui.idle", "%s is out of range [20s, 10m]", d)
	}
	if d := s.UI.MediatorIdle.Duration; d < time.Minute || d > time.Hour {
		c.fail("ui.mediator_idle", "%s is out of range [1m, 1h]: a mediator needs at least a minute to listen, and an unattended signed-in screen must not stay open for hours", d)
	}
	s.Control.validate(c, s.Mode)
	s.Records.validate(c, s.Mode, s.Control.TownshipKeys)
	validateCameras(c, s.Cameras, c.unique(), SiteCameraDrivers()...)
	return c.problems
}

func (s *Site) validateMQTT(c *checker) {
	if c.required("mqtt.broker", s.MQTT.Broker) {
		u, err := url.Parse(s.MQTT.Broker)
		switch {
		case err != nil:
			c.fail("mqtt.broker", "%q is not a URL: %v", s.MQTT.Broker, err)
		case u.Host == "" || u.Port() == "":
			c.fail("mqtt.broker", "%q needs a host and a port, e.g. ssl://township.example:8883", s.MQTT.Broker)
		case !slices.Contains([]string{"tcp", "ssl", "tls", "mqtts", "ws", "wss"}, u.Scheme):
			c.fail("mqtt.broker", "scheme %q is not supported (want tcp, ssl, ws or wss)", u.Scheme)
		case s.Mode == ModeProduction && (u.Scheme == "tcp" || u.Scheme == "ws"):
			c.fail("mqtt.broker", "production sites must use TLS (ssl:// or wss://); plain %s:// is allowed only with mode: dev", u.Scheme)
		}
	}
	if d := s.MQTT.KeepAlive.Duration; d < 5*time.Second || d > 10*time.Minute {
		c.fail("mqtt.keepalive", "%s is out of range [5s, 10m]", d)
	}
	if d := s.MQTT.ConnectTimeout.Duration; d < time.Second || d > 2*time.Minute {
		c.fail("mqtt.connect_timeout", "%s is out of range [1s, 2m]", d)
	}
}

func (s *Site) validateStorage(c *checker) {
	if q := s.Storage.Quota; q < 1<<20 || q > 64<<30 {
		c.fail("storage.quota", "%s is out of range [1MiB, 64GiB]", q)
	}
	if f := s.Storage.KeyFile; f != "" && !filepath.IsAbs(f) {
		c.fail("storage.key_file", "%q must be an absolute path", f)
	}
	c.between("storage.max_attempts", s.Storage.MaxAttempts, 1, 100)
	if d := s.Storage.TelemetryInterval.Duration; d < 10*time.Second || d > 24*time.Hour {
		c.fail("storage.telemetry_interval", "%s is out of range [10s, 24h]", d)
	}
	if p := s.MQTT.MaxPayload; p < 4<<10 || p > 256<<20 {
		c.fail("mqtt.max_payload", "%s is out of range [4KiB, 256MiB]", p)
	}
}

func (ct *Content) validate(c *checker) {
	a := &ct.Advisor
	c.text("content.advisor.name", a.Name, 20)
	c.text("content.advisor.firm", a.Firm, 40)
	if c.required("content.advisor.phone", a.Phone) {
		if err := phone.CheckContact(phone.Normalize(a.Phone)); err != nil {
			c.fail("content.advisor.phone", "%q: %v", a.Phone, err)
		}
	}
	if len(a.Duty) == 0 {
		c.fail("content.advisor.duty", "needs at least one duty window (days, from, to), or villagers cannot book the advisor")
	}
	for i, w := range a.Duty {
		f := fmt.Sprintf("content.advisor.duty[%d]", i)
		if len(w.Days) == 0 {
			c.fail(f+".days", "needs at least one day")
		}
		if w.To.Minutes() <= w.From.Minutes() {
			c.fail(f+".to", "%s is not after from (%s)", w.To, w.From)
		} else if w.To.Minutes()-w.From.Minutes() < a.SlotMinutes {
			c.fail(f, "%s–%s is shorter than one slot (%d minutes)", w.From, w.To, a.SlotMinutes)
		}
	}
	c.between("content.advisor.slot_minutes", a.SlotMinutes, 10, 240)
	c.between("content.advisor.booking_days", a.BookingDays, 1, 60)

	if len(ct.Topics) == 0 {
		c.fail("content.topics", "needs at least one consultation topic: a villager booking the advisor picks one (e.g. [婚姻家庭, 其他])")
	}
	seen := map[string]bool{}
	for i, t := range ct.Topics {
		f := fmt.Sprintf("content.topics[%d]", i)
		c.text(f, t, 12)
		if seen[t] {
			c.fail(f, "%q is listed twice", t)
		}
		seen[t] = true
	}

	found := map[string]int{}
	for i, s := range ct.Services {
		f := fmt.Sprintf("content.services[%d]", i)
		if c.required(f+".id", s.ID) && !slices.Contains(ServiceIDs[:], s.ID) {
			c.fail(f+".id", "%q is not one of the 513 services (%s)", s.ID, strings.Join(ServiceIDs[:], ", "))
		}
		if prev, dup := found[s.ID]; dup && s.ID != "" {
			c.fail(f+".id", "%q is already defined at services[%d]", s.ID, prev)
		}
		found[s.ID] = i
		c.text(f+".title", s.Title, 12)
		c.text(f+".summary", s.Summary, 60)
		c.text(f+".platforms.in_person", s.Platforms.InPerson, 60)
		c.text(f+".platforms.online", s.Platforms.Online, 60)
		c.text(f+".platforms.hotline", s.Platforms.Hotline, 60)
		c.link(f+".platforms.online_url", s.Platforms.OnlineURL)
	}
	var missing []string
	for _, id := range ServiceIDs {
		if _, ok := found[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		// One problem, not one per service: township IT fixes the list
		// in one place, and needs the ids to write.
		c.fail("content.services", "the 513 menu needs all five services (missing: %s); the kiosk's home screen shows one key per service, in the order %s",
			strings.Join(missing, ", "), strings.Join(ServiceIDs[:], ", "))
	}
}

func (b *Board) validate(doc *document) []Problem {
	c := &checker{doc: doc}
	if b.Schema != BoardSchema {
		c.fail("schema", "%q is not a board profile (want %q)", b.Schema, BoardSchema)
	}
	c.id("name", b.Name)
	c.between("screen.width", b.Screen.Width, 320, 7680)
	c.between("screen.height", b.Screen.Height, 240, 4320)
	if !slices.Contains([]int{0, 90, 180, 270}, b.Screen.Rotation) {
		c.fail("screen.rotation", "%d is not one of 0, 90, 180, 270", b.Screen.Rotation)
	}
	if d := b.Screen.Diagonal; d != 0 {
		// Written so that NaN (.nan in YAML), which fails every
		// comparison, fails the check too: it cannot be encoded in
		// GET /v1/menu.
		if !(d >= 5 && d <= 110) {
			c.fail("screen.diagonal", "%g is not a panel's diagonal in inches (5 to 110)", d)
		} else if ppi := b.Screen.PixelsPerInch(); !(ppi >= 40 && ppi <= 400) {
			c.fail("screen.diagonal", "%g in for %d×%d pixels is %.0f pixels per inch; a kiosk panel has 40 to 400 (is it in inches?)", d, b.Screen.Width, b.Screen.Height, ppi)
		}
	}
	c.oneOf("idcard.driver", b.IDCard.Driver, IDCardDrivers()...)
	if d := b.IDCard.PollInterval.Duration; d < 300*time.Millisecond || d > 10*time.Second {
		c.fail("idcard.poll_interval", "%s is out of range [300ms, 10s]; a SAM polled faster stops answering", d)
	}
	if b.IDCard.Driver == IDCardSerial {
		if !filepath.IsAbs(b.IDCard.Device) {
			c.fail("idcard.device", "%q must be an absolute device path, e.g. /dev/idcard", b.IDCard.Device)
		}
		if !slices.Contains(idcardBauds, b.IDCard.Baud) {
			c.fail("idcard.baud", "%d is not a rate the reader supports (9600, 19200, 38400, 57600, 115200)", b.IDCard.Baud)
		}
	}
	b.Printer.validate(c)
	b.GPIO.validate(c)
	validateCameras(c, b.Cameras, c.unique(), BoardCameraDrivers()...)
	validateConsentCamera(c, b.Cameras, nil)
	return c.problems
}
