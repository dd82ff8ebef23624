package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/schema"
)

// This file is 我要反映 (issue 20, docs/requests.md): a villager raises a
// request or a report, which becomes a request/v1 record and, in the same
// outbox commit, a local status the villager checks later at the kiosk.

// Errors of requests.
var (
	// ErrNoRequestSecret means the core was built without the kiosk's
	// request secret (Options.RequestSecret): it takes no requests, since
	// it could not find them again. Answered like a storage failure.
	ErrNoRequestSecret = errors.New("core: no request secret")
	// ErrNoMatch means no request with that number matches the proof.
	// It is the same answer for a number that does not exist, so a
	// wrong guess learns nothing.
	ErrNoMatch = errors.New("core: no request with that number matches")
	// ErrRequestSecretLost means the number is at or below the last
	// request kept when the kiosk's request secret was lost (Options.
	// RequestSecretLostBelow): its proofs were hashed with the lost secret
	// and can never match, so the check is refused and not counted.
	ErrRequestSecretLost = errors.New("core: requests this old were made under a lost request secret")
	// ErrCheckLocked means too many wrong typed proofs were given for one
	// number, or on the whole kiosk, lately (checklimit.go); a card check
	// is never refused so.
	ErrCheckLocked = errors.New("core: too many wrong proofs for this number; wait")
)

// AnonymousTimeGrain is what an anonymous report's time is rounded down
// to, in its record and its local status: the hour.
const AnonymousTimeGrain = time.Hour

// tallyRequests prefixes the outbox tallies of requests by grid category,
// counted in the request's own commit: the 事件采集数 indicator.
const tallyRequests = "requests/"

// RequestMenu is what the 我要反映 screens offer.
func (c *Core) RequestMenu() apitype.RequestMenu {
	rc := c.live().requests.Content()
	out := apitype.RequestMenu{Kinds: []apitype.RequestKind{}, Categories: []apitype.RequestCategory{},
		Places: []apitype.RequestPlace{}, MaxPhrases: request.MaxPhrases, CodeDigits: request.CodeDigits}
	for _, k := range rc.Kinds {
		out.Kinds = append(out.Kinds, apitype.RequestKind{ID: k.ID, Name: k.Name, Pictogram: k.Pictogram, Anonymous: k.ID == config.KindReport})
	}
	for _, g := range rc.Categories {
		out.Categories = append(out.Categories, apitype.RequestCategory{ID: g.ID, Name: g.Name, Pictogram: g.Pictogram, Phrases: slices.Clone(g.Phrases)})
	}
	for _, p := range rc.Places {
		out.Places = append(out.Places, apitype.RequestPlace{ID: p.ID, Name: p.Name, Kind: p.Kind})
	}
	out.Photo = c.hardware != nil && c.hardware.PhotoCamera().State == apitype.DeviceReady
	return out
}

// SubmitRequest validates a villager's request, takes its photo if asked,
// and commits its record and local status in one outbox commit. A
// *booking.FieldError means the request was wrong; ErrNoPhoto that the
// photo could not be taken; any other error that nothing was stored.
func (c *Core) SubmitRequest(ctx context.Context, req apitype.RequestSubmit) (apitype.RequestReceipt, error) {
	if c.reqKeys == nil {
		return apitype.RequestReceipt{}, ErrNoRequestSecret
	}
	now := c.now()
	in := request.Input{Kind: req.Kind, Category: req.Category, Phrases: req.Phrases, Place: req.Place,
		Anonymous: req.Anonymous, Phone: req.Phone, CardGiven: req.Card != ""}
	if req.Photo != nil {
		in.Photo, in.Consent = true, req.Photo.Consent
	}
	var id Identity
	if req.Card != "" && !req.Anonymous && c.cards != nil {
		// An anonymous report never looks its card up: the rules refuse it
		// before anything of the card is read.
		if got, ok := c.cards.Lookup(req.Card); ok {
			id = got
			in.Card = &request.Identity{Name: id.Name, IDNumber: id.IDNumber, IDType: id.IDType}
		}
	}
	v, err := c.live().requests.Validate(in)
	if err != nil {
		return apitype.RequestReceipt{}, err
	}
	var photo *schema.RequestPhotoV1
	if v.Photo {
		p, err := c.takePhoto(ctx)
		if err != nil {
			return apitype.RequestReceipt{}, err
		}
		photo = &p
	}
	build := func(s *sealer) schema.Body {
		body := requestV1(v, s)
		body.Photo = photo
		return body
	}
	var env record.Envelope
	if v.Anonymous {
		// Its time would point at whoever stood at the kiosk (a camera on
		// the square): the id is random (v4, not a v7 with the
		// millisecond in it) and the time is the hour's (docs/requests.md).
		var id uuid.UUID
		if id, err = uuid.NewRandom(); err == nil {
			env, err = c.newSealedRecordWithID(c.live(), id.String(), now.UTC().Truncate(AnonymousTimeGrain), build)
		}
	} else {
		env, err = c.newSealedRecord(c.live(), now, build)
	}
	if err != nil {
		return apitype.RequestReceipt{}, err
	}
	st := storedRequest(v, env.ID, env.TS)
	var code string
	switch {
	case v.Anonymous:
		if code, err = request.NewCode(); err != nil {
			return apitype.RequestReceipt{}, err
		}
		// Its receipt's number is random, not the seq, which the records
		// around it would date. Unique among the kept requests: drawn and
		// committed under anonMu.
		c.anonMu.Lock()
		defer c.anonMu.Unlock()
		if st.Number, err = c.newAnonymousNumber(); err != nil {
			return apitype.RequestReceipt{}, err
		}
		st.CodeProof = c.reqKeys.Proof(env.ID, request.ProofCode, code)
	default:
		if in.Card != nil {
			st.CardKey = c.reqKeys.Card(id.IDType, id.IDNumber)
		}
		if v.Contact.Phone != "" {
			st.PhoneProof = c.reqKeys.Proof(env.ID, request.ProofPhone, request.LastFour(v.Contact.Phone))
		}
	}
	value, err := st.Encode()
	if err != nil {
		return apitype.RequestReceipt{}, err
	}
	env, err = c.outbox.EnqueueKept(ctx, env, outbox.Kept{Table: request.Table, Value: value}, tallyRequests+v.Category.ID)
	if err != nil {
		return apitype.RequestReceipt{}, err
	}
	if in.Card != nil {
		c.cards.Forget(req.Card)
	}
	number := BookingNumber(env.Seq)
	if st.Number != "" {
		number = st.Number
	}
	// Never the phone, the name or the code: the id traces the record.
	c.log.Info("request committed", "id", env.ID, "seq", env.Seq, "kind", v.Kind.ID, "category", v.Category.ID,
		"anonymous", v.Anonymous, "photo", v.Photo)
	shown := apiRequest(number, st)
	receipt := c.requestReceipt(shown, code)
	if code != "" {
		c.receipts.putOnce(env.ID, receipt, c.now()) // printed once, then forgotten
	} else {
		c.rememberReceipt(env.ID, receipt)
	}
	return apitype.RequestReceipt{ID: env.ID, Seq: env.Seq, Request: shown, Code: code}, nil
}

// takePhoto takes a photo of the problem with the consent camera, scaled
// and encoded again as a mediation photo is (no camera metadata survives).
func (c *Core) takePhoto(ctx context.Context) (schema.RequestPhotoV1, error) {
	if c.hardware == nil {
		return schema.RequestPhotoV1{}, ErrNoPhoto
	}
	raw, err := c.hardware.Photo(ctx)
	if err != nil {
		return schema.RequestPhotoV1{}, fmt.Errorf("%w: %v", ErrNoPhoto, err)
	}
	small, w, h, err := shrinkJPEG(raw, PhotoMaxSide)
	if err != nil {
		return schema.RequestPhotoV1{}, fmt.Errorf("%w: %v", ErrNoPhoto, err)
	}
	return schema.RequestPhotoV1{Width: w, Height: h, JPEG: small, Consent: "the villager agreed on the kiosk's screen"}, nil
}

// CheckRequest returns the request numbered number if proof proves it the
// villager's: the card that made it, the last four digits of its phone,
// or an anonymous report's check code. ErrNoMatch otherwise, the same for
// a number that does not exist; ErrCheckLocked after too many misses.
func (c *Core) CheckRequest(number string, proof apitype.RequestProof) (apitype.Request, error) {
	if c.reqKeys == nil {
		return apitype.Request{}, ErrNoRequestSecret
	}
	given := 0
	for _, p := range []string{proof.Card, proof.Phone4, proof.Code} {
		if p != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return apitype.Request{}, &booking.FieldError{Field: "proof", Code: apitype.CodeRequired,
			Msg: "give one of card (a card just tapped), phone4 (the phone's last four digits) or code (an anonymous report's check code)"}
	case given > 1:
		return apitype.Request{}, &booking.FieldError{Field: "proof", Code: apitype.CodeInvalid, Msg: "give one proof only"}
	}
	seq, err := strconv.ParseUint(number, 10, 64)
	if err != nil || seq == 0 || len(number) > 20 {
		return apitype.Request{}, &booking.FieldError{Field: "number", Code: apitype.CodeInvalid, Msg: "must be a request's number, e.g. 00042"}
	}
	anonymous := isAnonymousNumber(number)
	if anonymous {
		// An anonymous report's number is not its seq: found by the
		// number stored with it (0: none, answered as a wrong proof).
		if seq, err = c.anonymousSeq(number); err != nil {
			return apitype.Request{}, err
		}
	} else {
		number = BookingNumber(seq) // 42 and 00042 are one request
	}
	now := c.now()
	if seq != 0 && seq <= c.secretLostBelow {
		return apitype.Request{}, ErrRequestSecretLost
	}
	if proof.Card != "" {
		return c.checkByCard(number, seq, proof.Card)
	}
	// A typed proof: counted as a miss before it is verified, so parallel
	// checks get no more tries than the limits (checklimit.go).
	if err := c.checks.begin(number, now); err != nil {
		c.log.Info("request check refused: locked", "number", number)
		return apitype.Request{}, err
	}
	st, err := c.storedRequest(seq)
	if err != nil && !errors.Is(err, outbox.ErrNotFound) {
		c.checks.cancel(number, now) // not a miss: the kiosk failed
		return apitype.Request{}, err
	}
	kind, value := request.ProofPhone, proof.Phone4
	if proof.Code != "" {
		kind, value = request.ProofCode, strings.ReplaceAll(proof.Code, " ", "")
	}
	var ok bool
	if err == nil {
		stored := st.PhoneProof
		if kind == request.ProofCode {
			stored = st.CodeProof
		}
		ok = c.reqKeys.Matches(stored, st.ID, kind, value)
	} else {
		// A number that does not exist costs what a wrong proof costs: the
		// same HMAC, the same miss counted and written.
		c.reqKeys.Matches(unknownProof, "", kind, value)
	}
	if err := c.checks.done(number, now, ok); err != nil {
		c.log.Warn("request check: could not write the check limits", "err", err)
	}
	if !ok {
		c.log.Info("request check refused", "number", number)
		return apitype.Request{}, ErrNoMatch
	}
	return apiRequest(number, st), nil
}

// unknownProof stands for the stored proof of a number that does not
// exist, so that checking it costs an HMAC as a real one does.
var unknownProof = strings.Repeat("0", 64)

// checkByCard checks request seq by the card just tapped. It is neither
// limited nor counted: a card is not guessed at the keypad, and a locked
// number must not keep its villager out.
func (c *Core) checkByCard(number string, seq uint64, token string) (apitype.Request, error) {
	id, err := c.cardRead(token)
	if err != nil {
		return apitype.Request{}, err
	}
	cardKey := c.reqKeys.Card(id.IDType, id.IDNumber)
	st, err := c.storedRequest(seq)
	if err != nil && !errors.Is(err, outbox.ErrNotFound) {
		return apitype.Request{}, err
	}
	if err != nil || st.CardKey == "" || subtle.ConstantTimeCompare([]byte(st.CardKey), []byte(cardKey)) != 1 {
		c.log.Info("request check refused", "number", number)
		return apitype.Request{}, ErrNoMatch
	}
	c.cards.Forget(token)
	return apiRequest(number, st), nil
}

// RequestsByCard lists the requests made with the card just tapped,
// newest first: one tap shows a villager all they raised here.
func (c *Core) RequestsByCard(token string) (apitype.Requests, error) {
	if c.reqKeys == nil {
		return apitype.Requests{}, ErrNoRequestSecret
	}
	if token == "" {
		return apitype.Requests{}, &booking.FieldError{Field: "card", Code: apitype.CodeRequired, Msg: "is required"}
	}
	id, err := c.cardRead(token)
	if err != nil {
		return apitype.Requests{}, err
	}
	key := c.reqKeys.Card(id.IDType, id.IDNumber)
	out := apitype.Requests{Requests: []apitype.Request{}}
	// A village kiosk keeps thousands of requests at most: a scan of the
	// sealed table costs milliseconds, and an index would be one more
	// place a card's key is written.
	err = c.scanRequests(func(seq uint64, st request.Stored) {
		if st.CardKey == key {
			out.Requests = append(out.Requests, apiRequest(BookingNumber(seq), st))
		}
	})
	if err != nil {
		return apitype.Requests{}, fmt.Errorf("core: requests by card: %w", err)
	}
	slices.Reverse(out.Requests)
	c.cards.Forget(token)
	return out, nil
}

// scanRequests calls fn with every stored request status that reads. One
// that does not (written by a newer kioskd before a rollback, or damaged)
// is skipped, counted (SkippedRequests) and logged by its number only, so
// one bad entry does not refuse every villager's card lookup.
func (c *Core) scanRequests(fn func(seq uint64, st request.Stored)) error {
	return c.outbox.ScanKept(request.Table, func(seq uint64, v []byte) error {
		st, err := request.DecodeStored(v)
		if err != nil {
			c.skippedRequests.Add(1)
			c.log.Warn("request status skipped: it does not read", "number", BookingNumber(seq),
				"newer", errors.Is(err, request.ErrNewerStored))
			return nil
		}
		fn(seq, st)
		return nil
	})
}

// SkippedRequests is how many stored request statuses scans have skipped
// since the start because they did not read (scanRequests).
func (c *Core) SkippedRequests() int64 { return c.skippedRequests.Load() }

// Anonymous reports' numbers: AnonymousNumberDigits digits beginning with
// a 9, which a seq-based number (00042) never is before the kiosk's
// 900000th record.
const AnonymousNumberDigits = 6

func isAnonymousNumber(n string) bool { return len(n) == AnonymousNumberDigits && n[0] == '9' }

// newAnonymousNumber draws a number for an anonymous report that no kept
// request has.
func (c *Core) newAnonymousNumber() (string, error) {
	for range 20 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("core: anonymous number: %w", err)
		}
		n := fmt.Sprintf("9%05d", binary.BigEndian.Uint64(b[:])%100000)
		seq, err := c.anonymousSeq(n)
		if err != nil {
			return "", err
		}
		if seq == 0 {
			return n, nil
		}
	}
	return "", errors.New("core: anonymous number: no free number found")
}

// anonymousSeq is the seq of the kept anonymous report numbered n; 0 if
// there is none. A scan of the table, whether or not it is there: a
// number that does not exist costs what one that does costs.
func (c *Core) anonymousSeq(n string) (uint64, error) {
	var found uint64
	err := c.scanRequests(func(seq uint64, st request.Stored) {
		if st.Number != "" && subtle.ConstantTimeCompare([]byte(st.Number), []byte(n)) == 1 {
			found = seq
		}
	})
	if err != nil {
		return 0, fmt.Errorf("core: anonymous number: %w", err)
	}
	return found, nil
}

func (c *Core) storedRequest(seq uint64) (request.Stored, error) {
	if seq == 0 {
		return request.Stored{}, fmt.Errorf("%w: no such request", outbox.ErrNotFound)
	}
	v, err := c.outbox.GetKept(request.Table, seq)
	if err != nil {
		return request.Stored{}, err
	}
	return request.DecodeStored(v)
}

// requestV1 is the township's record of a valid request. Contact is the
// only part that names anyone, its phone sealed as every record's (issue
// 19); an anonymous report has none, and so nothing to seal or withhold.
func requestV1(r request.Request, s *sealer) schema.RequestV1 {
	out := schema.RequestV1{Kind: r.Kind.ID, KindName: r.Kind.Name,
		Category: schema.CategoryV1{ID: r.Category.ID, Name: r.Category.Name},
		Phrases:  slices.Clone(r.Phrases), Anonymous: r.Anonymous, Channel: request.Channel}
	if r.Place != nil {
		out.Place = &schema.PlaceV1{ID: r.Place.ID, Name: r.Place.Name, Kind: r.Place.Kind}
	}
	if r.Contact != nil && !r.Anonymous {
		// The name is sealed as the phone is, on every kind: a 求助 names
		// its villager as much as a 举报, and only the township answers.
		// The phone's mask shows no digit of the last four, which prove
		// the request at the kiosk's check.
		out.Contact = &schema.RequestContactV1{Via: r.Contact.Via, Name: s.seal("contact.name", r.Contact.Name),
			PhoneMasked: requestMasked(r.Contact.Phone), Phone: s.seal("contact.phone", r.Contact.Phone)}
	}
	out.Withheld = s.withheld
	return out
}

// requestMasked is a request's phone as lists show it: the first three
// digits only (139********). Unlike other records' masks (139****1234) it
// shows none of the last four digits, which are what proves the request
// at the kiosk: a subscriber who saw them beside the number could check it.
func requestMasked(tel string) string {
	r := []rune(tel)
	switch {
	case len(r) == 0:
		return ""
	case len(r) <= 7:
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-3)
}

// storedRequest is the local status of a request just made: submitted,
// with no proof yet (the caller adds the keyed hashes).
func storedRequest(r request.Request, id string, now time.Time) request.Stored {
	st := request.Stored{ID: id, Created: now, Kind: r.Kind.ID, KindName: r.Kind.Name, Category: r.Category.ID,
		CatName: r.Category.Name, Phrases: slices.Clone(r.Phrases), Anonymous: r.Anonymous, Photo: r.Photo,
		Status: request.StatusSubmitted}
	if r.Place != nil {
		st.Place = r.Place.Name
	}
	return st
}

// apiRequest is a stored status as the check shows it; an anonymous
// report's number is its own, not the seq's.
func apiRequest(number string, st request.Stored) apitype.Request {
	if st.Number != "" {
		number = st.Number
	}
	out := apitype.Request{Number: number, Kind: st.Kind, KindName: st.KindName, Category: st.Category, CatName: st.CatName,
		Phrases: slices.Clone(st.Phrases), Place: st.Place, Anonymous: st.Anonymous, Photo: st.Photo,
		Created: st.Created, Reply: st.Reply, By: st.By, To: st.To}
	if out.Phrases == nil {
		out.Phrases = []string{}
	}
	switch {
	case st.CardKey != "":
		out.Via = request.ViaCard
	case st.PhoneProof != "":
		out.Via = request.ViaPhone
	}
	out.Status, out.StatusText = apiRequestStatus(st.Status)
	if !st.Updated.IsZero() {
		u := st.Updated
		out.Updated = &u
	}
	return out
}

// apiRequestStatus names a stored status for the screen. An unknown one
// (written by a newer kiosk) is shown as it is rather than hidden.
func apiRequestStatus(s string) (status, text string) {
	switch s {
	case request.StatusSubmitted:
		return apitype.RequestSubmitted, "已提交，待受理"
	case request.StatusAccepted:
		return apitype.RequestAccepted, "已受理"
	case request.StatusInProgress:
		return apitype.RequestInProgress, "办理中"
	case request.StatusClosed:
		return apitype.RequestClosed, "已办结"
	case request.StatusReferred:
		return apitype.RequestReferred, "已转交"
	}
	return s, s
}

// requestReceipt is a request's receipt: the number, what and where, and
// for an anonymous report the check code, printed once. Never the name or
// the phone: a receipt is left on tables and in bins.
func (c *Core) requestReceipt(r apitype.Request, code string) Receipt {
	lines := []string{
		"编号：" + r.Number,
		"事项：" + r.KindName + " · " + r.CatName,
	}
	for _, p := range r.Phrases {
		lines = append(lines, "　　　"+p)
	}
	if r.Place != "" {
		lines = append(lines, "地点："+r.Place)
	}
	lines = append(lines, "时间："+c.receiptTime(r.Created), "状态："+r.StatusText)
	title := "反映回执"
	if code != "" {
		title = "匿名举报回执"
		lines = append(lines, "查询码："+code[:4]+" "+code[4:],
			"凭编号和查询码在本机查询办理情况。查询码只打印这一次，请妥善保管。",
			"本举报未记录您的姓名、电话和身份证。")
	} else {
		lines = append(lines, "凭编号在本机刷身份证或输入手机后四位查询办理情况。")
	}
	return Receipt{Title: title, Lines: lines, Footer: c.live().cfg.Site.Kiosk.Name}
}
