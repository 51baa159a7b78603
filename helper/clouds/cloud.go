package clouds

import (
	"fmt"

	"vkc-credential/protocol"
)

// Where settings reader.get looks: a cloud's top level, its auth mapping,
// or both (top first: openstacksdk prefers it for the project and domain
// keys).
const (
	inTop = 1 << iota
	inAuth
	inBoth = inTop | inAuth
)

// reader reads string settings of one cloud, keeping the first error:
// once one is set, every read gives "".
type reader struct {
	prefix    string // clouds.NAME, for errors
	top, auth mapping
	err       error
}

// get returns the first of keys that is set to something other than ""
// in the places scope names.
func (r *reader) get(scope int, keys ...string) string {
	for _, k := range keys {
		if scope&inTop != 0 {
			if s := r.str(r.top, k, r.prefix+"."+k); s != "" {
				return s
			}
		}
		if scope&inAuth != 0 {
			if s := r.str(r.auth, k, r.prefix+".auth."+k); s != "" {
				return s
			}
		}
	}
	return ""
}

// str reads key of m as a string (where names it in errors).
func (r *reader) str(m mapping, key, where string) string {
	v, ok := m[key]
	if !ok || r.err != nil {
		return ""
	}
	s, err := str(v, where)
	if err != nil {
		r.err = err
	}
	return s
}

// fill sets c from the merged cloud: top, its own keys, and auth, its
// auth mapping.
func (c *Cloud) fill(top, auth mapping) error {
	r := &reader{prefix: "clouds." + c.Name, top: top, auth: auth}
	if err := c.fillAuthType(r); err != nil {
		return err
	}
	c.Settings = protocol.Settings{
		AuthURL:        r.get(inAuth, "auth_url"),
		ProjectID:      r.get(inBoth, "project_id", "tenant_id"),
		Username:       r.get(inAuth, "username"),
		UserDomainName: r.get(inBoth, "user_domain_name", "domain_name"),
		Region:         r.get(inTop, "region_name"),
		Interface:      r.get(inTop, "interface", "endpoint_type"),
	}
	c.ProjectName = r.get(inBoth, "project_name", "tenant_name")
	c.ProjectDomainName = r.get(inBoth, "project_domain_name", "domain_name")
	c.ProjectDomainID = r.get(inBoth, "project_domain_id", "domain_id")
	userDomainID := r.get(inBoth, "user_domain_id", "domain_id")
	userID := r.get(inAuth, "user_id")
	secretKey := "password"
	if c.AuthType == AuthApplicationCredential {
		c.ApplicationCredentialID = r.get(inAuth, "application_credential_id")
		c.ApplicationCredentialName = r.get(inAuth, "application_credential_name")
		secretKey = "application_credential_secret"
	}
	if c.Secret = r.str(auth, secretKey, r.prefix+".auth."+secretKey); c.Secret != "" {
		c.SecretFile, c.LooseSecretFile = auth[secretKey].file.path, auth[secretKey].file.loose
	}
	if r.err != nil {
		return r.err
	}
	return c.checkUser(userID, userDomainID)
}

// fillAuthType sets c.AuthType from auth_type (which wins over the older
// auth_plugin, as in openstacksdk), refusing what vkc-credential cannot
// import: a vendor profile, another auth type, a cloud that already uses
// vkc.
func (c *Cloud) fillAuthType(r *reader) error {
	if p := r.get(inTop, "profile", "cloud"); p != "" {
		return fmt.Errorf("%w: cloud %q takes its settings from openstacksdk's vendor profile %q, which vkc-credential does not read; put auth_url and the rest in the cloud itself", errUnsupported, c.Name, p)
	}
	authType := r.get(inTop, "auth_type", "auth_plugin")
	if r.err != nil {
		return r.err
	}
	switch authType {
	case "", "password", "v3password":
		c.AuthType = AuthPassword
	case "v3applicationcredential":
		c.AuthType = AuthApplicationCredential
	case "vkc":
		return fmt.Errorf("%w: cloud %q already uses vkc-credential (auth_type vkc); there is nothing to import", errUnsupported, c.Name)
	default:
		return fmt.Errorf("%w: cloud %q has auth_type %q; vkc-credential imports password and v3applicationcredential clouds", errUnsupported, c.Name, authType)
	}
	return nil
}

// checkUser refuses a user named in a way the rest of vkc-credential
// cannot send: a user named by name needs its domain by name
// (user.domain.name), and a user by id alone is not enough.
func (c *Cloud) checkUser(userID, userDomainID string) error {
	if c.AuthType == AuthApplicationCredential && c.ApplicationCredentialID != "" {
		return nil // the credential's id names the user
	}
	switch {
	case c.Settings.Username == "" && userID != "":
		return fmt.Errorf("%w: cloud %q names its user by id (user_id); vkc-credential needs the user's name: set auth.username", errUnsupported, c.Name)
	case c.Settings.UserDomainName == "" && userDomainID != "":
		return fmt.Errorf("%w: cloud %q names the user's domain by id (user_domain_id); vkc-credential sends the domain's name: set auth.user_domain_name", errUnsupported, c.Name)
	}
	return nil
}
