package config

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/fengqiao/kiosk/agent/internal/editdist"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Bounds of the villager content. Questionnaires are short because many
// villagers have them read aloud; a seventh question loses the listener.
const (
	minQuestions = 3
	maxQuestions = 6
	// minPINCost keeps a copied site file from giving up a mediator's PIN
	// to a quick brute force; bcrypt.DefaultCost is what kioskctl writes.
	minPINCost = bcrypt.DefaultCost
)

// unique reports a value listed twice under field.
type unique struct {
	c    *checker
	seen map[string]string
}

func (c *checker) unique() *unique { return &unique{c: c, seen: map[string]string{}} }

func (u *unique) check(field, value string) {
	if value == "" {
		return
	}
	if prev, dup := u.seen[value]; dup {
		u.c.fail(field, "%q is already listed at %s", value, prev)
		return
	}
	u.seen[value] = field
}

func (c *checker) events(field string, events []Event) {
	for i, e := range events {
		f := fmt.Sprintf("%s[%d]", field, i)
		c.text(f+".title", e.Title, 30)
		c.text(f+".place", e.Place, 30)
		if e.At.IsZero() {
			c.fail(f+".at", "is required (\"2006-01-02 15:04\", site time)")
		}
	}
}

func (ct *Content) validateVillagerContent(c *checker) {
	c.text("content.lecture.theme", ct.Lecture.Theme, 30)
	c.events("content.lecture.schedule", ct.Lecture.Schedule)
	c.events("content.fairs", ct.Fairs)

	if len(ct.Checkup) == 0 {
		c.fail("content.checkup", "needs at least one questionnaire (kind family or business): legal-checkup is bookable")
	}
	kinds, ids := c.unique(), c.unique()
	for i, ck := range ct.Checkup {
		f := fmt.Sprintf("content.checkup[%d]", i)
		if c.required(f+".kind", ck.Kind) && !slices.Contains(CheckupKinds[:], ck.Kind) {
			c.fail(f+".kind", "%q is not one of %s", ck.Kind, strings.Join(CheckupKinds[:], ", "))
		}
		kinds.check(f+".kind", ck.Kind)
		c.text(f+".title", ck.Title, 20)
		if n := len(ck.Questions); n < minQuestions || n > maxQuestions {
			c.fail(f+".questions", "has %d questions; want %d to %d", n, minQuestions, maxQuestions)
		}
		for j, q := range ck.Questions {
			qf := fmt.Sprintf("%s.questions[%d]", f, j)
			c.id(qf+".id", q.ID)
			// Ids are unique across questionnaires: a booking's answers name
			// questions by id alone.
			ids.check(qf+".id", q.ID)
			c.text(qf+".text", q.Text, 60)
			c.text(qf+".advice", q.Advice, 80)
		}
	}

	if len(ct.Publicity) == 0 {
		c.fail("content.publicity", "needs at least one publicity position (普法工作站, 聊法亭 ...): the publicity service lists where villagers can go")
	}
	for i, p := range ct.Publicity {
		f := fmt.Sprintf("content.publicity[%d]", i)
		c.text(f+".name", p.Name, 20)
		c.text(f+".where", p.Where, 40)
		if p.Hours != "" {
			c.text(f+".hours", p.Hours, 30)
		}
	}
}

func (ct *Content) validateMediation(c *checker) {
	if len(ct.Venues) == 0 {
		c.fail("content.venues", "needs at least one mediation venue, or villagers cannot book a mediation")
	}
	vids := c.unique()
	for i, v := range ct.Venues {
		f := fmt.Sprintf("content.venues[%d]", i)
		c.id(f+".id", v.ID)
		vids.check(f+".id", v.ID)
		c.text(f+".name", v.Name, 12)
		c.text(f+".where", v.Where, 40)
	}
	if len(ct.Categories) == 0 {
		c.fail("content.categories", "needs at least one dispute category (leave the key out for the 14 standard ones)")
	}
	cats := c.unique()
	for i, cat := range ct.Categories {
		f := fmt.Sprintf("content.categories[%d]", i)
		c.text(f, cat, 12)
		cats.check(f, cat)
	}
	m := ct.Mediation
	if len(m.Sessions) == 0 {
		c.fail("content.mediation.sessions", "needs at least one daily session start, e.g. [\"09:00\"]: a villager booking a mediation picks one")
	}
	starts := c.unique()
	for i, t := range m.Sessions {
		starts.check(fmt.Sprintf("content.mediation.sessions[%d]", i), t.String())
	}
	c.between("content.mediation.booking_days", m.BookingDays, 1, 30)
	if m.Venue != "" {
		if _, ok := ct.VenueByID(m.Venue); !ok {
			c.fail("content.mediation.venue", "%q is not one of content.venues[].id", m.Venue)
		}
	}
	c.lookupLink("content.booking_lookup", ct.BookingLookup)
	phrases := c.unique()
	for i, p := range ct.Phrases {
		f := fmt.Sprintf("content.phrases[%d]", i)
		c.text(f, p, 30)
		phrases.check(f, p)
	}
}

func (m *Mediators) validate(c *checker) {
	if d := m.Idle.Duration; d < time.Minute || d > time.Hour {
		c.fail("mediators.idle", "%s is out of range [1m, 1h]", d)
	}
	ids, cards := c.unique(), c.unique()
	for i, r := range m.Roster {
		f := fmt.Sprintf("mediators.roster[%d]", i)
		c.id(f+".id", r.ID)
		ids.check(f+".id", r.ID)
		c.text(f+".name", r.Name, 20)
		if c.required(f+".id_sha256", r.IDSHA256) {
			if b, err := hex.DecodeString(r.IDSHA256); err != nil || len(b) != 32 || strings.ToLower(r.IDSHA256) != r.IDSHA256 {
				c.fail(f+".id_sha256", "must be 64 lower-case hex digits (kioskctl mediator hash prints it); never the ID number itself")
			}
			cards.check(f+".id_sha256", r.IDSHA256)
		}
		if c.required(f+".pin_bcrypt", r.PINBcrypt) {
			cost, err := bcrypt.Cost([]byte(r.PINBcrypt))
			switch {
			case err != nil:
				c.fail(f+".pin_bcrypt", "is not a bcrypt hash (kioskctl mediator hash prints one): %v", err)
			case cost < minPINCost:
				c.fail(f+".pin_bcrypt", "bcrypt cost %d is below %d", cost, minPINCost)
			}
		}
	}
}

// maxWordingRunes bounds any corrected text, beyond the bound for its key
// that wording.Check applies (wording.MaxRunes): the longest of the
// catalogue's is a notice of two lines; a paragraph would push the
// screen's buttons under the fold.
const maxWordingRunes = 80

// validateWording checks the site's corrections of the screens' texts
// against the catalogue kiosk-ui reads them from: a key it does not have
// would change nothing on screen, and a text that drops a {value} would
// hide a number the villager needs (one added would show as "{n}").
func (ct *Content) validateWording(c *checker) {
	keys := slices.Sorted(maps.Keys(ct.Wording))
	for _, k := range keys {
		f := "content.wording." + k
		text := ct.Wording[k]
		if !wording.Known(k) {
			c.fail(f, "unknown key: not a text of the kiosk (the keys are those of kiosk-ui/wording/zh-CN.yaml)%s", suggestWording(k))
			continue
		}
		if err := wording.Check(k, text); err != nil {
			c.fail(f, "%v", err)
			continue
		}
		if n := utf8.RuneCountInString(text); n > maxWordingRunes {
			c.fail(f, "is %d characters long; at most %d fit on the screen", n, maxWordingRunes)
		}
	}
}

// suggestWording names the catalogue key closest to a misspelt one.
func suggestWording(k string) string {
	best, bestDist := "", 4
	for _, known := range wording.Keys() {
		if d := editdist.Distance(k, string(known)); d < bestDist || (d == bestDist && string(known) < best) {
			best, bestDist = string(known), d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
