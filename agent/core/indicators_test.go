package core_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/outbox"
)

// TestIndicatorsAgreeWithFollowUps: the indicators' waiting and overdue
// visits are the follow-ups list's, counted on the same day, whatever the
// hour. The two once counted "today" each with their own clock and zone
// (the case book's, opened in UTC here, against the site's), so just after
// midnight in the village a visit due yesterday was overdue on one screen
// and not on the other, and the on-time rate moved with it.
func TestIndicatorsAgreeWithFollowUps(t *testing.T) {
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	key := make([]byte, outbox.KeySize)
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(dir, "kiosk.db"), Key: key, Log: log, Quota: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cases, err := casebook.Open(casebook.Options{Path: filepath.Join(dir, casebook.File), Key: key, Location: time.UTC, Log: log, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer cases.Close()
	done := now.Add(-48 * time.Hour)
	settled := []casebook.Session{{ID: "s1", Outcome: casebook.OutcomeSettled, FollowUp: "2026-11-20"}}
	for _, k := range []casebook.Case{
		{Origin: casebook.OriginWalkIn, Status: casebook.StatusSettled, Parties: []casebook.Party{{Name: "甲"}}, Sessions: settled,
			FollowUps: []casebook.FollowUp{{Due: "2026-11-28", Session: "s1", Done: &done, OnTime: true}, {Due: "2026-12-01", Session: "s1"}}},
		{Origin: casebook.OriginWalkIn, Status: casebook.StatusSettled, Parties: []casebook.Party{{Name: "乙"}}, Sessions: settled,
			FollowUps: []casebook.FollowUp{{Due: "2026-12-02", Session: "s1"}}},
	} {
		if _, err := cases.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	agent := core.New(core.Options{Config: cfg, Version: "test", Outbox: ob, Link: offlineLink{}, CaseBook: cases, Log: log, Now: clock})

	// Through the village's day: 2026-12-01 20:00 local is 12:00 UTC; past
	// 16:00 UTC it is already 12-02 in the village, 12-01 still in UTC.
	for _, at := range []time.Time{
		time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 16, 30, 0, 0, time.UTC),
		time.Date(2026, 12, 2, 16, 30, 0, 0, time.UTC),
	} {
		now = at
		fu, err := agent.FollowUps()
		if err != nil {
			t.Fatal(err)
		}
		ind, err := agent.Indicators()
		if err != nil {
			t.Fatal(err)
		}
		if ind.FollowUpsDue != len(fu.FollowUps) || ind.FollowUpsOverdue != fu.Overdue {
			t.Errorf("at %v: indicators %d waiting, %d overdue; follow-ups list %d, %d overdue",
				at, ind.FollowUpsDue, ind.FollowUpsOverdue, len(fu.FollowUps), fu.Overdue)
		}
		wantRate := float64(ind.FollowUpsOnTime) / float64(ind.FollowUpsDone+fu.Overdue)
		if ind.OnTimeRate == nil || *ind.OnTimeRate != wantRate {
			t.Errorf("at %v: on-time rate %v; with the list's overdue it is %v", at, ind.OnTimeRate, wantRate)
		}
		if !ind.AsOf.Equal(at) || ind.CasesWithOutcome != 2 {
			t.Errorf("at %v: as of %v, %d cases with an outcome", at, ind.AsOf, ind.CasesWithOutcome)
		}
	}
	now = time.Date(2026, 12, 1, 16, 30, 0, 0, time.UTC)
	if fu, _ := agent.FollowUps(); fu.Overdue != 1 {
		t.Errorf("just past midnight in the village the visit due 12-01 is overdue; list says %d", fu.Overdue)
	}
}
