package clv

import "math"

// HoldoutRow compares, for the customers with a given number of repeat
// purchases in the calibration window, the mean purchases predicted for the
// holdout window with the mean actually made (the paper's Figure 4).
type HoldoutRow struct {
	X         int     `json:"x" doc:"Repeat purchases in the calibration window (the last row: this many or more)"`
	Customers int     `json:"customers"`
	Predicted float64 `json:"predicted" doc:"Mean predicted purchases in the holdout window"`
	Actual    float64 `json:"actual" doc:"Mean actual purchases in the holdout window"`
}

// HoldoutReport compares predicted with actual purchases in a holdout
// window that follows the calibration window.
type HoldoutReport struct {
	Customers   int          `json:"customers"`
	Length      float64      `json:"length" doc:"Length of the holdout window, in time units"`
	Predicted   float64      `json:"predicted" doc:"Total purchases predicted for the holdout window"`
	Actual      float64      `json:"actual" doc:"Total purchases made in it"`
	MAE         float64      `json:"mae" doc:"Mean absolute error per customer"`
	RMSE        float64      `json:"rmse" doc:"Root mean squared error per customer"`
	Correlation float64      `json:"correlation" doc:"Pearson correlation of predicted and actual purchases per customer"`
	ByFrequency []HoldoutRow `json:"by_frequency"`
}

// HoldoutTopX is the last row of the by-frequency table: customers with
// this many repeat purchases or more.
const HoldoutTopX = 7

// Holdout predicts each customer's purchases in the length time units after
// the calibration end (E[Y(length) | x, t_x, T]) and compares them with
// History.Holdout. It returns the report and the predictions, in the order
// of hs.
func Holdout(bg BGNBD, hs []History, length float64) (HoldoutReport, []float64) {
	type key struct {
		x     int
		tx, t float64
	}
	cache := map[key]float64{}
	pred := make([]float64, len(hs))
	rep := HoldoutReport{Customers: len(hs), Length: length, ByFrequency: make([]HoldoutRow, HoldoutTopX+1)}
	for i := range rep.ByFrequency {
		rep.ByFrequency[i].X = i
	}
	var sp, sa, spp, saa, spa, se, sae float64
	for i, h := range hs {
		k := key{h.X, h.Tx, h.T}
		p, ok := cache[k]
		if !ok {
			p = bg.ExpectedPurchases(length, h.X, h.Tx, h.T)
			cache[k] = p
		}
		pred[i] = p
		a := float64(h.Holdout)
		sp, sa = sp+p, sa+a
		spp, saa, spa = spp+p*p, saa+a*a, spa+p*a
		se, sae = se+(p-a)*(p-a), sae+math.Abs(p-a)
		row := &rep.ByFrequency[min(h.X, HoldoutTopX)]
		row.Customers++
		row.Predicted += p
		row.Actual += a
	}
	for i := range rep.ByFrequency {
		if r := &rep.ByFrequency[i]; r.Customers > 0 {
			r.Predicted /= float64(r.Customers)
			r.Actual /= float64(r.Customers)
		}
	}
	if n := float64(len(hs)); n > 0 {
		rep.Predicted, rep.Actual = sp, sa
		rep.MAE, rep.RMSE = sae/n, math.Sqrt(se/n)
		cov := spa/n - sp/n*sa/n
		vp, va := spp/n-sp/n*sp/n, saa/n-sa/n*sa/n
		if vp > 0 && va > 0 {
			rep.Correlation = cov / math.Sqrt(vp*va)
		}
	}
	return rep, pred
}
