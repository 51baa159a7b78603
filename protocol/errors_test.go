package protocol

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// classified is an error type that knows its class.
type classified struct{ err error }

func (c classified) Error() string { return "classified: " + c.err.Error() }
func (c classified) Unwrap() error { return c.err }
func (c classified) Code() Code    { return CodeKeystoneUnavailable }

func TestCodeOf(t *testing.T) {
	usage := NewError(CodeUsage, "usage")
	notFound := NewError(CodeNotFound, "not found")
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"none", errors.New("plain"), CodeInternal},
		{"nil", nil, CodeInternal},
		{"a sentinel", notFound, CodeNotFound},
		{"a wrapped sentinel", fmt.Errorf("reading: %w", notFound), CodeNotFound},
		{"a plain error wrapped around nothing classified", fmt.Errorf("reading: %w", io.EOF), CodeInternal},
		{"a type of its own", classified{io.EOF}, CodeKeystoneUnavailable},
		// The outermost error that knows its class decides, whatever it
		// wraps.
		{"a type around a sentinel", classified{usage}, CodeKeystoneUnavailable},
		{"a sentinel around a type", fmt.Errorf("%w: %w", usage, classified{notFound}), CodeUsage},
		{"the first of two", fmt.Errorf("%w; %w", notFound, usage), CodeNotFound},
		{"depth first", fmt.Errorf("%w; %w", fmt.Errorf("x: %w", usage), notFound), CodeUsage},
		{"a refusal", refuse("bad %s", "thing"), CodeUsage},
	}
	for _, tt := range tests {
		if got := CodeOf(tt.err); got != tt.want {
			t.Errorf("%s: CodeOf(%v) = %s, want %s", tt.name, tt.err, got, tt.want)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", usage), usage) || errors.Is(usage, NewError(CodeUsage, "usage")) {
		t.Error("sentinels of NewError are not told apart by errors.Is")
	}
}

// TestRefusalsMatchTheirKinds: a refusal is ErrBadRequest and each of its
// kinds to errors.Is, and keeps its own message.
func TestRefusalsMatchTheirKinds(t *testing.T) {
	_, err := DecodeRequest(strings.NewReader("hello"))
	if !errors.Is(err, ErrBadRequest) || !errors.Is(err, ErrNotJSON) || err.Error() == ErrNotJSON.Error() {
		t.Fatalf("%v", err)
	}
	_, err = NormalizeAuthURL("ftp://h/v3")
	if !errors.Is(err, ErrInvalidAuthURL) || CodeOf(err) != CodeUsage {
		t.Fatalf("%v", err)
	}
}
