package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestREADMETableIsTheRules: the README's Architecture table and rules()
// say the same thing. Every rule has a row whose package and "may import"
// cells are the rule's pkg and imports, every row is a rule, and the row's
// package is judged by that very rule (not an earlier, broader one).
func TestREADMETableIsTheRules(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	table, err := architectureTable(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	rs := rules()
	seen := map[string]bool{}
	for i, r := range rs {
		seen[r.pkg] = true
		got, ok := table[r.pkg]
		if !ok {
			t.Errorf("README's Architecture table has no row for %s (rule: %s)", r.pkg, r)
			continue
		}
		if got != r.imports {
			t.Errorf("README says %s may import\n\t%s\nbut rules.go says\n\t%s", r.pkg, got, r.imports)
		}
		// A package the row names, as rules() will see it.
		rel := strings.ReplaceAll(r.pkg, "*", "x")
		if first := slices.IndexFunc(rs, func(r rule) bool { return r.match(rel) }); first != i {
			t.Errorf("row %s: package %s is judged by rule %d, not by its own rule %d", r.pkg, rel, first, i)
		}
	}
	for pkg := range table {
		if !seen[pkg] {
			t.Errorf("README's Architecture table has a row for %s, which no rule in rules.go judges", pkg)
		}
	}
}

// architectureTable reads the "| package | owns | may import |" table of
// the README's Architecture section: package → may import. A package cell
// may name several packages, as in `notify/{fcm,twilio}`.
func architectureTable(readme string) (map[string]string, error) {
	_, section, ok := strings.Cut(readme, "\n## Architecture\n")
	if !ok {
		return nil, fmt.Errorf("README.md has no ## Architecture section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	out := map[string]string{}
	header := false
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			if header && len(out) > 0 {
				break // the end of the table
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case !header:
			if !slices.Equal(cells, []string{"package", "owns", "may import"}) {
				return nil, fmt.Errorf("the Architecture table's header is %q, want package | owns | may import", cells)
			}
			header = true
			continue
		case strings.HasPrefix(cells[0], "---"):
			continue
		case len(cells) != 3:
			return nil, fmt.Errorf("row %q has %d cells, want 3", line, len(cells))
		}
		name := strings.Trim(cells[0], "`")
		for _, pkg := range expandBraces(name) {
			if _, dup := out[pkg]; dup {
				return nil, fmt.Errorf("two rows for %s", pkg)
			}
			out[pkg] = cells[2]
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the Architecture section has no package table")
	}
	return out, nil
}

// expandBraces turns "notify/{a,b}" into notify/a and notify/b.
func expandBraces(s string) []string {
	open, end := strings.Index(s, "{"), strings.Index(s, "}")
	if open < 0 || end < open {
		return []string{s}
	}
	var out []string
	for alt := range strings.SplitSeq(s[open+1:end], ",") {
		out = append(out, s[:open]+alt+s[end+1:])
	}
	return out
}
