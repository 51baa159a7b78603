# scripts/terraform-workspace.sh — sourced by the benchmark scripts: a
# Terraform workspace whose OpenStack provider takes everything from the
# environment (an empty provider block), with a data source that makes
# the provider sign in.
#
#   terraform_workspace WORK TFDIR GOBIN TF
#
# The provider comes from GOBIN (scripts/install-terraform.sh built it)
# through a filesystem mirror under WORK; WORK/terraformrc points at it.
# Exports TF_CLI_CONFIG_FILE, TF_DATA_DIR, TF_IN_AUTOMATION and TF_INPUT,
# and runs `terraform init` in TFDIR.
terraform_workspace() {
  local work=$1 tfdir=$2 gobin=$3 tf=$4 tfver pdir
  mkdir -p "$tfdir"
  tfver=$(go version -m "$gobin/terraform-provider-openstack" | awk '$1 == "mod" { sub(/^v/, "", $3); print $3; exit }')
  pdir=$work/tf-mirror/registry.terraform.io/terraform-provider-openstack/openstack/$tfver/$(go env GOOS)_$(go env GOARCH)
  mkdir -p "$pdir"
  ln -s "$gobin/terraform-provider-openstack" "$pdir/terraform-provider-openstack_v$tfver"
  printf 'disable_checkpoint = true\nprovider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' "$work/tf-mirror" > "$work/terraformrc"
  cat > "$tfdir/main.tf" <<'EOF'
terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}

provider "openstack" {}

data "openstack_identity_auth_scope_v3" "scope" {
  name = "scope"
}

output "project_id" {
  value = data.openstack_identity_auth_scope_v3.scope.project_id
}
EOF
  export TF_CLI_CONFIG_FILE=$work/terraformrc TF_DATA_DIR=$tfdir/.terraform-data TF_IN_AUTOMATION=1 TF_INPUT=0
  (cd "$tfdir" && "$tf" init -input=false -no-color >/dev/null)
}
