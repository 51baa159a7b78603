package clouds

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Stanza returns the clouds.yaml text that defines cloud name with the
// vkc auth type, taking its token from vkc-credential profile profile
// (the keystoneauth plugin's vkc_profile option), with region and iface
// when they are not empty:
//
//	clouds:
//	  NAME:
//	    auth_type: vkc
//	    auth:
//	      vkc_profile: PROFILE
//	    region_name: REGION
//	    interface: IFACE
//
// The YAML library writes it, so any name or value reads back as itself;
// a value that is not a plain word is double-quoted, since openstacksdk's
// PyYAML reads YAML 1.1, where on, yes and n are booleans and 1:20 and
// 1_000 numbers.
func Stanza(name, profile, region, iface string) string {
	scalar := func(s string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
		if !plainSafe(s) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	}
	mapOf := func(kv ...string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				n.Content = append(n.Content, scalar(kv[i]), scalar(kv[i+1]))
			}
		}
		return n
	}
	cloud := mapOf("auth_type", "vkc")
	cloud.Content = append(cloud.Content, scalar("auth"), mapOf("vkc_profile", profile))
	cloud.Content = append(cloud.Content, mapOf("region_name", region, "interface", iface).Content...)
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		scalar("clouds"), {Kind: yaml.MappingNode, Content: []*yaml.Node{scalar(name), cloud}},
	}}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		// Only strings go in; the encoder fails on nothing it is given.
		panic("clouds: encoding the stanza: " + err.Error())
	}
	enc.Close()
	return b.String()
}

// plainSafe reports whether s can stand unquoted in YAML 1.1 and 1.2
// alike and read back as the string s: a letter, then letters, digits and
// . _ / @ -, and not a word that YAML 1.1 reads as a boolean or null.
func plainSafe(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._/@-", c) >= 0) {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	return true
}
