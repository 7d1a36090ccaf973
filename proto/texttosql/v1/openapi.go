package texttosqlv1

import _ "embed"

// OpenAPI is the generated OpenAPI (Swagger 2.0) document of the HTTP API.
//
//go:embed text2sql.swagger.json
var OpenAPI []byte
