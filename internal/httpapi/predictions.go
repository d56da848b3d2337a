package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/danielgtaylor/huma/v2"
)

// registerPredictions adds the prediction endpoints: fit, current model and
// holdout test.
func (s *server) registerPredictions(api huma.API, reg func(huma.Operation) huma.Operation) {
	if s.Predictions == nil {
		s.Predictions = predict.NewService(s.DB, predict.Config{BaseCurrency: s.BaseCurrency}, s.Now)
	}
	errs := func(op huma.Operation) huma.Operation {
		op = reg(op)
		op.Errors = []int{400, 401, 403, 404, 409, 503}
		return op
	}
	huma.Register(api, errs(huma.Operation{OperationID: "fit-predictions", Method: http.MethodPost, Path: "/api/v1/predictions/fit", Tags: []string{"predictions"},
		Summary: "Fit the prediction models and recompute every customer's predictions",
		Description: "Fits BG/NBD and Gamma-Gamma on the orders up to calibration_end (inclusive, UTC) and stores every customer's predictions. " +
			"Answers 409 \"not enough data yet\" below the minimum history (docs/predictions.md); the previous model then stays. " +
			"The periodic job refits every 24 hours as of yesterday."}), s.fitPredictions)
	huma.Register(api, errs(huma.Operation{OperationID: "get-prediction-model", Method: http.MethodGet, Path: "/api/v1/predictions/model", Tags: []string{"predictions"},
		Summary:     "The current prediction model",
		Description: "404 if no model was ever fitted; 409 with the reason if the fits so far had not enough data."}), s.predictionModel)
	huma.Register(api, errs(huma.Operation{OperationID: "get-prediction-holdout", Method: http.MethodGet, Path: "/api/v1/predictions/holdout", Tags: []string{"predictions"},
		Summary: "Holdout test: predicted against actual purchases",
		Description: "Fits BG/NBD on the orders up to calibration_end and compares, per customer and in aggregate, the purchases it predicts for the days up to holdout_end " +
			"with those made. Stores nothing."}), s.predictionHoldout)
}

type fitInput struct {
	Body struct {
		CalibrationEnd string   `json:"calibration_end,omitempty" doc:"Last day of the calibration window (default: yesterday, UTC)"`
		TimeUnit       clv.Unit `json:"time_unit,omitempty" default:"week" doc:"day or week"`
	}
}

type modelOutput struct {
	Body predict.Model
}

func parseDay(name, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, fault.New(fault.Invalid, "%s %q is not a date YYYY-MM-DD", name, v)
	}
	return t, nil
}

func (s *server) fitPredictions(ctx context.Context, in *fitInput) (*modelOutput, error) {
	end, err := parseDay("calibration_end", in.Body.CalibrationEnd, s.Now().UTC().AddDate(0, 0, -1))
	if err != nil {
		return nil, s.fail(err)
	}
	unit := in.Body.TimeUnit
	if unit == "" {
		unit = clv.Week
	}
	m, err := s.Predictions.Fit(ctx, predict.Request{CalibrationEnd: end, Unit: unit})
	if err != nil {
		return nil, s.fail(err)
	}
	return &modelOutput{Body: m}, nil
}

func (s *server) predictionModel(ctx context.Context, _ *struct{}) (*modelOutput, error) {
	m, err := predict.Current(ctx, s.DB)
	if err != nil {
		return nil, s.fail(err)
	}
	return &modelOutput{Body: m}, nil
}

type holdoutInput struct {
	CalibrationEnd string   `query:"calibration_end" required:"true" doc:"Last day of the calibration window"`
	HoldoutEnd     string   `query:"holdout_end" doc:"Last day of the holdout window (default: yesterday, UTC)"`
	TimeUnit       clv.Unit `query:"time_unit" default:"week" doc:"day or week"`
	Limit          int      `query:"limit" minimum:"0" maximum:"1000" default:"20" doc:"Customers to list, most purchases predicted first"`
}

type holdoutOutput struct {
	Body predict.Holdout
}

func (s *server) predictionHoldout(ctx context.Context, in *holdoutInput) (*holdoutOutput, error) {
	cal, err := parseDay("calibration_end", in.CalibrationEnd, time.Time{})
	if err != nil {
		return nil, s.fail(err)
	}
	end, err := parseDay("holdout_end", in.HoldoutEnd, s.Now().UTC().AddDate(0, 0, -1))
	if err != nil {
		return nil, s.fail(err)
	}
	h, err := s.Predictions.Holdout(ctx, predict.HoldoutRequest{CalibrationEnd: cal, HoldoutEnd: end, Unit: in.TimeUnit, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(err)
	}
	return &holdoutOutput{Body: h}, nil
}
