package main

import (
	"strings"
	"testing"
)

const mod = "github.com/hometime-edu/hometime"

// testUniverse is a small, made-up world: a few standard packages and a
// module graph in which firebase depends on google.golang.org/api and
// sendgrid-go has no go.mod (as upstream).
func testUniverse() *universe {
	std := map[string]bool{}
	for _, p := range []string{"context", "fmt", "net/http", "testing", "time"} {
		std[p] = true
	}
	graph := strings.Join([]string{
		mod + " github.com/twilio/twilio-go@v1.31.0",
		mod + " firebase.google.com/go/v4@v4.19.0",
		mod + " go.mongodb.org/mongo-driver/v2@v2.9.3",
		mod + " github.com/hibiken/asynq@v0.26.0",
		mod + " github.com/redis/go-redis/v9@v9.23.0",
		mod + " github.com/FerretDB/FerretDB@v1.24.0",
		mod + " github.com/sendgrid/sendgrid-go@v3.16.1+incompatible",
		mod + " github.com/sendgrid/rest@v2.6.9+incompatible",
		mod + " github.com/gofiber/fiber/v2@v2.52.15",
		mod + " golang.org/x/image@v0.47.0",
		mod + " github.com/nyaruka/phonenumbers@v1.8.1",
		"github.com/nyaruka/phonenumbers@v1.8.1 google.golang.org/protobuf@v1.36.0",
		"golang.org/x/image@v0.47.0 golang.org/x/text@v0.43.0",
		"firebase.google.com/go/v4@v4.19.0 google.golang.org/api@v0.231.0",
		"google.golang.org/api@v0.231.0 golang.org/x/oauth2@v0.37.0",
		"github.com/hibiken/asynq@v0.26.0 github.com/redis/go-redis/v9@v9.23.0",
		"github.com/twilio/twilio-go@v1.31.0 github.com/golang/mock@v1.6.0",
	}, "\n")
	return newUniverse(mod, std, graph)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		pkg     string // inside the module
		imports []string
		bad     []string // forbidden imports expected, as printed
	}{
		// The edges the table forbids.
		{"api never imports worker", "api", []string{mod + "/worker", mod + "/worker/tasks"}, []string{"worker"}},
		{"content imports no database driver", "content", []string{"context", "go.mongodb.org/mongo-driver/v2/bson"}, []string{"go.mongodb.org/mongo-driver/v2/bson"}},
		{"notify imports no provider adapter", "notify", []string{mod + "/notify/twilio", "time"}, []string{"notify/twilio"}},
		{"notify imports no provider SDK", "notify", []string{"github.com/twilio/twilio-go/client"}, []string{"github.com/twilio/twilio-go/client"}},
		{"worker never imports api", "worker", []string{mod + "/api", mod + "/content", mod + "/notify"}, []string{"api"}},
		{"worker leaves adapters to cmd", "worker/sends", []string{mod + "/notify/sendgrid", mod + "/content/mongostore"}, []string{"notify/sendgrid", "content/mongostore"}},
		{"api leaves stores and adapters to cmd", "api", []string{mod + "/content/mongostore", mod + "/notify/fcm", mod + "/notify/providerfake"}, []string{"content/mongostore", "notify/fcm", "notify/providerfake"}},
		{"api imports no cmd", "api", []string{mod + "/worker/cmd/stack"}, []string{"worker/cmd/stack"}},
		{"content sub-package imports no store", "content/media", []string{mod + "/content/mongostore", mod + "/content"}, []string{"content/mongostore"}},
		{"only content/media gets x/image", "content/activities", []string{mod + "/content", "golang.org/x/image/webp"}, []string{"golang.org/x/image/webp"}},
		{"content/media gets x/image and nothing else third-party", "content/media", []string{"golang.org/x/image/webp", "golang.org/x/text/language", "golang.org/x/net/html", mod + "/notify"}, []string{"golang.org/x/text/language", "golang.org/x/net/html", "notify"}},
		{"the API reads numbers through content/phone", "api", []string{"github.com/nyaruka/phonenumbers", mod + "/content/phone"}, []string{"github.com/nyaruka/phonenumbers"}},
		{"the worker reads numbers through content/phone", "worker", []string{"github.com/nyaruka/phonenumbers", mod + "/content/phone"}, []string{"github.com/nyaruka/phonenumbers"}},
		{"content/phone gets libphonenumber and nothing else third-party", "content/phone", []string{"github.com/nyaruka/phonenumbers", "google.golang.org/protobuf/proto", "golang.org/x/image/webp", mod + "/notify"}, []string{"google.golang.org/protobuf/proto", "golang.org/x/image/webp", "notify"}},
		{"content imports nothing else of the project", "content", []string{mod + "/notify", mod + "/worker/tasks"}, []string{"notify", "worker/tasks"}},
		{"mongostore does not bring FerretDB", "content/mongostore", []string{"github.com/FerretDB/FerretDB/ferretdb", mod + "/content/mongostore/embedded"}, []string{"github.com/FerretDB/FerretDB/ferretdb", "content/mongostore/embedded"}},
		{"embedded does not speak through the driver", "content/mongostore/embedded", []string{mod + "/content", "go.mongodb.org/mongo-driver/v2/mongo"}, []string{"content", "go.mongodb.org/mongo-driver/v2/mongo"}},
		{"worker/tasks is asynq only", "worker/tasks", []string{"github.com/hibiken/asynq", "github.com/redis/go-redis/v9", mod + "/content"}, []string{"github.com/redis/go-redis/v9", "content"}},
		{"one adapter, one SDK", "notify/sendgrid", []string{"github.com/twilio/twilio-go/client", mod + "/notify/twilio"}, []string{"github.com/twilio/twilio-go/client", "notify/twilio"}},
		{"adapters import no domain", "notify/twilio", []string{mod + "/content"}, []string{"content"}},
		{"providerfake is no adapter", "notify/providerfake", []string{mod + "/notify/twilio"}, []string{"notify/twilio"}},
		{"mobile-contract is stdlib only", "mobile-contract", []string{"github.com/getkin/kin-openapi/openapi3"}, []string{"github.com/getkin/kin-openapi/openapi3"}},
		{"no new top-level folders", "internal/x", []string{"fmt"}, []string{"anything"}},
		{"the web app knows only HTTP", "api/web", []string{mod + "/api", mod + "/content", "github.com/hibiken/asynq", "net/http"}, []string{"api", "content", "github.com/hibiken/asynq"}},

		// The edges it allows.
		{"api: content, tasks, notify, third-party", "api", []string{"context", mod + "/content", mod + "/worker/tasks", mod + "/notify", "github.com/gofiber/fiber/v2", "github.com/hibiken/asynq"}, nil},
		{"api sub-package", "api/dto", []string{mod + "/api", mod + "/content"}, nil},
		{"api/web: Fiber and the standard library", "api/web", []string{"net/http", "fmt", "github.com/gofiber/fiber/v2"}, nil},
		{"api imports api/web", "api", []string{mod + "/api/web"}, nil},
		{"worker: content, notify, tasks, asynq", "worker", []string{mod + "/content", mod + "/notify", mod + "/worker/tasks", "github.com/hibiken/asynq", "github.com/redis/go-redis/v9"}, nil},
		{"worker sub-package", "worker/retention", []string{mod + "/worker", mod + "/worker/tasks"}, nil},
		{"cmd wires everything", "api/cmd/api", []string{mod + "/worker/cmd/stack", mod + "/api", mod + "/worker", mod + "/content/mongostore/embedded", mod + "/notify/twilio"}, nil},
		{"nested cmd", "worker/cmd/stack", []string{mod + "/api", mod + "/worker", mod + "/notify/outbox", "github.com/alicebob/miniredis/v2"}, nil},
		{"content: stdlib and content", "content/library", []string{"fmt", mod + "/content"}, nil},
		{"content/media: x/image for WebP and thumbnails", "content/media", []string{"fmt", mod + "/content", "golang.org/x/image/webp", "golang.org/x/image/draw"}, nil},
		{"content/phone: libphonenumber", "content/phone", []string{"fmt", mod + "/content", "github.com/nyaruka/phonenumbers"}, nil},
		{"content may import a package that does not exist yet", "content", []string{mod + "/content/policy"}, nil},
		{"mongostore: content and driver", "content/mongostore", []string{mod + "/content", "go.mongodb.org/mongo-driver/v2/mongo", "go.mongodb.org/mongo-driver/v2/bson", "time"}, nil},
		{"embedded: FerretDB and sqlite", "content/mongostore/embedded", []string{"github.com/FerretDB/FerretDB/ferretdb", "modernc.org/sqlite", "context"}, nil},
		{"mongotest: the stores and the driver", "content/mongostore/mongotest", []string{mod + "/content/mongostore", mod + "/content/mongostore/embedded", "go.mongodb.org/mongo-driver/v2/mongo", "testing"}, nil},
		{"twilio adapter: notify and twilio-go", "notify/twilio", []string{mod + "/notify", "github.com/twilio/twilio-go/client", "github.com/twilio/twilio-go/rest/api/v2010", "net/http"}, nil},
		{"sendgrid adapter: sendgrid-go and rest (no go.mod upstream)", "notify/sendgrid", []string{mod + "/notify", "github.com/sendgrid/sendgrid-go", "github.com/sendgrid/sendgrid-go/helpers/mail", "github.com/sendgrid/rest"}, nil},
		{"fcm adapter: firebase and its dependencies", "notify/fcm", []string{mod + "/notify", "firebase.google.com/go/v4/messaging", "google.golang.org/api/option", "golang.org/x/oauth2"}, nil},
		{"outbox: notify and stdlib", "notify/outbox", []string{mod + "/notify", "fmt"}, nil},
		{"providerfake: notify and every SDK", "notify/providerfake", []string{mod + "/notify", "github.com/twilio/twilio-go/client", "google.golang.org/api/option", "net/http"}, nil},
		{"worker/tasks: asynq", "worker/tasks", []string{"github.com/hibiken/asynq", "fmt"}, nil},
		{"scripts: anything", "scripts/benchkit", []string{"go.mongodb.org/mongo-driver/v2/mongo", mod + "/api"}, nil},
		{"mobile-contract: stdlib", "mobile-contract", []string{"fmt"}, nil},
	}
	u := testUniverse()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := check(u, []pkg{{ImportPath: mod + "/" + tt.pkg, Imports: tt.imports}})
			var got []string
			for _, v := range vs {
				if v.pkg != tt.pkg {
					t.Errorf("violation names package %q, want %q", v.pkg, tt.pkg)
				}
				if !strings.HasPrefix(v.String(), tt.pkg+" imports forbidden "+v.imp+" (rule: ") {
					t.Errorf("badly formatted violation %q", v)
				}
				got = append(got, v.imp)
			}
			if strings.Join(got, ",") != strings.Join(tt.bad, ",") {
				t.Errorf("forbidden imports: got %q, want %q\n%v", got, tt.bad, vs)
			}
		})
	}
}

// Without a module graph (no module cache) the SDKs are still matched by
// path, and nothing is wrongly allowed.
func TestCheckWithoutModuleGraph(t *testing.T) {
	u := newUniverse(mod, map[string]bool{"fmt": true}, "")
	vs := check(u, []pkg{
		{ImportPath: mod + "/notify/sendgrid", Imports: []string{"github.com/sendgrid/rest", "fmt"}},
		{ImportPath: mod + "/notify/fcm", Imports: []string{"google.golang.org/api/option"}},
		{ImportPath: mod + "/content", Imports: []string{"go.mongodb.org/mongo-driver/v2/bson"}},
	})
	if len(vs) != 1 || vs[0].pkg != "content" {
		t.Fatalf("got %v, want only content's driver import", vs)
	}
}

// A nested module is told apart from its parent: the v1 driver is not v2.
func TestModuleOfImport(t *testing.T) {
	u := newUniverse(mod, nil, mod+" go.mongodb.org/mongo-driver@v1.16.0\n"+mod+" go.mongodb.org/mongo-driver/v2@v2.9.3\n")
	vs := check(u, []pkg{{ImportPath: mod + "/content/mongostore", Imports: []string{"go.mongodb.org/mongo-driver/bson", "go.mongodb.org/mongo-driver/v2/bson"}}})
	if len(vs) != 1 || vs[0].imp != "go.mongodb.org/mongo-driver/bson" {
		t.Fatalf("got %v, want only the v1 driver reported", vs)
	}
}
