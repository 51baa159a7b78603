package protocol

import (
	"errors"
	"testing"
	"time"
)

func TestNewExecCredential(t *testing.T) {
	exp := time.Date(2026, 11, 27, 18, 31, 8, 0, time.UTC)
	tests := []struct{ info, want string }{
		{"", ExecCredentialV1beta1},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`, ExecCredentialV1},
		{`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential"}`, ExecCredentialV1beta1},
	}
	for _, tt := range tests {
		c, err := NewExecCredential(tt.info, "tok", exp)
		if err != nil {
			t.Fatalf("%s: %v", tt.info, err)
		}
		if c.APIVersion != tt.want || c.Kind != "ExecCredential" || c.Status.Token != "tok" || c.Status.ExpirationTimestamp != "2026-11-27T18:31:08Z" {
			t.Fatalf("%s: got %+v", tt.info, c)
		}
	}
	for _, bad := range []string{"{", `{"apiVersion":"client.authentication.k8s.io/v2"}`} {
		if _, err := NewExecCredential(bad, "tok", exp); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: err = %v, want usage", bad, err)
		}
	}
}
