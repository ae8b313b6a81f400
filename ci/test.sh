#!/bin/sh
# Run every test: the unit tests in an ASan/UBSan build (seconds), then the
# VM tests against the real libvirtd (minutes).  Ends with "N passed, N failed".
# Requires ci/setup.sh to have run once on this host.
set -u
cd "$(dirname "$0")/.."

if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
if [ ! -f build/build.ninja ]; then
	meson setup build --werror >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || { ninja -C build-asan; exit 1; }
ninja -C build >/dev/null || { ninja -C build; exit 1; }

meson test -C build-asan --suite unit --print-errorlogs
# The fuzz targets (clang) build and pass over their seeds and past findings.
if command -v clang >/dev/null; then
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Dfuzzing=true -Dtests=disabled >/dev/null || exit 1
	fi
	ninja -C build-fuzz >/dev/null || { ninja -C build-fuzz; exit 1; }
	meson test -C build-fuzz --suite fuzz --print-errorlogs
fi
meson test -C build --suite vm --print-errorlogs --num-processes 1

# meson writes one JSON object per test to testlog.json; count the results.
count() {
	grep -ho "\"result\": \"$1\"" build-asan/meson-logs/testlog.json \
		build-fuzz/meson-logs/testlog.json build/meson-logs/testlog.json 2>/dev/null | wc -l
}
passed=$(count OK)
failed=$(( $(count FAIL) + $(count TIMEOUT) + $(count ERROR) + $(count UNEXPECTEDPASS) ))
skipped=$(count SKIP)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
