// Package contract holds the OpenAPI document the parent and teacher apps
// are built against. The API's tests load it from here, so every request
// they make is checked against the same bytes the app teams generate
// clients from.
package contract

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var openAPI []byte

// Document returns mobile-contract/openapi.yaml (OpenAPI 3.0.3). It is a
// copy: the embedded bytes cannot be changed by a caller.
func Document() []byte { return bytes.Clone(openAPI) }
