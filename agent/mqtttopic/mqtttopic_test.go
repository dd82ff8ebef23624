package mqtttopic

import "testing"

func TestTopics(t *testing.T) {
	tests := []struct{ got, want string }{
		{Record("wys-xingcun", "k01", "booking"), "fengqiao/v1/wys-xingcun/k01/records/booking"},
		{Status("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/status"},
		{Records(""), "fengqiao/v1/+/+/records/#"},
		{Records("wys-xingcun"), "fengqiao/v1/wys-xingcun/+/records/#"},
		{Statuses(""), "fengqiao/v1/+/+/status"},
		{ConfigSet("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/config/set"},
		{ConfigReported("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/config/reported"},
		{TownshipConfig("wys-xingcun"), "fengqiao/v1/wys-xingcun/_township/config/set"},
		{TownshipKey("wys-xingcun"), "fengqiao/v1/wys-xingcun/_township/config/key"},
		{ConfigReports("wys-xingcun"), "fengqiao/v1/wys-xingcun/+/config/reported"},
		{UpdateSet("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/update/set"},
		{UpdateReported("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/update/reported"},
		{TownshipUpdate("wys-xingcun"), "fengqiao/v1/wys-xingcun/_township/update/set"},
		{UpdateReports("wys-xingcun"), "fengqiao/v1/wys-xingcun/+/update/reported"},
		{UpdateReports(""), "fengqiao/v1/+/+/update/reported"},
		{RequestStatus("wys-xingcun", "k01", 42), "fengqiao/v1/wys-xingcun/k01/requests/42/status"},
		{RequestStatuses("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/requests/+/status"},
		{RequestsReported("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/requests/reported"},
		{RequestsReports("wys-xingcun"), "fengqiao/v1/wys-xingcun/+/requests/reported"},
		{PointsLedger("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/points/ledger"},
		{PointsReported("wys-xingcun", "k01"), "fengqiao/v1/wys-xingcun/k01/points/reported"},
		{PointsReports("wys-xingcun"), "fengqiao/v1/wys-xingcun/+/points/reported"},
		{RequestRecords("wys-xingcun"), "fengqiao/v1/wys-xingcun/+/records/request"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
