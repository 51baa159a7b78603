package keystone

// The calls that carry a token rather than issue one: the request, and
// the two shapes such calls take, a GET of a list and a DELETE, each sent
// and judged one way.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// withToken builds a request that carries token as X-Auth-Token (and as
// X-Subject-Token when subject), after refusing a token no Keystone
// issues.
func withToken(method, url, token string, subject bool) (*request, error) {
	if token == "" {
		return nil, errors.New("keystone: no token given")
	}
	if err := checkToken(token); err != nil {
		return nil, fmt.Errorf("keystone: cannot send %v", err)
	}
	h := http.Header{}
	h.Set("X-Auth-Token", token)
	if subject {
		h.Set("X-Subject-Token", token)
	}
	return &request{method: method, url: url, header: h, secrets: []string{token}}, nil
}

// getList sends a GET of u that carries token, expecting 200, and returns
// what parse makes of the answer. 401 and 403 give an error wrapping
// ErrAuthFailed, with refused saying what they suggest ("" for nothing);
// any other status is unexpected, and an answer parse refuses is
// malformed.
func getList[T any](ctx context.Context, c *Client, u, token, refused string, parse func(*answer) ([]T, error)) ([]T, error) {
	r, err := withToken(http.MethodGet, u, token, false)
	if err != nil {
		return nil, err
	}
	ans, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	switch ans.status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, refused)
	default:
		return nil, r.unexpectedStatus(ans)
	}
	list, err := parse(ans)
	if err != nil {
		return nil, r.malformed(ans, err)
	}
	return list, nil
}

// remove sends r, a DELETE that carries a token, and judges the answer:
// 204 or 200 is success, which Debugf hears as done; 401 and 403 give an
// error wrapping ErrAuthFailed, with refused saying what they suggest (""
// for nothing); a 404 is for notFound to judge (nil: success too); any
// other status is unexpected.
func (c *Client) remove(ctx context.Context, r *request, done, refused string, notFound func(*answer) error) error {
	ans, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	switch ans.status {
	case http.StatusNoContent, http.StatusOK:
		c.debugf("keystone: %s", done)
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return r.answerError(ans, ErrAuthFailed, ProblemNone, refused)
	case http.StatusNotFound:
		return notFound(ans)
	}
	return r.unexpectedStatus(ans)
}
