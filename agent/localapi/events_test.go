package localapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// TestPrintEvent: a villager takes an upcoming lecture's or fair's date
// home on paper, with the service's 闽事理 page as its QR code; a date the
// menu does not offer, or a service without dates, prints nothing.
func TestPrintEvent(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	lecture := time.Date(2026, 12, 12, 9, 30, 0, 0, cst)
	tests := []struct {
		name       string
		printer    bool
		body       string
		wantStatus int
		wantCode   string
		wantLines  []string
		wantQR     string
	}{
		{"a lecture", true, printEventBody("legal-lecture", lecture), http.StatusOK, "",
			[]string{"法治讲堂", "宅基地与农房继承", "时间：2026年12月12日 周六 09:30", "地点：村文化礼堂", "开发村综治服务一体机"},
			"https://msl.dev-township.example/service/legal-lecture"},
		{"a fair, the time in another zone", true, printEventBody("legal-fair", time.Date(2026, 12, 20, 0, 30, 0, 0, time.UTC)), http.StatusOK, "",
			[]string{"法治集市", "法治集市·冬季坐诊", "时间：2026年12月20日 周日 08:30", "地点：星村镇集市", "开发村综治服务一体机"},
			"https://msl.dev-township.example/service/legal-fair"},
		{"a past lecture", true, printEventBody("legal-lecture", time.Date(2026, 11, 14, 9, 30, 0, 0, cst)), http.StatusNotFound, apitype.CodeNotFound, nil, ""},
		{"no event then", true, printEventBody("legal-fair", lecture), http.StatusNotFound, apitype.CodeNotFound, nil, ""},
		{"a service without dates", true, printEventBody("publicity", lecture), http.StatusBadRequest, apitype.CodeInvalid, nil, ""},
		{"no time", true, `{"service":"legal-fair"}`, http.StatusBadRequest, apitype.CodeRequired, nil, ""},
		{"no printer", false, printEventBody("legal-lecture", lecture), http.StatusConflict, apitype.CodeNoDevice, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustServeDevices(t, false, tt.printer)
			status, e := mustPost(t, f.socket, "/v1/print/event", tt.body)
			if status != tt.wantStatus || e.Code != tt.wantCode {
				t.Fatalf("got %d %+v, want %d %s", status, e, tt.wantStatus, tt.wantCode)
			}
			if !tt.printer {
				return
			}
			if tt.wantLines == nil {
				if len(f.paper.Bytes()) > 0 {
					t.Error("printed for a refused request")
				}
				return
			}
			d, err := f.paper.Doc()
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range d.Lines {
				lines = append(lines, l.Text)
			}
			if strings.Join(lines, "\n") != strings.Join(tt.wantLines, "\n") {
				t.Errorf("printed:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tt.wantLines, "\n"))
			}
			if len(d.QRs) != 1 || d.QRs[0].Data != tt.wantQR {
				t.Errorf("QR codes = %+v, want one of %q", d.QRs, tt.wantQR)
			}
		})
	}
	// The typed client reaches the same endpoint.
	f := mustServeDevices(t, false, true)
	if err := f.client.PrintEvent(context.Background(), "legal-lecture", lecture); err != nil {
		t.Errorf("client: %v", err)
	}
}

func printEventBody(service string, at time.Time) string {
	return `{"service":"` + service + `","at":"` + at.Format(time.RFC3339) + `"}`
}
