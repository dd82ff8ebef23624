package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadRequests: the dev site's 我要反映 content loads as written, and a
// site that leaves it out gets the four kinds and five standard categories
// and asks for no place.
func TestLoadRequests(t *testing.T) {
	cfg, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Site.Content.Requests
	if len(r.Kinds) != 4 || r.Kinds[3].ID != KindReport || r.Kinds[3].Name != "举报" {
		t.Errorf("kinds = %+v", r.Kinds)
	}
	if len(r.Categories) != 5 || r.Categories[1].Name != "环境卫生" || r.Categories[1].Pictogram != "clean" || len(r.Categories[1].Phrases) != 4 {
		t.Errorf("categories = %+v", r.Categories)
	}
	if p, ok := r.PlaceByID("big-camphor"); !ok || p.Name != "村口大樟树" || p.Kind != PlaceLandmark {
		t.Errorf("place big-camphor = %+v %v", p, ok)
	}

	site, board := mustReadDev(t)
	i, j := strings.Index(site, "  requests:\n"), strings.Index(site, "  # The township's own words")
	cfg, err = Load(mustWriteConfig(t, site[:i]+site[j:], board))
	if err != nil {
		t.Fatal(err)
	}
	r = cfg.Site.Content.Requests
	if len(r.Kinds) != 4 || len(r.Categories) != 5 || r.Places != nil {
		t.Errorf("defaults = %+v", r)
	}
}

// requestsCases are invalid request contents, each with the problem it
// must raise, in a site file and in a township bundle alike.
var requestsCases = []struct {
	name, old, new string
	field, msg     string
}{
	{"unknown kind", "{id: consult, name: 咨询", "{id: petition, name: 咨询", "content.requests.kinds[2].id", `"petition" is not one of help, concern, consult, report`},
	{"kind twice", "{id: consult, name: 咨询", "{id: help, name: 咨询", "content.requests.kinds[2].id", "already listed"},
	{"kind name too long", "name: 反映诉求,", "name: 向村委会反映诉求,", "content.requests.kinds[1].name", "at most 6"},
	{"no kinds", "    kinds:\n      - {id: help, name: 求助, pictogram: help}\n      - {id: concern, name: 反映诉求, pictogram: concern}\n      - {id: consult, name: 咨询, pictogram: consult}\n      - {id: report, name: 举报, pictogram: report}      # the one kind that may be anonymous\n", "    kinds: []\n", "content.requests.kinds", "at least one kind"},
	{"unknown pictogram", "pictogram: road", "pictogram: tractor", "content.requests.categories[2].pictogram", `"tractor" is not a pictogram the kiosk draws`},
	{"category without pictogram", "        pictogram: hazard\n", "", "content.requests.categories[3].pictogram", "is required"},
	{"category id malformed", "id: roads", "id: Roads", "content.requests.categories[2].id", "lower-case"},
	{"category name twice", "name: 安全隐患", "name: 道路设施", "content.requests.categories[3].name", "already listed"},
	{"category without phrases", "phrases: [希望村里上门了解情况, 希望有人打电话联系我]", "phrases: []", "content.requests.categories[4].phrases", "has 0 phrases; want 1 to 6"},
	{"seven phrases", "phrases: [希望村里上门了解情况, 希望有人打电话联系我]", "phrases: [一, 二, 三, 四, 五, 六, 七]", "content.requests.categories[4].phrases", "has 7 phrases"},
	{"phrase twice", "[希望村里上门了解情况, 希望有人打电话联系我]", "[希望村里上门了解情况, 希望村里上门了解情况]", "content.requests.categories[4].phrases[1]", "already listed"},
	{"phrase too long", "希望有人打电话联系我]", strings.Repeat("长", 21) + "]", "content.requests.categories[4].phrases[1]", "at most 20"},
	{"place kind unknown", "{id: tea-factory, name: 村茶厂, kind: landmark}", "{id: tea-factory, name: 村茶厂, kind: factory}", "content.requests.places[9].kind", `"factory" is not one of group, landmark`},
	{"place id twice", "{id: group-3, name: 三组", "{id: group-2, name: 三组", "content.requests.places[2].id", "already listed"},
	{"place without name", "{id: group-5, name: 五组, kind: group}", "{id: group-5, kind: group}", "content.requests.places[4].name", "is required"},
	{"place name too long", "name: 溪上石拱桥,", "name: 溪上那座老石拱桥靠近茶厂那头,", "content.requests.places[8].name", "at most 12"},
}

func TestLoadRejectsRequests(t *testing.T) {
	for _, tt := range requestsCases {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			_, err := Load(mustWriteConfig(t, replace(tt.old, tt.new)(site), board))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *Error, got %v", err)
			}
			for _, p := range ce.Problems {
				if p.Field == tt.field && strings.Contains(p.Msg, tt.msg) && p.Line > 0 {
					return
				}
			}
			t.Errorf("no problem %s: %q in\n%v", tt.field, tt.msg, err)
		})
	}
}

// TestBundleRejectsRequests: a township bundle's request content passes the
// same rules as a site file's.
func TestBundleRejectsRequests(t *testing.T) {
	base, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := mustDevBundle(t)
	for _, tt := range requestsCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := base.WithBundle("bundle 7", []byte(replace(tt.old, tt.new)(good)), 7)
			if err == nil || !strings.Contains(err.Error(), tt.field+":") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %s: %s", err, tt.field, tt.msg)
			}
		})
	}
	got, err := base.WithBundle("bundle 8", []byte(replace("name: 村茶厂", "name: 星村茶厂")(good)), 8)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := got.Site.Content.Requests.PlaceByID("tea-factory"); p.Name != "星村茶厂" {
		t.Errorf("a bundle's place is not in force: %+v", p)
	}
}
