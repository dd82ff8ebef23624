package apitype

import "time"

// PrintEventRequest is the body of POST /v1/print/event: a slip with the
// date and place of an upcoming lecture (service legal-lecture) or legal
// fair (legal-fair), the event named by its start as GET /v1/menu gives it.
// A villager who cannot write takes the date home on paper.
type PrintEventRequest struct {
	Service string    `json:"service"`
	At      time.Time `json:"at"`
}
