package demo

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in euro cents. It is written to JSON as a decimal
// number with two digits ("59.90"), as a shop's tracking code sends it.
type Money int64

// MarshalJSON writes m as a JSON number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return m.append(nil), nil }

// String returns m as decimal euros ("59.90").
func (m Money) String() string { return string(m.append(nil)) }

func (m Money) append(b []byte) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	b = strconv.AppendInt(b, int64(m/100), 10)
	c := m % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// Product is an article of the demo shop's catalogue.
type Product struct {
	ID       string
	SKU      string
	Name     string
	Category string
	Brand    string
	Variant  string
	Price    Money
	Fashion  bool // clothing, shoes and accessories: returned more often, on sale in January and July
	Slug     string
}

// Categories of the catalogue, fashion first.
var categoryNames = []string{
	"Abbigliamento Donna", "Abbigliamento Uomo", "Scarpe", "Borse e Accessori",
	"Cucina e Tavola", "Tessili Casa", "Illuminazione e Decorazione", "Bagno e Profumi per la Casa",
}

type article struct {
	name     string
	price    Money // cents
	brand    string
	variants []string
}

// articles lists each category's articles; every variant is a product.
func articles() [][]article {
	return [][]article{
		{ // Abbigliamento Donna
			{"Camicia in lino", 5990, "Filo di Seta", []string{"Bianco", "Azzurro", "Sabbia"}},
			{"Abito midi a fiori", 8990, "Filo di Seta", []string{"Blu", "Rosso"}},
			{"Maglione in cachemire", 14900, "Lanificio Alpino", []string{"Cammello", "Grigio", "Nero"}},
			{"Cardigan in lana merino", 9500, "Lanificio Alpino", []string{"Panna", "Verde salvia"}},
			{"Pantaloni palazzo", 6900, "Sartoria Bottega", []string{"Nero", "Beige"}},
			{"Gonna plissé", 6500, "Filo di Seta", []string{"Blu notte", "Bordeaux"}},
			{"Blazer sartoriale", 13900, "Sartoria Bottega", []string{"Nero", "Quadri"}},
			{"Trench classico", 18900, "Sartoria Bottega", []string{"Beige"}},
			{"T-shirt in cotone biologico", 2500, "Filo di Seta", []string{"Bianco", "Nero", "Rosa cipria"}},
		},
		{ // Abbigliamento Uomo
			{"Camicia Oxford", 5500, "Sartoria Bottega", []string{"Bianco", "Celeste", "Righe"}},
			{"Polo in piqué", 4500, "Sartoria Bottega", []string{"Blu", "Bianco", "Verde"}},
			{"Maglione girocollo in lana", 8900, "Lanificio Alpino", []string{"Grigio", "Blu"}},
			{"Chino slim", 6900, "Sartoria Bottega", []string{"Beige", "Blu", "Verde oliva"}},
			{"Giacca in velluto", 15900, "Sartoria Bottega", []string{"Marrone", "Blu"}},
			{"Piumino leggero", 17900, "Lanificio Alpino", []string{"Nero", "Blu"}},
			{"Felpa con cappuccio", 5900, "Filo di Seta", []string{"Grigio melange", "Nero"}},
			{"Cravatta in seta", 4900, "Filo di Seta", []string{"Blu", "Bordeaux"}},
		},
		{ // Scarpe
			{"Mocassini in pelle", 12900, "Passo Leggero", []string{"Marrone", "Nero"}},
			{"Sneakers in pelle", 9900, "Passo Leggero", []string{"Bianco", "Bianco e verde"}},
			{"Sneakers in tela", 5900, "Passo Leggero", []string{"Bianco", "Blu"}},
			{"Stivaletti Chelsea", 14900, "Calzaturificio Marchigiano", []string{"Nero", "Testa di moro"}},
			{"Décolleté", 11900, "Calzaturificio Marchigiano", []string{"Nero", "Nude"}},
			{"Sandali intrecciati", 7900, "Calzaturificio Marchigiano", []string{"Cuoio", "Nero"}},
			{"Ballerine", 6900, "Passo Leggero", []string{"Nero", "Rosso"}},
			{"Stringate Derby", 13900, "Calzaturificio Marchigiano", []string{"Nero"}},
			{"Pantofole in feltro", 3500, "Lanificio Alpino", []string{"Grigio", "Rosso"}},
		},
		{ // Borse e Accessori
			{"Borsa a tracolla in pelle", 15900, "Pelletteria Fiorentina", []string{"Cuoio", "Nero"}},
			{"Shopper in tela", 3900, "Filo di Seta", []string{"Naturale", "Blu"}},
			{"Zaino in pelle", 17900, "Pelletteria Fiorentina", []string{"Nero"}},
			{"Portafoglio in pelle", 5900, "Pelletteria Fiorentina", []string{"Nero", "Cuoio"}},
			{"Cintura in pelle", 4500, "Pelletteria Fiorentina", []string{"Nero", "Marrone"}},
			{"Foulard in seta", 6900, "Filo di Seta", []string{"Fantasia", "Blu"}},
			{"Sciarpa in lana", 4900, "Lanificio Alpino", []string{"Grigio", "Cammello", "Rosso"}},
			{"Cappello in feltro", 5900, "Lanificio Alpino", []string{"Nero", "Cammello"}},
			{"Occhiali da sole", 11900, "Filo di Seta", []string{"Tartaruga", "Nero"}},
			{"Guanti in pelle", 5500, "Pelletteria Fiorentina", []string{"Nero", "Marrone"}},
		},
		{ // Cucina e Tavola
			{"Servizio di piatti 18 pezzi", 11900, "Terracotta & Co.", []string{"Bianco", "Blu"}},
			{"Bicchieri in vetro soffiato (6)", 5900, "Casa Lumi", []string{"Trasparente", "Ambra"}},
			{"Moka 6 tazze", 3500, "Casa Lumi", []string{"Argento", "Rosso"}},
			{"Pentola in ghisa 28 cm", 12900, "Casa Lumi", []string{"Rosso", "Nero"}},
			{"Teiera in ghisa", 4900, "Casa Lumi", []string{"Nero", "Rosso"}},
			{"Tagliere in legno d'ulivo", 3900, "Terracotta & Co.", []string{"Naturale"}},
			{"Set di coltelli (5)", 8900, "Casa Lumi", []string{"Acciaio"}},
			{"Caraffa in ceramica", 2900, "Terracotta & Co.", []string{"Bianco", "Verde"}},
			{"Tazze da cappuccino (4)", 3200, "Terracotta & Co.", []string{"Bianco", "Assortite"}},
			{"Insalatiera in terracotta", 4500, "Terracotta & Co.", []string{"Terracotta"}},
			{"Posate 24 pezzi", 7900, "Casa Lumi", []string{"Acciaio", "Ottone"}},
		},
		{ // Tessili Casa
			{"Lenzuola in lino matrimoniali", 14900, "Lino Vivo", []string{"Bianco", "Grigio", "Salvia"}},
			{"Copripiumino in cotone", 9900, "Lino Vivo", []string{"Bianco", "Azzurro"}},
			{"Plaid in lana", 7900, "Lanificio Alpino", []string{"Grigio", "Senape", "Rosso"}},
			{"Tovaglia in lino", 5900, "Lino Vivo", []string{"Bianco", "Naturale"}},
			{"Set di asciugamani (5)", 4900, "Lino Vivo", []string{"Bianco", "Blu", "Verde"}},
			{"Accappatoio in spugna", 5900, "Lino Vivo", []string{"Bianco", "Grigio"}},
			{"Cuscino decorativo", 2900, "Lino Vivo", []string{"Velluto verde", "Lino naturale", "Senape"}},
			{"Tende in lino", 8900, "Lino Vivo", []string{"Bianco", "Naturale"}},
		},
		{ // Illuminazione e Decorazione
			{"Lampada da tavolo in ceramica", 8900, "Officina Luce", []string{"Bianco", "Verde"}},
			{"Lampada da terra in ottone", 22900, "Officina Luce", []string{"Ottone"}},
			{"Sospensione in vimini", 11900, "Officina Luce", []string{"Naturale"}},
			{"Vaso in vetro di Murano", 13900, "Casa Lumi", []string{"Blu", "Ambra"}},
			{"Specchio rotondo", 9900, "Casa Lumi", []string{"Ottone", "Nero"}},
			{"Candeliere in ottone", 3900, "Officina Luce", []string{"Ottone"}},
			{"Cornice portafoto", 2500, "Casa Lumi", []string{"Legno", "Argento"}},
			{"Vaso in ceramica di Caltagirone", 6900, "Terracotta & Co.", []string{"Blu", "Giallo"}},
			{"Stampa botanica incorniciata", 4900, "Casa Lumi", []string{"Verde", "Ocra"}},
			{"Lanterna da esterno", 4500, "Officina Luce", []string{"Nero", "Bianco"}},
		},
		{ // Bagno e Profumi per la Casa
			{"Candela profumata", 2900, "Essenze di Sicilia", []string{"Fico", "Zagara", "Agrumi"}},
			{"Diffusore a bastoncini", 3900, "Essenze di Sicilia", []string{"Fico", "Zagara", "Sandalo"}},
			{"Sapone liquido naturale", 1500, "Essenze di Sicilia", []string{"Lavanda", "Agrumi"}},
			{"Set bagno in ceramica", 5900, "Terracotta & Co.", []string{"Bianco", "Verde"}},
			{"Tappeto bagno", 3500, "Lino Vivo", []string{"Bianco", "Grigio"}},
			{"Crema mani", 1800, "Essenze di Sicilia", []string{"Mandorla", "Zagara"}},
			{"Spray per ambienti", 2500, "Essenze di Sicilia", []string{"Lavanda", "Fico"}},
			{"Sali da bagno", 2200, "Essenze di Sicilia", []string{"Lavanda", "Rosmarino"}},
		},
	}
}

var categoryCodes = []string{"ABD", "ABU", "SCA", "BOR", "CUC", "TES", "ILL", "BAG"}

// Catalogue returns the demo shop's products: about 150 articles of fashion
// and home goods in 8 categories, in a fixed order.
func Catalogue() []Product {
	var out []Product
	for c, list := range articles() {
		n := 0
		for _, a := range list {
			for _, v := range a.variants {
				n++
				name := a.name + " - " + v
				out = append(out, Product{
					ID:       fmt.Sprintf("P%d%03d", c+1, n),
					SKU:      fmt.Sprintf("BT-%s-%03d-%s", categoryCodes[c], n, strings.ToUpper(asciiFold(v)[:min(3, len(asciiFold(v)))])),
					Name:     name,
					Category: categoryNames[c],
					Brand:    a.brand,
					Variant:  v,
					Price:    a.price,
					Fashion:  c < 4,
					Slug:     slug(name),
				})
			}
		}
	}
	return out
}

// CategorySlug is the URL path segment of a category.
func CategorySlug(category string) string { return slug(category) }

// slug turns a name into lower-case ASCII words joined by '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(asciiFold(s)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// asciiFold replaces the accented letters Italian uses with plain ones and
// drops apostrophes, for e-mail addresses and URLs.
func asciiFold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case 'à', 'á':
			b.WriteByte('a')
		case 'è', 'é':
			b.WriteByte('e')
		case 'ì', 'í':
			b.WriteByte('i')
		case 'ò', 'ó':
			b.WriteByte('o')
		case 'ù', 'ú':
			b.WriteByte('u')
		case 'À':
			b.WriteByte('A')
		case 'È', 'É':
			b.WriteByte('E')
		case 'Ì':
			b.WriteByte('I')
		case 'Ò':
			b.WriteByte('O')
		case 'Ù':
			b.WriteByte('U')
		case '\'', '’':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// orderID formats an order number: a channel prefix and a number unique to
// the person and their order count.
func orderID(prefix string, person, n int) string {
	return prefix + strconv.Itoa(100000+person) + "-" + fmt.Sprintf("%03d", n)
}
