package clouds

import (
	"fmt"
	"sort"
	"strings"
)

// cloudOf reads cloud name of clouds.yaml f: its own keys (top, without
// auth) and its auth mapping. A cloud f does not have is ErrNoCloud,
// naming those it has.
func cloudOf(f *file, name string) (top, auth mapping, err error) {
	clouds, err := f.clouds()
	if err != nil {
		return nil, nil, err
	}
	v, ok := clouds[name]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s has no cloud %q; it has %s", ErrNoCloud, f.path, name, listNames(clouds))
	}
	return splitAuth(f, v, "clouds."+name)
}

// splitAuth reads v, a cloud of f called where in errors, as its own keys
// (top) and its auth mapping (empty when it has none).
func splitAuth(f *file, v value, where string) (top, auth mapping, err error) {
	if top, err = f.mapping(v.node, where); err != nil {
		return nil, nil, err
	}
	auth = mapping{}
	a, ok := top["auth"]
	delete(top, "auth")
	if ok && !isNull(resolve(a.node)) {
		if auth, err = f.mapping(a.node, where+".auth"); err != nil {
			return nil, nil, err
		}
	}
	return top, auth, nil
}

// isSecretKey reports whether key of a cloud's auth mapping is one that
// mergeSecure takes from secure.yaml.
func isSecretKey(key string) bool {
	return key == "password" || key == "application_credential_secret"
}

// mergeSecure puts the secret keys (auth.password and
// auth.application_credential_secret) of cloud name of secure.yaml f
// into auth, replacing clouds.yaml's, as openstacksdk's merge would. Any
// other key f holds for the cloud is ignored, and the one warning
// returned names them all (never a value): secure.yaml is for secrets,
// and one that set auth_url would decide where the secret is sent.
func mergeSecure(auth mapping, f *file, name string) (warnings []string, err error) {
	clouds, err := f.clouds()
	if err != nil {
		return nil, err
	}
	v, ok := clouds[name]
	if !ok {
		return nil, nil
	}
	where := "clouds." + name
	top, secure, err := splitAuth(f, v, where)
	if err != nil {
		return nil, err
	}
	var ignored []string
	for k := range top {
		ignored = append(ignored, where+"."+k)
	}
	for k, v := range secure {
		if isSecretKey(k) {
			auth[k] = v
		} else {
			ignored = append(ignored, where+".auth."+k)
		}
	}
	if len(ignored) == 0 {
		return nil, nil
	}
	sort.Strings(ignored)
	return []string{fmt.Sprintf("%s: ignored %s; vkc-credential takes only auth.password and auth.application_credential_secret from secure.yaml: put other settings in clouds.yaml",
		f.path, strings.Join(ignored, ", "))}, nil
}
