package seleksiv1

import _ "embed"

// openAPIJSON is the merged OpenAPI v2 document generated from the protos in
// this directory by .ci/generate.
//
//go:embed seleksi.swagger.json
var openAPIJSON []byte

// OpenAPIJSON returns the OpenAPI v2 (Swagger) document describing the REST
// API, as generated from the protos. The caller must not modify the slice.
func OpenAPIJSON() []byte {
	return openAPIJSON
}
