#!/usr/bin/env bash
# Builds the Debian rootfs the JupyterHub end-to-end test starts as a
# notebook image (Debian 12 with Debian's jupyterhub package, which brings
# jupyterhub-singleuser and the notebook server), as a tar for
# `docker import`, and prints its path. No base image can be pulled on the
# machines this runs on, so debootstrap fetches Debian's packages instead.
#
# The tar is cached in .cache/rootfs under the hash of this script: change
# the script (suite, packages) and the next run builds a new one and drops
# the old; a clean machine builds it on first use (about 4 minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE=bookworm
PACKAGES=jupyterhub

stamp=$(sha256sum "$0" | cut -c1-12)
cache=$PWD/.cache/rootfs
out=$cache/notebook-$SUITE-$stamp.tar
mkdir -p "$cache"
exec 9>"$cache/.lock" # one build at a time; a second caller waits and reuses it
flock 9
if [[ -s $out ]]; then
  echo "$out"
  exit 0
fi

# The mirror apt already uses on this machine, unless DEBIAN_MIRROR says.
mirror=${DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE 'https?://[^ ]*/debian/?( |$)' | head -1 | tr -d ' ') || true
fi

command -v debootstrap >/dev/null || { echo "debootstrap is not installed: run scripts/install-test-deps.sh" >&2; exit 1; }
work=$(mktemp -d "$cache/build.XXXXXX")
root=$work/root
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
log=$cache/last-build.log
echo "debootstrap $SUITE, then apt-get install $PACKAGES, into $root (mirror: ${mirror:-the default}; log: $log)" >&2
# debootstrap's own resolver cannot install jupyterhub's node modules in
# order (node-logform fails to configure): it lays the base, apt does the rest.
{
  debootstrap --variant=minbase "$SUITE" "$root" ${mirror:+"$mirror"} &&
    cp /etc/resolv.conf "$root/etc/resolv.conf" &&
    mount -t proc proc "$root/proc" &&
    chroot "$root" apt-get update -qq &&
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES &&
    chroot "$root" apt-get clean &&
    umount "$root/proc"
} >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
rm -rf "$root"/var/lib/apt/lists/* "$root/etc/resolv.conf"
tar --numeric-owner -C "$root" -cf "$work/rootfs.tar" .
rm -f "$cache"/notebook-*.tar # earlier versions of this script's rootfs
mv "$work/rootfs.tar" "$out"
echo "$out"
