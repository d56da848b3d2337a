package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/danielgtaylor/huma/v2"
)

// registerKPIs adds the KPI overview, the cohorts and the costs behind cost
// per customer and acquisition cost.
func (s *server) registerKPIs(api huma.API, reg func(huma.Operation) huma.Operation) {
	huma.Register(api, reg(huma.Operation{OperationID: "get-kpis", Method: http.MethodGet, Path: "/api/v1/kpis", Tags: []string{"analytics"},
		Summary: "KPI overview of a period, compared with the previous period of the same length",
		Description: "Revenue, orders, average order value, refunds, active/new/returning customers, repurchase, churn and retention, " +
			"costs, cost per customer, customer acquisition cost and historic CLV, NPS (and CSAT), care first-response and resolution times, " +
			"checkout and session conversion, upselling and cross-selling; each KPI carries its definition (docs/kpis.md). " +
			"NPS, care, conversion and upselling are left out of the rows of a breakdown by campaign. " +
			"Without from and to: the last 30 days up to today (UTC)."}), s.kpis)
	huma.Register(api, reg(huma.Operation{OperationID: "get-cohorts", Method: http.MethodGet, Path: "/api/v1/cohorts", Tags: []string{"analytics"},
		Summary: "Cohort retention matrix: customers by month of first order, share ordering in each later month, revenue"}), s.cohorts)
	huma.Register(api, reg(huma.Operation{OperationID: "add-cost", Method: http.MethodPost, Path: "/api/v1/costs", Tags: []string{"analytics"},
		Summary: "Enter a cost for a period (acquisition, retention, care or other; optionally for a campaign)", DefaultStatus: http.StatusCreated}), s.addCost)
	huma.Register(api, reg(huma.Operation{OperationID: "list-costs", Method: http.MethodGet, Path: "/api/v1/costs", Tags: []string{"analytics"},
		Summary: "Costs overlapping a period (default: every cost)"}), s.listCosts)
}

type kpisInput struct {
	From string `query:"from" maxLength:"10" doc:"First day (YYYY-MM-DD), inclusive"`
	To   string `query:"to" maxLength:"10" doc:"Last day (YYYY-MM-DD), inclusive"`
	By   string `query:"by" maxLength:"10" doc:"Break the figures down: channel, store, campaign (acquisition campaign) or month"`
}

type kpisOutput struct {
	Body kpi.Overview
}

// period reads from and to; both empty means the last 30 days.
func (s *server) period(from, to string) (kpi.Day, kpi.Day, error) {
	today := kpi.DayOf(s.Now())
	if from == "" && to == "" {
		return today - 29, today, nil
	}
	if from == "" || to == "" {
		return 0, 0, fault.New(fault.Invalid, "give both from and to (YYYY-MM-DD), or neither")
	}
	f, err := kpi.ParseDay(strings.TrimSpace(from))
	if err != nil {
		return 0, 0, fault.New(fault.Invalid, "from %q is not a date (YYYY-MM-DD)", from)
	}
	t, err := kpi.ParseDay(strings.TrimSpace(to))
	if err != nil {
		return 0, 0, fault.New(fault.Invalid, "to %q is not a date (YYYY-MM-DD)", to)
	}
	return f, t, nil
}

func (s *server) kpis(ctx context.Context, in *kpisInput) (*kpisOutput, error) {
	f, t, err := s.period(in.From, in.To)
	if err != nil {
		return nil, s.fail(err)
	}
	o, err := kpi.Compute(ctx, s.DB, kpi.Query{From: f, To: t, By: in.By, BaseCurrency: s.BaseCurrency, Now: s.Now()})
	if err != nil {
		return nil, s.fail(err)
	}
	return &kpisOutput{Body: o}, nil
}

type cohortsInput struct {
	From string `query:"from" maxLength:"7" doc:"First cohort month (YYYY-MM)"`
	To   string `query:"to" maxLength:"7" doc:"Last cohort month (YYYY-MM)"`
}

type cohortsOutput struct {
	Body kpi.Cohorts
}

func parseMonth(s string) (kpi.Month, error) {
	if s == "" {
		return 0, nil
	}
	d, err := kpi.ParseDay(strings.TrimSpace(s) + "-01")
	if err != nil {
		return 0, fault.New(fault.Invalid, "%q is not a month (YYYY-MM)", s)
	}
	return kpi.MonthOf(d), nil
}

func (s *server) cohorts(ctx context.Context, in *cohortsInput) (*cohortsOutput, error) {
	from, err := parseMonth(in.From)
	if err != nil {
		return nil, s.fail(err)
	}
	to, err := parseMonth(in.To)
	if err != nil {
		return nil, s.fail(err)
	}
	c, err := kpi.ReadCohorts(ctx, s.DB, s.BaseCurrency, from, to, kpi.DayOf(s.Now()))
	if err != nil {
		return nil, s.fail(err)
	}
	return &cohortsOutput{Body: c}, nil
}

type addCostInput struct {
	Body struct {
		From     string `json:"from" maxLength:"10" doc:"First day the cost covers (YYYY-MM-DD)"`
		To       string `json:"to" maxLength:"10" doc:"Last day the cost covers (YYYY-MM-DD), inclusive"`
		Category string `json:"category" maxLength:"20" doc:"acquisition, retention, care or other"`
		Campaign string `json:"campaign,omitempty" maxLength:"255" doc:"Acquisition campaign (utm_campaign) the cost is for"`
		Amount   string `json:"amount" maxLength:"40" doc:"Decimal amount, e.g. \"1250.00\""`
		Currency string `json:"currency,omitempty" maxLength:"3" doc:"Must be the base currency (default)"`
		Note     string `json:"note,omitempty" maxLength:"1000"`
	}
}

type costOutput struct {
	Body kpi.Cost
}

func (s *server) addCost(ctx context.Context, in *addCostInput) (*costOutput, error) {
	b := in.Body
	c, err := kpi.AddCost(ctx, s.DB, s.BaseCurrency, kpi.NewCost{From: b.From, To: b.To, Category: b.Category, Campaign: b.Campaign,
		Amount: b.Amount, Currency: b.Currency, Note: b.Note}, s.Now())
	if err != nil {
		return nil, s.fail(err)
	}
	return &costOutput{Body: c}, nil
}

type listCostsInput struct {
	From string `query:"from" maxLength:"10" doc:"First day (YYYY-MM-DD)"`
	To   string `query:"to" maxLength:"10" doc:"Last day (YYYY-MM-DD)"`
}

type costsOutput struct {
	Body struct {
		Costs []kpi.Cost `json:"costs"`
	}
}

func (s *server) listCosts(ctx context.Context, in *listCostsInput) (*costsOutput, error) {
	from, to := kpi.Day(-1<<30), kpi.Day(1<<30)
	if in.From != "" || in.To != "" {
		var err error
		if from, to, err = s.period(in.From, in.To); err != nil {
			return nil, s.fail(err)
		}
	}
	list, err := kpi.Costs(ctx, s.DB, from, to)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &costsOutput{}
	out.Body.Costs = list
	return out, nil
}
