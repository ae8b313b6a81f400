#!/bin/bash
# SPDX-License-Identifier: MIT
#
# make-qemu-history.sh DEST [--debian-version VERSION] [--no-build-fixes]
#
# What: makes DEST a git repository of Debian's QEMU 7.2 stable line as real
# commits: QEMU 7.2.0 as Debian ships it (qemu_7.2+dfsg.orig.tar.xz, DFSG-
# repacked: no firmware blobs, no roms/ sources), Debian's two build fixes for
# that repacked tree, then debian/patches/v7.2.1.diff ... v7.2.22.diff, one
# commit each, tagged v7.2.N, subject "v7.2.N (Debian debian/patches/
# v7.2.N.diff)", author and date from the diff's header.  Debian's other
# patches (openbios, slof, spelling, linux-user, ...) and debian/ are not in
# it.
#
# Why: a bench for `hotplug-ci bisect --qemu DEST --good v7.2.0 --bad v7.2.22
# --term-old broken --term-new fixed`, which should name v7.2.1: the stable
# release that carries upstream dab30fbef389 (the TCG switch of the CPU
# hotplug register block to its modern mode, broken since 5.1).
#
# Commits and tags:
#   v7.2.0-orig  the orig tarball as unpacked; it does not build as a git
#                source: the DFSG repack lacks the blobs pc-bios/meson.build
#                names, and tests/qtest/meson.build then lacks `roms`;
#   v7.2.0       + skip-meson-pc-bios.diff and ignore-roms-dependency-in-
#                qtest.patch (Debian applies them after the stable diffs; here
#                they come first so that every tagged commit builds as a git
#                source: `hotplug-ci build qemu --source DEST --rev v7.2.N`);
#   v7.2.1 ... v7.2.22.
# --no-build-fixes leaves the second commit out (v7.2.0 is then the orig).
#
# Output: progress on stderr; on stdout one line
#   count=<commits> head=<sha> v7.2.0=<sha>
# The same inputs give the same commit ids (fixed committer, committer date =
# author date, no user git configuration).  DEST must not exist or be empty.
# The source is downloaded once into ${HPCI_CACHE_DIR:-~/.cache/hotplug-ci}/
# sources/ by tests/vm/fetch-debian-source.sh; then the script takes well
# under a minute.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/../tests/vm
prog=make-qemu-history

die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }
usage() { sed -n '4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

dest='' debian_version='' build_fixes=yes
while [ $# -gt 0 ]; do
	case $1 in
	--debian-version) [ $# -ge 2 ] || usage; debian_version=$2; shift 2 ;;
	--debian-version=*) debian_version=${1#*=}; shift ;;
	--no-build-fixes) build_fixes=; shift ;;
	-h|--help) awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"; exit 0 ;;
	-*) die "unknown option '$1'" ;;
	*) [ -z "$dest" ] || usage; dest=$1; shift ;;
	esac
done
[ -n "$dest" ] || usage
. "$tools/history-common.sh"
history_check_dest "$dest" git patch dpkg-source awk

dsc=$("$tools/fetch-debian-source.sh" qemu ${debian_version:+"$debian_version"})
version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)

history_unpack "$dsc"
orig_tar=$(sed -n 's/^ [0-9a-f]\{64\} [0-9]* \(.*\.orig\.tar\.[a-z0-9]*\)$/\1/p' "$dsc" | head -n1)

# The stable diffs, in series order, numbered 1, 2, ... without a gap.
mapfile -t stable < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$patches/series" |
		      grep -E '^v7\.2\.[0-9]+\.diff$')
[ ${#stable[@]} -gt 0 ] || die "debian/patches/series names no v7.2.N.diff"
for i in "${!stable[@]}"; do
	[ "${stable[$i]}" = "v7.2.$((i + 1)).diff" ] ||
		die "series: expected v7.2.$((i + 1)).diff, found ${stable[$i]}"
done
fixes=(skip-meson-pc-bios.diff ignore-roms-dependency-in-qtest.patch)

history_git_init
msg=$scratch/msg

last_date=

apply() { # FILE: as quilt would (-p1, no fuzz)
	local out
	out=$(patch -d "$dest" -p1 -t -N -u -E -F0 -V never --dry-run -i "$1" 2>&1) || {
		echo "$out" >&2
		die "$(basename "$1") does not apply"
	}
	patch -d "$dest" -p1 -t -N -u -E -F0 -V never --no-backup-if-mismatch -s -i "$1" >&2
}

# The changelog entry that first names FILE: "NAME <EMAIL>\tDATE" of its trailer.
changelog_of() {
	awk -v file="$1" '
		!found && index($0, file) { found = 1 }
		found && /^ -- / {
			sub(/^ -- /, ""); split($0, a, "  "); print a[1] "\t" a[2]; exit
		}' "$scratch/debian/changelog"
}

header() { # FILE: name, email, date, subject, body (tests/vm/patch-header.awk)
	local cl
	mapfile -t h < <(awk -f "$tools/patch-header.awk" "$1")
	name=${h[0]:-} email=${h[1]:-} date=${h[2]:-} subject=${h[3]:-}
	# v7.2.3-5.diff have no header: the changelog entry that brought them in.
	if [ -z "$name" ] || [ -z "$date" ]; then
		cl=$(changelog_of "$(basename "$1")")
		if [ -n "$cl" ]; then
			[ -n "$name" ] || { name=${cl%% <*}; email=${cl#*<}; email=${email%%>*}; }
			[ -n "$date" ] || date=${cl#*$'\t'}
		fi
	fi
	[ -n "$name" ] || { name="Debian QEMU Team"; email=pkg-qemu-devel@lists.alioth.debian.org; }
	# The body without the diffstat and runs of blank lines.
	body=$(printf '%s\n' "${h[@]:4}" | awk '
		/^ .*\| +[0-9]+ |^ .*\| +Bin |^ [0-9]+ files? changed/ { next }
		/^[ \t]*$/ { blank = 1; next }
		{ if (blank && n) print ""; blank = 0; n++; print }')
}

orig_epoch=$(find "$dest" -path "$dest/.git" -prune -o -type f -printf '%T@\n' | sort -n | tail -n1)
orig_epoch=${orig_epoch%.*}
cat >"$msg" <<EOF
QEMU 7.2.0 (Debian orig $orig_tar)

The upstream tree of Debian's qemu $version source package as its
$orig_tar unpacks (dpkg-source --skip-patches), without
debian/.  Debian's repack drops the firmware blobs and the roms/ sources.
EOF
commit "QEMU upstream" "qemu-devel@nongnu.org" "@$orig_epoch +0000" "$msg"
g tag v7.2.0-orig

if [ -n "$build_fixes" ]; then
	bodies=
	for p in "${fixes[@]}"; do
		[ -f "$patches/$p" ] || die "debian/patches lacks $p"
		apply "$patches/$p"
		header "$patches/$p"
		bodies="$bodies
$p: ${subject:-$p}
$(printf '%s\n' "${h[@]:4}" | sed 's/^/    /')
"
	done
	cat >"$msg" <<EOF
Debian build fixes for the DFSG-repacked 7.2.0 tree

Without them the repacked tree does not configure: pc-bios/meson.build
names blobs the repack removed, and tests/qtest/meson.build then lacks
\`roms\`.  Debian applies both after the stable diffs; here they come
first, so that every v7.2.N commit builds as a git source.
$bodies
Debian-Patch: debian/patches/${fixes[0]} (qemu $version)
Debian-Patch: debian/patches/${fixes[1]} (qemu $version)
EOF
	commit "Debian QEMU Team" "pkg-qemu-devel@lists.alioth.debian.org" "$last_date" "$msg"
fi
g tag v7.2.0

n=${#stable[@]}
for i in $(seq 1 "$n"); do
	p=v7.2.$i.diff
	apply "$patches/$p"
	header "$patches/$p"
	{
		echo "v7.2.$i (Debian debian/patches/$p)"
		echo
		[ -z "$body" ] || { echo "$body"; echo; }
		echo "Debian-Patch: debian/patches/$p (qemu $version, $i of $n)"
	} >"$msg"
	commit "$name" "$email" "$date" "$msg"
	g tag "v7.2.$i"
done

[ -z "$(g status --porcelain --ignored)" ] || die "the work tree differs from HEAD after the last patch"
count=$(g rev-list --count HEAD)
head=$(g rev-parse HEAD)
say "$count commits (orig$([ -z "$build_fixes" ] || echo ' + build fixes') + $n stable diffs), head $head"
echo "count=$count head=$head v7.2.0=$(g rev-parse v7.2.0)"
