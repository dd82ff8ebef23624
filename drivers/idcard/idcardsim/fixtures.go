package idcardsim

import (
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard"
)

// Fixtures returns fake cards, one or more of each type, freshly built on
// every call (callers may change them). Every person, address and number
// is invented: names read 测试 ("test") or SPECIMEN, addresses are in the
// made-up 示例乡 of Wuyishan (350782), the foreign nationality is UTO
// (ICAO's specimen state), and every ID number passes its check digit.
// The photo and fingerprint blocks are deterministic filler, not WLT or
// minutiae data.
//
//	0  resident, male, 汉族, 20-year validity, with a fingerprint block
//	1  resident, female, 畲族, long-term (长期) validity, check digit X
//	2  Hong Kong resident's residence permit (J)
//	3  old foreigner's permanent residence card (I)
//	4  2023 foreigner's permanent residence card (Y), long English name
func Fixtures() []*idcard.Card {
	return []*idcard.Card{
		{
			Type:        idcard.Resident,
			Name:        "测试一",
			Sex:         idcard.SexMale,
			Nation:      1,
			Birth:       date(1985, 6, 15),
			Address:     "福建省武夷山市示例乡测试村虚构路1号",
			IDNumber:    "350782198506151236",
			Authority:   "武夷山市公安局",
			ValidFrom:   date(2020, 1, 2),
			ValidTo:     date(2040, 1, 2),
			Photo:       filler(1024, 0x11),
			Fingerprint: filler(1024, 0x22),
		},
		{
			Type:      idcard.Resident,
			Name:      "测试二",
			Sex:       idcard.SexFemale,
			Nation:    22,
			Birth:     date(1960, 3, 1),
			Address:   "福建省武夷山市示例乡测试村虚构路二号之三",
			IDNumber:  "35078219600301402X",
			Authority: "武夷山市公安局",
			ValidFrom: date(2016, 5, 20),
			LongTerm:  true,
			Photo:     filler(1024, 0x33),
		},
		{
			Type:       idcard.HKMacauTaiwan,
			Name:       "测试港",
			Sex:        idcard.SexMale,
			Birth:      date(1990, 8, 8),
			Address:    "福建省武夷山市示例乡测试村虚构路8号",
			IDNumber:   "810000199008080028",
			Authority:  "武夷山市公安局",
			ValidFrom:  date(2021, 9, 1),
			ValidTo:    date(2026, 9, 1),
			PassNumber: "H00001234",
			IssueCount: "01",
			Photo:      filler(1024, 0x44),
		},
		{
			Type:          idcard.ForeignerOld,
			Name:          "测试外",
			EnglishName:   "SPECIMEN, TEST ONE",
			Sex:           idcard.SexMale,
			Birth:         date(1990, 1, 1),
			IDNumber:      "UTO350790010116",
			Nationality:   "UTO",
			ValidFrom:     date(2015, 3, 10),
			ValidTo:       date(2025, 3, 10),
			CardVersion:   "01",
			AuthorityCode: "3500",
			Photo:         filler(1024, 0x55),
		},
		{
			Type:         idcard.Foreigner2023,
			Name:         "测试新",
			EnglishName:  "SPECIMEN-EXAMPLE, TESTNAME MIDDLENAME LONGER",
			Sex:          idcard.SexFemale,
			RenewalCount: "00",
			Birth:        date(1992, 2, 2),
			IDNumber:     "935999199202020128",
			Nationality:  "UTO",
			ValidFrom:    date(2024, 1, 15),
			ValidTo:      date(2034, 1, 15),
			Photo:        filler(1024, 0x66),
		},
	}
}

func date(y int, m time.Month, d int) idcard.Date { return idcard.Date{Year: y, Month: m, Day: d} }

// filler is a deterministic byte pattern that no decoder would take for a
// real photo or fingerprint.
func filler(n int, seed byte) []byte {
	b := make([]byte, n)
	copy(b, "FAKE-NOT-WLT")
	x := uint32(seed)
	for i := 12; i < n; i++ {
		x = x*1103515245 + 12345
		b[i] = byte(x >> 16)
	}
	return b
}
