package generate

import (
	"net/url"
	"strconv"
	"strings"
)

// SQLLabURL is the link that opens sql in Superset's SQL Lab on database
// dbID with schema selected (the query parameters SQL Lab reads on load).
// It is empty when no Superset address is configured.
func SQLLabURL(base string, dbID int64, schemaName, sql string) string {
	if base == "" {
		return ""
	}
	v := url.Values{}
	if dbID > 0 {
		v.Set("dbid", strconv.FormatInt(dbID, 10))
	}
	if schemaName != "" {
		v.Set("schema", schemaName)
	}
	v.Set("sql", sql)
	return strings.TrimRight(base, "/") + "/sqllab/?" + v.Encode()
}
