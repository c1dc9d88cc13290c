package main

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// A rule says what the packages under one part of the tree may import. The
// rules are the README's Architecture table written out, most specific
// first: the first rule whose match accepts a package judges it. pkg and
// imports are that table's "package" and "may import" cells, word for word
// (TestREADMETableIsTheRules holds the two together).
type rule struct {
	pkg     string                          // the packages it judges, as the table names them
	imports string                          // what they may import, as the table says it (Markdown)
	match   func(rel string) bool           // rel: path inside the module, "" for its root
	allow   func(u *universe, imp ref) bool // may a package under this rule import imp?
}

// String is the rule as a violation quotes it.
func (r rule) String() string {
	return strings.ReplaceAll(r.pkg+" may import "+r.imports, "`", "")
}

// ref is one import seen from the checker: exactly one of std, project or
// third-party (then module is its module path, or "" when no module claims it).
type ref struct {
	path    string
	std     bool
	project bool
	rel     string // path inside our module when project
	module  string // module path when third-party
}

// providers are the notify adapters, one per external system; providerSDKs
// names the modules each may use (their own dependencies are added from the
// module graph, see universe.providerModules). outbox talks to nothing.
var providerSDKs = map[string][]string{
	"twilio":   {"github.com/twilio/twilio-go"},
	"sendgrid": {"github.com/sendgrid/sendgrid-go", "github.com/sendgrid/rest"},
	"fcm":      {"firebase.google.com/go/v4", "google.golang.org/api", "golang.org/x/oauth2", "cloud.google.com/go"},
	"outbox":   nil,
}

const (
	mongoDriver = "go.mongodb.org/mongo-driver/v2"
	ferretDB    = "github.com/FerretDB/FerretDB"
	sqlite      = "modernc.org/sqlite"
	asynq       = "github.com/hibiken/asynq"
	fiber       = "github.com/gofiber/fiber/v2"
	// xImage is the Go project's own image extensions: the WebP decoder and
	// the resampling scalers the standard library lacks.
	xImage = "golang.org/x/image"
	// phoneNumbers is libphonenumber's Go port: reading and classifying
	// phone numbers from data compiled into it, nothing outside the process.
	phoneNumbers = "github.com/nyaruka/phonenumbers"
)

var cmdPath = regexp.MustCompile(`^[^/]+/cmd(/|$)`)

// under reports whether rel is dir or inside it.
func under(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// isProviderPkg reports whether rel is a notify adapter or the provider fakes:
// code that holds a provider SDK, which only */cmd/* may wire in.
func isProviderPkg(rel string) bool {
	if under(rel, "notify/providerfake") {
		return true
	}
	for p := range providerSDKs {
		if under(rel, "notify/"+p) {
			return true
		}
	}
	return false
}

// coreContent: content and its sub-packages without the store (which brings
// the MongoDB driver, and FerretDB in embedded).
func coreContent(rel string) bool {
	return under(rel, "content") && !under(rel, "content/mongostore")
}

// coreNotify: notify and its sub-packages without the provider adapters.
func coreNotify(rel string) bool {
	return under(rel, "notify") && !isProviderPkg(rel)
}

func inAny(u *universe, imp ref, modules ...string) bool {
	for _, m := range modules {
		if u.inModule(imp, m) {
			return true
		}
	}
	return false
}

// layered is the usual allow rule: the standard library, the project
// packages own accepts, and the listed third-party modules.
func layered(own func(rel string) bool, modules ...string) func(*universe, ref) bool {
	return func(u *universe, imp ref) bool {
		switch {
		case imp.std:
			return true
		case imp.project:
			return own(imp.rel)
		default:
			return inAny(u, imp, modules...)
		}
	}
}

// providerImports is what every provider adapter may import.
const providerImports = "`notify`, its own SDK's modules (and their dependencies) and the standard library"

func providerRule(name string) rule {
	dir := "notify/" + name
	return rule{
		pkg:     dir,
		imports: providerImports,
		match:   func(rel string) bool { return under(rel, dir) },
		allow: func(u *universe, imp ref) bool {
			switch {
			case imp.std:
				return true
			case imp.project:
				return coreNotify(imp.rel) || under(imp.rel, dir)
			default:
				return inAny(u, imp, u.providerModules[name]...)
			}
		},
	}
}

func rules() []rule {
	rs := []rule{
		{
			pkg:     "*/cmd/*",
			imports: "anything: it is the wiring",
			match:   func(rel string) bool { return cmdPath.MatchString(rel) },
			allow:   func(*universe, ref) bool { return true },
		},
		{
			pkg:     "scripts",
			imports: "anything",
			match:   func(rel string) bool { return under(rel, "scripts") },
			allow:   func(*universe, ref) bool { return true },
		},
		{
			pkg:     "mobile-contract",
			imports: "the standard library only",
			match:   func(rel string) bool { return under(rel, "mobile-contract") },
			allow: func(_ *universe, imp ref) bool {
				return imp.std || (imp.project && under(imp.rel, "mobile-contract"))
			},
		},
		{
			pkg:     "content/mongostore/embedded",
			imports: "FerretDB, `modernc.org/sqlite` and the standard library",
			match:   func(rel string) bool { return under(rel, "content/mongostore/embedded") },
			allow:   layered(func(rel string) bool { return under(rel, "content/mongostore/embedded") }, ferretDB, sqlite),
		},
		{
			pkg:     "content/mongostore/mongotest",
			imports: "`content/mongostore` (`embedded` included), the MongoDB driver and the standard library",
			match:   func(rel string) bool { return under(rel, "content/mongostore/mongotest") },
			allow:   layered(func(rel string) bool { return under(rel, "content/mongostore") }, mongoDriver),
		},
		{
			pkg:     "content/mongostore",
			imports: "`content`, the MongoDB driver and the standard library (not `embedded` or `mongotest`: `*/cmd/*` wires those)",
			match:   func(rel string) bool { return under(rel, "content/mongostore") },
			allow: func(u *universe, imp ref) bool {
				switch {
				case imp.std:
					return true
				case imp.project:
					return under(imp.rel, "content") &&
						!under(imp.rel, "content/mongostore/embedded") &&
						!under(imp.rel, "content/mongostore/mongotest")
				default:
					return inAny(u, imp, mongoDriver)
				}
			},
		},
		{
			// Parents send WebP photos and the standard library cannot decode
			// them, nor scale an image well; x/image is maintained with Go
			// itself and talks to nothing outside the process. The rule is
			// narrow: content/media only, that module only.
			pkg:     "content/media",
			imports: "`content`, `golang.org/x/image` (WebP decoding and thumbnail scaling the standard library lacks) and the standard library",
			match:   func(rel string) bool { return under(rel, "content/media") },
			allow:   layered(func(rel string) bool { return coreContent(rel) }, xImage),
		},
		{
			// Phone numbers are read in one place, the API's sign-in and
			// imports and the worker's mobile check alike.
			pkg:     "content/phone",
			imports: "`content`, `github.com/nyaruka/phonenumbers` (libphonenumber: E.164 and line types) and the standard library",
			match:   func(rel string) bool { return under(rel, "content/phone") },
			allow:   layered(func(rel string) bool { return coreContent(rel) }, phoneNumbers),
		},
		{
			pkg:     "content",
			imports: "the standard library and other `content` packages (never `content/mongostore`)",
			match:   func(rel string) bool { return under(rel, "content") },
			allow: func(_ *universe, imp ref) bool {
				return imp.std || (imp.project && coreContent(imp.rel))
			},
		},
		{
			pkg:     "notify/providerfake",
			imports: "`notify`, every provider's SDK and the standard library",
			match:   func(rel string) bool { return under(rel, "notify/providerfake") },
			allow: func(u *universe, imp ref) bool {
				switch {
				case imp.std:
					return true
				case imp.project:
					return coreNotify(imp.rel) || under(imp.rel, "notify/providerfake")
				default:
					for p := range providerSDKs {
						if inAny(u, imp, u.providerModules[p]...) {
							return true
						}
					}
					return false
				}
			},
		},
	}
	for _, p := range sortedProviders() {
		rs = append(rs, providerRule(p))
	}
	rs = append(rs,
		rule{
			pkg:     "notify",
			imports: "the standard library and other `notify` packages (never a provider adapter)",
			match:   func(rel string) bool { return under(rel, "notify") },
			allow: func(_ *universe, imp ref) bool {
				return imp.std || (imp.project && coreNotify(imp.rel))
			},
		},
		rule{
			pkg:     "worker/tasks",
			imports: "asynq and the standard library",
			match:   func(rel string) bool { return under(rel, "worker/tasks") },
			allow:   layered(func(rel string) bool { return under(rel, "worker/tasks") }, asynq),
		},
		rule{
			pkg:     "worker",
			imports: "`content` (not `content/mongostore`), `notify` (not the adapters), `worker/tasks` and third-party libraries (not libphonenumber: `content/phone` reads numbers); never `api`",
			match:   func(rel string) bool { return under(rel, "worker") },
			allow: func(u *universe, imp ref) bool {
				if !imp.project {
					return !u.inModule(imp, phoneNumbers)
				}
				return coreContent(imp.rel) || coreNotify(imp.rel) ||
					(under(imp.rel, "worker") && !cmdPath.MatchString(imp.rel))
			},
		},
		rule{
			// The staff web app is static files and the handler serving
			// them: it knows nothing of the domain, only HTTP.
			pkg:     "api/web",
			imports: "Fiber and the standard library",
			match:   func(rel string) bool { return under(rel, "api/web") },
			allow:   layered(func(rel string) bool { return under(rel, "api/web") }, fiber),
		},
		rule{
			pkg:     "api",
			imports: "`content` (not `content/mongostore`), `worker/tasks`, `notify` (its types: template names, the template catalog and SMS segment counts, which import previews use; not the adapters) and third-party libraries (not libphonenumber: `content/phone` reads numbers); never `worker`",
			match:   func(rel string) bool { return under(rel, "api") },
			allow: func(u *universe, imp ref) bool {
				if !imp.project {
					return !u.inModule(imp, phoneNumbers)
				}
				return coreContent(imp.rel) || coreNotify(imp.rel) || under(imp.rel, "worker/tasks") ||
					(under(imp.rel, "api") && !cmdPath.MatchString(imp.rel))
			},
		},
	)
	return rs
}

func sortedProviders() []string {
	return slices.Sorted(maps.Keys(providerSDKs))
}
