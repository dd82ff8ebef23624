package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// fakeRequests is the fake kioskd's 我要反映 (GET/POST /v1/requests…).
type fakeRequests struct {
	menu      *apitype.RequestMenu // nil: testRequestMenu()
	menuErr   error
	submitted []apitype.RequestSubmit
	submitErr []error // returned, in order, before submissions succeed
	made      []apitype.Request
	checks    []apitype.RequestProof
	checkErr  error
	byCard    []string // card tokens listed
	reply     string   // the township's reply, once item 2 brings one
}

func testRequestMenu() apitype.RequestMenu {
	return apitype.RequestMenu{
		Kinds: []apitype.RequestKind{
			{ID: "help", Name: "求助", Pictogram: "help"},
			{ID: "concern", Name: "反映诉求", Pictogram: "concern"},
			{ID: "consult", Name: "咨询", Pictogram: "consult"},
			{ID: "report", Name: "举报", Pictogram: "report", Anonymous: true},
		},
		Categories: []apitype.RequestCategory{
			{ID: "dispute", Name: "矛盾纠纷", Pictogram: "dispute", Phrases: []string{"邻里因宅基地边界发生争执", "家庭赡养问题有矛盾"}},
			{ID: "sanitation", Name: "环境卫生", Pictogram: "clean", Phrases: []string{"垃圾没有及时清运", "有人往溪里倒垃圾", "养殖场气味很大", "焚烧秸秆或垃圾"}},
			{ID: "roads", Name: "道路设施", Pictogram: "road", Phrases: []string{"村道路面破损塌陷", "路灯不亮", "桥梁护栏损坏", "自来水管漏水"}},
			{ID: "hazard", Name: "安全隐患", Pictogram: "hazard", Phrases: []string{"危房有倒塌危险", "山体有滑坡迹象"}},
			{ID: "other", Name: "其他", Pictogram: "other", Phrases: []string{"其他问题，请回电"}},
		},
		Places: []apitype.RequestPlace{
			{ID: "group-1", Name: "一组", Kind: "group"}, {ID: "group-2", Name: "二组", Kind: "group"},
			{ID: "group-3", Name: "三组", Kind: "group"}, {ID: "big-camphor", Name: "村口大樟树", Kind: "landmark"},
			{ID: "stone-bridge", Name: "溪上石拱桥", Kind: "landmark"},
		},
		MaxPhrases: 3, Photo: true, CodeDigits: 8,
	}
}

var errNoMatch = &localclient.APIError{StatusCode: 404, Code: apitype.CodeNoMatch, Message: "no such request"}

func (f *fakeAgent) RequestMenu(context.Context) (apitype.RequestMenu, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.req.menuErr != nil {
		return apitype.RequestMenu{}, f.req.menuErr
	}
	if f.req.menu != nil {
		return *f.req.menu, nil
	}
	return testRequestMenu(), nil
}

func (f *fakeAgent) SubmitRequest(_ context.Context, req apitype.RequestSubmit) (apitype.RequestReceipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.req.submitErr) > 0 {
		err := f.req.submitErr[0]
		f.req.submitErr = f.req.submitErr[1:]
		return apitype.RequestReceipt{}, err
	}
	f.req.submitted = append(f.req.submitted, req)
	seq := uint64(41 + len(f.req.submitted))
	m := testRequestMenu()
	r := apitype.Request{Number: fmt.Sprintf("%05d", seq), Kind: req.Kind, Category: req.Category, Phrases: req.Phrases,
		Anonymous: req.Anonymous, Photo: req.Photo != nil, Created: time.Date(2026, 11, 25, 10, 0, 0, 0, cst),
		Status: apitype.RequestSubmitted, StatusText: "已提交，待受理"}
	for _, k := range m.Kinds {
		if k.ID == req.Kind {
			r.KindName = k.Name
		}
	}
	for _, c := range m.Categories {
		if c.ID == req.Category {
			r.CatName = c.Name
		}
	}
	for _, p := range m.Places {
		if p.ID == req.Place {
			r.Place = p.Name
		}
	}
	switch {
	case req.Card != "":
		r.Via = "card"
	case req.Phone != "":
		r.Via = "phone"
	}
	f.req.made = append(f.req.made, r)
	rc := apitype.RequestReceipt{ID: fmt.Sprintf("0194-request-%d", seq), Seq: seq, Request: r}
	if req.Anonymous {
		rc.Code = "27182818"
	}
	return rc, nil
}

func (f *fakeAgent) answered(r apitype.Request) apitype.Request {
	if f.req.reply != "" {
		at := time.Date(2026, 12, 5, 9, 30, 0, 0, cst)
		r.Status, r.StatusText, r.Reply, r.Updated = apitype.RequestClosed, "已办结", f.req.reply, &at
	}
	return r
}

func (f *fakeAgent) CheckRequest(_ context.Context, number string, proof apitype.RequestProof) (apitype.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.req.checks = append(f.req.checks, proof)
	if f.req.checkErr != nil {
		return apitype.Request{}, f.req.checkErr
	}
	for i, r := range f.req.made {
		if strings.TrimLeft(r.Number, "0") != strings.TrimLeft(number, "0") {
			continue
		}
		s := f.req.submitted[i]
		ok := (proof.Code != "" && s.Anonymous && proof.Code == "27182818") ||
			(proof.Phone4 != "" && len(s.Phone) >= 4 && s.Phone[len(s.Phone)-4:] == proof.Phone4)
		if ok {
			return f.answered(r), nil
		}
	}
	return apitype.Request{}, errNoMatch
}

func (f *fakeAgent) RequestsByCard(_ context.Context, card string) (apitype.Requests, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.req.byCard = append(f.req.byCard, card)
	if card == expiredToken {
		return apitype.Requests{}, &localclient.APIError{StatusCode: 400, Code: apitype.CodeCardExpired, Field: "card"}
	}
	out := apitype.Requests{Requests: []apitype.Request{}}
	for i := len(f.req.made) - 1; i >= 0; i-- {
		if f.req.submitted[i].Card == card {
			out.Requests = append(out.Requests, f.answered(f.req.made[i]))
		}
	}
	return out, nil
}
