package main

import (
	"slices"
	"strings"
)

// universe is what the checker knows about the world outside one package:
// our module's path, the standard library, and the third-party modules.
type universe struct {
	module  string
	std     map[string]bool
	modules []string // known module paths, longest first

	// providerModules: for each notify provider, its SDK modules plus every
	// module they depend on (so a helper such as google.golang.org/api for
	// fcm is allowed without being listed).
	providerModules map[string][]string
}

// newUniverse builds the universe from `go list std` and `go mod graph`
// output (graph may be empty).
func newUniverse(module string, std map[string]bool, graph string) *universe {
	deps := map[string]map[string]bool{} // module path → paths it requires, any version
	seen := map[string]bool{}
	for _, line := range strings.Split(graph, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		from, to := modPath(f[0]), modPath(f[1])
		if to == "go" || to == "toolchain" {
			continue
		}
		seen[from], seen[to] = true, true
		if deps[from] == nil {
			deps[from] = map[string]bool{}
		}
		deps[from][to] = true
	}
	u := &universe{module: module, std: std, providerModules: map[string][]string{}}
	for m := range seen {
		if m != module {
			u.modules = append(u.modules, m)
		}
	}
	// Longest first, so the innermost nested module wins
	// (cloud.google.com/go/storage before cloud.google.com/go).
	slices.SortFunc(u.modules, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for p, sdks := range providerSDKs {
		reach := map[string]bool{}
		stack := slices.Clone(sdks)
		for len(stack) > 0 {
			m := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if reach[m] || m == module {
				continue
			}
			reach[m] = true
			for d := range deps[m] {
				stack = append(stack, d)
			}
		}
		for m := range reach {
			u.providerModules[p] = append(u.providerModules[p], m)
		}
		slices.Sort(u.providerModules[p])
	}
	return u
}

// modPath strips the @version from a `go mod graph` node.
func modPath(node string) string {
	path, _, _ := strings.Cut(node, "@")
	return path
}

// rel returns path inside our module ("" for the module root).
func (u *universe) rel(path string) (string, bool) {
	if path == u.module {
		return "", true
	}
	if r, ok := strings.CutPrefix(path, u.module+"/"); ok {
		return r, true
	}
	return "", false
}

// show prints our packages by their path inside the module, others in full.
func (u *universe) show(path string) string {
	if r, ok := u.rel(path); ok {
		if r == "" {
			return "(module root)"
		}
		return r
	}
	return path
}

func (u *universe) ref(path string) ref {
	if r, ok := u.rel(path); ok {
		return ref{path: path, project: true, rel: r}
	}
	if u.std[path] {
		return ref{path: path, std: true}
	}
	for _, m := range u.modules {
		if under(path, m) {
			return ref{path: path, module: m}
		}
	}
	return ref{path: path} // a module we do not know (yet): judged by path prefix
}

// inModule reports whether imp belongs to module m: by the module graph when
// it knows imp's module, else by path prefix.
func (u *universe) inModule(imp ref, m string) bool {
	if imp.module != "" {
		return imp.module == m
	}
	return under(imp.path, m)
}
