package csvimport

import (
	"strings"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		digits3  bool
		err      string
	}{
		{in: "12.50", want: "12.5"},
		{in: "12,50", want: "12.5"},
		{in: "0,99", want: "0.99"},
		{in: "1.234,50", want: "1234.5"},
		{in: "1,234.50", want: "1234.5"},
		{in: "1.234.567,89", want: "1234567.89"},
		{in: "1,234,567", want: "1234567"},
		{in: "1.234.567", want: "1234567"},
		{in: "1 234,56", want: "1234.56"},
		{in: "1\u00a0234,56", want: "1234.56"},
		{in: "1'234.50", want: "1234.5"},
		{in: "€ 12,50", want: "12.5"},
		{in: "12,50 €", want: "12.5"},
		{in: "$1,234.00", want: "1234"},
		{in: "-5,00", want: "-5"},
		{in: "+5", want: "5"},
		{in: "-0,00", want: "0"},
		{in: "007", want: "7"},
		{in: ",5", want: "0.5"},
		{in: "5.", want: "5"},
		{in: "1234.567", want: "1234.567"},
		{in: "0.125", want: "0.125"},
		{in: "12.345", want: "12.345", digits3: true},
		{in: "12.345", err: "could mean 12345 or 12.345"},
		{in: "1,234", err: "could mean 1234 or 1.234"},
		{in: "12,5,0", err: "thousands separators are misplaced"},
		{in: "1.23.4", err: "thousands separators are misplaced"},
		{in: "1,2.3,4", err: "more than one decimal separator"},
		{in: "abc", err: "not a number"},
		{in: "=1+2", err: "not a number"},
		{in: "4.99e1", err: "not a number"},
		{in: "", err: "not a number"},
		{in: "-", err: "not a number"},
		{in: ".", err: "not a number"},
		{in: "99999999999999.00", err: "out of range"},
	} {
		got, err := parseAmount(tc.in, tc.digits3)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseAmount(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseAmount(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "0": 0, "12": 12, "2.0": 2, "2,00": 2, "1000000": 1000000} {
		if got, err := parseQuantity(in); err != nil || got != want {
			t.Errorf("parseQuantity(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5", "x", "1000001", "1e3", "2,5"} {
		if got, err := parseQuantity(in); err == nil {
			t.Errorf("parseQuantity(%q) = %d; want an error", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in       string
		loc      *time.Location
		want     time.Time
		dateOnly bool
	}{
		{"2024-03-05", time.UTC, utc("2024-03-05T00:00:00Z"), true},
		{"2024-03-05T18:30:00Z", time.UTC, utc("2024-03-05T18:30:00Z"), false},
		{"2024-03-05T18:30:00.123+01:00", time.UTC, utc("2024-03-05T17:30:00.123Z"), false},
		{"2024-03-05T18:30", time.UTC, utc("2024-03-05T18:30:00Z"), false},
		{"2024-03-05 18:30:12", time.UTC, utc("2024-03-05T18:30:12Z"), false},
		{"2024-03-05 18:30:12 +0100", time.UTC, utc("2024-03-05T17:30:12Z"), false},
		{"2024-03-05 18:30", rome, utc("2024-03-05T17:30:00Z"), false},
		{"2024-07-05", rome, utc("2024-07-04T22:00:00Z"), true},
		{"05/03/2024", time.UTC, utc("2024-03-05T00:00:00Z"), true},
		{"5/3/2024", time.UTC, utc("2024-03-05T00:00:00Z"), true},
		{"05/03/2024 18:30", time.UTC, utc("2024-03-05T18:30:00Z"), false},
		{"05/03/2024 18:30:59", rome, utc("2024-03-05T17:30:59Z"), false},
		{"05-03-2024", time.UTC, utc("2024-03-05T00:00:00Z"), true},
		{"05.03.2024", time.UTC, utc("2024-03-05T00:00:00Z"), true},
	} {
		got, dateOnly, err := parseDate(tc.in, tc.loc)
		if err != nil || !got.Equal(tc.want) || dateOnly != tc.dateOnly {
			t.Errorf("parseDate(%q, %s) = %s, %v, %v; want %s, %v", tc.in, tc.loc, got, dateOnly, err, tc.want, tc.dateOnly)
		}
	}
	for _, in := range []string{"", "yesterday", "31/02/2024", "32/01/2024", "2024-13-01", "03/05/24", "2024/03/05", "=NOW()", "1709650000"} {
		if got, _, err := parseDate(in, time.UTC); err == nil {
			t.Errorf("parseDate(%q) = %s; want an error", in, got)
		}
	}
}

func TestParseBoolStatusChannel(t *testing.T) {
	for in, want := range map[string]bool{"yes": true, "Sì": true, "SI": true, "1": true, "true": true, "x": true, "subscribed": true, "no": false, "0": false, "FALSE": false, "unsubscribed": false} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseBool("maybe"); err == nil {
		t.Error(`parseBool("maybe") succeeded`)
	}
	for in, want := range map[string]status{"Paid": statusCompleted, "wc-completed": statusCompleted, "partially_refunded": statusCompleted, "Pending": statusOpen,
		"wc-on-hold": statusOpen, "Cancelled": statusCancelled, "Annullato": statusCancelled, "voided": statusCancelled, "Refunded": statusRefunded, "rimborsato": statusRefunded} {
		if got, err := parseStatus(in); err != nil || got != want {
			t.Errorf("parseStatus(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseStatus("lost in the post"); err == nil || !strings.Contains(err.Error(), "lost in the post") {
		t.Errorf("parseStatus(unknown) error = %v", err)
	}
	for in, want := range map[string]string{"Web": "web", "online": "web", "E-commerce": "web", "App": "app", "POS": "pos", "Negozio": "pos", "in store": "pos"} {
		if got, err := parseChannel(in); err != nil || got != want {
			t.Errorf("parseChannel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseChannel("fax"); err == nil {
		t.Error(`parseChannel("fax") succeeded`)
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Data di nascita": "data_di_nascita", "E-mail": "e_mail", "Città": "citta", "N° ordine": "n_ordine", "\ufeffEmail": "email",
		"  Lineitem quantity ": "lineitem_quantity", "Quantità": "quantita", "order_id": "order_id", "OrderID": "orderid", "---": "",
	} {
		if got := normalizeName(in); got != want {
			t.Errorf("normalizeName(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestDetectDelimiter(t *testing.T) {
	for _, tc := range []struct {
		in       string
		want     rune
		complete bool
	}{
		{"a,b,c\n1,2,3\n", ',', true},
		{"a;b;c\r\n1;2;3\r\n", ';', true},
		{"a\tb\tc\n", '\t', true},
		{`"a,b";c;d` + "\n", ';', true},
		{"email\n", ',', true},
		{"a;b,c;d\n", ';', true},
		{"a,b", ',', false},
		{`"a` + "\n" + `b";c` + "\n", ';', true},
	} {
		got, complete := detectDelimiter([]byte(tc.in))
		if got != tc.want || complete != tc.complete {
			t.Errorf("detectDelimiter(%q) = %q, %v; want %q, %v", tc.in, got, complete, tc.want, tc.complete)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"2GiB": 2 << 30, "1 MiB": 1 << 20, "500MB": 500e6, "1048576": 1 << 20, "64k": 64 << 10} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5GiB", "lots"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
	if got := formatBytes(2 << 30); got != "2 GiB" {
		t.Errorf("formatBytes = %q", got)
	}
}
