package csvimport

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs/import.md lists every field with exactly the aliases the code knows,
// and every order status the code reads.
func TestDocsInStep(t *testing.T) {
	b, err := os.ReadFile("../../docs/import.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	section := func(heading string) string {
		i := strings.Index(doc, "\n## "+heading+"\n")
		if i < 0 {
			t.Fatalf("docs/import.md has no section %q", heading)
		}
		rest := doc[i+1:]
		if j := strings.Index(rest[3:], "\n## "); j >= 0 {
			rest = rest[:j+3]
		}
		return rest
	}
	ticked := regexp.MustCompile("`([^`]+)`")
	for kind, heading := range map[Kind]string{Customers: "Customer files", Orders: "Order files"} {
		text := section(heading)
		for _, a := range aliases[kind] {
			prefix := "| `" + string(a.f) + "` | "
			i := strings.Index(text, "\n"+prefix)
			if i < 0 {
				t.Errorf("%s: no row for field %s", heading, a.f)
				continue
			}
			row := text[i+1+len(prefix):]
			row = row[:strings.Index(row, " | ")]
			var documented []string
			for _, m := range ticked.FindAllStringSubmatch(row, -1) {
				documented = append(documented, m[1])
			}
			want := slices.Clone(a.names)
			slices.Sort(want)
			slices.Sort(documented)
			if !slices.Equal(want, documented) {
				t.Errorf("%s: field %s documents aliases %v; the code has %v", heading, a.f, documented, want)
			}
		}
	}
	statusRows := section("Order files")
	for name, st := range statuses {
		if name == "" {
			continue
		}
		class := []string{"| `Order Completed` |", "`Order Updated`", "`Order Cancelled` (", "`Order Refunded` ("}[st]
		found := false
		for _, line := range strings.Split(statusRows, "\n") {
			if !strings.HasPrefix(line, "| ") || !strings.Contains(line, class) {
				continue
			}
			for _, m := range ticked.FindAllStringSubmatch(line[:strings.Index(line, " | ")], -1) {
				if normalizeName(m[1]) == name {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("status %q is not documented in its row", name)
		}
	}
}
