#!/bin/sh
# The HTML page of `hotplug-ci report html` as a browser renders it: headless
# Chromium loads the page made from a recorded report, and the DOM it ends up
# with must hold the verdict grid and both charts with one bar each; a
# screenshot must come out as a real picture.  Skips (77) without Chromium.
#
# usage: test-report-html.sh FIXTURE_REPORT.json   (HOTPLUG_CI: the binary)
set -eu

report=$1
# What tests/fixtures/reports/full/report.json holds: 6 cells, 5 of which
# booted, and 5 plugs that came online (one each in two cells, three in one).
cells=6
boot_bars=5
plug_bars=5

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

browser=
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		browser=$b
		break
	fi
done
if [ -z "$browser" ]; then
	echo "SKIP: no chromium (ci/install-deps.sh installs it)"
	exit 77
fi
[ -n "${HOTPLUG_CI:-}" ] || fail "HOTPLUG_CI is not set"

work=$(mktemp -d "${TMPDIR:-/tmp}/hpci-report-html-XXXXXX")
trap 'rm -rf "$work"' EXIT
page=$work/index.html

"$HOTPLUG_CI" report html "$report" -o "$page" || fail "report html exited $?"

# Chromium wants a writable home and profile; --no-sandbox because CI runs
# as root.  Its D-Bus complaints on stderr are noise in a container.
run_browser() {
	HOME=$work timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}

run_browser --dump-dom "file://$page" >"$work/dom.html" ||
	fail "chromium --dump-dom failed: $(tail -5 "$work/chromium.log")"

# Counts an element's occurrences inside the element with the given id
# (an svg or table; neither nests its own kind).
count_in() {
	tag=$1 id=$2 what=$3
	awk -v RS="</$tag>" -v tag="$tag" -v id="id=\"$id\"" -v what="$what" '
		{
			start = index($0, "<" tag)
			if (start == 0) next
			element = substr($0, start)
			head = substr(element, 1, index(element, ">"))
			if (index(head, id) == 0) next
			print gsub(what, "&", element)
			found = 1
		}
		END { if (!found) print -1 }' "$work/dom.html"
}

n=$(count_in table grid '<td [^>]*class="verdict ')
[ "$n" -eq "$cells" ] || fail "table#grid has $n verdict boxes in the rendered DOM, want $cells"
n=$(count_in svg boot-chart '<rect ')
[ "$n" -eq "$boot_bars" ] || fail "svg#boot-chart has $n bars in the rendered DOM, want $boot_bars"
n=$(count_in svg plug-chart '<rect ')
[ "$n" -eq "$plug_bars" ] || fail "svg#plug-chart has $n bars in the rendered DOM, want $plug_bars"
grep -q '&lt;no response&gt; &amp; the serial' "$work/dom.html" ||
	fail "the failing cell's error is not in the DOM as text"

run_browser --screenshot="$work/page.png" --window-size=1400,1000 "file://$page" >/dev/null ||
	fail "chromium --screenshot failed: $(tail -5 "$work/chromium.log")"
[ -f "$work/page.png" ] || fail "no screenshot"
size=$(wc -c <"$work/page.png")
[ "$size" -gt 10240 ] || fail "screenshot is only $size bytes"
# PNG signature: \211 P N G
[ "$(head -c 4 "$work/page.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
	fail "screenshot is not a PNG"

echo "ok: grid $cells boxes, boot chart $boot_bars bars, plug chart $plug_bars bars," \
	"screenshot $size bytes ($browser)"
