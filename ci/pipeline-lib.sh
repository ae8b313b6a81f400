# shellcheck shell=bash
# Sourced by the pipeline's job scripts (.gitlab-ci.yml, ci/README.md): where
# hotplug-ci is, which matrix the pipeline runs, and the --set options the
# pipeline variables EDK2_SOURCE/EDK2_REV/QEMU_SOURCE/QEMU_REV make.

HPCI=build/harness/hotplug-ci
MATRIX=${HOTPLUG_CI_MATRIX:-matrix/full.json}
# Outside the job's directory: the reports name these checkouts, and the
# bisect job, in another directory, builds from them.
MIRRORS=${HOTPLUG_CI_MIRRORS:-${HOME}/.cache/hotplug-ci/mirrors}

say() { printf 'pipeline: %s\n' "$*" >&2; }

# A git remote: a URL that is not a tarball's, or git@host:path.  A local
# checkout path, debian:PACKAGE and tarball URLs go to hotplug-ci as they are.
is_git_remote() {
	case $1 in
	*.tar|*.tar.gz|*.tgz|*.tar.xz|*.tar.bz2|*.tar.zst) return 1 ;;
	*://*|*@*:*) return 0 ;;
	*) return 1 ;;
	esac
}

# resolve_rev DIR REV: the commit REV names in a clone made by mirror_git:
# the remote's branch of that name first (the local one is as old as the
# clone), then a tag or commit.
resolve_rev() {
	git -C "$1" rev-parse --verify --quiet "refs/remotes/origin/$2^{commit}" ||
		git -C "$1" rev-parse --verify --quiet "$2^{commit}"
}

# mirror_git URL REV: a clone of URL with its submodules under $MIRRORS,
# fetched now and checked out at REV (a branch of the remote first, then a
# tag or commit); prints "PATH COMMIT".  Shards of one pipeline share the
# clone, hence the lock.
mirror_git() {
	local url=$1 rev=$2 name dir commit
	name=$(basename "${url%.git}")
	dir="$MIRRORS/$name-$(printf %s "$url" | sha256sum | cut -c1-12)"
	mkdir -p "$MIRRORS"
	(
		flock 9
		if [ ! -d "$dir/.git" ]; then
			say "cloning $url into $dir"
			rm -rf "$dir.part"
			git clone --quiet --no-checkout "$url" "$dir.part" >&2 && mv "$dir.part" "$dir"
		fi
		git -C "$dir" fetch --quiet --force --tags origin \
			'+refs/heads/*:refs/remotes/origin/*' >&2
		commit=$(resolve_rev "$dir" "$rev") || {
			say "$url has no branch, tag or commit '$rev'; set the *_REV variable to one"
			exit 2
		}
		git -C "$dir" checkout --quiet --force --detach "$commit" >&2
		git -C "$dir" submodule --quiet update --init --recursive >&2
		echo "$dir $commit"
	) 9>"$dir.lock"
}

# component_sets ARRAY AXIS SOURCE REV: appends to the array named ARRAY the
# --set options that point every build recipe of AXIS (firmware or qemu) at
# SOURCE and REV; nothing when both are empty (the matrix's own recipes stay).
component_sets() {
	local -n sets_out=$1
	local axis=$2 source=$3 rev=$4 mirrored
	if [ -n "$source" ] && is_git_remote "$source"; then
		mirrored=$(mirror_git "$source" "${rev:-HEAD}") || exit 2
		source=${mirrored% *}
		rev=${mirrored#* }
		say "$axis: $3 ${4:-HEAD} is $rev in $source"
	fi
	[ -z "$source" ] || sets_out+=(--set "axes.$axis.*.build.source=$source")
	[ -z "$rev" ] || sets_out+=(--set "axes.$axis.*.build.rev=$rev")
}

# pipeline_sets ARRAY: the --set options of all four variables.
pipeline_sets() {
	component_sets "$1" firmware "${EDK2_SOURCE:-}" "${EDK2_REV:-}"
	component_sets "$1" qemu "${QEMU_SOURCE:-}" "${QEMU_REV:-}"
}
