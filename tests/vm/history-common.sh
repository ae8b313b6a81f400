# SPDX-License-Identifier: MIT
#
# Sourced by tests/vm/make-edk2-history.sh and bench/make-qemu-history.sh: what
# both do before their first commit.  The caller defines die() and say().

# DEST must be absent or an empty directory; the tools must be there.
history_check_dest() {
	if [ -e "$1" ]; then
		if [ ! -d "$1" ] || [ -n "$(ls -A "$1")" ]; then
			die "'$1' exists and is not an empty directory"
		fi
	fi
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "needs $tool"
	done
}

# Unpacks the .dsc $1 without its patches into $dest (absolute afterwards);
# debian/ goes to $scratch/debian, its patches are $patches.  On failure DEST
# goes too: a half-made history must not pass for a whole one.
history_unpack() {
	parent=$(cd "$(dirname "$dest")" && pwd)
	scratch=$(mktemp -d "$parent/.$(basename "$dest").tmp-XXXXXX")
	made=
	# shellcheck disable=SC2154 # rc is set inside the trap
	trap 'rc=$?; rm -rf "$scratch"; if [ $rc != 0 ] && [ -n "$made" ]; then rm -rf "$dest"; fi' EXIT
	say "unpacking $(basename "$1") without its patches"
	dpkg-source --no-check -x --skip-patches "$1" "$scratch/src" >/dev/null
	mv "$scratch/src/debian" "$scratch/debian"
	if [ -d "$dest" ]; then rmdir "$dest"; fi
	mv "$scratch/src" "$dest"
	made=1
	dest=$(cd "$dest" && pwd)
	patches=$scratch/debian/patches
}

# commit NAME EMAIL DATE MESSAGE-FILE: everything in the tree as one commit,
# authored and committed at DATE (a date git cannot read is no date: the
# previous commit's then), so the same inputs give the same ids.  Needs the
# caller's g() (git on DEST) and last_date.
commit() {
	local date=$3
	if [ -z "$date" ] || ! GIT_AUTHOR_NAME=n GIT_AUTHOR_EMAIL=e GIT_AUTHOR_DATE=$date \
		g var GIT_AUTHOR_IDENT >/dev/null 2>&1; then
		date=$last_date
	fi
	g add -A -f .
	GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL=$2 GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
		g commit -q --allow-empty --no-verify -F "$4"
	last_date=$date
}

# A git repository in $dest that reads no user or system configuration, with
# a fixed committer and time zone, and g(), git on it.
history_git_init() {
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
	export GIT_COMMITTER_NAME="hotplug-ci history" GIT_COMMITTER_EMAIL="hotplug-ci@localhost"
	export TZ=UTC LC_ALL=C
	git init -q --template= -b main "$dest"
}

g() { git -C "$dest" -c core.autocrlf=false -c core.fileMode=true -c commit.gpgSign=false \
	-c gc.auto=0 "$@"; }
