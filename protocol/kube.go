package protocol

import (
	"encoding/json"
	"time"
)

// The Kubernetes client authentication API versions `get --format
// exec-credential` answers in.
const (
	ExecCredentialV1      = "client.authentication.k8s.io/v1"
	ExecCredentialV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// ExecCredential is a Kubernetes client-go exec plugin's answer.
type ExecCredential struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Status     ExecCredentialStatus `json:"status"`
}

// ExecCredentialStatus carries the token and its expiry.
type ExecCredentialStatus struct {
	Token               string `json:"token"`
	ExpirationTimestamp string `json:"expirationTimestamp"`
}

// NewExecCredential answers in the API version that execInfo, the value
// of KUBERNETES_EXEC_INFO, names; v1beta1 when it is empty.
func NewExecCredential(execInfo, token string, expiresAt time.Time) (*ExecCredential, error) {
	apiVersion := ExecCredentialV1beta1
	if execInfo != "" {
		var info struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal([]byte(execInfo), &info); err != nil {
			return nil, refuse("KUBERNETES_EXEC_INFO is not valid JSON: %v", err)
		}
		switch info.APIVersion {
		case ExecCredentialV1, ExecCredentialV1beta1:
			apiVersion = info.APIVersion
		case "":
		default:
			return nil, refuse("KUBERNETES_EXEC_INFO asks for %q; vkc-credential answers in %s or %s", info.APIVersion, ExecCredentialV1, ExecCredentialV1beta1)
		}
	}
	return &ExecCredential{
		APIVersion: apiVersion,
		Kind:       "ExecCredential",
		Status:     ExecCredentialStatus{Token: token, ExpirationTimestamp: expiresAt.UTC().Format(time.RFC3339)},
	}, nil
}
