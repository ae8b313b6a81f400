#!/bin/sh
# Prepare a fresh Debian 12 host and build hotplug-ci:
# install packages, start virtlogd/libvirtd, configure and build into build/.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: run as root (apt-get and libvirtd need it): sudo ci/setup.sh" >&2
	exit 1
fi
ci/install-deps.sh
ci/start-services.sh
ci/grant-qemu-access.sh
if [ ! -f build/build.ninja ]; then
	meson setup build --werror
fi
ninja -C build
echo "setup: built build/harness/hotplug-ci"
