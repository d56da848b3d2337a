package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryMessageExists checks that every message key the templates and
// the Go code name exists (loadCatalog already checks that every key exists
// in every language).
func TestEveryMessageExists(t *testing.T) {
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	inTemplates := regexp.MustCompile(`\.T "([a-z0-9_.\-]+)"`)
	inGo := regexp.MustCompile(`\.T\("([a-z0-9_.\-]+)"\s*[,)]`)
	check := func(name string, text []byte, re *regexp.Regexp) {
		for _, m := range re.FindAllSubmatch(text, -1) {
			if _, ok := cat["en"][string(m[1])]; !ok {
				t.Errorf("%s uses message %q, which no locale file defines", name, m[1])
			}
		}
	}
	err = fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFiles.ReadFile(path)
		check(path, b, inTemplates)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(f, b, inGo)
	}
}
