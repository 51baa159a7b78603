package helper

import (
	"encoding/json"
	"fmt"
	"time"
)

// A cached get decodes two small JSON objects: the profile and the head of
// the cache file. The first json.Unmarshal into a struct type builds that
// type's field cache by reflection, which in a fresh process costs more
// than the rest of a cached get; decoding into a map needs no field cache.
// flatObject is that speed trick, in this one place. An in-process
// benchmark cannot show it (the field cache is warm after one iteration);
// the instructions of a whole cached get do: 2.03 M with json.Unmarshal
// into the structs, 1.79 M with flatObject (valgrind --tool=callgrind,
// docs/speed.md). BenchmarkReadCache times the decoding itself.

// flatObject is a JSON object whose members are strings or numbers.
type flatObject map[string]any

// decodeFlat decodes data as one flat JSON object.
func decodeFlat(data []byte) (flatObject, error) {
	var o flatObject
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return o, nil
}

// str returns member name, which must be a string when present; "" when
// it is absent or null.
func (o flatObject) str(name string) (string, error) {
	switch v := o[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("member %q is not a string", name)
}

// num returns member name, which must be a whole number when present; 0
// when it is absent.
func (o flatObject) num(name string) (int, error) {
	switch v := o[name].(type) {
	case nil:
		return 0, nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("member %q is not a whole number", name)
}

// time returns member name, an RFC 3339 time; the zero time when absent.
func (o flatObject) time(name string) (time.Time, error) {
	s, err := o.str(name)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("member %q is not an RFC 3339 time", name)
	}
	return t, nil
}

// field names a member and where its value goes.
type field[T any] struct {
	name string
	dst  *T
}

// strings sets each field from its member, in order, and returns the
// first error.
func (o flatObject) strings(fields ...field[string]) error {
	for _, f := range fields {
		v, err := o.str(f.name)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}

// times sets each field from its member, an RFC 3339 time, in order, and
// returns the first error.
func (o flatObject) times(fields ...field[time.Time]) error {
	for _, f := range fields {
		v, err := o.time(f.name)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}
