#!/bin/sh
# Start virtlogd and libvirtd when they are not running (hosts without systemd,
# such as CI containers). Waits until qemu:///system answers.
set -eu

pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

pid_alive /run/virtlogd.pid || virtlogd -d
pid_alive /run/libvirtd.pid || libvirtd -d

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
