// Package arch holds tests of the code's shape: every package says what it
// guarantees, imports point one way along the data flow, and nobody hides
// work in init().
package arch

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/bottega-crm/bottega/"

// layer ranks the internal packages: a package may import only packages of a
// lower layer (tests may also import test helpers). New packages must be
// placed here.
var layer = map[string]int{
	"internal/fault":                   0,
	"internal/config":                  0,
	"internal/sqldb":                   1,
	"internal/sqldb/sqldbtest":         2,
	"internal/auth":                    2,
	"internal/schedule":                2,
	"internal/event":                   2,
	"internal/identity":                3,
	"internal/profile":                 3,
	"internal/order":                   3,
	"internal/process":                 4,
	"internal/analytics/clv":           1,
	"internal/analytics/clv/cdnowtest": 1,
	"internal/analytics/days":          1,
	"internal/analytics/kpi":           6,
	"internal/analytics/rfm":           5,
	"internal/analytics/persona":       6,
	"internal/analytics/funnel":        5,
	"internal/analytics/predict":       6,
	"internal/survey":                  5,
	"internal/ticket":                  5,
	"internal/csvimport":               5,
	"internal/demo":                    5,
	"internal/directory":               7,
	"internal/httpapi":                 8,
	"internal/web":                     9,
	"internal/arch":                    10,
	"cmd/bottega":                      11,
	"cmd/bottega-bench":                11,
	"e2e":                              12,

	// Test helpers: the real ingestion and processing path.
	"internal/process/processtest": 5,
}

type pkg struct {
	dir     string
	doc     bool
	imports map[string]bool // internal imports of non-test files
	tests   map[string]bool // internal imports of test files
	inits   []string
}

func load(t *testing.T) map[string]*pkg {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]*pkg{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		p := pkgs[rel]
		if p == nil {
			p = &pkg{dir: rel, imports: map[string]bool{}, tests: map[string]bool{}}
			pkgs[rel] = p
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		test := strings.HasSuffix(path, "_test.go")
		if f.Doc != nil && !test && !strings.HasSuffix(f.Name.Name, "_test") {
			p.doc = true
		}
		for _, im := range f.Imports {
			ip := strings.Trim(im.Path.Value, `"`)
			if !strings.HasPrefix(ip, module) {
				continue
			}
			if test {
				p.tests[strings.TrimPrefix(ip, module)] = true
			} else {
				p.imports[strings.TrimPrefix(ip, module)] = true
			}
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "init" {
				p.inits = append(p.inits, filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestEveryPackageSaysWhatItIs(t *testing.T) {
	for dir, p := range load(t) {
		if dir == "internal/arch" || dir == "e2e" {
			continue
		}
		if !p.doc && hasNonTestFiles(t, dir) {
			t.Errorf("%s has no package doc comment", dir)
		}
	}
}

func hasNonTestFiles(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(filepath.Join("../..", dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			return true
		}
	}
	return false
}

func TestImportsPointOneWay(t *testing.T) {
	for dir, p := range load(t) {
		rank, ok := layer[dir]
		if !ok {
			t.Errorf("package %s is not placed in the layer table of internal/arch", dir)
			continue
		}
		for im := range p.imports {
			if r, ok := layer[im]; !ok || r >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down the data flow", dir, rank, im, r)
			}
		}
		for im := range p.tests {
			// Test helper packages (…test) may be used by any test.
			if r, ok := layer[im]; !ok || r > rank && !strings.HasSuffix(im, "test") {
				t.Errorf("tests of %s (layer %d) import %s (layer %d)", dir, rank, im, r)
			}
		}
	}
}

func TestNoInit(t *testing.T) {
	for dir, p := range load(t) {
		if len(p.inits) > 0 {
			t.Errorf("%s declares init() in %v: wire things explicitly", dir, p.inits)
		}
	}
}
