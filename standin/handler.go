package standin

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// The paths the stand-in answers.
const (
	pathRoot   = "/"
	pathV3     = "/v3"
	pathTokens = "/v3/auth/tokens"
)

// ServeHTTP answers one request. Every answer that is not a success is
// Keystone's JSON error shape, naming the cause.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	s.serve(rec, r)
	s.debugf("%s %s: %d", r.Method, r.URL.Path, rec.status)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.ownHost(r.Host) {
		// A page whose name was re-pointed at 127.0.0.1 (DNS rebinding)
		// sends its own name.
		writeError(w, http.StatusNotFound, "this stand-in answers only to Host 127.0.0.1:"+strconv.Itoa(s.port)+
			" or localhost:"+strconv.Itoa(s.port)+", not "+strconv.Quote(r.Host))
		return
	}
	if r.Header.Get("Origin") != "" {
		writeError(w, http.StatusUnauthorized, "this stand-in does not answer web pages (the request has an Origin header)")
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "" && r.URL.Path == pathRoot:
		if allow(w, r, http.MethodGet, http.MethodHead) {
			s.versions(w, r)
		}
	case path == pathV3:
		if allow(w, r, http.MethodGet, http.MethodHead) {
			s.version(w, r)
		}
	case path == pathTokens:
		if allow(w, r, http.MethodPost, http.MethodGet, http.MethodHead, http.MethodDelete) {
			s.tokens(w, r)
		}
	default:
		writeError(w, http.StatusNotFound, "the stand-in answers only version discovery and /v3/auth/tokens, not "+
			strconv.Quote(r.URL.Path)+"; every other Keystone API is at the identity endpoint of the token's catalog")
	}
}

func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.signIn(w, r)
	case http.MethodDelete:
		// The token is shared with every other tool of the identity:
		// revoking it would break them.
		if _, ok := s.caller(w, r); ok {
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		s.validate(w, r)
	}
}

// ownHost reports whether host names this stand-in: 127.0.0.1:PORT or
// localhost:PORT.
func (s *Server) ownHost(host string) bool {
	name, port, ok := strings.Cut(host, ":")
	return ok && port == strconv.Itoa(s.port) && (name == "127.0.0.1" || strings.EqualFold(name, "localhost"))
}

// allow answers 405 unless r's method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "the stand-in does not answer "+r.Method+" "+r.URL.Path)
	return false
}

// versionDoc is Keystone's description of its v3 API, pointing at the
// stand-in as the client reached it.
func versionDoc(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []map[string]string{{"rel": "self", "href": "http://" + r.Host + "/v3/"}},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{versionDoc(r)}}})
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": versionDoc(r)})
}

// validate answers GET (and HEAD) /v3/auth/tokens for a token the
// stand-in served and that has not expired, from what it served.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.caller(w, r); !ok {
		return
	}
	subject := r.Header.Get("X-Subject-Token")
	t, ok := s.lookup(subject)
	if !ok {
		writeError(w, http.StatusNotFound, "the stand-in did not serve the X-Subject-Token, or it has expired")
		return
	}
	writeToken(w, r, http.StatusOK, subject, t.body)
}

// caller checks that the request's X-Auth-Token is a token the stand-in
// served; otherwise it answers 401.
func (s *Server) caller(w http.ResponseWriter, r *http.Request) (served, bool) {
	t, ok := s.lookup(r.Header.Get("X-Auth-Token"))
	if !ok {
		writeError(w, http.StatusUnauthorized, "the X-Auth-Token is not a token this stand-in served, or it has expired; sign in with POST /v3/auth/tokens")
	}
	return t, ok
}

// signIn answers POST /v3/auth/tokens: a token from the shared cache for
// the session secret. A wrong secret never reaches Token.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	req, status, msg := s.readAuth(w, r)
	if status == 0 {
		status, msg = s.check(req)
	}
	switch {
	case status == errWrongSecret:
		s.refuseSecret(w, r.Context())
		return
	case status != 0:
		writeError(w, status, msg)
		return
	}
	// Not the caller's context: a caller that gives up must not cancel an
	// issuance that the callers waiting behind it share.
	tok, err := s.token(context.WithoutCancel(r.Context()), -1)
	if err != nil {
		status, msg := s.describe(err)
		writeError(w, status, msg)
		return
	}
	body, err := tok.Body()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeToken(w, r, http.StatusCreated, tok.ID(), body)
}

// describe maps a failure of Token to its answer, one call at a time.
func (s *Server) describe(err error) (int, string) {
	if s.cfg.Describe == nil {
		return http.StatusServiceUnavailable, err.Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Describe(err)
}

// refuseSecret answers a wrong secret: 401, after the wait the limiter
// sets; 429 at once when too many wrong secrets are already waiting.
func (s *Server) refuseSecret(w http.ResponseWriter, ctx context.Context) {
	if !s.wrong.wait(ctx) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many wrong passwords at once; the stand-in takes only the session secret of its run (OS_PASSWORD)")
		return
	}
	writeError(w, http.StatusUnauthorized, "wrong password: the stand-in takes only the session secret of its run (OS_PASSWORD), never the real password")
}

// writeToken writes a token answer: X-Subject-Token and Keystone's body,
// without the catalog when the query asks for nocatalog.
func writeToken(w http.ResponseWriter, r *http.Request, status int, id string, body []byte) {
	if _, ok := r.URL.Query()["nocatalog"]; ok {
		body = withoutCatalog(body)
	}
	h := w.Header()
	h.Set("X-Subject-Token", id)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// withoutCatalog drops token.catalog from a token body; a body it cannot
// decode is returned as it is.
func withoutCatalog(body []byte) []byte {
	var outer map[string]json.RawMessage
	var tok map[string]json.RawMessage
	if json.Unmarshal(body, &outer) != nil || json.Unmarshal(outer["token"], &tok) != nil {
		return body
	}
	delete(tok, "catalog")
	t, err1 := json.Marshal(tok)
	outer["token"] = t
	out, err2 := json.Marshal(outer)
	if err1 != nil || err2 != nil {
		return body
	}
	return out
}

// writeError writes Keystone's error shape.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "title": http.StatusText(status), "message": message,
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	data = append(data, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

func (s *Server) debugf(format string, args ...any) {
	if s.cfg.Debugf != nil {
		s.cfg.Debugf("stand-in: "+format, args...)
	}
}

// statusRecorder remembers the status written, for the debug line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
