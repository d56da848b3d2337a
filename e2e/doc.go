// Package e2e holds bottega's end-to-end tests. They build the real binary
// once (TestMain), run it as a subprocess on SQLite and on PostgreSQL, and
// drive it from outside as users do: the real Segment client libraries
// (analytics-go and, when Node.js is installed, @segment/analytics-node),
// a loaded client that retries while the server is killed with SIGKILL,
// storage outages, a SIGTERM drain, and a table of bad inputs. Results are
// checked through the JSON API and directly in the database.
//
// Run them with
//
//	BOTTEGA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./e2e/ -v
//
// and, for the Node.js client, run npm ci in e2e/testdata/segment-node first.
// The package has no code outside its tests.
package e2e
