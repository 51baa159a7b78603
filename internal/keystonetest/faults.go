package keystonetest

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Fault is a wrong answer on demand: Fail queues it, and it answers the
// requests it matches, Times of them (all, when 0), instead of the fake.
type Fault struct {
	// Method and Path, when set, are the only requests it answers
	// (Path without a trailing slash, e.g. "/v3/auth/tokens"); AuthMethods,
	// when set, only the POSTs of auth/tokens with those methods
	// ("password", "token", …).
	Method, Path, AuthMethods string
	// Times is how many requests it answers; 0 is every one, until
	// ClearFaults.
	Times int

	// Status is the status to answer (with Keystone's JSON error body
	// saying Message, unless Body is set); 0 is 500, or 201 with a Body.
	Status  int
	Message string
	// Body, when set, is the whole body, sent as is: garbage, a token
	// body that lacks a field, a body cut short.
	Body string
	// Header is set on the answer (X-Subject-Token, Location, …);
	// RetryAfter is its Retry-After.
	Header     http.Header
	RetryAfter string
	// Delay is a wait before answering, cut short when the client goes
	// away. Hang never answers: it waits until the client goes away or
	// the server closes.
	Delay time.Duration
	Hang  bool
	// Arrived, when not nil, is sent a value when a request reaches the
	// fault (before any Delay or Hang); the send does not block.
	Arrived chan<- struct{}
}

// Fail queues f: the faults are tried in the order queued, before the
// fake's own answers.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// fault takes the first queued fault that matches r, if any, counting it
// down.
func (s *Server) fault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimSuffix(r.URL.Path, "/")
	for i, f := range s.faults {
		if (f.Method != "" && f.Method != r.Method) || (f.Path != "" && f.Path != path) {
			continue
		}
		if f.AuthMethods != "" && s.requests[len(s.requests)-1].AuthMethods != f.AuthMethods {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f
	}
	return nil
}

// answerFault answers r with f.
func (s *Server) answerFault(f *Fault, w http.ResponseWriter, r *http.Request) {
	if f.Arrived != nil {
		select {
		case f.Arrived <- struct{}{}:
		default:
		}
	}
	if s.wait(f, r) {
		f.write(w)
	}
}

// wait waits out f's Hang or Delay; false means no answer is to be
// written (a hang, a client gone, the server closed).
func (s *Server) wait(f *Fault, r *http.Request) bool {
	var timer <-chan time.Time
	switch {
	case f.Hang:
	case f.Delay > 0:
		timer = time.After(f.Delay)
	default:
		return true
	}
	select {
	case <-timer:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// write writes f's answer.
func (f *Fault) write(w http.ResponseWriter) {
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	status, message := f.Status, f.Message
	switch {
	case f.Body != "":
		if status == 0 {
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		io.WriteString(w, f.Body)
	case status >= 300 && status < 400:
		w.WriteHeader(status)
	default:
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if message == "" {
			message = http.StatusText(status)
		}
		Refuse(w, status, message)
	}
}
