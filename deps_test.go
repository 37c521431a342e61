// Package goim_test holds repository-wide checks.
package goim_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/goimx/goim"

// allowed lists, for each package of the module, the packages of the
// module it may import. Packages not listed (cmd/..., bench) may import
// anything. No tier imports server: server wires the tiers, the tiers
// never wire themselves; internal/cli fills server's config types and
// reaches the tiers' packages only for their config types and defaults. Test files are checked too, except where testOK says otherwise.
var allowed = map[string][]string{
	"protocol":       nil,
	"bufio":          nil,
	"timer":          nil,
	"websocket":      nil,
	"rpc":            nil,
	"comet/cometrpc": {"rpc"},
	"logic/logicrpc": {"rpc"},
	"job/jobrpc":     {"rpc"},
	"client":         {"protocol", "bufio", "websocket"},
	"comet":          {"protocol", "bufio", "timer", "websocket", "rpc", "comet/cometrpc", "logic/logicrpc", "metrics"},
	"logic":          {"rpc", "logic/logicrpc", "job/jobrpc", "comet/cometrpc", "internal/http1"},
	"job":            {"protocol", "rpc", "job/jobrpc", "comet/cometrpc", "logic/logicrpc", "metrics"},
	"metrics":        nil,
	"server":         {"rpc", "comet", "logic", "job", "comet/cometrpc", "logic/logicrpc", "job/jobrpc", "metrics"},
	"internal/cli":   {"protocol", "rpc", "comet", "logic", "job", "server", "comet/cometrpc", "internal/demo"},
	"client/js":      nil,
	"internal/demo":  {"client/js"},

	"internal/http1":   {"internal/rawsock"},
	"internal/rawsock": nil,

	"internal/leaktest": nil,
	"internal/testcert": nil,
	"internal/testwait": nil,
}

// testOK lists extra packages test files may import (tests of a tier may
// use the client library and other tiers' fakes).
var testOK = map[string][]string{
	"protocol":     {"bufio"},
	"comet":        {"client"},
	"logic":        {"client"},
	"job":          {"client"},
	"rpc":          {"rpc"},
	"server":       {"client"},
	"internal/cli": {"client", "metrics"},
}

// testHelpers lists the shared test-helper packages: test files of every
// package may import them, and no other file may.
var testHelpers = []string{"internal/leaktest", "internal/testcert", "internal/testwait"}

// external lists the modules outside the standard library that non-test
// code may import.
var external = []string{"golang.org/x/net", "github.com/google/go-cmp", "github.com/cespare/xxhash/v2"}

// externalFor lists, for a package of the module, the modules outside the
// standard library its non-test code may import besides external.
var externalFor = map[string][]string{
	"logic":   {"github.com/redis/go-redis/v9"},       // the shared store of a logic cluster
	"metrics": {"github.com/VictoriaMetrics/metrics"}, // Go runtime and process metrics
}

// ownerOf maps a directory (relative, slash-separated) to the entry of
// allowed that governs it: the longest listed prefix.
func ownerOf(dir string) (string, bool) {
	best := ""
	for p := range allowed {
		if (dir == p || strings.HasPrefix(dir, p+"/")) && len(p) > len(best) {
			best = p
		}
	}
	return best, best != ""
}

func TestDependencies(t *testing.T) {
	forEachGoFile(t, func(p string, imports []string) {
		dir := filepath.ToSlash(filepath.Dir(p))
		owner, ok := ownerOf(dir)
		if !ok {
			return
		}
		isTest := strings.HasSuffix(p, "_test.go")
		for _, ip := range imports {
			if msg := checkImport(owner, dir, ip, isTest); msg != "" {
				t.Errorf("%s: %s", p, msg)
			}
		}
	})
}

// forEachGoFile calls fn with the path and the import paths of every .go
// file of the module, skipping testdata and hidden directories. It fails
// the test if the walk or a parse fails.
func forEachGoFile(t *testing.T, fn func(p string, imports []string)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || (strings.HasPrefix(name, ".") && p != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		imports := make([]string, 0, len(f.Imports))
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			imports = append(imports, ip)
		}
		fn(p, imports)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkImport(owner, dir, ip string, isTest bool) string {
	if rel, ok := strings.CutPrefix(ip, module+"/"); ok {
		if rel == dir || strings.HasPrefix(rel, owner+"/") && strings.HasPrefix(dir, owner) && !isContract(rel) {
			return "" // itself or its own sub-packages
		}
		for _, a := range allowed[owner] {
			if rel == a {
				return ""
			}
		}
		if isTest {
			for _, a := range slices.Concat(testOK[owner], testHelpers) {
				if rel == a || strings.HasPrefix(rel, a+"/") {
					return ""
				}
			}
		}
		return "imports " + rel + ", not allowed for " + owner
	}
	first := strings.Split(ip, "/")[0]
	if !strings.Contains(first, ".") {
		return "" // standard library
	}
	if isTest {
		return ""
	}
	for _, e := range slices.Concat(external, externalFor[owner]) {
		if ip == e || strings.HasPrefix(ip, e+"/") {
			return ""
		}
	}
	return "imports " + ip + ", not an allowed dependency"
}

// isContract reports whether rel is another tier's contract package.
func isContract(rel string) bool {
	return path.Base(rel) == "cometrpc" || path.Base(rel) == "logicrpc" || path.Base(rel) == "jobrpc"
}

// TestTestHelpersOnlyInTests checks that no file other than a test file
// imports a shared test-helper package, in any package of the module.
func TestTestHelpersOnlyInTests(t *testing.T) {
	forEachGoFile(t, func(p string, imports []string) {
		if strings.HasSuffix(p, "_test.go") {
			return
		}
		for _, ip := range imports {
			if rel, ok := strings.CutPrefix(ip, module+"/"); ok && slices.Contains(testHelpers, rel) {
				t.Errorf("%s: imports %s, which only test files may import", p, rel)
			}
		}
	})
}

// TestNoDoubleBufio checks that no file imports both our bufio and the
// standard library's.
func TestNoDoubleBufio(t *testing.T) {
	forEachGoFile(t, func(p string, imports []string) {
		if slices.Contains(imports, "bufio") && slices.Contains(imports, module+"/bufio") {
			t.Errorf("%s imports both bufio packages", p)
		}
	})
}
