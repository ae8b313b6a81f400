#!/bin/sh
# libvirt probes (and on other setups runs) QEMU as its own user, libvirt-qemu
# on Debian: it must be able to reach the QEMU builds in hotplug-ci's cache.
# Grants that user search (x) access, by ACL, to each directory above the
# cache that it cannot traverse yet (as root, ~ is 0700).  Nothing else changes.
set -eu
user=${HPCI_QEMU_USER:-libvirt-qemu}
cache=${HPCI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hotplug-ci}

if ! id "$user" >/dev/null 2>&1; then
	echo "grant-qemu-access: no user '$user' (libvirt not installed?); nothing to do"
	exit 0
fi
mkdir -p "$cache"
dir=$cache
while [ "$dir" != "/" ]; do
	if ! runuser -u "$user" -- test -x "$dir" 2>/dev/null; then
		setfacl -m "u:$user:x" "$dir"
		echo "grant-qemu-access: '$user' may now traverse $dir"
	fi
	dir=$(dirname "$dir")
done
