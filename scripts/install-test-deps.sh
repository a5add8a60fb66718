#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, skipping what is
# already there. Go tools are pinned and built once into .cache/tools/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.cache/tools/bin
mkdir -p "$TOOLS"

apt_pkgs=(skopeo podman buildah umoci squashfs-tools busybox-static curl jq git openssl chromium jupyterhub nodejs
  docker.io docker-compose runc debootstrap make)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# name|module@version|binary
go_tools=(
  "oras|oras.land/oras/cmd/oras@v1.3.6"
  "crane|github.com/google/go-containerregistry/cmd/crane@v0.22.1"
  "registry-reference|github.com/distribution/distribution/v3/cmd/registry@v3.1.2"
  "versitygw|github.com/versity/versitygw/cmd/versitygw@v1.8.0"
  "siftool|github.com/sylabs/sif/v2/cmd/siftool@v2.24.2"
)
for entry in "${go_tools[@]}"; do
  name=${entry%%|*}; mod=${entry#*|}
  stamp=$TOOLS/.$name.version
  if [[ -x $TOOLS/$name && "$(cat "$stamp" 2>/dev/null)" == "$mod" ]]; then continue; fi
  echo "building $mod"
  tmp=$(mktemp -d)
  GOBIN=$tmp go install "$mod"
  mv "$tmp"/* "$TOOLS/$name"
  rmdir "$tmp"
  echo "$mod" >"$stamp"
done

# The conformance suite is a main package in a module of its own.
CONF_VERSION=v0.0.0-20260831232431-97274622c111
if [[ "$(cat "$TOOLS/.conformance.version" 2>/dev/null)" != "$CONF_VERSION" || ! -x $TOOLS/conformance ]]; then
  echo "building OCI conformance suite $CONF_VERSION"
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init conformance-build >/dev/null 2>&1 &&
    go get github.com/opencontainers/distribution-spec/conformance@$CONF_VERSION >/dev/null 2>&1 &&
    go test -c -o "$TOOLS/conformance" github.com/opencontainers/distribution-spec/conformance 2>/dev/null ||
    go build -o "$TOOLS/conformance" github.com/opencontainers/distribution-spec/conformance)
  rm -rf "$tmp"
  echo "$CONF_VERSION" >"$TOOLS/.conformance.version"
fi
echo "test tools ready in $TOOLS"
