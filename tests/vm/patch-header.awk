# SPDX-License-Identifier: MIT
#
# patch-header.awk: reads one patch file (git format-patch mail or a DEP-3
# header) and prints what a commit needs, one item a line:
#   1 author name      (From:/Author:; empty when none)
#   2 author email     (empty when none)
#   3 date             (Date:; else Last-Update:/Last-Updated: as
#                       "YYYY-MM-DD 00:00:00 +0000"; else empty)
#   4 subject          (Subject: unfolded, "[PATCH n/m]" dropped; else the
#                       first line of Description:; else empty)
#   5.. body           (the mail's text up to its "---" line, or the
#                       Description's further lines and free text before
#                       the diff; then the header's other fields, such as
#                       Origin: or Forwarded:, as they were)
# Used by make-edk2-history.sh and bench/make-qemu-history.sh.  POSIX awk.

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }

function person(v,    lt, gt) {
	v = trim(v)
	lt = index(v, "<"); gt = index(v, ">")
	if (lt > 0 && gt > lt) {
		email = substr(v, lt + 1, gt - lt - 1)
		v = trim(substr(v, 1, lt - 1))
	} else if (v ~ /^[^ ]+@[^ ]+$/) {
		email = v
	}
	gsub(/"/, "", v)
	name = v
}

function emit(line) {
	if (line == "" && nbody == 0)
		return
	body[++nbody] = line
}

BEGIN { state = "fields"; field = ""; nbody = 0 }

# Where the diff starts, and the end of a mail's text (its diffstat follows).
/^(--- |\+\+\+ |diff |Index: |====)/ { exit }
/^---[ \t\r]*$/ { exit }

NR == 1 && /^From [0-9a-f]+ / { next }

state == "fields" && /^[A-Za-z][A-Za-z0-9-]*:/ {
	key = tolower(substr($0, 1, index($0, ":") - 1))
	val = trim(substr($0, index($0, ":") + 1))
	field = key
	if (key == "from" || key == "author") {
		if (name == "")
			person(val)
	} else if (key == "date") {
		date = val
	} else if (key == "subject") {
		subject = val
	} else if (key == "description") {
		if (subject == "")
			subject = val
		else
			emit(val)
	} else if (key == "last-update" || key == "last-updated") {
		if (lastupdate == "")
			lastupdate = val
		other[++nother] = trim($0)
	} else if (key ~ /^(mime-version|content-type|content-transfer-encoding|message-id|in-reply-to|references|x-.*)$/) {
		# mail transport, not the change
	} else {
		other[++nother] = trim($0)
	}
	next
}

state == "fields" && /^[ \t]/ && field != "" {
	val = trim($0)
	if (field == "subject") {
		subject = subject " " val
	} else if (field == "description") {
		emit(val == "." ? "" : val)
	} else if (nother > 0 && field != "from" && field != "author" && field != "date") {
		other[nother] = other[nother] " " val
	}
	next
}

state == "fields" {
	# The first line that is not a field ends the fields; a blank one
	# is just the separator.
	state = "text"
	if (trim($0) == "")
		next
}

state == "text" {
	sub(/\r$/, "")
	emit($0)
}

END {
	# The other fields after the text, as a mail's trailers.
	while (nbody > 0 && body[nbody] ~ /^[ \t]*$/)
		nbody--
	if (nother > 0) {
		emit("")
		for (i = 1; i <= nother; i++)
			emit(other[i])
	}
	sub(/^\[[^]]*\][ \t]*/, "", subject)
	if (date == "" && lastupdate ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/)
		date = lastupdate " 00:00:00 +0000"
	print name
	print email
	print date
	print trim(subject)
	# Drop trailing blank lines.
	while (nbody > 0 && body[nbody] ~ /^[ \t]*$/)
		nbody--
	for (i = 1; i <= nbody; i++)
		print body[i]
}
