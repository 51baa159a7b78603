package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParseRequest checks that the decoder never panics, that everything
// it refuses wraps ErrBadRequest, and that everything it accepts is a
// valid request that survives a round trip: encoded again and parsed
// again, it is the same request.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"version":1,"profile":"prod","min_ttl_seconds":300,"refresh":true}`,
		`{"password":"pä ss"}`, `{"auth_url":"https://infra.mail.ru:35357/v3/"}`, `[]`, `{"version":2}`,
		`{"min_ttl_seconds":-1}`, `{"profile":"../x"}`, "{\"profile\":\"\xff\"}", `{} {}`, `{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parseRequest(data)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("refusal of %q does not wrap ErrBadRequest: %v", data, err)
			}
			if req != nil {
				t.Fatal("a refused request was returned")
			}
			return
		}
		if req == nil {
			return // empty input
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8 %q", data)
		}
		if req.Version != nil && *req.Version != Version {
			t.Fatalf("accepted version %d", *req.Version)
		}
		if req.MinTTLSeconds != nil && (*req.MinTTLSeconds < 0 || *req.MinTTLSeconds > MaxMinTTLSeconds) {
			t.Fatalf("accepted min_ttl_seconds %d", *req.MinTTLSeconds)
		}
		if req.Profile != "" && CheckProfileName(req.Profile) != nil {
			t.Fatalf("accepted profile %q", req.Profile)
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		req2, err := parseRequest(again)
		if err != nil || req2 == nil {
			t.Fatalf("round trip of %q refused: %v", again, err)
		}
		if !reflect.DeepEqual(req, req2) {
			t.Fatalf("round trip changed the request: %+v became %+v (via %s)", req, req2, again)
		}
	})
}
