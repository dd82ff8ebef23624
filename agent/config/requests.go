package config

import (
	"fmt"
	"slices"
	"strings"
)

// Requests is 我要反映 (issue 20): what a villager may raise at the kiosk
// without typing a character, offline. Kinds are the 闽事理 functions;
// categories are the grid platform's event categories, each with a
// pictogram and the preset phrases a villager taps instead of typing; places
// are the village's own 组 and landmarks, so "where" is a tap too.
type Requests struct {
	// Kinds the kiosk offers, in screen order: ids from RequestKindIDs.
	// Left out: all four, with their standard names.
	Kinds []RequestKind `yaml:"kinds"`
	// Categories of grid events, in screen order. Left out:
	// DefaultGridCategories.
	Categories []GridCategory `yaml:"categories"`
	// Places of the village a request may be about. Left out: the screen
	// asks for no place.
	Places []VillagePlace `yaml:"places"`
}

// RequestKind is one of the 闽事理 functions as the screen names it.
type RequestKind struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	Pictogram string `yaml:"pictogram"`
}

// GridCategory is a grid-platform event category.
type GridCategory struct {
	ID        string   `yaml:"id"`
	Name      string   `yaml:"name"`
	Pictogram string   `yaml:"pictogram"`
	Phrases   []string `yaml:"phrases"`
}

// VillagePlace is a 组 (villagers' group) or a landmark of the village.
type VillagePlace struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // group | landmark
}

// The request kinds: the ids are the contract with the township
// (request/v1's kind); only a report may be anonymous.
const (
	KindHelp    = "help"    // 求助: help with a dispute
	KindConcern = "concern" // 反映诉求: raise a concern
	KindConsult = "consult" // 咨询: a question
	KindReport  = "report"  // 举报: a report, which may be anonymous
)

// RequestKindIDs are the kinds a site may offer.
var RequestKindIDs = [4]string{KindHelp, KindConcern, KindConsult, KindReport}

// Place kinds.
const (
	PlaceGroup    = "group"
	PlaceLandmark = "landmark"
)

// RequestPictograms are the pictogram names the kiosk's screen draws for
// request kinds and grid categories (kiosk-ui draws each; a name it did
// not know would leave a blank tile).
var RequestPictograms = []string{
	"help", "concern", "consult", "report", // the four kinds
	"dispute", "clean", "road", "hazard", "other", // the five standard categories
	"family", "neighbours", "tree", "plot", "money", "work", "leaf", "car",
	"medical", "building", "water", "light", "talk",
}

// Bounds of the request content: what fits a tile and a screen without
// scrolling, and a list an elderly villager can still read to the end.
const (
	maxGridCategories   = 9
	minCategoryPhrases  = 1
	maxCategoryPhrases  = 6
	maxRequestPhraseLen = 20
	maxVillagePlaces    = 40
)

// DefaultRequestKinds are the four 闽事理 functions.
func DefaultRequestKinds() []RequestKind {
	return []RequestKind{
		{ID: KindHelp, Name: "求助", Pictogram: "help"},
		{ID: KindConcern, Name: "反映诉求", Pictogram: "concern"},
		{ID: KindConsult, Name: "咨询", Pictogram: "consult"},
		{ID: KindReport, Name: "举报", Pictogram: "report"},
	}
}

// DefaultGridCategories are the grid platform's common event categories,
// with phrases any village can use.
func DefaultGridCategories() []GridCategory {
	return []GridCategory{
		{ID: "dispute", Name: "矛盾纠纷", Pictogram: "dispute", Phrases: []string{"邻里之间发生争执", "家庭成员之间有矛盾", "土地山林边界有争议", "工钱或欠款没有结清"}},
		{ID: "sanitation", Name: "环境卫生", Pictogram: "clean", Phrases: []string{"垃圾没有及时清运", "有人乱倒垃圾", "水沟堵塞有异味", "焚烧秸秆或垃圾"}},
		{ID: "roads", Name: "道路设施", Pictogram: "road", Phrases: []string{"路面破损或塌陷", "路灯不亮", "桥梁护栏损坏", "自来水管漏水"}},
		{ID: "hazards", Name: "安全隐患", Pictogram: "hazard", Phrases: []string{"房屋墙体开裂", "山体有滑坡迹象", "电线老化或私拉乱接", "河边缺少警示牌"}},
		{ID: "other", Name: "其他", Pictogram: "other", Phrases: []string{"希望村里上门了解情况", "希望有人打电话联系我"}},
	}
}

// KindByID returns the offered kind with that id.
func (r *Requests) KindByID(id string) (RequestKind, bool) {
	i := slices.IndexFunc(r.Kinds, func(k RequestKind) bool { return k.ID == id })
	if i < 0 {
		return RequestKind{}, false
	}
	return r.Kinds[i], true
}

// CategoryByID returns the grid category with that id.
func (r *Requests) CategoryByID(id string) (GridCategory, bool) {
	i := slices.IndexFunc(r.Categories, func(c GridCategory) bool { return c.ID == id })
	if i < 0 {
		return GridCategory{}, false
	}
	return r.Categories[i], true
}

// PlaceByID returns the village place with that id.
func (r *Requests) PlaceByID(id string) (VillagePlace, bool) {
	i := slices.IndexFunc(r.Places, func(p VillagePlace) bool { return p.ID == id })
	if i < 0 {
		return VillagePlace{}, false
	}
	return r.Places[i], true
}

func (r *Requests) applyDefaults() {
	if r.Kinds == nil {
		r.Kinds = DefaultRequestKinds()
	}
	if r.Categories == nil {
		r.Categories = DefaultGridCategories()
	}
}

// validate checks content.requests: known kinds and pictograms, each
// category with a few short phrases, places with ids and names, nothing
// listed twice.
func (r *Requests) validate(c *checker) {
	const f0 = "content.requests"
	if len(r.Kinds) == 0 {
		c.fail(f0+".kinds", "needs at least one kind (leave the key out for all four: %s)", strings.Join(RequestKindIDs[:], ", "))
	}
	kinds := c.unique()
	for i, k := range r.Kinds {
		f := fmt.Sprintf("%s.kinds[%d]", f0, i)
		c.oneOf(f+".id", k.ID, RequestKindIDs[:]...)
		kinds.check(f+".id", k.ID)
		c.text(f+".name", k.Name, 6)
		c.pictogram(f+".pictogram", k.Pictogram)
	}
	switch n := len(r.Categories); {
	case n == 0:
		c.fail(f0+".categories", "needs at least one grid event category (leave the key out for the standard five)")
	case n > maxGridCategories:
		c.fail(f0+".categories", "has %d categories; at most %d fit on one screen", n, maxGridCategories)
	}
	ids, names := c.unique(), c.unique()
	for i, g := range r.Categories {
		f := fmt.Sprintf("%s.categories[%d]", f0, i)
		c.id(f+".id", g.ID)
		ids.check(f+".id", g.ID)
		c.text(f+".name", g.Name, 8)
		names.check(f+".name", g.Name)
		c.pictogram(f+".pictogram", g.Pictogram)
		if n := len(g.Phrases); n < minCategoryPhrases || n > maxCategoryPhrases {
			c.fail(f+".phrases", "has %d phrases; want %d to %d (a villager taps one instead of typing)", n, minCategoryPhrases, maxCategoryPhrases)
		}
		phrases := c.unique()
		for j, p := range g.Phrases {
			pf := fmt.Sprintf("%s.phrases[%d]", f, j)
			c.text(pf, p, maxRequestPhraseLen)
			phrases.check(pf, p)
		}
	}
	if n := len(r.Places); n > maxVillagePlaces {
		c.fail(f0+".places", "has %d places; at most %d (list the 组 and the landmarks villagers name)", n, maxVillagePlaces)
	}
	pids, pnames := c.unique(), c.unique()
	for i, p := range r.Places {
		f := fmt.Sprintf("%s.places[%d]", f0, i)
		c.id(f+".id", p.ID)
		pids.check(f+".id", p.ID)
		c.text(f+".name", p.Name, 12)
		pnames.check(f+".name", p.Name)
		c.oneOf(f+".kind", p.Kind, PlaceGroup, PlaceLandmark)
	}
}

func (c *checker) pictogram(field, name string) {
	if c.required(field, name) && !slices.Contains(RequestPictograms, name) {
		c.fail(field, "%q is not a pictogram the kiosk draws (one of %s)", name, strings.Join(RequestPictograms, ", "))
	}
}
