#!/bin/sh
# Install the Debian packages hotplug-ci needs to build, test and run real VMs.
# Idempotent: apt-get skips what is already there.
set -eu

BUILD_PKGS="meson ninja-build gcc libc6-dev pkg-config
 libvirt-dev libguestfs-dev libcurl4-openssl-dev libjson-c-dev libxml2-dev libcmocka-dev libglib2.0-dev"
# What qemu-build/ needs to build QEMU 7.2 (minimal TCG x86_64) from the Debian
# source package, a git checkout or a tarball; acl lets libvirt's QEMU user
# reach the builds (ci/grant-qemu-access.sh).
QEMU_BUILD_PKGS="git patch dpkg-dev ccache python3 libpixman-1-dev libslirp-dev
 libfdt-dev zlib1g-dev flex bison acl"
# What firmware-build/ needs to build OVMF (BaseTools, then edk2's build).
FIRMWARE_BUILD_PKGS="make g++ nasm acpica-tools uuid-dev python3-distutils"
RUN_PKGS="libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
 qemu-system-x86 qemu-utils ovmf seabios ipxe-qemu
 libguestfs-tools linux-image-amd64
 systemd-boot-efi busybox-static qemu-guest-agent cpio zstd
 e2fsprogs kmod gzip tini"
# The fuzz targets (tests/fuzz, bench/fuzz): clang and libFuzzer's runtime.
FUZZ_PKGS="clang libclang-rt-14-dev"
# The headless browser tests/vm/test-report-html.sh renders the HTML report with.
CHROMIUM_PKGS="chromium"
# The pipeline test (tests/vm/test-nightly-pipeline.sh) runs .gitlab-ci.yml
# with gitlab-ci-local, an npm package, whose shell executor copies each job's
# tree with rsync; the pipeline's mirror of a git remote takes a lock (flock);
# the unit test of .gitlab-ci.yml reads gitlab-ci-local's preview (python3-yaml).
PIPELINE_PKGS="rsync util-linux git python3-yaml"
# 4.55.0 is the newest that runs on Node 20 (later ones need Node 22 or a
# native module that does not build here) and lists the schedule's jobs.
GITLAB_CI_LOCAL_VERSION=4.55.0

export DEBIAN_FRONTEND=noninteractive

# The guest image's attack module (images/minimal/hpci_attack) is built against
# the guest kernel, the newest /boot/vmlinuz-<v> (images/README.md): its headers.
kernel_headers() {
	v=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
	[ -n "$v" ] && echo "linux-headers-$v"
}

missing_of() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			printf ' %s' "$p"
	done
}

# shellcheck disable=SC2086
missing=$(missing_of $BUILD_PKGS $QEMU_BUILD_PKGS $FIRMWARE_BUILD_PKGS $RUN_PKGS $FUZZ_PKGS \
	$CHROMIUM_PKGS $PIPELINE_PKGS $(kernel_headers))
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
# Installing linux-image-amd64 may have brought a newer kernel than the
# headers above were chosen for.
missing=$(missing_of $(kernel_headers))
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
if ! command -v npm >/dev/null; then
	echo "install-deps: installing nodejs npm"
	apt-get install -y -q --no-install-recommends nodejs npm
fi
if [ "$(gitlab-ci-local --version 2>/dev/null)" != "$GITLAB_CI_LOCAL_VERSION" ]; then
	echo "install-deps: installing gitlab-ci-local $GITLAB_CI_LOCAL_VERSION (npm)"
	npm install --global --no-audit --no-fund --loglevel=error \
		"gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION"
fi
echo "install-deps: all packages present"
