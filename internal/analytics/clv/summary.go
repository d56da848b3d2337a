package clv

// Purchase is one order of a customer: its UTC calendar day (days since
// 1970-01-01) and, if known, its value.
type Purchase struct {
	Day      int64
	Value    float64
	HasValue bool
}

// History is a customer's summary for calibration together with the
// purchases that followed it.
type History struct {
	Customer
	First int64 // day of the first purchase
	Last  int64 // day of the last purchase up to the calibration end
	// Holdout is the number of purchase days after the calibration end, up
	// to the holdout end (0 if none was given).
	Holdout int
}

// Summarise summarises one customer's purchases, sorted by day, as of the
// calibration end (a day, inclusive) in the given unit: purchases on the
// same day are one transaction whose value is the sum of their values (its
// value is unknown if any of them is). Purchase days after calEnd, up to
// holdoutEnd inclusive, are counted in Holdout. ok is false if the customer
// bought nothing up to calEnd.
func Summarise(ps []Purchase, calEnd, holdoutEnd int64, unit Unit) (h History, ok bool) {
	ud := unit.Days()
	days := 0
	var (
		day      int64
		val      float64
		known    bool
		sum      float64
		nKnown   int
		inWindow bool
	)
	flush := func() {
		if days > 1 && known {
			sum += val
			nKnown++
		}
	}
	for _, p := range ps {
		if p.Day > calEnd {
			break
		}
		if days == 0 || p.Day != day {
			flush()
			days++
			day, val, known = p.Day, 0, true
			if days == 1 {
				h.First = p.Day
			}
		}
		val += p.Value
		known = known && p.HasValue
		inWindow = true
	}
	if !inWindow {
		return h, false
	}
	flush()
	h.Last = day
	h.X = days - 1
	h.Tx = float64(h.Last-h.First) / ud
	h.T = float64(calEnd-h.First) / ud
	if nKnown > 0 {
		h.Mean, h.MeanN = sum/float64(nKnown), nKnown
	}
	var prev int64 = calEnd
	for _, p := range ps {
		if p.Day <= calEnd || p.Day > holdoutEnd {
			continue
		}
		if p.Day != prev {
			h.Holdout++
			prev = p.Day
		}
	}
	return h, true
}
