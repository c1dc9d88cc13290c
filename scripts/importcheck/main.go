// Command importcheck enforces the README's Architecture table: which
// Hometime packages may import which. It reads the module's packages with `go list`
// (non-test files only: test-only imports such as test fakes are free) and
// prints one line per forbidden import. Exit status: 0 clean, 1 violations,
// 2 the check itself could not run.
//
// Run it through scripts/check-imports from anywhere in the repository.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

func main() {
	n, err := run(os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "importcheck: %v\n", err)
		os.Exit(2)
	}
	if n > 0 {
		os.Exit(1)
	}
}

// pkg is what the checker needs of one `go list` package.
type pkg struct {
	ImportPath string
	Imports    []string
}

type violation struct {
	pkg, imp, rule string
}

func (v violation) String() string {
	return fmt.Sprintf("%s imports forbidden %s (rule: %s)", v.pkg, v.imp, v.rule)
}

// run loads the module and checks it, returning the number of violations.
func run(stdout, stderr io.Writer) (int, error) {
	module, err := goOut("list", "-m")
	if err != nil {
		return 0, err
	}
	module = strings.TrimSpace(module)

	listed, err := goOut("list", "-e", "-json=ImportPath,Imports", "./...")
	if err != nil {
		return 0, err
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(listed))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, fmt.Errorf("decode go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}

	stdList, err := goOut("list", "std")
	if err != nil {
		return 0, err
	}
	std := map[string]bool{}
	for _, line := range strings.Fields(stdList) {
		std[line] = true
	}

	// The module graph tells which module owns a third-party import and
	// what each provider SDK depends on. Without it (no module cache, no
	// network) the check still runs, matching SDKs by path prefix only.
	graph, err := goOut("mod", "graph")
	if err != nil {
		fmt.Fprintf(stderr, "importcheck: warning: no module graph (%v); provider SDK dependencies are not recognised\n", err)
		graph = ""
	}

	u := newUniverse(module, std, graph)
	vs := check(u, pkgs)
	for _, v := range vs {
		fmt.Fprintln(stdout, v)
	}
	fmt.Fprintf(stdout, "import rules: %d packages checked, %d violations\n", len(pkgs), len(vs))
	return len(vs), nil
}

// check judges every import of every package against the first rule that
// matches the package. A package that no rule matches lies outside the
// fixed top-level folders, and is reported once.
func check(u *universe, pkgs []pkg) []violation {
	rs := rules()
	var vs []violation
	for _, p := range pkgs {
		rel, ok := u.rel(p.ImportPath)
		if !ok {
			continue // not ours (cannot happen for ./...)
		}
		i := slices.IndexFunc(rs, func(r rule) bool { return r.match(rel) })
		if i < 0 {
			vs = append(vs, violation{
				pkg:  u.show(p.ImportPath),
				imp:  "anything",
				rule: "top-level folders are fixed: api, worker, notify, content, mobile-contract, scripts",
			})
			continue
		}
		for _, imp := range p.Imports {
			if imp == p.ImportPath {
				continue
			}
			if !rs[i].allow(u, u.ref(imp)) {
				vs = append(vs, violation{pkg: u.show(p.ImportPath), imp: u.show(imp), rule: rs[i].String()})
			}
		}
	}
	return vs
}

// goOut runs the go command and returns its standard output.
func goOut(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, firstLines(stderr.String(), 20))
	}
	return stdout.String(), nil
}

func firstLines(s string, n int) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for i := 0; i < n && sc.Scan(); i++ {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}
