package predict

import (
	"context"
	"database/sql"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// View is what the API shows of a profile's predictions: the numbers, or
// why there are none.
type View struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty" doc:"Why there are no predictions (when not available)"`
	ModelID   string `json:"model_id,omitempty"`
	// The customer's history as the model saw it.
	CalibrationEnd  string   `json:"calibration_end,omitempty" doc:"Predictions are as of the end of this day (UTC)"`
	TimeUnit        clv.Unit `json:"time_unit,omitempty"`
	RepeatPurchases *int     `json:"repeat_purchases,omitempty" doc:"x: purchase days after the first, up to the calibration end"`
	Recency         *float64 `json:"recency,omitempty" doc:"t_x: time units from the first to the last purchase"`
	Age             *float64 `json:"age,omitempty" doc:"T: time units from the first purchase to the calibration end"`
	// The predictions.
	ExpectedPurchases  *float64     `json:"expected_purchases_12m,omitempty" doc:"Expected purchases (purchase days) in the 12 months after the calibration end"`
	PAlive             *float64     `json:"p_alive,omitempty" doc:"Probability that the customer is still active"`
	ChurnRisk          clv.Risk     `json:"churn_risk,omitempty" enum:"low,medium,high,very_high" doc:"Band of p_alive: low ≥ 0.8, medium ≥ 0.5, high ≥ 0.2, very_high below"`
	ExpectedOrderValue *order.Money `json:"expected_order_value,omitempty" doc:"Expected value of a future order (Gamma-Gamma)"`
	CLV                *order.Money `json:"clv_12m,omitempty" doc:"Predicted lifetime value over 12 months: discounted, times the margin"`
	NextOrderDate      *string      `json:"expected_next_order_date,omitempty" doc:"Date by which one purchase is expected; absent if not within 24 months"`
}

// ForProfile returns the predictions of canonical profile root.
func ForProfile(ctx context.Context, c sqldb.Conn, root string) (View, error) {
	var (
		v                    View
		x                    int
		tx, t, e, pa         float64
		value, clvM          int64
		risk, unit, currency string
		next                 sql.NullString
	)
	err := c.QueryRow(ctx, `SELECT p.model_id, m.calibration_end, m.time_unit, m.currency, p.x, p.t_x, p.t, p.expected_purchases, p.p_alive,
			p.expected_value_minor, p.clv_minor, p.churn_risk, p.next_order_on
		FROM predictions p JOIN prediction_models m ON m.id = p.model_id WHERE p.profile_id = ?`, root).
		Scan(&v.ModelID, &v.CalibrationEnd, &unit, &currency, &x, &tx, &t, &e, &pa, &value, &clvM, &risk, &next)
	if err == nil {
		v.Available, v.TimeUnit, v.ChurnRisk = true, clv.Unit(unit), clv.Risk(risk)
		v.RepeatPurchases, v.Recency, v.Age, v.ExpectedPurchases, v.PAlive = &x, &tx, &t, &e, &pa
		ev, cv := order.NewMoney(value, currency), order.NewMoney(clvM, currency)
		v.ExpectedOrderValue, v.CLV = &ev, &cv
		if next.Valid {
			v.NextOrderDate = &next.String
		}
		return v, nil
	}
	if err != sql.ErrNoRows {
		return View{}, sqldb.Classify(err)
	}
	m, err := Current(ctx, c)
	switch {
	case err == nil:
		v.Reason = "no completed order up to " + m.CalibrationEnd + ", the end of the current model's calibration window"
		v.CalibrationEnd = m.CalibrationEnd
	case fault.Is(err, fault.NotFound), fault.Is(err, fault.Conflict):
		v.Reason = fault.MessageOf(err)
	default:
		return View{}, err
	}
	return v, nil
}

// HoldoutRequest asks for a holdout test.
type HoldoutRequest struct {
	CalibrationEnd time.Time // last day of the calibration window
	HoldoutEnd     time.Time // last day of the holdout window
	Unit           clv.Unit
	Limit          int // customers to list (most purchases predicted first)
}

// HoldoutCustomer is one customer's prediction against what they did.
type HoldoutCustomer struct {
	Profile         string  `json:"profile_id"`
	RepeatPurchases int     `json:"repeat_purchases" doc:"x in the calibration window"`
	Recency         float64 `json:"recency" doc:"t_x"`
	Age             float64 `json:"age" doc:"T"`
	Predicted       float64 `json:"predicted" doc:"Expected purchases in the holdout window"`
	Actual          int     `json:"actual" doc:"Purchase days in the holdout window"`
}

// Holdout is the result of a holdout test.
type Holdout struct {
	CalibrationEnd string            `json:"calibration_end"`
	HoldoutEnd     string            `json:"holdout_end"`
	TimeUnit       clv.Unit          `json:"time_unit"`
	BGNBD          BGNBDParams       `json:"bgnbd" doc:"Fitted on the calibration window only"`
	Report         clv.HoldoutReport `json:"report"`
	Customers      []HoldoutCustomer `json:"customers" doc:"Up to limit customers, most purchases predicted first"`
}

// Holdout fits BG/NBD on the orders up to req.CalibrationEnd and compares
// each customer's expected purchases in the following window, up to
// req.HoldoutEnd, with the purchases made. It stores nothing. The minimums
// of Fit apply to the calibration window.
func (s *Service) Holdout(ctx context.Context, req HoldoutRequest) (Holdout, error) {
	if err := s.check(req.CalibrationEnd, req.Unit); err != nil {
		return Holdout{}, err
	}
	calEnd, hEnd := dayOf(req.CalibrationEnd), dayOf(req.HoldoutEnd)
	if hEnd <= calEnd {
		return Holdout{}, fault.New(fault.Invalid, "holdout_end %s must be after calibration_end %s", dateOf(hEnd), dateOf(calEnd))
	}
	if hEnd > dayOf(s.now()) {
		return Holdout{}, fault.New(fault.Invalid, "holdout_end %s is in the future: the holdout window must have happened", dateOf(hEnd))
	}
	cs, err := s.load(ctx, calEnd, hEnd, req.Unit)
	if err != nil {
		return Holdout{}, err
	}
	if why := s.notEnough(cs, calEnd); why != "" {
		return Holdout{}, fault.New(fault.Conflict, "%s", why)
	}
	hs := make([]clv.History, len(cs))
	plain := make([]clv.Customer, len(cs))
	for i, c := range cs {
		hs[i], plain[i] = c.History, c.Customer
	}
	bg, ll, err := clv.FitBGNBD(clv.GroupCustomers(plain))
	if err != nil {
		return Holdout{}, fault.New(fault.Conflict, "not enough data yet: the purchase model cannot be fitted to these orders (%v)", err)
	}
	length := float64(hEnd-calEnd) / req.Unit.Days()
	rep, pred := clv.Holdout(bg, hs, length)
	out := Holdout{CalibrationEnd: dateOf(calEnd), HoldoutEnd: dateOf(hEnd), TimeUnit: req.Unit, Report: rep,
		BGNBD: BGNBDParams{R: bg.R, Alpha: bg.Alpha, A: bg.A, B: bg.B, LogLikelihood: ll}, Customers: []HoldoutCustomer{}}
	list := make([]HoldoutCustomer, len(cs))
	for i, c := range cs {
		list[i] = HoldoutCustomer{Profile: c.profile, RepeatPurchases: c.X, Recency: c.Tx, Age: c.T, Predicted: pred[i], Actual: c.Holdout}
	}
	sortByPredicted(list)
	out.Customers = append(out.Customers, list[:min(req.Limit, len(list))]...)
	return out, nil
}
