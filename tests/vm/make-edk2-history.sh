#!/bin/bash
# SPDX-License-Identifier: MIT
#
# make-edk2-history.sh DEST [--plant-bad N|random] [--plant-broken M|random]
#                           [--seed S] [--debian-version VERSION]
#
# What: makes DEST a git repository whose history is Debian's edk2 source
# package as real commits: the first commit is the upstream tree Debian ships
# (edk2_2022.11.orig.tar.xz, upstream edk2-stable202211), then one commit per
# patch of debian/patches/series, in order, with the author, date and subject
# of the patch's header (git mail or DEP-3; the file name when it has none) and
# the file name in the body.  debian/ itself is not in the history.
#
# Why: `hotplug-ci bisect` needs real edk2 histories for its tests, with a
# known first bad commit.  Every commit from the tag debian-build-fixes (the
# third Debian patch) on builds OVMF, except a planted broken one; the two
# before it cannot: the orig lacks the brotli sources BaseTools builds until
# brotlicompress-disable.diff.  So bisect from debian-build-fixes or later.
# The series already starts with the three build fixes (no-stack-protector-
# all-archs.diff, brotlicompress-disable.diff, x64-baseline-abi.patch); if a
# later Debian version did not, they would be moved first, as the commit
# bodies then say.
#
# Planting:
#   --plant-bad N     after the N-th Debian patch commit (0: right after the
#                     orig), a commit that stops OVMF from negotiating CPU
#                     hotplug (and hot-unplug) with SMI: boot works, QEMU
#                     refuses a CPU device_add with "cpu hotplug with SMI
#                     wasn't enabled by firmware" (cell outcome `refused`).
#   --plant-broken M  after the M-th, a commit that does not compile
#                     (OvmfPkg/QemuVideoDxe, nothing to do with hotplug),
#                     followed at once by its fix: one commit fails to build.
#   random            a position from --seed S (default 0), deterministic;
#                     both random positions are distinct and fall after the
#                     build fixes (3..number of patches).
#
# Output: progress on stderr; on stdout one line
#   count=<commits> head=<sha> planted-bad=<sha|none> bad-position=<N|none>
#   planted-broken=<sha|none> broken-position=<M|none> fixed-broken=<sha|none>
# Tags: edk2-stable202211 (the orig), debian-build-fixes (the first commit
# that builds), debian/<version> (the last Debian patch), planted-bad,
# planted-broken, planted-broken-fix.
#
# The same inputs give the same commit ids: committer identity and dates are
# fixed (committer date = author date), and git's user configuration is not
# read.  DEST must not exist or be empty.  The Debian source is downloaded
# once into ${HPCI_CACHE_DIR:-~/.cache/hotplug-ci}/sources/ (see
# fetch-debian-source.sh); after that the script takes about 10-20 seconds.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prog=make-edk2-history

die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }
usage() {
	sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

dest='' plant_bad='' plant_broken='' seed=0 debian_version=''
while [ $# -gt 0 ]; do
	case $1 in
	--plant-bad) [ $# -ge 2 ] || usage; plant_bad=$2; shift 2 ;;
	--plant-bad=*) plant_bad=${1#*=}; shift ;;
	--plant-broken) [ $# -ge 2 ] || usage; plant_broken=$2; shift 2 ;;
	--plant-broken=*) plant_broken=${1#*=}; shift ;;
	--seed) [ $# -ge 2 ] || usage; seed=$2; shift 2 ;;
	--seed=*) seed=${1#*=}; shift ;;
	--debian-version) [ $# -ge 2 ] || usage; debian_version=$2; shift 2 ;;
	--debian-version=*) debian_version=${1#*=}; shift ;;
	-h|--help) awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"; exit 0 ;;
	-*) die "unknown option '$1'" ;;
	*) [ -z "$dest" ] || usage; dest=$1; shift ;;
	esac
done
[ -n "$dest" ] || usage
for v in "$plant_bad" "$plant_broken"; do
	case $v in ''|random|[0-9]|[0-9][0-9]) ;; *) die "a position is a number or 'random', not '$v'" ;; esac
done
. "$here/history-common.sh"
history_check_dest "$dest" git patch dpkg-source awk sha256sum

# ---- the source ---------------------------------------------------------------
dsc=$("$here/fetch-debian-source.sh" edk2 ${debian_version:+"$debian_version"})
version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)
maintainer=$(sed -n 's/^Maintainer: //p' "$dsc" | head -n1)

history_unpack "$dsc"

# series: one patch a line, '#' comments; quilt allows options after the name.
mapfile -t series < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$patches/series")
for i in "${!series[@]}"; do
	# shellcheck disable=SC2086 # split the entry into name and options
	set -- ${series[$i]}
	[ $# = 1 ] || [ "$2" = -p1 ] || die "series entry '${series[$i]}': only -p1 is supported"
	series[i]=$1
	[ -f "$patches/$1" ] || die "series names $1, which debian/patches lacks"
done
n=${#series[@]}

# The three build fixes must come first, or the early commits cannot build.
build_fixes=(no-stack-protector-all-archs.diff brotlicompress-disable.diff x64-baseline-abi.patch)
reordered=
if [ "${series[*]:0:3}" != "${build_fixes[*]}" ]; then
	rest=()
	for p in "${series[@]}"; do
		case " ${build_fixes[*]} " in *" $p "*) ;; *) rest+=("$p") ;; esac
	done
	[ $((${#rest[@]} + 3)) = "$n" ] || die "the series lacks one of ${build_fixes[*]}"
	series=("${build_fixes[@]}" "${rest[@]}")
	reordered="Reordered: debian/patches/series does not start with the build fixes
${build_fixes[*]}; this history applies them first so that
every later commit builds."
	say "the series did not start with the build fixes: moved them first"
fi

# ---- planted positions ----------------------------------------------------------
# A number from the seed and a salt: the first 8 hex digits of a sha256.
pick() {
	local h
	h=$(printf '%s:%s' "$seed" "$1" | sha256sum | cut -c1-8)
	echo $((16#$h))
}
first_buildable=3
span=$((n - first_buildable + 1))
if [ "$plant_bad" = random ]; then
	plant_bad=$((first_buildable + $(pick bad) % span))
fi
if [ "$plant_broken" = random ]; then
	plant_broken=$((first_buildable + $(pick broken) % span))
	if [ "$plant_broken" = "$plant_bad" ]; then
		plant_broken=$((first_buildable + (plant_broken - first_buildable + 1) % span))
	fi
fi
for v in "$plant_bad" "$plant_broken"; do
	[ -z "$v" ] || [ "$v" -le "$n" ] || die "position $v is past the last of the $n Debian patches"
done
for v in "$plant_bad" "$plant_broken"; do
	[ -z "$v" ] || [ "$v" -ge "$first_buildable" ] ||
		say "warning: position $v is before the build fixes are in; those commits do not build"
done

# ---- git ------------------------------------------------------------------------
history_git_init

last_date=

# The orig: dated by its newest file.
orig_epoch=$(find "$dest" -path "$dest/.git" -prune -o -type f -printf '%T@\n' | sort -n | tail -n1)
orig_epoch=${orig_epoch%.*}
orig_tar=$(sed -n 's/^ [0-9a-f]\{64\} [0-9]* \(.*\.orig\.tar\.[a-z0-9]*\)$/\1/p' "$dsc" | head -n1)
msg=$scratch/msg
cat >"$msg" <<EOF
edk2-stable202211 (Debian orig)

The upstream tree of Debian's edk2 $version source package, as its
$orig_tar unpacks (dpkg-source --skip-patches), without
debian/.  Debian strips some upstream parts from it (BrotliCompress,
submodule sources); the build fixes that follow make it build.
EOF
commit "edk2 upstream" "devel@edk2.groups.io" "@$orig_epoch +0000" "$msg"
g tag edk2-stable202211

apply() { # FILE: as quilt would (-p1, no fuzz), else with fuzz; prints "fuzz" when it took fuzz
	local out
	if out=$(patch -d "$dest" -p1 -t -N -u -E -F0 -V never --dry-run -i "$1" 2>&1); then
		patch -d "$dest" -p1 -t -N -u -E -F0 -V never --no-backup-if-mismatch -s -i "$1" >&2
	elif out=$(patch -d "$dest" -p1 -t -N -u -E -F2 -V never --dry-run -i "$1" 2>&1); then
		patch -d "$dest" -p1 -t -N -u -E -F2 -V never --no-backup-if-mismatch -s -i "$1" >/dev/null
		echo fuzz
	else
		echo "$out" >&2
		die "$(basename "$1") does not apply"
	fi
}

planted_bad=none planted_broken=none fixed_broken=none

# Stop requesting CPU hot(un)plug with SMI: an inverted SEV condition.
plant_bad_commit() {
	local f=OvmfPkg/SmmControl2Dxe/SmiFeatures.c
	grep -q '^  if (!MemEncryptSevIsEnabled ()) {' "$dest/$f" || die "$f is not as expected"
	sed -i 's/^  if (!MemEncryptSevIsEnabled ()) {/  if (MemEncryptSevIsEnabled ()) {/' "$dest/$f"
	cat >"$msg" <<'EOF'
OvmfPkg/SmmControl2Dxe: request CPU hotplug SMI features only with SEV

Simplify the SEV check around the CPU hotplug and hot-unplug feature
bits in NegotiateSmiFeatures().

(Planted by hotplug-ci's make-edk2-history.sh --plant-bad: the condition
is inverted, so without SEV OVMF negotiates only broadcast SMI, and QEMU
refuses a CPU device_add with "cpu hotplug with SMI wasn't enabled by
firmware".  It builds, and the guest boots.)
EOF
	commit "Hotplug Regression" "regression@hotplug-ci.invalid" "$last_date" "$msg"
	planted_bad=$(g rev-parse HEAD)
	g tag planted-bad
}

# A half-done rename that does not compile, then the other half.
plant_broken_commits() {
	local f=OvmfPkg/QemuVideoDxe/Gop.c
	local range='/^QemuVideoGraphicsOutputSetMode (/,/^}/'
	[ "$(sed -n "$range{/^  QEMU_VIDEO_PRIVATE_DATA  *\*Private;/p}" "$dest/$f" | wc -l)" = 1 ] ||
		die "$f is not as expected"
	# QemuVideoGraphicsOutputSetMode(): the declaration and the assignment only.
	sed -i -e "$range{s/^\(  QEMU_VIDEO_PRIVATE_DATA  *\)\*Private;/\1*VideoPrivate;/" \
	       -e "s/^  Private = /  VideoPrivate = /}" "$dest/$f"
	cat >"$msg" <<'EOF'
OvmfPkg/QemuVideoDxe: rename Private to VideoPrivate in SetMode

QemuVideoGraphicsOutputSetMode() handles both the mode data and the
private data; name the latter for what it is.

(Planted by hotplug-ci's make-edk2-history.sh --plant-broken: only the
declaration and the assignment are renamed, so QemuVideoDxe fails to
compile: 'Private' undeclared.  The next commit completes the rename.)
EOF
	commit "Build Breaker" "broken@hotplug-ci.invalid" "$last_date" "$msg"
	planted_broken=$(g rev-parse HEAD)
	g tag planted-broken
	sed -i -e "$range{s/\bPrivate\b/VideoPrivate/g}" "$dest/$f"
	cat >"$msg" <<'EOF'
OvmfPkg/QemuVideoDxe: complete the VideoPrivate rename in SetMode

The previous commit renamed the declaration but not the uses, which
broke the build.
EOF
	commit "Build Breaker" "broken@hotplug-ci.invalid" "$last_date" "$msg"
	fixed_broken=$(g rev-parse HEAD)
	g tag planted-broken-fix
}

plant() { # position
	if [ "$1" = "$plant_bad" ]; then
		plant_bad_commit
	fi
	if [ "$1" = "$plant_broken" ]; then
		plant_broken_commits
	fi
}

plant 0
i=0
for p in "${series[@]}"; do
	i=$((i + 1))
	fuzz=$(apply "$patches/$p")
	{
		mapfile -t h < <(awk -f "$here/patch-header.awk" "$patches/$p")
		name=${h[0]:-} email=${h[1]:-} date=${h[2]:-} subject=${h[3]:-}
		if [ -z "$name" ]; then
			name=${maintainer% <*}; email=${maintainer##*<}; email=${email%>}
		fi
		[ -n "$email" ] || email=unknown@invalid
		[ -n "$subject" ] || subject=$p
		{
			echo "$subject"
			echo
			if [ ${#h[@]} -gt 4 ]; then
				printf '%s\n' "${h[@]:4}"
				echo
			fi
			echo "Debian-Patch: debian/patches/$p (edk2 $version, $i of $n)"
			if [ -n "$fuzz" ]; then
				echo "Applied with fuzz: it does not apply exactly here."
			fi
			if [ -n "$reordered" ] && [ $i -le 3 ]; then
				echo
				echo "$reordered"
			fi
		} >"$msg"
	}
	commit "$name" "$email" "$date" "$msg"
	[ $i = 3 ] && g tag debian-build-fixes
	plant $i
done
g tag "debian/$(echo "$version" | tr ':~' '%_')" "$(g rev-list -1 --grep='^Debian-Patch: debian/patches/' HEAD)"

# Nothing left behind: the tree is exactly the last commit.
[ -z "$(g status --porcelain --ignored)" ] || die "the work tree differs from HEAD after the last patch"
count=$(g rev-list --count HEAD)
head=$(g rev-parse HEAD)
say "$count commits (orig + $n Debian patches$([ "$planted_bad" = none ] || echo ' + 1 planted bad')$([ "$planted_broken" = none ] || echo ' + 2 planted broken/fix')), head $head"
echo "count=$count head=$head planted-bad=$planted_bad bad-position=${plant_bad:-none}" \
     "planted-broken=$planted_broken broken-position=${plant_broken:-none} fixed-broken=$fixed_broken"
