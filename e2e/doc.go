// Package e2e holds bottega's end-to-end tests. They build the real binary
// once (TestMain), run it as a subprocess on SQLite and on PostgreSQL, and
// drive it from outside as users do: the real Segment client libraries
// (analytics-go and, when Node.js is installed, @segment/analytics-node),
// a loaded client that retries while the server is killed with SIGKILL,
// storage outages, a SIGTERM drain, and a table of bad inputs. Results are
// checked through the JSON API and directly in the database. TestBrowser
// drives the dashboard of a demo shop in headless Chromium (chromedp):
// sign-in, KPIs against the API, drill-downs, undoing a merge, write keys,
// Italian, masking for analysts, hostile customer data that must not run,
// sign-out and the phone layout.
//
// Run them with
//
//	BOTTEGA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./e2e/ -v
//
// and, for the Node.js client, run npm ci in e2e/testdata/segment-node first.
// The browser tests need Debian's chromium (/usr/bin/chromium), chromium on
// PATH, or BOTTEGA_CHROMIUM naming another Chromium or Chrome binary:
//
//	go test ./e2e -run TestBrowser -v
//
// The package has no code outside its tests.
package e2e
