#!/bin/sh
# Start virtlogd and libvirtd when they are not running (hosts without systemd,
# such as CI containers). Waits until qemu:///system answers.
set -eu

pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

pid_alive /run/virtlogd.pid || virtlogd -d
# libvirt daemonizes QEMU, so a QEMU that exits is reaped by the nearest
# subreaper, else by PID 1, and libvirt counts it running (kill(pid, 0)) until
# then: a destroy returns only once the zombie is gone.  A container's PID 1
# may reap late (1.4-1.5 s per QEMU on the CI host, whose PID 1 is
# process_api; every cell's teardown paid it), so libvirtd runs under tini as
# a subreaper that reaps at once.
if ! pid_alive /run/libvirtd.pid; then
	if command -v tini >/dev/null 2>&1; then
		setsid tini -s -- libvirtd </dev/null >/dev/null 2>&1 &
	else
		libvirtd -d
	fi
fi

i=0
until virsh -c qemu:///system version >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 50 ]; then
		echo "start-services: libvirtd did not answer on qemu:///system within 10 s" >&2
		exit 1
	fi
	sleep 0.2
done
echo "start-services: libvirtd answers on qemu:///system"
