package cardreader

import (
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/drivers/idcard"
)

// Card types as the local API and records name them.
var cardTypes = map[idcard.CardType]string{
	idcard.Resident:      "resident",
	idcard.HKMacauTaiwan: "hkmotw",
	idcard.ForeignerOld:  "foreigner",
	idcard.Foreigner2023: "foreigner2023",
}

// summarize splits a card into what the screen may show and what a record
// may take.
func summarize(c *idcard.Card, now time.Time) (apitype.CardSummary, core.Identity) {
	name := strings.TrimSpace(c.Name)
	if name == "" { // foreigner cards: the Chinese name may be empty
		name = strings.TrimSpace(c.EnglishName)
	}
	typ := cardTypes[c.Type]
	if typ == "" {
		typ = "unknown"
	}
	sex := "未知"
	switch c.Sex {
	case idcard.SexMale:
		sex = "男"
	case idcard.SexFemale:
		sex = "女"
	}
	masked := idcard.Mask(c.IDNumber)
	return apitype.CardSummary{Type: typ, Name: name, Sex: sex, IDMasked: masked, Expired: c.Expired(now)},
		core.Identity{Name: name, IDNumber: c.IDNumber, IDMasked: masked, IDType: typ}
}
