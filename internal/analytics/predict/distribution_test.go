package predict_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// The distribution counts every stored prediction once, in its band and in
// the bucket holding its CLV, as counting the rows one by one does.
func TestDistribute(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		empty, err := predict.Distribute(ctx, db, "EUR")
		if err != nil || empty.Customers != 0 || len(empty.CLV) != 0 || len(empty.Risks) != 4 {
			t.Fatalf("no predictions: %+v, %v", empty, err)
		}
		h := processtest.New(t, db)
		ingestFixture(t, h)
		svc := predict.NewService(db, predict.Config{BaseCurrency: "EUR", Margin: 0.3, DiscountRate: 0.1}, func() time.Time { return now })
		if _, err := svc.Fit(ctx, predict.Request{CalibrationEnd: date("1997-09-30"), Unit: clv.Week}); err != nil {
			t.Fatal(err)
		}
		preds := readPredictions(t, db)
		d, err := predict.Distribute(ctx, db, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if d.Customers != int64(len(preds)) {
			t.Fatalf("%d customers, want %d", d.Customers, len(preds))
		}
		risks := map[clv.Risk]int64{}
		for _, p := range preds {
			risks[clv.Risk(p.risk)]++
		}
		for _, r := range predict.Risks {
			if d.Risks[r] != risks[r] {
				t.Errorf("band %s: %d, want %d", r, d.Risks[r], risks[r])
			}
		}
		if len(d.CLV) < 2 || d.CLV[0].Customers == 0 || d.CLV[len(d.CLV)-1].Customers == 0 {
			t.Fatalf("buckets %+v", d.CLV)
		}
		var total int64
		for i, b := range d.CLV {
			var want int64
			for _, p := range preds {
				if (b.From == nil || p.clvM >= *b.From) && (b.To == nil || p.clvM < *b.To) {
					want++
				}
			}
			if b.Customers != want {
				t.Errorf("bucket %d [%v, %v): %d, want %d", i, b.From, b.To, b.Customers, want)
			}
			if i > 0 && (b.From == nil || d.CLV[i-1].To == nil || *b.From != *d.CLV[i-1].To) {
				t.Errorf("bucket %d does not start where %d ends", i, i-1)
			}
			total += b.Customers
		}
		if total != d.Customers {
			t.Errorf("buckets hold %d customers of %d", total, d.Customers)
		}
		// The counts kept with the model equal counting the stored rows
		// (what a model written before the counts were kept gets).
		var kept string
		if err := db.QueryRow(ctx, "SELECT distribution FROM prediction_models WHERE status = 'ok'").Scan(&kept); err != nil || kept == "" {
			t.Fatalf("the model keeps no distribution: %q, %v", kept, err)
		}
		if _, err := db.Exec(ctx, "UPDATE prediction_models SET distribution = ''"); err != nil {
			t.Fatal(err)
		}
		counted, err := predict.Distribute(ctx, db, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(counted, d) {
			t.Errorf("kept with the model %+v, counted %+v", d, counted)
		}
	})
}
