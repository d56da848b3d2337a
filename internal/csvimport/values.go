package csvimport

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// parseAmount reads a money amount as written in shop exports and returns it
// as decimal text that is also a valid JSON number ("1234.5", "-3", "0.25"),
// so that no float rounding happens on the way to the order store.
//
// Accepted: an optional sign, digits, and '.' or ',' as the decimal
// separator; a thousands separator ('.', ',', space or apostrophe) in groups
// of three when the other mark is the decimal separator, or when it is
// repeated ("1.234.567"); a currency symbol (€ $ £) before or after.
// Refused: a lone separator followed by exactly three digits after a number
// that could be a thousands group ("1.234", "12,500"), which means 1234 in
// Italy and 1.234 in England; digits3 says the currency has three decimals,
// and then such amounts are read as decimals.
func parseAmount(s string, digits3 bool) (string, error) {
	orig := s
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '€', '$', '£', '\'':
			return -1
		}
		return r
	}, s)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("amount %q is not a number%s", clip(orig), why)
	}
	if s == "" {
		return bad("")
	}
	sign := ""
	switch s[0] {
	case '-':
		sign, s = "-", s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" || len(s) > 40 {
		return bad("")
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' && r != ',' {
			return bad("")
		}
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	var intPart, frac string
	switch {
	case dots > 0 && commas > 0:
		// The last mark is the decimal separator; the other one groups.
		dec, group := byte('.'), ","
		if lastComma > lastDot {
			dec, group = ',', "."
		}
		i := strings.LastIndexByte(s, dec)
		if strings.Count(s, string(dec)) != 1 {
			return bad(": it has more than one decimal separator")
		}
		intPart, frac = s[:i], s[i+1:]
		var ok bool
		if intPart, ok = ungroup(intPart, group); !ok {
			return bad(": the thousands separators are misplaced")
		}
	case dots+commas == 0:
		intPart = s
	case dots > 1 || commas > 1:
		// Repeated marks are thousands separators: 1.234.567 or 1,234,567.
		group := "."
		if commas > 1 {
			group = ","
		}
		var ok bool
		if intPart, ok = ungroup(s, group); !ok {
			return bad(": the thousands separators are misplaced")
		}
	default:
		i := max(lastDot, lastComma)
		intPart, frac = s[:i], s[i+1:]
		if len(frac) == 3 && intPart != "" && len(intPart) <= 3 && intPart[0] != '0' && !digits3 {
			return bad(fmt.Sprintf(": %q could mean %s%s or %s%s.%s; write it with two decimals", orig, sign, intPart+frac, sign, intPart, frac))
		}
	}
	if intPart == "" && frac == "" {
		return bad("")
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if len(intPart) > 13 {
		return bad(": it is out of range")
	}
	if out == "0" {
		return "0", nil
	}
	return sign + out, nil
}

// ungroup removes thousands separators sep from s, checking that they sit
// every three digits. It returns the digits alone.
func ungroup(s, sep string) (string, bool) {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return s, true
	}
	if len(parts[0]) == 0 || len(parts[0]) > 3 {
		return "", false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return "", false
		}
	}
	return strings.Join(parts, ""), true
}

// parseQuantity reads a line item quantity: a whole number from 0 to
// 1,000,000 ("2", "2.0", "2,00" are all 2).
func parseQuantity(s string) (int64, error) {
	t := s
	if i := strings.IndexAny(t, ".,"); i >= 0 {
		if strings.Trim(t[i+1:], "0") != "" {
			return 0, fmt.Errorf("quantity %q is not a whole number", clip(s))
		}
		t = t[:i]
	}
	if t == "" || len(t) > 7 {
		return 0, fmt.Errorf("quantity %q is not a whole number from 0 to 1000000", clip(s))
	}
	var n int64
	for _, r := range t {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("quantity %q is not a whole number from 0 to 1000000", clip(s))
		}
		n = n*10 + int64(r-'0')
	}
	if n > 1_000_000 {
		return 0, fmt.Errorf("quantity %q is not a whole number from 0 to 1000000", clip(s))
	}
	return n, nil
}

// dateLayouts are the date and time spellings accepted, ISO 8601 first. The
// layouts with a zone keep it; the others are read in the import's time zone.
var (
	zonedLayouts = []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04Z07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999 -0700", // Shopify
		"2006-01-02 15:04:05.999999999 -07:00",
		"2006-01-02 15:04:05.999999999 -0700 MST",
	}
	localLayouts = []string{
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02 15:04",
		"2006-01-02",
	}
	// Day first, as written in Italy and most of Europe; '/', '-' or '.'.
	dayFirstLayouts = []string{
		"2/1/2006 15:04:05",
		"2/1/2006 15:04",
		"2/1/2006",
	}
)

// parseDate reads a date or date-time: ISO 8601 (with or without a time and a
// zone), or day/month/year with '/', '-' or '.' and an optional time. Values
// without a zone are in loc. dateOnly reports that no time was given.
func parseDate(s string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), false, nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), l == "2006-01-02", nil
		}
	}
	if len(s) >= 8 && s[0] >= '0' && s[0] <= '9' {
		norm := s
		if i := strings.IndexAny(s, "-."); i > 0 && i <= 2 {
			// 05-03-2024 or 05.03.2024: day first with another separator.
			date, rest, _ := strings.Cut(s, " ")
			date = strings.NewReplacer("-", "/", ".", "/").Replace(date)
			norm = date
			if rest != "" {
				norm += " " + rest
			}
		}
		for _, l := range dayFirstLayouts {
			if t, err := time.ParseInLocation(l, norm, loc); err == nil {
				return t.UTC(), l == "2/1/2006", nil
			}
		}
	}
	return time.Time{}, false, fmt.Errorf("date %q is not a date (use ISO 8601 such as 2024-03-05 or 2024-03-05T18:30:00+01:00, or dd/mm/yyyy)", clip(s))
}

// parseBool reads a yes/no cell: 1/0, yes/no, y/n, true/false, si/sì/no,
// x/-, subscribed/unsubscribed, opted_in/opted_out, granted/denied.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "y", "yes", "true", "t", "si", "sì", "s", "x", "on", "subscribed", "opted_in", "opt_in", "optin", "granted", "accepted", "confirmed":
		return true, nil
	case "0", "n", "no", "false", "f", "-", "off", "unsubscribed", "not_subscribed", "opted_out", "opt_out", "optout", "denied", "declined", "revoked":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", clip(s))
}

// channels maps the spellings of a sales channel to bottega's channels.
var channels = map[string]string{
	"web": "web", "online": "web", "ecommerce": "web", "e_commerce": "web", "website": "web", "webshop": "web", "sito": "web", "sito_web": "web", "internet": "web",
	"app": "app", "mobile": "app", "mobile_app": "app", "ios": "app", "android": "app",
	"pos": "pos", "store": "pos", "in_store": "pos", "instore": "pos", "retail": "pos", "shop_floor": "pos", "negozio": "pos", "punto_vendita": "pos", "cassa": "pos",
}

// parseChannel reads a channel cell: web, app or pos, or a common synonym.
func parseChannel(s string) (string, error) {
	if c, ok := channels[normalizeName(s)]; ok {
		return c, nil
	}
	return "", fmt.Errorf("channel %q is not web, app or pos", clip(s))
}

// Order statuses, as classes.
type status int

const (
	statusCompleted status = iota // counted as a purchase
	statusOpen                    // placed but not completed: kept, not counted
	statusCancelled
	statusRefunded
)

// statuses maps the status spellings of common shop systems (Shopify
// financial status, WooCommerce, Magento, Italian exports) to a class.
var statuses = map[string]status{
	"": statusCompleted, "completed": statusCompleted, "complete": statusCompleted, "paid": statusCompleted, "fulfilled": statusCompleted,
	"shipped": statusCompleted, "delivered": statusCompleted, "closed": statusCompleted, "partially_refunded": statusCompleted,
	"partially_fulfilled": statusCompleted, "unfulfilled": statusCompleted, "success": statusCompleted, "succeeded": statusCompleted,
	"completato": statusCompleted, "evaso": statusCompleted, "pagato": statusCompleted, "spedito": statusCompleted, "consegnato": statusCompleted,
	"pending": statusOpen, "open": statusOpen, "processing": statusOpen, "on_hold": statusOpen, "authorized": statusOpen, "unpaid": statusOpen,
	"partially_paid": statusOpen, "failed": statusOpen, "draft": statusOpen, "new": statusOpen, "in_attesa": statusOpen, "in_lavorazione": statusOpen,
	"da_pagare": statusOpen, "non_pagato": statusOpen,
	"cancelled": statusCancelled, "canceled": statusCancelled, "voided": statusCancelled, "void": statusCancelled,
	"annullato": statusCancelled, "cancellato": statusCancelled,
	"refunded": statusRefunded, "returned": statusRefunded, "rimborsato": statusRefunded, "reso": statusRefunded,
}

// parseStatus reads an order status cell. A "wc-" prefix (WooCommerce) is
// ignored.
func parseStatus(s string) (status, error) {
	n := strings.TrimPrefix(normalizeName(s), "wc_")
	if st, ok := statuses[n]; ok {
		return st, nil
	}
	return 0, fmt.Errorf("status %q is not one bottega knows (completed, paid, pending, cancelled, refunded…)", clip(s))
}

// clip shortens a cell for a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		return string(r[:60]) + "…"
	}
	return s
}

// cleanCell checks a cell and trims the spaces around it. Cells are text:
// nothing in them is ever evaluated, so "=1+2" stays "=1+2".
func cleanCell(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("holds a NUL character")
	}
	return strings.TrimFunc(s, unicode.IsSpace), nil
}
