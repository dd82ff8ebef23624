package apitype

import "time"

// RequestMenu is the body of GET /v1/requests/menu: everything the
// 我要反映 screens offer, in screen order, so a villager taps through
// kind, category, phrases, place and contact without typing.
type RequestMenu struct {
	Kinds      []RequestKind     `json:"kinds"`
	Categories []RequestCategory `json:"categories"`
	// Places is empty when the village lists none: then the screen asks
	// for no place.
	Places []RequestPlace `json:"places"`
	// MaxPhrases is how many of a category's phrases one request takes.
	MaxPhrases int `json:"max_phrases"`
	// Photo says whether the kiosk can take a photo of the problem now
	// (its consent camera is ready); the screen offers one only then.
	Photo bool `json:"photo"`
	// CodeDigits is the length of an anonymous report's check code.
	CodeDigits int `json:"code_digits"`
}

// RequestKind is one of the 闽事理 functions: help (求助), concern
// (反映诉求), consult (咨询), report (举报).
type RequestKind struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Pictogram string `json:"pictogram"`
	// Anonymous: a request of this kind may be made anonymously (only a
	// report); the screen then offers 匿名举报 and says what it means.
	Anonymous bool `json:"anonymous"`
}

// RequestCategory is a grid event category and its preset phrases.
type RequestCategory struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Pictogram string   `json:"pictogram"`
	Phrases   []string `json:"phrases"`
}

// RequestPlace is a 组 (kind group) or a landmark of the village.
type RequestPlace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"` // group | landmark
}

// RequestSubmit is the body of POST /v1/requests.
type RequestSubmit struct {
	Kind     string   `json:"kind"`
	Category string   `json:"category"`
	Phrases  []string `json:"phrases"`
	Place    string   `json:"place,omitempty"`
	// Anonymous makes a report anonymous: then card, phone and photo
	// must be left out.
	Anonymous bool `json:"anonymous,omitempty"`
	// Card is the token of the ID card just tapped (GET
	// /v1/idcard/events); Phone a number typed on the keypad. A request
	// that is not anonymous needs one or both.
	Card  string `json:"card,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Photo asks the kiosk to take a photo of the problem with its
	// consent camera; Consent must say the villager agreed on screen.
	Photo *RequestPhoto `json:"photo,omitempty"`
}

// RequestPhoto is the photo asked for with a request.
type RequestPhoto struct {
	Consent bool `json:"consent"`
}

// RequestReceipt is the answer of POST /v1/requests (201), once the
// request's record is on disk.
type RequestReceipt struct {
	ID  string `json:"id"` // the record's id: POST /v1/print prints the receipt by it
	Seq uint64 `json:"seq"`
	// Request has the short number the villager checks with, and when
	// the request was made.
	Request
	// Code is an anonymous report's check code, in this answer and on
	// the printed receipt only: the kiosk keeps only a keyed hash of it.
	// Show it once, large, with the number.
	Code string `json:"code,omitempty"`
}

// Request is a request as the villager's check shows it: what was asked
// and where it stands. Nothing in it identifies the villager.
type Request struct {
	Number    string   `json:"number"` // the seq, as a booking's number: 00042; an anonymous report's is random: 912345
	Kind      string   `json:"kind"`
	KindName  string   `json:"kind_name"`
	Category  string   `json:"category"`
	CatName   string   `json:"category_name"`
	Phrases   []string `json:"phrases"`
	Place     string   `json:"place,omitempty"` // the place's name
	Anonymous bool     `json:"anonymous"`
	Photo     bool     `json:"photo"`
	// Via is how the villager identified: card, phone, or "" (anonymous).
	Via     string    `json:"via,omitempty"`
	Created time.Time `json:"created"`
	// Status is one of the Request* statuses, StatusText its words for
	// the screen and the voice; Reply the township's answer, once there
	// is one (issue 20 item 2).
	Status     string     `json:"status"`
	StatusText string     `json:"status_text"`
	Reply      string     `json:"reply,omitempty"`
	Updated    *time.Time `json:"updated,omitempty"`
	// By is the office that answered, To the one a referred request went
	// to: each absent until the township says.
	By string `json:"by,omitempty"`
	To string `json:"to,omitempty"`
}

// Request statuses. A kiosk answers submitted until the township's
// answers arrive (issue 20 item 2).
const (
	RequestSubmitted  = "submitted"   // 已提交，待受理
	RequestAccepted   = "accepted"    // 已受理
	RequestInProgress = "in_progress" // 办理中
	RequestClosed     = "closed"      // 已办结
	RequestReferred   = "referred"    // 已转交
)

// RequestProof is how a villager proves a request is theirs, the body of
// POST /v1/requests/{number}/check: exactly one of the card just tapped
// (its token), the last four digits of the phone given, or an anonymous
// report's check code. POST /v1/requests/by-card takes the card alone.
// In a body, never a URL: clients print URLs in their errors.
type RequestProof struct {
	Card   string `json:"card,omitempty"`
	Phone4 string `json:"phone4,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Requests is the answer of POST /v1/requests/by-card: the requests made
// with that card on this kiosk, newest first.
type Requests struct {
	Requests []Request `json:"requests"`
}
