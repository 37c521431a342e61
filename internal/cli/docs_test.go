package cli

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// TestOperationsDoc: docs/operations.md names every flag of every binary.
func TestOperationsDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	apps := map[string]func(*App){
		"logic": func(a *App) { a.Logic("") },
		"comet": func(a *App) { a.Comet("", true) },
		"job":   func(a *App) { a.Job("", true) },
		"goim":  func(a *App) { a.linksFlag() }, // the tiers' flags are above, prefixed
	}
	for name, register := range apps {
		app := NewApp(name, "")
		register(app)
		app.fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(doc, "`-"+f.Name+"`") {
				t.Errorf("docs/operations.md does not document %s's -%s", name, f.Name)
			}
		})
	}
}
