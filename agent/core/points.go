package core

import (
	"context"
	"errors"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/points"
)

// ErrNoPoints means the kiosk keeps no points book (kioskd always makes
// one; a core built without it is a test's or a tool's).
var ErrNoPoints = errors.New("core: no points book on this kiosk")

// Points is GET /v1/points: the village's offers and rules, Available
// false until a ledger came.
func (c *Core) Points(ctx context.Context) (apitype.Points, error) {
	if c.points == nil {
		return apitype.Points{Offers: []apitype.PointsOffer{}, Rules: []apitype.PointsRule{}}, nil
	}
	return c.points.Public(ctx)
}

// PointsByCard answers the 美德银行 account of the card just tapped and
// spends its token, as RequestsByCard does. The ID number goes into the
// account key and no further: it is neither logged nor kept.
func (c *Core) PointsByCard(ctx context.Context, token string) (apitype.PointsAccount, error) {
	if c.points == nil {
		return apitype.PointsAccount{}, ErrNoPoints
	}
	if token == "" {
		return apitype.PointsAccount{}, &booking.FieldError{Field: "card", Code: apitype.CodeRequired, Msg: "is required"}
	}
	id, err := c.cardRead(token)
	if err != nil {
		return apitype.PointsAccount{}, err
	}
	out, err := c.points.ByCard(ctx, id.Name, id.IDNumber)
	if err != nil {
		return apitype.PointsAccount{}, err
	}
	c.cards.Forget(token)
	return out, nil
}

// EndPointsView forgets a view handle: the villager left the account.
func (c *Core) EndPointsView(view string) {
	if c.points != nil {
		c.points.EndView(view)
	}
}

// PointsView reads again the account a by-card answer's view names, from
// the ledger in force now.
func (c *Core) PointsView(ctx context.Context, view string) (apitype.PointsAccount, error) {
	if c.points == nil {
		return apitype.PointsAccount{}, points.ErrNoView
	}
	if view == "" {
		return apitype.PointsAccount{}, &booking.FieldError{Field: "view", Code: apitype.CodeRequired, Msg: "is required"}
	}
	return c.points.View(ctx, view)
}
