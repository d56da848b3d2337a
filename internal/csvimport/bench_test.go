package csvimport

import (
	"fmt"
	"strings"
	"testing"
)

// benchOrders is an orders file of n orders of one to three line items.
func benchOrders(n int) string {
	var b strings.Builder
	b.WriteString("order_id,date,customer_id,email,total,currency,sku,product_name,price,quantity,note\n")
	for i := range n {
		items := 1 + i%3
		for j := range items {
			fmt.Fprintf(&b, "O%d,2023-%02d-%02dT10:%02d:00Z,C%d,c%d@example.com,%d.%02d,EUR,SKU-%d,Product %d,%d.50,%d,note %d\n",
				i, 1+i%12, 1+i%28, i%60, i%20000, i%20000, 10+i%90, i%100, i, j, 5+j, 1+j%3, i)
		}
	}
	return b.String()
}

// BenchmarkDryRunOrders measures reading, converting and parsing (through
// the ingester) without storage: the importer's own cost per order.
func BenchmarkDryRunOrders(b *testing.B) {
	data := benchOrders(20000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		sum, err := dryRunB(b, data, testOptions(Orders))
		if err != nil || sum.Events != 20000 {
			b.Fatalf("%+v %v", sum.Events, err)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "orders/s")
}
