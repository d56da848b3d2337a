package demo

// Fixed tables the generator draws from. They are read-only.

var femaleNames = []string{
	"Giulia", "Francesca", "Chiara", "Sara", "Martina", "Valentina", "Alessia", "Federica", "Elena", "Silvia",
	"Laura", "Anna", "Giorgia", "Roberta", "Paola", "Ilaria", "Alice", "Sofia", "Aurora", "Beatrice",
	"Camilla", "Elisa", "Eleonora", "Marta", "Serena", "Simona", "Claudia", "Cristina", "Daniela", "Monica",
	"Barbara", "Veronica", "Noemi", "Greta", "Ludovica", "Irene", "Lucia", "Maria", "Rosa", "Teresa",
	"Giovanna", "Carla", "Benedetta", "Caterina", "Margherita", "Arianna", "Nicoletta", "Stefania", "Antonella", "Michela",
}

var maleNames = []string{
	"Marco", "Alessandro", "Andrea", "Luca", "Matteo", "Lorenzo", "Francesco", "Giuseppe", "Davide", "Simone",
	"Federico", "Riccardo", "Stefano", "Giovanni", "Paolo", "Roberto", "Antonio", "Fabio", "Daniele", "Gabriele",
	"Tommaso", "Leonardo", "Edoardo", "Emanuele", "Nicola", "Massimo", "Claudio", "Enrico", "Filippo", "Pietro",
	"Michele", "Vincenzo", "Salvatore", "Giorgio", "Alberto", "Mattia", "Diego", "Samuele", "Cristian", "Mario",
	"Franco", "Sergio", "Raffaele", "Carlo", "Luigi", "Giacomo", "Jacopo", "Valerio", "Ivan", "Fabrizio",
}

var surnames = []string{
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
	"Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
	"Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
	"Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti",
	"Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini",
	"Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna", "Farina", "Rizzi", "Monti",
	"Cattaneo", "Morelli", "Amato", "Silvestri", "Mazza", "Testa", "Grassi", "Pellegrino", "Carbone", "Giuliani",
	"Benedetti", "Barone", "Rossetti", "Caputo", "Montanari", "Guerra", "Palmieri", "Bernardi", "Martino", "Fiore",
	"De Rosa", "Ferretti", "Bellini", "Basile", "Riva", "Donati", "Piras", "Vitali", "Battaglia", "Sartori",
	"Neri", "Costantini", "Milani", "Pagano", "Ruggiero", "Sorrentino", "D'Amico", "Orlando", "Negri", "Mele",
}

// city is where a person lives; store is the shop they walk into, if any.
type city struct {
	name   string
	weight float64
	store  string
}

// The three stores.
const (
	storeMilano = "milano-brera"
	storeTorino = "torino-centro"
	storeRoma   = "roma-prati"
)

// Stores lists the demo shop's physical stores (their store_id).
func Stores() []string { return []string{storeMilano, storeTorino, storeRoma} }

var cities = []city{
	{"Milano", 16, storeMilano}, {"Monza", 2, storeMilano}, {"Bergamo", 2, storeMilano},
	{"Torino", 9, storeTorino}, {"Roma", 15, storeRoma},
	{"Napoli", 6, ""}, {"Bologna", 5, ""}, {"Firenze", 5, ""}, {"Genova", 4, ""}, {"Bari", 3, ""},
	{"Palermo", 4, ""}, {"Verona", 3, ""}, {"Padova", 3, ""}, {"Brescia", 3, ""}, {"Parma", 2, ""},
	{"Catania", 3, ""}, {"Venezia", 2, ""}, {"Trieste", 1, ""}, {"Cagliari", 2, ""}, {"Pescara", 1, ""},
	{"Perugia", 1, ""}, {"Lecce", 1, ""}, {"Como", 1, ""},
}

// E-mail domains: reserved names under .example (RFC 2606), so that no
// demo address can ever receive mail, shaped like the providers Italians use.
var emailDomains = []string{
	"gmail.example", "libero.example", "hotmail.example", "yahoo.example", "icloud.example",
	"outlook.example", "virgilio.example", "tiscali.example", "alice.example", "fastwebnet.example",
}

var emailDomainWeights = []float64{44, 13, 8, 6, 8, 6, 5, 3, 4, 3}

// Italian mobile prefixes (TIM, Vodafone, WindTre, Iliad, PosteMobile).
var mobilePrefixes = []string{
	"320", "324", "327", "328", "329", "330", "331", "333", "334", "335", "336", "337", "338", "339",
	"340", "342", "345", "346", "347", "348", "349", "351", "352", "366", "368", "371", "377", "380",
	"388", "389", "391", "392", "393",
}

// campaign is a UTM campaign and when it runs (months, 1-12; 0 = always).
type campaign struct {
	name, source, medium string
	months               []int
	yearly               bool // the name carries the year
}

var campaigns = []campaign{
	{"saldi-invernali", "google", "cpc", []int{1, 2}, true},
	{"saldi-invernali", "instagram", "social", []int{1}, true},
	{"primavera-nuova-collezione", "instagram", "social", []int{3, 4}, true},
	{"casa-estate", "pinterest", "social", []int{5, 6}, true},
	{"saldi-estivi", "google", "cpc", []int{7}, true},
	{"saldi-estivi", "facebook", "paid_social", []int{7}, true},
	{"autunno-nuova-collezione", "instagram", "social", []int{9, 10}, true},
	{"black-friday", "facebook", "paid_social", []int{11}, true},
	{"black-friday", "google", "cpc", []int{11}, true},
	{"regali-di-natale", "google", "cpc", []int{12}, true},
	{"regali-di-natale", "instagram", "social", []int{12}, true},
	{"brand", "google", "cpc", nil, false},
	{"cashback", "awin", "affiliate", nil, false},
	{"prodotti-shopping", "google", "shopping", nil, false},
}

// newsletter is the campaign of the weekly e-mail, for subscribers.
var newsletter = campaign{"newsletter-settimanale", "newsletter", "email", nil, false}

var referrers = []string{"https://www.google.com/", "https://www.google.com/", "https://www.google.it/", "https://www.bing.com/", "https://duckduckgo.com/", ""}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
}

const tabletAgent = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

type device struct {
	manufacturer, model, typ, os, osVersion string
}

var devices = []device{
	{"Apple", "iPhone15,2", "ios", "iOS", "17.4"},
	{"Apple", "iPhone14,5", "ios", "iOS", "17.2"},
	{"Apple", "iPhone16,1", "ios", "iOS", "17.5"},
	{"samsung", "SM-S911B", "android", "Android", "14"},
	{"samsung", "SM-A546B", "android", "Android", "14"},
	{"Xiaomi", "2201117TY", "android", "Android", "13"},
	{"Google", "Pixel 7", "android", "Android", "14"},
}

var npsComments = [3][]string{
	{ // detractors (0-6)
		"La consegna è arrivata con una settimana di ritardo e nessuno mi ha avvisato.",
		"Taglia sbagliata rispetto alla guida, il reso è stato complicato.",
		"Il prodotto non corrisponde alle foto.",
		"Assistenza lenta a rispondere, ho dovuto scrivere tre volte.",
		"Rimborso arrivato dopo settimane.",
		"Qualità inferiore alle aspettative per il prezzo.",
		"Pacco arrivato danneggiato.",
	},
	{ // passives (7-8)
		"Tutto bene, ma le spese di spedizione sono alte.",
		"Prodotto carino, consegna nella media.",
		"Buona qualità, il sito potrebbe essere più veloce.",
		"Soddisfatta, anche se la taglia veste un po' piccola.",
		"Ok, niente di speciale.",
	},
	{ // promoters (9-10)
		"Consegna velocissima e confezione curata, complimenti!",
		"Qualità ottima, tornerò sicuramente.",
		"Il personale del negozio è sempre gentilissimo.",
		"Adoro i vostri tessuti, i migliori che abbia provato.",
		"Reso facilissimo e rimborso rapido.",
		"Regalo perfetto, è piaciuto tantissimo.",
	},
}

var csatComments = []string{
	"Risposta rapida e gentile.",
	"Problema risolto, grazie.",
	"Ho dovuto aspettare troppo.",
	"Operatore molto disponibile.",
	"Non mi hanno risolto il problema.",
}

var refundReasons = []string{"taglia errata", "non conforme alla descrizione", "prodotto difettoso", "ripensamento", "arrivato danneggiato"}

var questionSubjects = []string{
	"Informazioni sulle taglie", "Disponibilità di un prodotto", "Modifica dell'indirizzo di consegna",
	"Problema con il codice sconto", "Fattura per l'ordine", "Punti della carta fedeltà",
}
