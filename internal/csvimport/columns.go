package csvimport

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/text/unicode/norm"
)

// field is a column bottega understands.
type field string

// Customer and order fields. The names are the canonical column headers.
const (
	fCustomerID  field = "customer_id"
	fEmail       field = "email"
	fPhone       field = "phone"
	fLoyaltyCard field = "loyalty_card"
	fFirstName   field = "first_name"
	fLastName    field = "last_name"
	fName        field = "name"
	fBirthday    field = "birthday"
	fCity        field = "city"
	fCreatedAt   field = "created_at"
	fUpdatedAt   field = "updated_at"
	fMarketing   field = "marketing_consent"
	fSMS         field = "sms_consent"

	fOrderID     field = "order_id"
	fOrderDate   field = "order_date"
	fTotal       field = "total"
	fRevenue     field = "revenue"
	fShipping    field = "shipping"
	fTax         field = "tax"
	fDiscount    field = "discount"
	fCurrency    field = "currency"
	fCoupon      field = "coupon"
	fStoreID     field = "store_id"
	fChannel     field = "channel"
	fStatus      field = "status"
	fCancelledAt field = "cancelled_at"
	fRefunded    field = "refunded"
	fRefundedAt  field = "refunded_at"
	fOrderName   field = "customer_name"

	fProductID   field = "product_id"
	fSKU         field = "sku"
	fProductName field = "product_name"
	fCategory    field = "category"
	fBrand       field = "brand"
	fVariant     field = "variant"
	fPrice       field = "price"
	fQuantity    field = "quantity"
)

// aliases lists, per kind, each field with the header spellings that mean it
// (after normalizeName). The field's own name always counts. docs/import.md
// lists the same table; a test keeps them in step.
var aliases = map[Kind][]struct {
	f     field
	names []string
}{
	Customers: {
		{fCustomerID, []string{"id", "customerid", "customer_number", "customer_no", "customer_code", "user_id", "userid", "id_cliente", "codice_cliente", "cod_cliente", "numero_cliente"}},
		{fEmail, []string{"e_mail", "mail", "email_address", "e_mail_address", "indirizzo_email", "indirizzo_e_mail", "posta_elettronica"}},
		{fPhone, []string{"phone_number", "telephone", "tel", "mobile", "mobile_phone", "cell", "cellphone", "telefono", "cellulare", "numero_di_telefono"}},
		{fLoyaltyCard, []string{"loyalty", "loyalty_card_number", "loyalty_number", "fidelity_card", "fidelity", "carta_fedelta", "tessera", "tessera_fedelta", "numero_tessera"}},
		{fFirstName, []string{"firstname", "given_name", "nome"}},
		{fLastName, []string{"lastname", "surname", "family_name", "cognome"}},
		{fName, []string{"full_name", "fullname", "customer_name", "nome_completo", "nominativo", "ragione_sociale"}},
		{fBirthday, []string{"birth_date", "birthdate", "date_of_birth", "dob", "data_di_nascita", "data_nascita", "compleanno"}},
		{fCity, []string{"town", "citta", "comune", "default_address_city"}},
		{fCreatedAt, []string{"created", "signup_date", "signed_up_at", "registration_date", "registered_at", "customer_since", "date", "data", "data_registrazione", "data_iscrizione", "cliente_dal"}},
		{fUpdatedAt, []string{"updated", "last_updated", "modified_at", "data_aggiornamento", "data_modifica"}},
		{fMarketing, []string{"marketing", "accepts_marketing", "accepts_email_marketing", "email_marketing", "consent_marketing", "newsletter", "optin", "opt_in", "consenso_marketing", "consenso_newsletter", "privacy_marketing"}},
		{fSMS, []string{"accepts_sms_marketing", "sms_marketing", "consent_sms", "consenso_sms"}},
	},
	Orders: {
		{fOrderID, []string{"orderid", "order", "order_number", "order_no", "order_nr", "order_name", "id_ordine", "numero_ordine", "n_ordine", "ordine", "transaction_id", "receipt", "scontrino", "numero_scontrino"}},
		{fOrderDate, []string{"date", "created_at", "placed_at", "order_created_at", "ordered_at", "purchase_date", "data", "data_ordine", "data_acquisto", "timestamp"}},
		{fCustomerID, []string{"customerid", "customer_number", "customer_no", "customer_code", "user_id", "userid", "id_cliente", "codice_cliente", "cod_cliente", "numero_cliente"}},
		{fEmail, []string{"e_mail", "mail", "email_address", "customer_email", "indirizzo_email", "posta_elettronica"}},
		{fPhone, []string{"phone_number", "telephone", "tel", "mobile", "customer_phone", "telefono", "cellulare"}},
		{fLoyaltyCard, []string{"loyalty", "loyalty_card_number", "loyalty_number", "fidelity_card", "fidelity", "carta_fedelta", "tessera", "tessera_fedelta", "numero_tessera"}},
		{fFirstName, []string{"firstname", "given_name", "nome"}},
		{fLastName, []string{"lastname", "surname", "family_name", "cognome"}},
		{fOrderName, []string{"customer_full_name", "nome_cliente", "nominativo"}},
		{fTotal, []string{"order_total", "grand_total", "amount", "totale", "importo", "totale_ordine"}},
		{fRevenue, []string{"subtotal", "sub_total", "net_total", "imponibile", "subtotale"}},
		{fShipping, []string{"shipping_amount", "shipping_cost", "shipping_total", "spedizione", "spese_di_spedizione", "spese_spedizione"}},
		{fTax, []string{"taxes", "tax_amount", "tax_total", "vat", "iva", "imposte"}},
		{fDiscount, []string{"discount_amount", "discount_total", "discounts", "sconto", "sconti"}},
		{fCurrency, []string{"currency_code", "valuta"}},
		{fCoupon, []string{"discount_code", "coupon_code", "promo_code", "voucher", "codice_sconto", "buono"}},
		{fStoreID, []string{"store", "store_code", "shop_id", "location", "location_id", "negozio", "punto_vendita", "codice_negozio"}},
		{fChannel, []string{"sales_channel", "canale", "canale_vendita"}},
		{fStatus, []string{"order_status", "financial_status", "payment_status", "stato", "stato_ordine"}},
		{fCancelledAt, []string{"canceled_at", "cancelled", "canceled", "cancellation_date", "annullato", "data_annullamento"}},
		{fRefunded, []string{"refunded_amount", "refund", "refund_amount", "amount_refunded", "rimborso", "importo_rimborsato", "rimborsato"}},
		{fRefundedAt, []string{"refund_date", "refunded_on", "data_rimborso"}},
		{fProductID, []string{"productid", "lineitem_product_id", "item_id", "id_prodotto", "codice_prodotto", "product_code", "article_id"}},
		{fSKU, []string{"lineitem_sku", "item_sku", "article", "ean", "barcode", "codice_articolo", "articolo"}},
		{fProductName, []string{"product", "item", "item_name", "lineitem_name", "product_title", "title", "prodotto", "nome_prodotto", "descrizione", "description"}},
		{fCategory, []string{"product_category", "item_category", "categoria"}},
		{fBrand, []string{"vendor", "manufacturer", "lineitem_vendor", "marca", "marchio"}},
		{fVariant, []string{"lineitem_variant", "item_variant", "variante", "taglia"}},
		{fPrice, []string{"unit_price", "item_price", "lineitem_price", "product_price", "prezzo", "prezzo_unitario"}},
		{fQuantity, []string{"qty", "lineitem_quantity", "item_quantity", "quantita", "qta", "pezzi"}},
	},
}

// itemPrefixes mark an unknown orders column as a line item property.
var itemPrefixes = []string{"lineitem_", "line_item_", "item_", "product_"}

// RejectColumn is the column a rejects file adds; it is ignored on import,
// so a corrected rejects file can be imported as it is.
const RejectColumn = "reject_reason"

// Reserved keys: an extra column whose name would collide with a member
// bottega writes itself is renamed with an "x_" prefix.
var (
	reservedTraits = map[string]bool{"email": true, "phone": true, "loyalty_card": true, "first_name": true, "last_name": true, "name": true, "birthday": true, "city": true, "created_at": true, "updated_at": true}
	reservedOrder  = map[string]bool{"order_id": true, "total": true, "revenue": true, "shipping": true, "tax": true, "discount": true, "coupon": true, "currency": true, "products": true, "store_id": true, "channel": true}
	reservedItem   = map[string]bool{"product_id": true, "sku": true, "name": true, "category": true, "brand": true, "variant": true, "price": true, "quantity": true, "coupon": true}
)

// normalizeName folds a header (or a status or channel cell) to
// lower_snake_case without accents: "Data di nascita" → "data_di_nascita",
// "E-mail" → "e_mail", "Città" → "citta".
func normalizeName(s string) string {
	var b strings.Builder
	under := false
	for _, r := range norm.NFD.String(strings.TrimPrefix(s, "\ufeff")) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(unicode.ToLower(r))
		default:
			under = true
		}
	}
	return b.String()
}

// extra is a column bottega does not know: it is kept as a trait (customers)
// or a property of the order or of its line item (orders).
type extra struct {
	index int
	key   string
	item  bool // a line item property
}

// columns says where each field is in a file's records.
type columns struct {
	header []string
	index  map[field]int
	extras []extra
}

// has reports whether the file has a column for f.
func (c *columns) has(f field) bool { _, ok := c.index[f]; return ok }

// maxColumns bounds a file's columns (an event object holds at most 1,000
// members).
const maxColumns = 500

// mapColumns maps a header to fields. overrides (field → header, from
// --map) win over the aliases. It refuses a header that is ambiguous (two
// columns meaning one field) or that lacks a required column.
func mapColumns(kind Kind, header []string, overrides map[string]string) (*columns, error) {
	if len(header) > maxColumns {
		return nil, fault.New(fault.Invalid, "the header has %d columns; at most %d are supported", len(header), maxColumns)
	}
	known := map[string]field{}
	for _, a := range aliases[kind] {
		known[string(a.f)] = a.f
		for _, n := range a.names {
			known[n] = a.f
		}
	}
	c := &columns{header: header, index: map[field]int{}}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = normalizeName(h)
		if len(names[i]) > 200 {
			return nil, fault.New(fault.Invalid, "the name of column %d is longer than 200 characters", i+1)
		}
	}
	taken := map[int]bool{}
	for f, h := range overrides {
		fld, ok := known[normalizeName(f)]
		if !ok || string(fld) != normalizeName(f) {
			return nil, fault.New(fault.Invalid, "--map %s=%s: %q is not a field of %s files (fields: %s)", f, h, f, kind, strings.Join(fieldNames(kind), ", "))
		}
		want := normalizeName(h)
		at := -1
		for i, n := range names {
			if n == want && want != "" {
				if at >= 0 {
					return nil, fault.New(fault.Invalid, "--map %s=%s: columns %d and %d are both named %q", f, h, at+1, i+1, h)
				}
				at = i
			}
		}
		if at < 0 {
			return nil, fault.New(fault.Invalid, "--map %s=%s: the file has no column %q", f, h, h)
		}
		if _, dup := c.index[fld]; dup {
			return nil, fault.New(fault.Invalid, "--map names field %s twice", fld)
		}
		c.index[fld] = at
		taken[at] = true
	}
	keys := map[string]int{}
	mapped := mappedFields(overrides)
	for i, n := range names {
		if taken[i] || n == "" || n == RejectColumn {
			continue // mapped by --map; unnamed (Excel's trailing empty columns); a rejects file's reason
		}
		if f, ok := known[n]; ok {
			j, dup := c.index[f]
			if !dup {
				c.index[f] = i
				continue
			}
			if !slices.Contains(mapped, f) {
				return nil, fault.New(fault.Invalid, "columns %d (%q) and %d (%q) both mean %s; choose one with --map %s=HEADER", j+1, header[j], i+1, header[i], f, f)
			}
			// --map chose another column for f: this one is kept as an extra.
		}
		x := extra{index: i, key: n}
		if kind == Orders {
			for _, p := range itemPrefixes {
				if rest, ok := strings.CutPrefix(n, p); ok && rest != "" {
					x.key, x.item = rest, true
					break
				}
			}
		}
		reserved := reservedTraits
		if kind == Orders {
			reserved = reservedOrder
			if x.item {
				reserved = reservedItem
			}
		}
		if reserved[x.key] {
			x.key = "x_" + x.key
		}
		where := x.key
		if x.item {
			where = "item:" + x.key
		}
		if j, dup := keys[where]; dup {
			return nil, fault.New(fault.Invalid, "columns %d (%q) and %d (%q) both become %q; rename one", j+1, header[j], i+1, header[i], x.key)
		}
		keys[where] = i
		c.extras = append(c.extras, x)
	}
	switch kind {
	case Orders:
		if !c.has(fOrderID) {
			return nil, fault.New(fault.Invalid, "the header has no order id column (%s); name one with --map order_id=HEADER", aliasList(kind, fOrderID))
		}
		if !c.has(fOrderDate) {
			return nil, fault.New(fault.Invalid, "the header has no order date column (%s); name one with --map order_date=HEADER", aliasList(kind, fOrderDate))
		}
		if !c.has(fCustomerID) && !c.has(fEmail) && !c.has(fPhone) && !c.has(fLoyaltyCard) {
			return nil, fault.New(fault.Invalid, "the header has no column naming the customer (customer_id, email, phone or loyalty_card)")
		}
	case Customers:
		if !c.has(fCustomerID) && !c.has(fEmail) && !c.has(fPhone) && !c.has(fLoyaltyCard) {
			return nil, fault.New(fault.Invalid, "the header has no column identifying the customer (customer_id, email, phone or loyalty_card)")
		}
	}
	return c, nil
}

func mappedFields(overrides map[string]string) []field {
	var out []field
	for f := range overrides {
		out = append(out, field(normalizeName(f)))
	}
	return out
}

// fieldNames lists the fields of a kind, sorted.
func fieldNames(kind Kind) []string {
	var out []string
	for _, a := range aliases[kind] {
		out = append(out, string(a.f))
	}
	sort.Strings(out)
	return out
}

// aliasList is the field and its first few aliases, for messages.
func aliasList(kind Kind, f field) string {
	for _, a := range aliases[kind] {
		if a.f == f {
			n := a.names
			if len(n) > 5 {
				n = n[:5]
			}
			return fmt.Sprintf("%s, %s…", f, strings.Join(n, ", "))
		}
	}
	return string(f)
}
