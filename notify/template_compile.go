package notify

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// message is one template in one language, as a translator writes it.
type message struct {
	SMS     string
	Subject string
	// Body is the email text between greeting and sign-off (both come from
	// the language); paragraphs are separated by a blank line.
	Body string
	// Action labels the email's link ("Join Hometime"); the link follows it
	// in the text version and is a button in the HTML one. Empty when the
	// email has no link.
	Action    string
	PushTitle string
	PushBody  string
}

// compileMessage parses every part of m and works out which parameters it
// needs.
func compileMessage(tmpl Template, lang Language, m message) (*compiled, error) {
	cm := &compiled{lang: lang, action: m.Action, byPart: map[string][]string{}}
	used := map[string]bool{}
	parts := []struct {
		name string
		src  string
		dst  **template.Template
	}{
		{"sms", m.SMS, &cm.sms},
		{"subject", m.Subject, &cm.subject},
		{"body", m.Body, &cm.body},
		{"push title", m.PushTitle, &cm.pushTitle},
		{"push body", m.PushBody, &cm.pushBody},
	}
	for _, part := range parts {
		if strings.TrimSpace(part.src) == "" {
			return nil, fmt.Errorf("template %s (%s) %s: empty", tmpl, lang, part.name)
		}
		t, err := template.New(part.name).Option("missingkey=error").Parse(part.src)
		if err != nil {
			return nil, fmt.Errorf("template %s (%s) %s: %w", tmpl, lang, part.name, err)
		}
		inPart := map[string]bool{}
		if err := collectParams(t.Tree.Root, inPart); err != nil {
			return nil, fmt.Errorf("template %s (%s) %s: %w", tmpl, lang, part.name, err)
		}
		for name := range inPart {
			used[name] = true
			cm.byPart[part.name] = append(cm.byPart[part.name], name)
		}
		slices.Sort(cm.byPart[part.name])
		*part.dst = t
	}
	if strings.Contains(m.Action, "{{") {
		return nil, fmt.Errorf("template %s (%s) action: must be plain text", tmpl, lang)
	}
	if m.Action != "" {
		used[ParamLink] = true
	}
	for name := range used {
		cm.required = append(cm.required, name)
	}
	slices.Sort(cm.required)
	return cm, nil
}

// collectParams records the parameters a template uses. Only text and
// {{.Param}} actions are allowed: translators should not need more, and
// anything more could hide a parameter from the missing-value check.
func collectParams(list *parse.ListNode, used map[string]bool) error {
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			name, ok := plainField(n)
			if !ok {
				return fmt.Errorf("unsupported action %s: use only {{.Param}}", n)
			}
			if !knownParam(name) {
				return fmt.Errorf("unknown parameter %q", name)
			}
			used[name] = true
		default:
			return fmt.Errorf("unsupported template construct %s: use only {{.Param}}", n)
		}
	}
	return nil
}

// plainField returns X for an action that is exactly {{.X}}.
func plainField(a *parse.ActionNode) (string, bool) {
	if a.Pipe == nil || len(a.Pipe.Decl) > 0 || len(a.Pipe.Cmds) != 1 {
		return "", false
	}
	args := a.Pipe.Cmds[0].Args
	if len(args) != 1 {
		return "", false
	}
	f, ok := args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return "", false
	}
	return f.Ident[0], true
}
