package main

import (
	"context"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/schedule"
)

// addSegmentJobs registers the RFM refresh (hourly) and the persona run
// (daily), and asks for each at once when it has never run.
func (a *app) addSegmentJobs() error {
	a.jobs.Add(schedule.Job{Name: "rfm", Every: time.Hour, Run: func(ctx context.Context) error {
		_, err := rfm.Refresh(ctx, a.db, time.Now(), a.cfg.Currency)
		return err
	}})
	a.jobs.Add(schedule.Job{Name: "personas", Every: 24 * time.Hour, Run: func(ctx context.Context) error {
		_, err := persona.Refresh(ctx, a.db, time.Now(), a.cfg.Currency, persona.Options{})
		return err
	}})
	ctx := context.Background()
	for name, computed := range map[string]func(context.Context) (bool, error){
		"rfm":      func(ctx context.Context) (bool, error) { return rfm.Computed(ctx, a.db) },
		"personas": func(ctx context.Context) (bool, error) { return persona.Computed(ctx, a.db) },
	} {
		ok, err := computed(ctx)
		if err != nil {
			return err
		}
		if !ok {
			a.jobs.Trigger(name)
		}
	}
	return nil
}
