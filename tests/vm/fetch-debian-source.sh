#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fetch-debian-source.sh PACKAGE [VERSION]
#
# What: downloads Debian's source package PACKAGE (its .dsc, orig tarball and
# debian tarball; `apt-get source --download-only`, nothing unpacked) into a
# cache directory kept across runs, and prints the path of the .dsc.
#
# Why: make-edk2-history.sh and bench/make-qemu-history.sh turn Debian's edk2
# and QEMU sources into git histories; tests run them often and should not
# download 17-24 MB each time.
#
# Where: ${HPCI_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/hotplug-ci}/sources/
# PACKAGE_VERSION/ (the same root as the build cache, lib/cache.c; the harness
# itself unpacks debian:PACKAGE sources into each build's work directory and
# keeps none, so this directory is ours alone).  Without VERSION, apt's
# candidate is asked for; when apt cannot answer (no network, no lists) the
# newest cached copy of PACKAGE is used.  apt verifies the files it fetches;
# dpkg-source checks them against the .dsc again when they are unpacked.
#
# Without deb-src entries in apt's sources, and run as root, it adds them the
# way the harness does (lib/source.c: /etc/apt/sources.list.d/hotplug-ci-
# deb-src.{sources,list}) and runs apt-get update once.
set -eu

die() { echo "fetch-debian-source: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: fetch-debian-source.sh PACKAGE [VERSION]"
pkg=$1
want=$pkg${2:+=$2}
case $pkg in *[!a-z0-9+.-]*|"") die "'$pkg' is not a Debian package name" ;; esac

root=${HPCI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hotplug-ci}
sources=$root/sources
mkdir -p "$sources"

add_deb_src() {
	local f out_sources=/etc/apt/sources.list.d/hotplug-ci-deb-src.sources
	local out_list=/etc/apt/sources.list.d/hotplug-ci-deb-src.list
	{
		echo '# Written by hotplug-ci for `apt-get source`'
		for f in /etc/apt/sources.list.d/*.sources; do
			case $f in */hotplug-ci-*|*'*'*) continue ;; esac
			sed -e 's/^Types: deb$/Types: deb-src/' \
			    -e '/^Types: deb-src$/!s/^Types:.*/Types: ignored-by-hotplug-ci/' "$f"
			echo
		done
	} >"$out_sources"
	{
		echo '# Written by hotplug-ci for `apt-get source`'
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			case $f in */hotplug-ci-*|*'*'*) continue ;; esac
			[ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f"
		done
	} >"$out_list"
	echo "fetch-debian-source: apt had no deb-src entries: added $out_sources and $out_list" >&2
	apt-get update -qq >&2
}

# 'URI' NAME_VERSION.dsc SIZE HASH: the version (without epoch) from the .dsc's name.
# apt leaves out files already in the current directory: ask from an empty one.
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
print_uris() { (cd "$empty" && apt-get source --print-uris -qq "$want" 2>&1); }
version=
if ! uris=$(print_uris); then
	if printf '%s' "$uris" | grep -q deb-src && [ "$(id -u)" = 0 ]; then
		add_deb_src
		uris=$(print_uris) || uris=
	else
		uris=
	fi
fi
version=$(printf '%s\n' "$uris" | sed -n "s/^'[^']*' ${pkg//./\\.}_\([^ ]*\)\.dsc .*/\1/p" | head -n1)
if [ -z "$version" ]; then
	# Offline: the newest copy already here (or the one asked for).
	if [ $# = 2 ]; then
		dir=$sources/${pkg}_${2#*:}
	else
		dir=$(ls -d "$sources/${pkg}_"*/ 2>/dev/null | sort -V | tail -n1)
		dir=${dir%/}
	fi
	dsc=$(ls "$dir"/*.dsc 2>/dev/null | head -n1) ||
		die "apt cannot find the source of '$want' and none is cached in $sources"
	[ -n "$dsc" ] || die "apt cannot find the source of '$want' and none is cached in $sources"
	echo "fetch-debian-source: apt could not resolve '$want'; using the cached $dsc" >&2
	echo "$dsc"
	exit 0
fi

dir=$sources/${pkg}_$version
dsc=$dir/${pkg}_$version.dsc
exec 9>"$sources/.${pkg}.lock"
flock 9
if [ ! -f "$dsc" ]; then
	tmp=$(mktemp -d "$sources/.tmp-${pkg}-XXXXXX")
	trap 'rm -rf "$tmp" "$empty"' EXIT
	echo "fetch-debian-source: downloading $pkg $version into $dir" >&2
	# apt drops privileges to _apt for the download; the cache may be
	# unreadable to it, which only costs a warning.
	(cd "$tmp" && apt-get source --download-only -qq "$want" >/dev/null 2>&1) ||
		(cd "$tmp" && apt-get source --download-only -q "$want" >&2) ||
		die "apt-get source --download-only $want failed"
	[ -f "$tmp/${pkg}_$version.dsc" ] ||
		die "apt fetched no ${pkg}_$version.dsc (did the archive change meanwhile?); run again"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	chmod 755 "$dir"
fi
echo "$dsc"
