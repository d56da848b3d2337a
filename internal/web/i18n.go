package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/order"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The languages of the dashboard. Every message exists in each.
var languages = []string{"en", "it"}

//go:embed locales/*.json
var localeFiles embed.FS

// catalog holds every message in every language. Messages live in
// locales/AREA.LANG.json, one file per page area and language, and are
// fmt format strings.
type catalog map[string]map[string]string // lang → key → message

func loadCatalog() (catalog, error) {
	c := catalog{}
	for _, l := range languages {
		c[l] = map[string]string{}
	}
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".json")
		_, lang, ok := strings.Cut(base, ".")
		if !ok || c[lang] == nil {
			return nil, fmt.Errorf("web: %s: locale files are named AREA.LANG.json with LANG one of %v", f, languages)
		}
		b, err := localeFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: %s: %w", f, err)
		}
		for k, v := range m {
			if _, dup := c[lang][k]; dup {
				return nil, fmt.Errorf("web: %s: message %q is defined twice", f, k)
			}
			c[lang][k] = v
		}
	}
	for k := range c["en"] {
		for _, l := range languages[1:] {
			if _, ok := c[l][k]; !ok {
				return nil, fmt.Errorf("web: message %q has no %s translation", k, l)
			}
		}
	}
	for _, l := range languages[1:] {
		for k := range c[l] {
			if _, ok := c["en"][k]; !ok {
				return nil, fmt.Errorf("web: message %q exists in %s but not in en", k, l)
			}
		}
	}
	return c, nil
}

// Locale formats messages, numbers, money and dates in one language.
// Templates reach it as .L: {{.L.T "nav.customers"}}, {{.L.Money .Revenue}}.
type Locale struct {
	Lang     string
	msgs     map[string]string
	p        *message.Printer
	currency string // ISO 4217 base currency of money amounts
	tz       *time.Location
}

func (c catalog) locale(lang, currency string, tz *time.Location) *Locale {
	if c[lang] == nil {
		lang = "en"
	}
	tag := language.English
	if lang == "it" {
		tag = language.Italian
	}
	return &Locale{Lang: lang, msgs: c[lang], p: message.NewPrinter(tag), currency: currency, tz: tz}
}

// T returns the message key in the locale's language, formatted with args.
// An unknown key shows itself, so that a missing message is visible; a test
// checks that every key the templates use exists.
func (l *Locale) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return l.p.Sprintf(m, args...)
}

// Int formats an integer with the language's digit grouping.
func (l *Locale) Int(n any) string { return l.p.Sprintf("%d", n) }

// Num formats a number with the given decimals.
func (l *Locale) Num(f float64, decimals int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return l.p.Sprintf("%.*f", decimals, f)
}

// Pct formats a fraction (0.25) as a percentage ("25.0%", "25,0 %").
func (l *Locale) Pct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	if l.Lang == "it" {
		return l.p.Sprintf("%.1f", f*100) + "\u00a0%"
	}
	return l.p.Sprintf("%.1f", f*100) + "%"
}

// Money formats an amount in minor units of the base currency.
func (l *Locale) Money(minor int64) string { return l.MoneyIn(minor, l.currency) }

// MoneyMajor formats an amount in major units of the base currency (12.5
// euros), as the KPIs give it.
func (l *Locale) MoneyMajor(major float64) string {
	return l.Money(int64(math.Round(major * math.Pow10(order.Digits(l.currency)))))
}

// MoneyIn formats an amount in minor units of currency.
func (l *Locale) MoneyIn(minor int64, currency string) string {
	digits := order.Digits(currency)
	v := float64(minor) / math.Pow10(digits)
	sym := currencySymbol(currency)
	n := l.p.Sprintf("%.*f", digits, math.Abs(v))
	sign := ""
	if minor < 0 {
		sign = "−"
	}
	if l.Lang == "it" {
		return sign + n + "\u00a0" + sym
	}
	if sym == currency { // a code, not a symbol: "CHF 12.00"
		return sign + sym + "\u00a0" + n
	}
	return sign + sym + n
}

func currencySymbol(currency string) string {
	switch currency {
	case "EUR":
		return "€"
	case "USD":
		return "$"
	case "GBP":
		return "£"
	case "JPY":
		return "¥"
	}
	return currency
}

var months = map[string][12]string{
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	"it": {"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
}

// Date formats a day: "Nov 24, 2026" or "24 nov 2026".
func (l *Locale) Date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(l.tz)
	m := months[l.Lang][t.Month()-1]
	if l.Lang == "it" {
		return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%s %d, %d", m, t.Day(), t.Year())
}

// DateTime formats an instant to the minute.
func (l *Locale) DateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return l.Date(t) + " " + t.In(l.tz).Format("15:04")
}

// Month formats a month: "Nov 2026", "nov 2026".
func (l *Locale) Month(t time.Time) string {
	t = t.In(l.tz)
	return fmt.Sprintf("%s %d", months[l.Lang][t.Month()-1], t.Year())
}

// pickLanguage chooses the language of a request: the signed-in user's
// choice, else the language cookie, else the browser's preference, else
// English.
func pickLanguage(r *http.Request, userChoice string) string {
	if slices.Contains(languages, userChoice) {
		return userChoice
	}
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(languages, c.Value) {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err == nil {
		for _, t := range tags {
			base, _ := t.Base()
			if slices.Contains(languages, base.String()) {
				return base.String()
			}
		}
	}
	return "en"
}

const langCookie = "bottega_lang"
