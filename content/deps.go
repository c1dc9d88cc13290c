package content

import (
	"errors"
	"reflect"
	"strings"
)

// RequireDeps checks a struct of dependencies (the API's or the worker's
// Deps) before anything is built on it: every field that is an interface,
// pointer, func, map or slice must be set unless its tag says
// `deps:"optional"`. Fields that are structs are checked the same way,
// their missing fields named parent.field. The error names every missing
// field, so a process fails at start-up and says what its wiring lacks.
func RequireDeps(name string, deps any) error {
	var missing []string
	requireFields(reflect.ValueOf(deps), "", &missing)
	if len(missing) == 0 {
		return nil
	}
	return errors.New(name + ": missing dependencies: " + strings.Join(missing, ", "))
}

func requireFields(v reflect.Value, prefix string, missing *[]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("deps") == "optional" {
			continue
		}
		fv := v.Field(i)
		switch f.Type.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Func, reflect.Map:
			if fv.IsNil() {
				*missing = append(*missing, prefix+f.Name)
			}
		case reflect.Slice:
			if fv.Len() == 0 {
				*missing = append(*missing, prefix+f.Name)
			}
		case reflect.Struct:
			if f.Tag.Get("deps") == "group" {
				requireFields(fv, prefix+f.Name+".", missing)
			}
		}
	}
}
