package keystone

// Building a request: one logical call to Keystone, its fields checked
// before anything is sent.

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// request is one logical call to Keystone, retried as a whole.
type request struct {
	method  string
	url     string      // the full URL, already checked by endpoint
	body    []byte      // nil for no body; never logged nor shown
	header  http.Header // extra headers (tokens); never logged nor shown
	secrets []string    // masked in anything Keystone sends back
	// noRetry makes do send the request one time only, whatever it gets:
	// the request creates something, and a retry after a lost answer
	// could create it twice.
	noRetry bool
}

// checkFields refuses an empty or invalid UTF-8 value before anything is
// sent. The messages name fields, never their values.
func checkFields(fields ...[2]string) error {
	for _, f := range fields {
		name, value := f[0], f[1]
		if value == "" {
			return fmt.Errorf("keystone: no %s given", name)
		}
		if !utf8.ValidString(value) {
			return fmt.Errorf("keystone: the %s is not valid UTF-8", name)
		}
	}
	return nil
}
