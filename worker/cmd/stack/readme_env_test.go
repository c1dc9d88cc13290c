package stack

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// envName is what an environment variable of ours looks like in the code.
var envName = regexp.MustCompile(`^(HOMETIME|MONGODB|REDIS|SENDGRID)_[A-Z0-9_]+$`)

// TestREADMENamesEveryVariable: every environment variable the code reads
// is in the README's Configuration section. The names come from two places:
// what LoadConfig and TuneGC ask their getenv for (with production on, so
// its checks run too), and every string constant shaped like one of our
// variables in the module's non-test Go files. The benchmarks under scripts/
// are left out: their HOMETIME_BENCH_* variables are set by a benchmark for
// the child processes it starts, never by a person.
func TestREADMENamesEveryVariable(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := readmeSection(string(readme), "## Configuration")
	if section == "" {
		t.Fatal("README.md has no ## Configuration section")
	}

	var mu sync.Mutex
	read := map[string]bool{}
	getenv := func(k string) string {
		mu.Lock()
		read[k] = true
		mu.Unlock()
		if k == "HOMETIME_ENV" {
			return EnvProduction
		}
		return ""
	}
	_, _ = LoadConfig(getenv) // production without its settings fails; the reads are what count
	tuneReads(getenv)
	if len(read) < 30 {
		t.Fatalf("LoadConfig read %d variables; the recorder is not seeing its reads", len(read))
	}

	literals, err := envLiterals(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range literals {
		read[k] = true
	}
	var missing []string
	for k := range read {
		if !strings.Contains(section, "`"+k+"`") {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("the code reads %q, which README.md's Configuration section does not name (add a row with its default)", missing)
	}
}

// tuneReads records what TuneGC reads without changing this process's GC:
// an answer for each variable makes it leave the settings alone.
func tuneReads(getenv func(string) string) {
	TuneGC(func(k string) string {
		getenv(k)
		return "set"
	})
}

// readmeSection returns the text from heading to the next heading of the
// same level.
func readmeSection(doc, heading string) string {
	_, rest, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		return ""
	}
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// envLiterals returns, sorted and once each, every string literal shaped
// like one of our variables in the non-test Go files of the module, outside
// scripts/ (and testdata).
func envLiterals(root string) ([]string, error) {
	seen := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", ".hometime":
				return filepath.SkipDir
			}
			if path == filepath.Join(root, "scripts") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(s) {
				seen[s] = true
			}
			return true
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}
