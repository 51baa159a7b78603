package helper

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseOpenRCVKFile(t *testing.T) {
	data, err := os.ReadFile("testdata/vk-openrc-v3.sh")
	if err != nil {
		t.Fatal(err)
	}
	got := ParseOpenRC(data)
	want := map[string]string{
		"OS_AUTH_URL":             "https://infra.mail.ru:35357/v3/",
		"OS_PROJECT_ID":           "b5b7ffd4ef0547e5b222f44500000000",
		"OS_REGION_NAME":          "RegionOne",
		"OS_USERNAME":             "user@example.com",
		"OS_USER_DOMAIN_NAME":     "users",
		"OS_INTERFACE":            "public",
		"OS_IDENTITY_API_VERSION": "3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// The same file with Windows line ends.
	crlf := ParseOpenRC([]byte(strings.ReplaceAll(string(data), "\n", "\r\n")))
	if !reflect.DeepEqual(crlf, want) {
		t.Fatalf("CRLF: got %v", crlf)
	}
}

func TestParseOpenRCLines(t *testing.T) {
	tests := []struct {
		name, line string
		want       map[string]string
	}{
		{"double quotes", `export OS_USERNAME="a b@c.d"`, map[string]string{"OS_USERNAME": "a b@c.d"}},
		{"single quotes", `export OS_USERNAME='a "b" $c'`, map[string]string{"OS_USERNAME": `a "b" $c`}},
		{"bare", `export OS_REGION_NAME=RegionOne`, map[string]string{"OS_REGION_NAME": "RegionOne"}},
		{"indented in an if block", "\t  export OS_USER_DOMAIN_NAME=users", map[string]string{"OS_USER_DOMAIN_NAME": "users"}},
		{"trailing comment", `export OS_REGION_NAME=r1 # the region`, map[string]string{"OS_REGION_NAME": "r1"}},
		{"escaped quote", `export OS_USERNAME="a\"b"`, map[string]string{"OS_USERNAME": `a"b`}},
		{"escaped dollar", `export OS_USERNAME="a\$b"`, map[string]string{"OS_USERNAME": `a$b`}},
		{"empty value", `export OS_REGION_NAME=""`, map[string]string{"OS_REGION_NAME": ""}},
		{"adjacent quotes", `export OS_USERNAME="a"'b'c`, map[string]string{"OS_USERNAME": "abc"}},
		{"crlf", "export OS_REGION_NAME=r1\r", map[string]string{"OS_REGION_NAME": "r1"}},
		{"comment", `# export OS_REGION_NAME=r1`, map[string]string{}},
		{"no export", `OS_REGION_NAME=r1`, map[string]string{}},
		{"exported word only", `exportOS_REGION_NAME=r1`, map[string]string{}},
		{"variable", `export OS_PASSWORD_X=$OS_PASSWORD_INPUT`, map[string]string{}},
		{"variable in quotes", `export OS_USERNAME="${USER}"`, map[string]string{}},
		{"command substitution", `export OS_USERNAME=$(whoami)`, map[string]string{}},
		{"backticks", "export OS_USERNAME=\"`whoami`\"", map[string]string{}},
		{"password never", `export OS_PASSWORD="secret"`, map[string]string{}},
		{"unterminated", `export OS_USERNAME="abc`, map[string]string{}},
		{"two words", `export OS_USERNAME=a b`, map[string]string{}},
		{"bad name", `export 1X=a`, map[string]string{}},
		{"unset", `unset OS_PROJECT_NAME`, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseOpenRC([]byte(tt.line))
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseOpenRC(%q) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseOpenRCLaterLineWins(t *testing.T) {
	got := ParseOpenRC([]byte("export OS_REGION_NAME=a\nexport OS_REGION_NAME=b\n"))
	if got["OS_REGION_NAME"] != "b" {
		t.Fatalf("got %v", got)
	}
}
