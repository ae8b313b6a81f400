/* SPDX-License-Identifier: MIT */
#include "git-history.h"
#include "error.h"
#include "fsutil.h"
#include "git.h"

#include <errno.h>
#include <string.h>

/* `git bisect next` when only skipped commits are left (git's
 * BISECT_ONLY_SKIPPED_LEFT). */
#define GIT_BISECT_ONLY_SKIPPED 2

static bool is_hex_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 40 || n == 64;
}

static void strip(GString *s)
{
	g_strstrip(s->str);
	g_string_set_size(s, strlen(s->str));
}

int hpci_bisect_git_open(const char *repo, const char *clone, const char *term_old,
			 const char *term_new, struct hpci_bisect_git **ret)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(hpci_bisect_git) g = g_new0(struct hpci_bisect_git, 1);
	g_autofree char *parent = g_path_get_dirname(clone);
	int rc;

	if (!hpci_is_dir(repo))
		return hpci_error_kind(HPCI_ERR_USAGE, ENOENT, "repository '%s' is not a "
				       "directory; give the path of a git checkout", repo);
	if (hpci_git(repo, out, NULL, "rev-parse", "--show-toplevel", NULL) < 0) {
		hpci_error_clear();
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "'%s' is not a git checkout (git "
				       "rev-parse fails there); give the path of a git clone", repo);
	}
	g->repo = g_strdup(repo);
	g->term_old = g_strdup(term_old);
	g->term_new = g_strdup(term_new);
	g_string_truncate(out, 0);
	if (hpci_git(repo, out, NULL, "status", "--porcelain", "--untracked-files=no", NULL) == 0 &&
	    out->len)
		hpci_warn("'%s' has uncommitted changes; bisect builds commits only, so they "
			  "are not part of any step", repo);
	if ((rc = hpci_mkdir_p(parent, 0755)) < 0)
		return rc;
	if ((rc = hpci_git(parent, NULL, NULL, "clone", "--quiet", "--shared", "--no-checkout",
			   "--", repo, clone, NULL)) < 0) {
		hpci_error_prefix("cannot make the private clone bisect works in");
		return rc;
	}
	g->clone = g_strdup(clone);
	*ret = g_steal_pointer(&g);
	return 0;
}

void hpci_bisect_git_close(struct hpci_bisect_git *g)
{
	if (!g)
		return;
	if (g->clone)
		(void)hpci_rm_rf(g->clone);
	g_free(g->repo);
	g_free(g->clone);
	g_free(g->term_old);
	g_free(g->term_new);
	g_free(g);
}

int hpci_bisect_git_resolve(const struct hpci_bisect_git *g, const char *option,
			    const char *rev, char **ret_commit)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *spec = g_strdup_printf("%s^{commit}", rev);

	if (hpci_git(g->repo, out, NULL, "rev-parse", "--verify", "--quiet", "--end-of-options",
		     spec, NULL) < 0) {
		hpci_error_clear();
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "%s '%s' is not a commit of '%s'; "
				       "give a commit id, tag or branch that `git -C %s log` shows "
				       "(fetch it first if it is upstream only)", option, rev,
				       g->repo, g->repo);
	}
	strip(out);
	*ret_commit = g_strdup(out->str);
	return 0;
}

static int is_ancestor(const char *repo, const char *a, const char *b)
{
	int status = hpci_git_status(repo, NULL, NULL, "merge-base", "--is-ancestor", a, b, NULL);

	if (status < 0)
		return status;
	if (status > 1)
		return hpci_error(EIO, "git merge-base --is-ancestor %.12s %.12s in '%s' exited "
				  "%d", a, b, repo, status);
	return status == 0;
}

int hpci_bisect_git_check_range(const struct hpci_bisect_git *g, const char *old_rev,
				const char *old_commit, const char *new_rev,
				const char *new_commit, unsigned *ret_count)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *range = g_strdup_printf("%s..%s", old_commit, new_commit);
	int rc;

	if (strcmp(old_commit, new_commit) == 0)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "'%s' and '%s' are the same commit "
				       "%.12s; nothing to bisect", old_rev, new_rev, old_commit);
	if ((rc = is_ancestor(g->repo, old_commit, new_commit)) < 0)
		return rc;
	if (rc == 0) {
		(void)hpci_git(g->repo, out, NULL, "rev-parse", "--is-shallow-repository", NULL);
		if (g_str_has_prefix(out->str, "true"))
			return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "'%s' is a shallow clone "
					       "and does not have the history from '%s' to '%s'; "
					       "run `git -C %s fetch --unshallow` first", g->repo,
					       old_rev, new_rev, g->repo);
		if ((rc = is_ancestor(g->repo, new_commit, old_commit)) > 0)
			return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "'%s' comes after '%s'; "
					       "the %s revision must be the older one: swap them, "
					       "or name the terms with --term-old/--term-new", old_rev,
					       new_rev, g->term_old);
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "'%s' is not an ancestor of '%s' "
				       "in '%s'; give a %s revision the %s one descends from",
				       old_rev, new_rev, g->repo, g->term_old, g->term_new);
	}
	g_string_truncate(out, 0);
	if ((rc = hpci_git(g->repo, out, NULL, "rev-list", "--count", range, NULL)) < 0)
		return rc;
	*ret_count = (unsigned)g_ascii_strtoull(out->str, NULL, 10);
	return 0;
}

static const char *term_of(const struct hpci_bisect_git *g, enum hpci_bisect_mark m)
{
	switch (m) {
	case HPCI_BISECT_MARK_OLD:
		return g->term_old;
	case HPCI_BISECT_MARK_NEW:
		return g->term_new;
	case HPCI_BISECT_MARK_SKIP:
		break;
	}
	return "skip";
}

/* "There are only 'skip'ped commits left to test.\nThe first bad commit could
 * be any of:\n<id>\n...": the ids. */
static GPtrArray *skipped_candidates(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	for (char **l = lines; *l; l++)
		if (is_hex_id(*l))
			g_ptr_array_add(ids, g_strdup(*l));
	return ids;
}

static int parse_next(const struct hpci_bisect_git *g, int status, const char *text,
		      struct hpci_bisect_next *ret)
{
	g_autofree char *found = g_strdup_printf(" is the first %s commit", g->term_new);
	g_autoptr(GString) head = g_string_new(NULL);
	const char *at = strstr(text, found);
	const char *left = strstr(text, "Bisecting: ");
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (status == GIT_BISECT_ONLY_SKIPPED) {
		ret->kind = HPCI_BISECT_NEXT_ONLY_SKIPPED;
		ret->candidates = skipped_candidates(text);
		return 0;
	}
	if (at) {
		const char *line = at;

		while (line > text && line[-1] != '\n')
			line--;
		if (at - line != 40 && at - line != 64)
			return hpci_error(EIO, "cannot read git bisect's answer: %s", text);
		ret->kind = HPCI_BISECT_NEXT_FOUND;
		ret->commit = g_strndup(line, at - line);
		return 0;
	}
	if (!left)
		return hpci_error(EIO, "git bisect next said neither what to test nor what it "
				  "found: %s", text);
	if ((rc = hpci_git(g->clone, head, NULL, "rev-parse", "BISECT_HEAD", NULL)) < 0)
		return rc;
	strip(head);
	ret->kind = HPCI_BISECT_NEXT_TEST;
	ret->commit = g_strdup(head->str);
	ret->left = (unsigned)g_ascii_strtoull(left + strlen("Bisecting: "), NULL, 10);
	return 0;
}

static int git_next(void *self, const GArray *marks, struct hpci_bisect_next *ret)
{
	struct hpci_bisect_git *g = self;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	int status, rc;

	if ((rc = hpci_git(g->clone, NULL, NULL, "bisect", "reset", NULL)) < 0 ||
	    (rc = hpci_git(g->clone, NULL, NULL, "bisect", "start", "--no-checkout", "--term-old",
			   g->term_old, "--term-new", g->term_new, NULL)) < 0)
		return rc;
	for (guint i = 0; i < marks->len; i++) {
		const struct hpci_bisect_mark_entry *m =
			&g_array_index(marks, struct hpci_bisect_mark_entry, i);

		/* Once git knows the answer it says so on each mark; `next`
		 * below is what counts. */
		status = hpci_git_status(g->clone, NULL, NULL, "bisect", term_of(g, m->mark),
					 m->commit, NULL);
		if (status < 0)
			return status;
	}
	status = hpci_git_status(g->clone, out, err, "bisect", "next", NULL);
	if (status < 0)
		return status;
	if (status != 0 && status != GIT_BISECT_ONLY_SKIPPED)
		return hpci_error(EIO, "git bisect next in '%s' exited %d: %s%s", g->clone, status,
				  err->str, out->str);
	return parse_next(g, status, out->str, ret);
}

static int git_parents(void *self, const char *commit, GPtrArray **ret)
{
	struct hpci_bisect_git *g = self;
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(GStrv) ids = NULL;
	int rc;

	if ((rc = hpci_git(g->clone, out, NULL, "rev-list", "--parents", "-n", "1", commit,
			   NULL)) < 0)
		return rc;
	strip(out);
	ids = g_strsplit(out->str, " ", -1);
	*ret = g_ptr_array_new_with_free_func(g_free);
	for (char **id = ids[0] ? ids + 1 : ids; *id; id++)
		g_ptr_array_add(*ret, g_strdup(*id));
	return 0;
}

static int git_is_ancestor(void *self, const char *a, const char *b)
{
	struct hpci_bisect_git *g = self;

	return is_ancestor(g->clone, a, b);
}

void hpci_bisect_git_history(struct hpci_bisect_git *g, struct hpci_bisect_history *ops)
{
	*ops = (struct hpci_bisect_history){ git_next, git_parents, git_is_ancestor, g };
}

int hpci_bisect_git_log(const struct hpci_bisect_git *g, char **ret_text)
{
	g_autoptr(GString) out = g_string_new(NULL);
	int rc;

	if ((rc = hpci_git(g->clone, out, NULL, "bisect", "log", NULL)) < 0)
		return rc;
	*ret_text = g_string_free(g_steal_pointer(&out), FALSE);
	return 0;
}

int hpci_bisect_git_info(const struct hpci_bisect_git *g, const char *commit,
			 struct hpci_commit_info *ret)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) files = g_string_new(NULL);
	g_auto(GStrv) fields = NULL;
	g_auto(GStrv) names = NULL;
	int rc;

	if ((rc = hpci_git(g->clone, out, NULL, "show", "-s", "--format=%H%x1f%s%x1f%an <%ae>%x1f%aI",
			   commit, NULL)) < 0 ||
	    (rc = hpci_git(g->clone, files, NULL, "log", "-1", "-m", "--first-parent",
			   "--name-only", "--format=", commit, NULL)) < 0)
		return rc;
	strip(out);
	fields = g_strsplit(out->str, "\x1f", 4);
	if (g_strv_length(fields) != 4)
		return hpci_error(EIO, "cannot read `git show` of %s: %s", commit, out->str);
	memset(ret, 0, sizeof(*ret));
	ret->commit = g_strdup(fields[0]);
	ret->subject = g_strdup(fields[1]);
	ret->author = g_strdup(fields[2]);
	ret->date = g_strdup(fields[3]);
	ret->files = g_ptr_array_new_with_free_func(g_free);
	names = g_strsplit(files->str, "\n", -1);
	for (char **n = names; *n; n++)
		if (**n)
			g_ptr_array_add(ret->files, g_strdup(*n));
	return 0;
}

void hpci_commit_info_clear(struct hpci_commit_info *info)
{
	g_free(info->commit);
	g_free(info->subject);
	g_free(info->author);
	g_free(info->date);
	if (info->files)
		g_ptr_array_unref(info->files);
	memset(info, 0, sizeof(*info));
}
