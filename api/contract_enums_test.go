package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// codeEnum is one closed set of values in the code (a Go string type's
// constants, through the exported list that names them all) and the
// contract schemas that carry it.
type codeEnum struct {
	name    string   // as a reader finds it: "content.BroadcastState"
	dir     string   // the declaring package, from the module root; "" when the set is no type's constants
	typ     string   // the Go type whose constants the list must hold
	group   string   // or, for untyped constants: one of them, whose const block the list must hold
	values  []string // the exported list
	schemas []string // "Schema.property[.property]" in components/schemas
	// notAnswered are values the code has that no answer carries, each
	// with the reason; they must then be absent from the contract.
	notAnswered map[string]string
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func codeEnums() []codeEnum {
	return []codeEnum{
		{name: "content.Code", dir: "content", typ: "Code", values: strs(content.Codes),
			schemas: []string{"Error.error.code"}},
		{name: "notify.Template", dir: "notify", typ: "Template", values: append(strs(notify.Templates()), string(notify.TemplateAnnouncement)),
			schemas: []string{"Template", "Broadcast.template", "MessageLogItem.template"}},
		{name: "content.AnnouncementState", dir: "content", typ: "AnnouncementState", values: strs(content.AnnouncementStates),
			schemas: []string{"Announcement.state"}},
		{name: "the templates a broadcast request may name (api broadcastTemplates)",
			values: slices.Sorted(maps.Keys(broadcastTemplates)), schemas: []string{"BroadcastTemplate", "NewBroadcast.template"}},
		{name: "content.BroadcastState", dir: "content", typ: "BroadcastState", values: strs(content.BroadcastStates),
			schemas: []string{"Broadcast.state", "MessageLogItem.state"}},
		{name: "content.MessageState", dir: "content", typ: "MessageState", values: strs(content.MessageStates),
			schemas: []string{"RecipientStatus.state"}},
		{name: "notify.Channel", dir: "notify", typ: "Channel", values: strs(notify.Channels()),
			schemas: []string{"RecipientStatus.channel"}},
		{name: "content.FeedItemKind", dir: "content", typ: "FeedItemKind", values: strs(content.FeedItemKinds),
			schemas: []string{"FeedItem.kind"}},
		{name: "content.FeedState", dir: "content", typ: "FeedState", values: strs(content.FeedStates),
			schemas: []string{"FeedItem.state"}},
		{name: "content.ActivityKind", dir: "content", typ: "ActivityKind", values: strs(content.ActivityKinds),
			schemas: []string{"ActivityKind"}},
		{name: "content.Subject", dir: "content", typ: "Subject", values: strs(content.Subjects),
			schemas: []string{"Subject"}},
		{name: "content.AssignmentState", dir: "content", typ: "AssignmentState", values: strs(content.AssignmentStates),
			schemas: []string{"Assignment.state"}},
		{name: "content.ParentState", dir: "content", typ: "ParentState", values: strs(content.ParentStates),
			schemas: []string{"ParentState", "RetentionTimeline.state"}},
		{name: "content.LinkState", dir: "content", typ: "LinkState", values: strs(content.LinkStates),
			schemas:     []string{"LinkState"},
			notAnswered: map[string]string{"left": "only a parent's own copy of a link is left; a child answers it as left_school"}},
		{name: "content.Role", dir: "content", typ: "Role", values: strs(content.Roles),
			schemas: []string{"Role"}},
		{name: "content.AccountKind", dir: "content", typ: "AccountKind", values: strs(content.AccountKinds),
			schemas: []string{"Me.kind"}},
		{name: "content.Platform", dir: "content", typ: "Platform", values: strs(content.Platforms),
			schemas: []string{"DeviceRequest.platform", "Device.platform"}},
		{name: "content.ImportStatus", dir: "content", typ: "ImportStatus", values: strs(content.ImportStatuses),
			schemas: []string{"ImportResult.status"},
			notAnswered: map[string]string{
				"committing": "stored while an import's writes run; the upload answers only when they are done",
				"failed":     "stored when an import stops part-way; the upload answers with an error instead",
			}},
		{name: "notify.Language", dir: "notify", typ: "Language", values: strs(notify.Languages()),
			schemas: []string{"Language", "Preference.language"}},
		{name: "content.YearGroups", values: content.YearGroups, schemas: []string{"YearGroup"}},
		{name: "content.ExportStates", dir: "content", group: "ExportQueued", values: content.ExportStates,
			schemas: []string{"Export.state"}},
		{name: "content.ErasureSubjectKinds", dir: "content", group: "SubjectParent", values: content.ErasureSubjectKinds,
			schemas: []string{"ErasureRecord.subject"}},
		{name: "content.ErasureReasons", dir: "content", group: "ErasureRequested", values: content.ErasureReasons,
			schemas: []string{"ErasureRecord.reason"}},
	}
}

// TestContractEnumsCoverTheCode: every value of a closed set in the code
// that an answer can carry is in the contract's enum, and the enum holds
// nothing else. The sets come from the code's exported lists, and each list
// is checked against its type's constants in the Go source, so a constant
// added to the code without its list or the contract fails here.
func TestContractEnumsCoverTheCode(t *testing.T) {
	t.Parallel()
	doc := sharedContract(t).doc
	for _, e := range codeEnums() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			if e.dir != "" {
				consts, err := stringConsts(filepath.Join("..", e.dir), e.typ, e.group)
				if err != nil {
					t.Fatal(err)
				}
				if missing := difference(consts, e.values); len(missing) > 0 {
					t.Errorf("%s: constants %q are missing from its exported list", e.name, missing)
				}
				if extra := difference(e.values, consts); len(extra) > 0 {
					t.Errorf("%s: its exported list holds %q, which are no constant of the type", e.name, extra)
				}
			}
			want := slices.DeleteFunc(slices.Clone(e.values), func(v string) bool { _, ok := e.notAnswered[v]; return ok })
			for _, at := range e.schemas {
				got, err := contractEnum(doc, at)
				if err != nil {
					t.Fatalf("mobile-contract/openapi.yaml: %v", err)
				}
				if missing := difference(want, got); len(missing) > 0 {
					t.Errorf("mobile-contract/openapi.yaml %s lacks %q, which %s has: add them to its enum", at, missing, e.name)
				}
				if extra := difference(got, e.values); len(extra) > 0 {
					t.Errorf("mobile-contract/openapi.yaml %s lists %q, which %s does not have", at, extra, e.name)
				}
				for v, why := range e.notAnswered {
					if slices.Contains(got, v) {
						t.Errorf("mobile-contract/openapi.yaml %s lists %q, which no answer carries (%s)", at, v, why)
					}
				}
			}
		})
	}
}

// TestContractEnumCountsCoverMessageStates: a broadcast's counts have one
// field per message state.
func TestContractEnumCountsCoverMessageStates(t *testing.T) {
	t.Parallel()
	s := sharedContract(t).doc.Components.Schemas["BroadcastCounts"]
	if s == nil || s.Value == nil {
		t.Fatal("mobile-contract/openapi.yaml has no BroadcastCounts schema")
	}
	got := slices.Sorted(maps.Keys(s.Value.Properties))
	want := strs(content.MessageStates)
	if m, x := difference(want, got), difference(got, want); len(m)+len(x) > 0 {
		t.Errorf("BroadcastCounts: missing %q, not a message state %q", m, x)
	}
	if m := difference(want, s.Value.Required); len(m) > 0 {
		t.Errorf("BroadcastCounts: %q not required", m)
	}
}

// TestStringConsts checks the source reader the enum test relies on
// against a package whose constants are known.
func TestStringConsts(t *testing.T) {
	t.Parallel()
	got, err := stringConsts(filepath.Join("..", "content"), "FeedState", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"done", "new", "seen"}; !slices.Equal(got, want) {
		t.Fatalf("content.FeedState constants = %q, want %q", got, want)
	}
	got, err = stringConsts(filepath.Join("..", "content"), "", "ExportReady")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"failed", "queued", "ready"}; !slices.Equal(got, want) {
		t.Fatalf("the block of content.ExportReady = %q, want %q", got, want)
	}
	if _, err := stringConsts(filepath.Join("..", "content"), "NoSuchType", ""); err == nil {
		t.Fatal("a type with no constants gave no error")
	}
}

// stringConsts returns, sorted, the values of the constants declared with
// type typ in the non-test Go files of dir; or, when typ is "", of the
// const block that declares the constant named group.
func stringConsts(dir, typ, group string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			inGroup := typ == "" && slices.ContainsFunc(gd.Specs, func(spec ast.Spec) bool {
				return slices.ContainsFunc(spec.(*ast.ValueSpec).Names, func(n *ast.Ident) bool { return n.Name == group })
			})
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !inGroup && (!ok || typ == "" || id.Name != typ) {
					continue
				}
				for i, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return nil, fmt.Errorf("%s: constant %s is not a string literal", fset.Position(v.Pos()), vs.Names[i])
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						return nil, err
					}
					out = append(out, s)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no constants of type %q or in the block of %q", dir, typ, group)
	}
	slices.Sort(out)
	return out, nil
}

// contractEnum returns the string values of the enum at path: a component
// schema, then property names, e.g. "Error.error.code".
func contractEnum(doc *openapi3.T, path string) ([]string, error) {
	parts := strings.Split(path, ".")
	ref := doc.Components.Schemas[parts[0]]
	for _, p := range parts[1:] {
		if ref == nil || ref.Value == nil {
			break
		}
		ref = ref.Value.Properties[p]
	}
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("no schema at %s", path)
	}
	if len(ref.Value.Enum) == 0 {
		return nil, fmt.Errorf("%s has no enum", path)
	}
	var out []string
	for _, v := range ref.Value.Enum {
		if v == nil {
			continue // a nullable enum's null
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: enum value %v is not a string", path, v)
		}
		out = append(out, s)
	}
	return out, nil
}

// difference returns, sorted, the values of a that are not in b.
func difference(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
