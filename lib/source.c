/* SPDX-License-Identifier: MIT */
#include "source.h"
#include "cmd.h"
#include "download.h"
#include "error.h"
#include "fsutil.h"
#include "git.h"
#include "own.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define APT_TIMEOUT_MS (20 * 60 * 1000)
#define TAR_TIMEOUT_MS (20 * 60 * 1000)
#define DEB_SRC_FILE "/etc/apt/sources.list.d/hotplug-ci-deb-src.sources"
#define DEB_SRC_LIST "/etc/apt/sources.list.d/hotplug-ci-deb-src.list"
#define SOURCES_HELP "give a git checkout, an https:// or file:// tarball URL, or debian:PACKAGE"

const char *hpci_source_kind_name(enum hpci_source_kind kind)
{
	switch (kind) {
	case HPCI_SOURCE_GIT:
		return "git";
	case HPCI_SOURCE_TARBALL:
		return "tarball";
	case HPCI_SOURCE_DEBIAN:
		return "debian";
	}
	return "?";
}

void hpci_source_release(struct hpci_source *src)
{
	if (!src)
		return;
	g_free(src->spec);
	g_free(src->location);
	g_free(src->rev);
	g_free(src->sha256);
	g_free(src->identity);
	g_free(src->describe);
	g_free(src->tarball);
	memset(src, 0, sizeof(*src));
}

void hpci_source_origin_set(struct hpci_source_origin *origin, const struct hpci_source *src)
{
	hpci_source_origin_clear(origin);
	origin->kind = g_strdup(hpci_source_kind_name(src->kind));
	origin->location = g_strdup(src->location);
	origin->revision = g_strdup(src->identity);
}

void hpci_source_origin_copy(struct hpci_source_origin *to, const struct hpci_source_origin *from)
{
	hpci_source_origin_clear(to);
	to->kind = g_strdup(from->kind);
	to->location = g_strdup(from->location);
	to->revision = g_strdup(from->revision);
}

void hpci_source_origin_clear(struct hpci_source_origin *origin)
{
	g_clear_pointer(&origin->kind, g_free);
	g_clear_pointer(&origin->location, g_free);
	g_clear_pointer(&origin->revision, g_free);
}

/* Debian policy 5.6.1 (package names) and 5.6.12 (versions), loosely. */
static bool valid_package(const char *s)
{
	return g_regex_match_simple("^[a-z0-9][a-z0-9+.-]+$", s, 0, 0);
}

static bool valid_version(const char *s)
{
	return g_regex_match_simple("^[0-9A-Za-z.+~:-]+$", s, 0, 0);
}

static int parse_debian(const char *spec, const char *rev, const char *package,
			struct hpci_source *ret)
{
	const char *name = spec + strlen("debian:");
	const char *eq = strchr(name, '=');
	g_autofree char *pkg = eq ? g_strndup(name, eq - name) : g_strdup(name);

	if (rev)
		return hpci_error(EINVAL, "source '%s': a revision applies to git sources only; "
				  "pin a Debian version as debian:%s=VERSION", spec, pkg);
	if (!valid_package(pkg))
		return hpci_error(EINVAL, "source '%s': '%s' is not a Debian package name; "
				  "write debian:%s", spec, pkg, package ? package : "PACKAGE");
	if (package && strcmp(pkg, package) != 0)
		return hpci_error(EINVAL, "source '%s': this build takes the Debian package "
				  "'%s', not '%s'; write debian:%s", spec, package, pkg, package);
	if (eq && !valid_version(eq + 1))
		return hpci_error(EINVAL, "source '%s': '%s' is not a Debian version "
				  "(e.g. debian:%s=1:7.2+dfsg-7+deb12u18)", spec, eq + 1, pkg);
	ret->kind = HPCI_SOURCE_DEBIAN;
	ret->location = g_steal_pointer(&pkg);
	ret->rev = eq ? g_strdup(eq + 1) : NULL;
	return 0;
}

enum hpci_source_kind hpci_source_kind_of(const char *spec)
{
	if (g_str_has_prefix(spec, "debian:"))
		return HPCI_SOURCE_DEBIAN;
	if (strstr(spec, "://"))
		return HPCI_SOURCE_TARBALL;
	return HPCI_SOURCE_GIT;
}

int hpci_source_parse(const char *spec, const char *rev, const char *sha256,
		      const char *package, struct hpci_source *ret)
{
	g_auto(hpci_source) src = { 0 };
	int rc = 0;

	if (!spec || !*spec)
		return hpci_error(EINVAL, "no source given; %s", SOURCES_HELP);
	if (rev && !*rev)
		return hpci_error(EINVAL, "source '%s': the revision is empty; give a commit, "
				  "tag or branch", spec);
	switch (hpci_source_kind_of(spec)) {
	case HPCI_SOURCE_DEBIAN:
		if (sha256)
			return hpci_error(EINVAL, "source '%s': a sha256 pin applies to tarball "
					  "URLs only; apt checks the Debian source itself", spec);
		rc = parse_debian(spec, rev, package, &src);
		break;
	case HPCI_SOURCE_TARBALL:
		if (rev)
			return hpci_error(EINVAL, "source '%s': a revision applies to git sources "
					  "only; a tarball is one version", spec);
		rc = hpci_download_check(spec, sha256);
		if (rc == 0) {
			src.kind = HPCI_SOURCE_TARBALL;
			src.location = g_strdup(spec);
			src.sha256 = g_strdup(sha256);
		}
		break;
	case HPCI_SOURCE_GIT:
		if (sha256)
			return hpci_error(EINVAL, "source '%s': a sha256 pin applies to tarball "
					  "URLs only; a git revision is pinned by its commit id", spec);
		if (rev && (rev[0] == '-' || strstr(rev, "..")))
			return hpci_error(EINVAL, "source '%s': '%s' is not a single revision; give "
					  "a commit, tag or branch", spec, rev);
		src.kind = HPCI_SOURCE_GIT;
		src.location = g_canonicalize_filename(spec, NULL);
		src.rev = g_strdup(rev ? rev : "HEAD");
		break;
	}
	if (rc < 0)
		return rc;
	src.spec = g_strdup(spec);
	*ret = HPCI_STEAL_STRUCT(src);
	return 0;
}

/* ---- git ------------------------------------------------------------------ */

static int resolve_git(struct hpci_source *src)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) desc = g_string_new(NULL);
	g_autofree char *want = g_strdup_printf("%s^{commit}", src->rev);
	g_autofree char *dotgit = g_build_filename(src->location, ".git", NULL);

	if (!hpci_is_dir(src->location))
		return hpci_error(ENOENT, "source '%s' is not a directory; %s", src->spec,
				  SOURCES_HELP);
	if (!g_file_test(dotgit, G_FILE_TEST_EXISTS))
		return hpci_error(EINVAL, "source '%s' is not a git checkout (no .git); %s",
				  src->spec, SOURCES_HELP);
	if (hpci_git(src->location, out, NULL, "rev-parse", "--verify", "--quiet", "--end-of-options",
		want, NULL) < 0 || out->len < 40)
		return hpci_error(EINVAL, "revision '%s' is not a commit in '%s'; give a commit, "
				  "tag or branch that `git -C %s log` shows", src->rev,
				  src->location, src->location);
	src->identity = g_strstrip(g_strdup(out->str));
	(void)hpci_git(src->location, desc, NULL, "describe", "--tags", "--always", src->identity,
		  NULL);
	g_strstrip(desc->str);
	src->describe = g_strdup_printf("git %s %.12s%s%s%s", src->location, src->identity,
					desc->str[0] ? " (" : "", desc->str,
					desc->str[0] ? ")" : "");
	hpci_error_clear(); /* describe may fail on a repository without tags */
	return 0;
}

static int untar(const char *tarball, const char *dest, const char *log)
{
	g_auto(hpci_cmd) cmd = { 0 };

	hpci_cmd_init(&cmd, "tar");
	hpci_cmd_addl(&cmd, "-xf", tarball, "-C", dest, "--no-same-owner", NULL);
	cmd.timeout_ms = TAR_TIMEOUT_MS;
	cmd.log_path = g_strdup(log);
	return hpci_cmd_run(&cmd, NULL, NULL);
}

/* `git archive` of one commit of one repository into dest/prefix. */
static int archive_into(const char *repo, const char *commit, const char *dest,
			const char *prefix, const char *log)
{
	g_autofree char *tar = g_strdup_printf("%s.git-archive.tar", dest);
	g_autofree char *prefix_arg = g_strdup_printf("--prefix=%s", prefix);
	g_autofree char *out_arg = g_strdup_printf("--output=%s", tar);
	int rc;

	rc = hpci_git(repo, NULL, log, "archive", "--format=tar", prefix_arg, out_arg, commit, NULL);
	if (rc == 0)
		rc = untar(tar, dest, log);
	(void)unlink(tar);
	return rc;
}

/*
 * Submodules are exported at the commit the superproject's revision
 * records, from the user's populated submodule checkouts; an unpopulated
 * one is an error (we never fetch behind the user's back).
 */
static int export_submodules(const struct hpci_source *src, const char *repo,
			     const char *commit, const char *dest, const char *prefix,
			     const char *log)
{
	g_autoptr(GString) out = g_string_new(NULL);
	int rc;

	if ((rc = hpci_git(repo, out, NULL, "ls-tree", "-r", "-z", commit, NULL)) < 0)
		return rc;
	for (const char *p = out->str; p < out->str + out->len; p += strlen(p) + 1) {
		/* "<mode> <type> <object>\t<path>" */
		const char *tab = strchr(p, '\t');
		g_autofree char *sub_path = NULL, *sub_repo = NULL, *sub_commit = NULL;
		g_autofree char *sub_prefix = NULL, *dotgit = NULL;

		if (!tab || !g_str_has_prefix(p, "160000 commit "))
			continue;
		sub_commit = g_strndup(p + strlen("160000 commit "), tab - p - strlen("160000 commit "));
		sub_path = g_strdup(tab + 1);
		sub_repo = g_build_filename(repo, sub_path, NULL);
		dotgit = g_build_filename(sub_repo, ".git", NULL);
		if (!g_file_test(dotgit, G_FILE_TEST_EXISTS))
			return hpci_error(ENOENT, "submodule '%s' of '%s' is not checked out; run "
					  "`git -C %s submodule update --init --recursive` first",
					  sub_path, src->location, src->location);
		sub_prefix = g_strdup_printf("%s%s/", prefix, sub_path);
		if ((rc = archive_into(sub_repo, sub_commit, dest, sub_prefix, log)) < 0) {
			hpci_error_prefix("submodule '%s' at %.12s", sub_path, sub_commit);
			return rc;
		}
		if ((rc = export_submodules(src, sub_repo, sub_commit, dest, sub_prefix, log)) < 0)
			return rc;
	}
	return 0;
}

static int export_git(const struct hpci_source *src, const char *dest, const char *log)
{
	int rc;

	if ((rc = hpci_mkdir_p(dest, 0755)) < 0 ||
	    (rc = archive_into(src->location, src->identity, dest, "", log)) < 0)
		return rc;
	return export_submodules(src, src->location, src->identity, dest, "", log);
}

/* ---- tarballs and Debian source packages: unpack, then lift the tree ------ */

/* A tarball unpacks into one top directory or straight into the current
 * one; `apt-get source` into one directory beside the files it fetched
 * (`beside_files`).  That tree becomes dest. */
static int lift_single_dir(const char *scratch, const char *dest, bool beside_files)
{
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) gerr = NULL;
	g_autofree char *only = NULL;
	unsigned entries = 0, dirs = 0;
	const char *name;

	dir = g_dir_open(scratch, 0, &gerr);
	if (!dir)
		return hpci_error(EIO, "cannot read '%s': %s", scratch, gerr->message);
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(scratch, name, NULL);

		entries++;
		if (hpci_is_dir(path)) {
			dirs++;
			g_free(only);
			only = g_steal_pointer(&path);
		}
	}
	if (entries == 0)
		return hpci_error(EINVAL, "the source unpacked to nothing in '%s'", scratch);
	if (dirs == 1 && (entries == 1 || beside_files)) {
		if (rename(only, dest) < 0)
			return hpci_error_errno(errno, "cannot move '%s' to '%s'", only, dest);
		return hpci_rm_rf(scratch);
	}
	if (rename(scratch, dest) < 0)
		return hpci_error_errno(errno, "cannot move '%s' to '%s'", scratch, dest);
	return 0;
}

static int resolve_tarball(struct hpci_source *src)
{
	struct hpci_download req = { .url = src->location, .sha256 = src->sha256, .progress = true };
	g_autofree char *path = NULL, *sha = NULL;
	int rc;

	if ((rc = hpci_download_fetch(&req, &path, &sha)) < 0)
		return rc;
	src->identity = g_strdup(sha);
	src->describe = g_strdup_printf("tarball %s (sha256 %.16s)", src->location, sha);
	src->tarball = g_steal_pointer(&path);
	return 0;
}

static int export_tarball(const struct hpci_source *src, const char *dest, const char *log)
{
	g_autofree char *scratch = g_strdup_printf("%s.unpack", dest);
	int rc;

	if ((rc = hpci_rm_rf(scratch)) < 0 || (rc = hpci_mkdir_p(scratch, 0755)) < 0)
		return rc;
	if ((rc = untar(src->tarball, scratch, log)) < 0) {
		hpci_error_prefix("cannot unpack '%s'", src->tarball);
		return rc;
	}
	return lift_single_dir(scratch, dest, false);
}

/* apt's own words when no source index is configured. */
static bool no_deb_src(const char *text)
{
	return strstr(text, "deb-src") != NULL;
}

/*
 * Adds a deb-src twin of every deb entry apt has, in a file of our own:
 * deb822 stanzas from *.sources, one-line entries from *.list.
 */
static int add_deb_src(void)
{
	g_autoptr(GString) stanzas = g_string_new("# Written by hotplug-ci for `apt-get source`\n");
	g_autoptr(GString) lines = g_string_new("# Written by hotplug-ci for `apt-get source`\n");
	g_autoptr(GDir) dir = g_dir_open("/etc/apt/sources.list.d", 0, NULL);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	g_ptr_array_add(files, g_strdup("/etc/apt/sources.list"));
	while (dir && (name = g_dir_read_name(dir))) {
		if (g_str_has_prefix(name, "hotplug-ci-"))
			continue;
		if (g_str_has_suffix(name, ".sources") || g_str_has_suffix(name, ".list"))
			g_ptr_array_add(files, g_build_filename("/etc/apt/sources.list.d", name, NULL));
	}
	for (guint i = 0; i < files->len; i++) {
		const char *file = files->pdata[i];
		g_autofree char *text = NULL;
		g_auto(GStrv) split = NULL;

		if (!hpci_is_file(file) || hpci_read_file(file, &text, NULL) < 0)
			continue;
		split = g_strsplit(text, "\n", -1);
		for (char **l = split; *l; l++) {
			if (g_str_has_suffix(file, ".list")) {
				if (g_str_has_prefix(*l, "deb "))
					g_string_append_printf(lines, "deb-src %s\n", *l + 4);
			} else if (!strcmp(g_strstrip(*l), "Types: deb")) {
				g_string_append(stanzas, "Types: deb-src\n");
			} else if (g_str_has_prefix(*l, "Types:")) {
				g_string_append(stanzas, "Types: ignored-by-hotplug-ci\n");
			} else {
				g_string_append_printf(stanzas, "%s\n", *l);
			}
		}
		g_string_append_c(stanzas, '\n');
	}
	hpci_info("apt has no deb-src entries: adding '%s' and '%s'", DEB_SRC_FILE, DEB_SRC_LIST);
	if ((rc = hpci_write_file(DEB_SRC_FILE, stanzas->str, stanzas->len)) < 0 ||
	    (rc = hpci_write_file(DEB_SRC_LIST, lines->str, lines->len)) < 0)
		return rc;
	hpci_cmd_init(&cmd, "apt-get");
	hpci_cmd_addl(&cmd, "update", "-q", NULL);
	cmd.timeout_ms = APT_TIMEOUT_MS;
	return hpci_cmd_run(&cmd, NULL, NULL);
}

static int apt_print_uris(const char *want, GString *out, GString *err)
{
	g_auto(hpci_cmd) cmd = { 0 };

	g_string_truncate(out, 0);
	g_string_truncate(err, 0);
	hpci_cmd_init(&cmd, "apt-get");
	hpci_cmd_addl(&cmd, "source", "--print-uris", "-qq", want, NULL);
	cmd.timeout_ms = APT_TIMEOUT_MS;
	return hpci_cmd_run(&cmd, out, err);
}

static int resolve_debian(struct hpci_source *src)
{
	g_autofree char *want = src->rev ? g_strdup_printf("%s=%s", src->location, src->rev)
					 : g_strdup(src->location);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GMatchInfo) match = NULL;
	g_autoptr(GRegex) dsc = NULL;
	int rc;

	rc = apt_print_uris(want, out, err);
	if (rc < 0 && no_deb_src(err->str)) {
		if (getuid() != 0)
			return hpci_error(EINVAL, "apt has no deb-src entries, so 'apt-get source %s' "
					  "cannot work; add deb-src lines (or run ci/install-deps.sh "
					  "as root)", want);
		if ((rc = add_deb_src()) < 0)
			return rc;
		rc = apt_print_uris(want, out, err);
	}
	if (rc < 0) {
		hpci_error_prefix("cannot find the Debian source of '%s'", want);
		return rc;
	}
	/* 'URI' NAME_VERSION.dsc SIZE HASH; the version drops its epoch there. */
	dsc = g_regex_new("^'[^']*' [^_ ]+_([^ ]+)\\.dsc ", G_REGEX_MULTILINE, 0, NULL);
	if (!g_regex_match(dsc, out->str, 0, &match))
		return hpci_error(EIO, "'apt-get source --print-uris %s' named no .dsc file", want);
	src->identity = g_match_info_fetch(match, 1);
	src->describe = g_strdup_printf("debian source %s %s", src->location, src->identity);
	return 0;
}

/* debian/changelog's first line: "qemu (1:7.2+dfsg-7+deb12u18) bookworm; ..." */
static int check_debian_version(const struct hpci_source *src, const char *tree)
{
	g_autofree char *changelog = g_build_filename(tree, "debian", "changelog", NULL);
	g_autofree char *text = NULL;
	g_autofree char *version = NULL;
	const char *open, *close, *colon;
	int rc;

	if ((rc = hpci_read_file(changelog, &text, NULL)) < 0)
		return rc;
	open = strchr(text, '(');
	close = open ? strchr(open, ')') : NULL;
	if (!close)
		return hpci_error(EINVAL, "'%s' does not start with a version", changelog);
	version = g_strndup(open + 1, close - open - 1);
	colon = strchr(version, ':');
	if (strcmp(colon ? colon + 1 : version, src->identity) != 0)
		return hpci_error(EAGAIN, "apt fetched %s %s, not %s as resolved (did the archive "
				  "change meanwhile?); run again", src->location, version,
				  src->identity);
	return 0;
}

static int export_debian(const struct hpci_source *src, const char *dest, const char *log)
{
	g_autofree char *scratch = g_strdup_printf("%s.apt", dest);
	/* The identity lacks the epoch (it comes from the .dsc's name), so
	 * without a version asked for, apt's candidate is fetched and checked
	 * against it below. */
	g_autofree char *want = src->rev ? g_strdup_printf("%s=%s", src->location, src->rev)
					 : g_strdup(src->location);
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	if ((rc = hpci_rm_rf(scratch)) < 0 || (rc = hpci_mkdir_p(scratch, 0755)) < 0)
		return rc;
	/* dpkg-source unpacks the orig tarball and applies debian/patches. */
	hpci_cmd_init(&cmd, "apt-get");
	hpci_cmd_addl(&cmd, "source", "-q", want, NULL);
	cmd.cwd = g_strdup(scratch);
	cmd.timeout_ms = APT_TIMEOUT_MS;
	cmd.log_path = g_strdup(log);
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		return rc;
	/* Only the unpacked tree is wanted; the .dsc and tarballs go. */
	if ((rc = lift_single_dir(scratch, dest, true)) < 0)
		return rc;
	return check_debian_version(src, dest);
}

int hpci_source_resolve(struct hpci_source *src)
{
	switch (src->kind) {
	case HPCI_SOURCE_GIT:
		return resolve_git(src);
	case HPCI_SOURCE_TARBALL:
		return resolve_tarball(src);
	case HPCI_SOURCE_DEBIAN:
		return resolve_debian(src);
	}
	return hpci_error(EINVAL, "unknown source kind");
}

int hpci_source_export(const struct hpci_source *src, const char *dest, const char *log)
{
	int rc;

	if (g_file_test(dest, G_FILE_TEST_EXISTS))
		return hpci_error(EEXIST, "cannot export source into '%s': it exists", dest);
	switch (src->kind) {
	case HPCI_SOURCE_GIT:
		rc = export_git(src, dest, log);
		break;
	case HPCI_SOURCE_TARBALL:
		rc = export_tarball(src, dest, log);
		break;
	case HPCI_SOURCE_DEBIAN:
		rc = export_debian(src, dest, log);
		break;
	default:
		rc = hpci_error(EINVAL, "unknown source kind");
	}
	if (rc < 0)
		hpci_error_prefix("cannot export %s", src->describe ? src->describe : src->spec);
	return rc;
}
