/* SPDX-License-Identifier: MIT */
/*
 * The link cache (ld-cache.h says what and why).  Every rule here errs the
 * same way: what it cannot account for makes the link uncached or the key
 * longer, never a hit it should not be.
 */
#include "ld-cache.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bump when what goes into a key or an entry changes. */
#define FORMAT "hotplug-ci ld-cache 1"
/* Stands for the work directory in keys and in the text an entry keeps. */
#define PLACEHOLDER "@HPCI_LD_CACHE_BASEDIR@"
#define OUT_NAME "out"
#define MAP_NAME "map"
#define STDERR_NAME "stderr"
/* A store's work directory this old belongs to a link that died. */
#define STALE_TMP_S (60 * 60)
#define EXIT_CANNOT_RUN 127

void hpci_ld_cache_config_from_env(struct hpci_ld_cache_config *config)
{
	config->dir = g_getenv(HPCI_LD_CACHE_ENV_DIR);
	config->base_dir = g_getenv(HPCI_LD_CACHE_ENV_BASEDIR);
	config->linker = g_getenv(HPCI_LD_CACHE_ENV_LINKER);
	config->tools = g_getenv(HPCI_LD_CACHE_ENV_TOOLS);
}

/* ---- what the link reads and writes ---------------------------------------- */

struct link {
	GPtrArray *inputs;      /* read as bytes: archives, objects, scripts */
	GPtrArray *responses;   /* ld response files: text naming more inputs */
	const char *output;     /* -o */
	const char *map;        /* ld's -Map */
	bool map_next;          /* the next linker argument is the map */
	/* The work directory as given, and as the kernel resolves it (edk2
	 * may see that one when the given one has a symlink in it): either
	 * becomes the placeholder.  here: the one this link's output is in. */
	const char *bases[3];
	char *real_base;
	const char *here;
};

static void link_release(struct link *l)
{
	g_clear_pointer(&l->inputs, g_ptr_array_unref);
	g_clear_pointer(&l->responses, g_ptr_array_unref);
	g_clear_pointer(&l->real_base, free);
}
typedef struct link link_t;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(link_t, link_release)

/* Options that read or write files this parser does not name, or that
 * make gcc do something other than link. */
static bool uncacheable_gcc_option(const char *a)
{
	static const char *const exact[] = {
		"-c", "-S", "-E", "-", "-###", "-wrapper", "-fstack-usage", "-fcallgraph-info",
		NULL,
	};
	static const char *const prefixes[] = {
		"-l", "-L", "-B", "-M", "--sysroot", "-save-temps", "--save-temps", "-print-",
		"--print-", "-fdump-", "-fprofile-", "-fauto-profile", "-fcallgraph-info=", "@",
		"--help", "--version", NULL,
	};

	for (const char *const *e = exact; *e; e++)
		if (!strcmp(a, *e))
			return true;
	for (const char *const *p = prefixes; *p; p++)
		if (g_str_has_prefix(a, *p))
			return true;
	return false;
}

static bool uncacheable_ld_option(const char *a)
{
	static const char *const prefixes[] = {
		"-l", "-L", "--library", "-rpath-link", "--out-implib", "--dependency-file",
		"-plugin-save-temps", "--plugin-save-temps", "-o", "--output", NULL,
	};

	for (const char *const *p = prefixes; *p; p++)
		if (g_str_has_prefix(a, *p))
			return true;
	return false;
}

/* gcc options whose value is the next argument. */
static bool takes_value(const char *a)
{
	static const char *const names[] = {
		"-o", "-T", "-u", "-z", "-x", "-e", "-D", "-U", "-I", "-include", "-imacros",
		"-iquote", "-isystem", "-idirafter", "-Xlinker", NULL,
	};

	for (const char *const *n = names; *n; n++)
		if (!strcmp(a, *n))
			return true;
	return false;
}

/*
 * A word that names an existing file is an input, whatever the option
 * before it meant: hashing a symbol name's namesake only lengthens the key.
 * "NAME=FILE" (--script=, -specs=, -fplugin=) counts too.
 */
static void note_if_file(struct link *l, const char *word)
{
	const char *path = word;

	if (word[0] == '-') {
		const char *eq = strchr(word, '=');

		if (!eq)
			return;
		path = eq + 1;
	}
	if (*path && hpci_is_file(path))
		g_ptr_array_add(l->inputs, g_strdup(path));
}

/* One argument to ld (a -Wl, piece or a -Xlinker value): 1 when it is
 * understood, 0 when it makes the link uncacheable. */
static int linker_arg(struct link *l, const char *a)
{
	if (l->map_next) {
		l->map = a;
		l->map_next = false;
		return 1;
	}
	if (!strcmp(a, "-Map") || !strcmp(a, "--Map")) {
		l->map_next = true;
		return 1;
	}
	if (g_str_has_prefix(a, "-Map=") || g_str_has_prefix(a, "--Map=")) {
		l->map = strchr(a, '=') + 1;
		return 1;
	}
	if (uncacheable_ld_option(a))
		return 0;
	if (a[0] == '@') {
		g_ptr_array_add(l->responses, g_strdup(a + 1));
		return 1;
	}
	note_if_file(l, a);
	return 1;
}

/* The -Wl, pieces keep pointers into argv: split copies live in pieces. */
static int linker_args(struct link *l, const char *list, GPtrArray *keep)
{
	char **pieces = g_strsplit(list, ",", -1);

	g_ptr_array_add(keep, pieces);
	for (char **p = pieces; *p; p++)
		if (!linker_arg(l, *p))
			return 0;
	return 1;
}

/* 1 when argv is a link this cache understands in full, else 0. */
static int parse_link(int argc, char **argv, struct link *l, GPtrArray *keep)
{
	l->inputs = g_ptr_array_new_with_free_func(g_free);
	l->responses = g_ptr_array_new_with_free_func(g_free);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (uncacheable_gcc_option(a))
			return 0;
		if (g_str_has_prefix(a, "-Wl,")) {
			if (!linker_args(l, a + strlen("-Wl,"), keep))
				return 0;
			continue;
		}
		if (takes_value(a)) {
			const char *v = i + 1 < argc ? argv[++i] : NULL;

			if (!v)
				return 0;
			if (!strcmp(a, "-o"))
				l->output = v;
			else if (!strcmp(a, "-Xlinker") && !linker_arg(l, v))
				return 0;
			else
				note_if_file(l, v);
			continue;
		}
		if (g_str_has_prefix(a, "-o")) {
			l->output = a + 2;
			continue;
		}
		note_if_file(l, a);
	}
	return l->output && !l->map_next;
}

/* ---- the key --------------------------------------------------------------- */

static void set_bases(struct link *l, const char *base_dir)
{
	guint n = 0;

	if (!base_dir || !*base_dir)
		return;
	l->bases[n++] = l->here = base_dir;
	l->real_base = realpath(base_dir, NULL);
	if (l->real_base && strcmp(l->real_base, base_dir)) {
		l->bases[n++] = l->real_base;
		if (g_str_has_prefix(l->output, l->real_base))
			l->here = l->real_base;
	}
}

static char *normalize(const char *text, const struct link *l)
{
	GString *s = g_string_new(text);

	for (const char *const *b = l->bases; *b; b++)
		g_string_replace(s, *b, PLACEHOLDER, 0);
	return g_string_free(s, FALSE);
}

static char *denormalize(const char *text, gsize len, const char *base_dir)
{
	GString *s = g_string_new_len(text, len);

	if (base_dir && *base_dir)
		g_string_replace(s, PLACEHOLDER, base_dir, 0);
	return g_string_free(s, FALSE);
}

/*
 * An archive or object is read as bytes; anything else ld would read as a
 * script, where INCLUDE, INPUT and GROUP name more files: 1 when the file
 * is fine, 0 when the link is uncacheable.  Thin archives only point at
 * their members, so they are uncacheable too.
 */
static int check_input(const char *path)
{
	static const char *const script_words[] = { "INCLUDE", "INPUT", "GROUP", "SEARCH_DIR",
						    NULL };
	g_autofree char *data = NULL;
	char magic[8] = { 0 };
	hpci_autofd int fd = open(path, O_RDONLY | O_CLOEXEC);
	gsize len = 0;
	ssize_t n;
	int rc;

	if (fd < 0)
		return hpci_error_errno(errno, "cannot open '%s'", path);
	n = read(fd, magic, sizeof(magic));
	if (n < 0)
		return hpci_error_errno(errno, "cannot read '%s'", path);
	if (n >= 4 && !memcmp(magic, "\177ELF", 4))
		return 1;
	if (n == 8 && !memcmp(magic, "!<arch>\n", 8))
		return 1;
	if (n == 8 && !memcmp(magic, "!<thin>\n", 8))
		return 0;
	if ((rc = hpci_read_file(path, &data, &len)) < 0)
		return rc;
	for (const char *const *w = script_words; *w; w++)
		if (g_strstr_len(data, len, *w))
			return 0;
	return 1;
}

/* A response file's words, each an input; options inside are not followed. */
static int read_response(struct link *l, const char *path, struct hpci_hash *h)
{
	g_autofree char *data = NULL;
	g_autofree char *norm_path = normalize(path, l);
	g_autofree char *norm = NULL;
	g_auto(GStrv) words = NULL;
	int rc;

	if ((rc = hpci_read_file(path, &data, NULL)) < 0)
		return rc;
	/* Quoting would need ld's own rules; edk2 writes one path a line. */
	if (strpbrk(data, "\"'\\"))
		return 0;
	norm = normalize(data, l);
	hpci_hash_str(h, "response-path", norm_path);
	hpci_hash_str(h, "response", norm);
	words = g_strsplit_set(data, " \t\r\n", -1);
	for (char **w = words; *w; w++) {
		if (!**w)
			continue;
		if (**w == '-' || **w == '@' || !hpci_is_file(*w))
			return 0;
		g_ptr_array_add(l->inputs, g_strdup(*w));
	}
	return 1;
}

/* 1 and *ret_key, 0 when the link is uncacheable after all, negative on error. */
static int link_key(const struct hpci_ld_cache_config *config, int argc, char **argv,
		    struct link *l, char **ret_key)
{
	static const char *const env_vars[] = { "GCC_EXEC_PREFIX", "COMPILER_PATH",
						"LIBRARY_PATH", NULL };
	g_auto(hpci_hash) h = { 0 };
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *norm_cwd = normalize(cwd, l);
	int rc;

	hpci_hash_init(&h);
	hpci_hash_str(&h, "format", FORMAT);
	hpci_hash_str(&h, "tools", config->tools);
	for (const char *const *v = env_vars; *v; v++) {
		g_autofree char *norm = normalize(g_getenv(*v) ? g_getenv(*v) : "", l);

		hpci_hash_str(&h, *v, norm);
	}
	hpci_hash_str(&h, "cwd", norm_cwd);
	for (int i = 1; i < argc; i++) {
		g_autofree char *norm = normalize(argv[i], l);

		hpci_hash_str(&h, "arg", norm);
	}
	/* Response files add inputs, so they go first. */
	for (guint i = 0; i < l->responses->len; i++)
		if ((rc = read_response(l, l->responses->pdata[i], &h)) <= 0)
			return rc;
	for (guint i = 0; i < l->inputs->len; i++) {
		const char *path = l->inputs->pdata[i];
		g_autofree char *norm = normalize(path, l);

		if ((rc = check_input(path)) <= 0)
			return rc;
		hpci_hash_str(&h, "input-path", norm);
		if ((rc = hpci_hash_file(&h, "input", path)) < 0)
			return rc;
	}
	*ret_key = hpci_hash_finish(&h);
	return 1;
}

/* ---- the entries ----------------------------------------------------------- */

static char *entry_dir(const char *dir, const char *key)
{
	char shard[3] = { key[0], key[1], 0 };

	return g_build_filename(dir, shard, key, NULL);
}

/* Writes data to path through a temporary beside it, so a reader of path
 * never sees half a file. */
static int write_beside(const char *path, const char *data, gsize len, int mode)
{
	g_autofree char *tmp = g_strdup_printf("%s.hpci-ld-cache.%d", path, (int)getpid());
	int rc;

	if ((rc = hpci_write_file(tmp, data, len)) < 0)
		return rc;
	if (chmod(tmp, mode) < 0 || rename(tmp, path) < 0) {
		rc = hpci_error_errno(errno, "cannot write '%s'", path);
		(void)unlink(tmp);
		return rc;
	}
	return 0;
}

static int copy_beside(const char *from, const char *to, int mode)
{
	g_autofree char *tmp = g_strdup_printf("%s.hpci-ld-cache.%d", to, (int)getpid());
	int rc;

	if ((rc = hpci_copy_file(from, tmp, mode)) < 0) {
		(void)unlink(tmp);
		return rc;
	}
	if (rename(tmp, to) < 0) {
		rc = hpci_error_errno(errno, "cannot write '%s'", to);
		(void)unlink(tmp);
		return rc;
	}
	return 0;
}

/* Puts an entry's text file at `to` with this build's work directory in it. */
static int restore_text(const char *from, const char *to, const char *base_dir)
{
	g_autofree char *data = NULL;
	g_autofree char *text = NULL;
	gsize len = 0;
	int rc;

	if ((rc = hpci_read_file(from, &data, &len)) < 0)
		return rc;
	text = denormalize(data, len, base_dir);
	return write_beside(to, text, strlen(text), 0644);
}

/* 1 when the entry was there and its outputs are in place, 0 when absent. */
static int restore(const struct link *l, const char *entry)
{
	g_autofree char *out = g_build_filename(entry, OUT_NAME, NULL);
	g_autofree char *map = g_build_filename(entry, MAP_NAME, NULL);
	g_autofree char *err = g_build_filename(entry, STDERR_NAME, NULL);
	g_autofree char *err_data = NULL;
	g_autofree char *err_text = NULL;
	gsize err_len = 0;
	int rc;

	if (!hpci_is_file(out))
		return 0;
	if (l->map && !hpci_is_file(map))
		return 0;
	if ((rc = copy_beside(out, l->output, 0755)) < 0 ||
	    (l->map && (rc = restore_text(map, l->map, l->here)) < 0) ||
	    (rc = hpci_read_file(err, &err_data, &err_len)) < 0)
		return rc;
	/* The linker's warnings, as the link would have printed them. */
	err_text = denormalize(err_data, err_len, l->here);
	fputs(err_text, stderr);
	/* Its age is when it was last used: trimming removes the oldest. */
	(void)utimensat(AT_FDCWD, entry, NULL, 0);
	return 1;
}

static int store_text(const char *from, const char *to, const struct link *l)
{
	g_autofree char *data = NULL;
	g_autofree char *norm = NULL;
	int rc;

	if ((rc = hpci_read_file(from, &data, NULL)) < 0)
		return rc;
	norm = normalize(data, l);
	return hpci_write_file(to, norm, -1);
}

static int fill_entry(const struct link *l, const char *dir, const char *err_text)
{
	g_autofree char *out = g_build_filename(dir, OUT_NAME, NULL);
	g_autofree char *map = g_build_filename(dir, MAP_NAME, NULL);
	g_autofree char *err = g_build_filename(dir, STDERR_NAME, NULL);
	g_autofree char *norm_err = normalize(err_text, l);
	int rc;

	if ((rc = hpci_mkdir_p(dir, 0755)) < 0 || (rc = hpci_copy_file(l->output, out, 0755)) < 0 ||
	    (l->map && (rc = store_text(l->map, map, l)) < 0))
		return rc;
	return hpci_write_file(err, norm_err, -1);
}

/* Builds the entry beside its place and renames it in: of two links that
 * store one key at once, the first rename wins and the second is dropped. */
static int store(const struct link *l, const char *entry, const char *err_text)
{
	g_autofree char *tmp = g_strdup_printf("%s.tmp-%d", entry, (int)getpid());
	int rc;

	if ((rc = hpci_rm_rf(tmp)) < 0)
		return rc;
	rc = fill_entry(l, tmp, err_text);
	if (rc == 0 && rename(tmp, entry) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		rc = hpci_error_errno(errno, "cannot keep the link in '%s'", entry);
	if (hpci_is_dir(tmp)) {
		g_autoptr(hpci_error_saved) saved = hpci_error_save();

		(void)hpci_rm_rf(tmp);
		hpci_error_restore(g_steal_pointer(&saved));
	}
	return rc;
}

/* ---- running the linker ---------------------------------------------------- */

static char **linker_argv(const char *linker, int argc, char **argv)
{
	char **out = g_new0(char *, argc + 1);

	out[0] = g_strdup(linker);
	for (int i = 1; i < argc; i++)
		out[i] = g_strdup(argv[i]);
	return out;
}

/* Runs the linker, with stdout and the descriptors make passed on (its
 * jobserver) untouched; *ret_err gets what it printed on stderr. */
static int run_linker(const char *linker, int argc, char **argv, char **ret_err)
{
	g_auto(GStrv) args = linker_argv(linker, argc, argv);
	g_autoptr(GError) gerr = NULL;
	int status = 0;

	*ret_err = NULL;
	if (!g_spawn_sync(NULL, args, NULL,
			  G_SPAWN_LEAVE_DESCRIPTORS_OPEN | G_SPAWN_CHILD_INHERITS_STDIN, NULL,
			  NULL, NULL, ret_err, &status, &gerr)) {
		fprintf(stderr, "hpci-ld-cache: cannot run '%s': %s\n", linker, gerr->message);
		return EXIT_CANNOT_RUN;
	}
	if (*ret_err)
		fputs(*ret_err, stderr);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int hpci_ld_cache_link(const struct hpci_ld_cache_config *config, int argc, char **argv,
		       enum hpci_ld_cache_result *ret_result)
{
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	g_auto(link_t) l = { 0 };
	g_autofree char *key = NULL;
	g_autofree char *entry = NULL;
	g_autofree char *err_text = NULL;
	int status, rc;

	if (ret_result)
		*ret_result = HPCI_LD_CACHE_UNCACHED;
	if (!config->linker || !g_path_is_absolute(config->linker)) {
		fprintf(stderr, "hpci-ld-cache: " HPCI_LD_CACHE_ENV_LINKER " must name the real "
			"linker by its absolute path\n");
		return EXIT_CANNOT_RUN;
	}
	if (!config->dir || !*config->dir || !config->tools ||
	    !parse_link(argc, argv, &l, keep))
		return run_linker(config->linker, argc, argv, &err_text);
	set_bases(&l, config->base_dir);
	rc = link_key(config, argc, argv, &l, &key);
	if (rc < 0)
		hpci_warn("ld-cache: %s; linking without the cache", hpci_error_message());
	if (rc <= 0)
		return run_linker(config->linker, argc, argv, &err_text);

	entry = entry_dir(config->dir, key);
	rc = restore(&l, entry);
	if (rc > 0) {
		fprintf(stderr, HPCI_LD_CACHE_LINE_PREFIX "hit %.12s %s\n", key, l.output);
		if (ret_result)
			*ret_result = HPCI_LD_CACHE_HIT;
		return 0;
	}
	if (rc < 0)
		hpci_warn("ld-cache: %s; linking instead", hpci_error_message());

	if (ret_result)
		*ret_result = HPCI_LD_CACHE_MISS;
	status = run_linker(config->linker, argc, argv, &err_text);
	fprintf(stderr, HPCI_LD_CACHE_LINE_PREFIX "miss %.12s %s\n", key, l.output);
	if (status == 0 && (rc = store(&l, entry, err_text ? err_text : "")) < 0)
		hpci_warn("ld-cache: %s; the link is not kept", hpci_error_message());
	return status;
}

/* ---- trimming -------------------------------------------------------------- */

struct entry_use {
	char *path;
	gint64 used_s;
	guint64 bytes;
};

static void entry_use_free(struct entry_use *e)
{
	g_free(e->path);
	g_free(e);
}

static gint by_use(gconstpointer a, gconstpointer b)
{
	const struct entry_use *x = *(struct entry_use *const *)a;
	const struct entry_use *y = *(struct entry_use *const *)b;

	return x->used_s < y->used_s ? -1 : x->used_s > y->used_s;
}

static guint64 dir_bytes(const char *path)
{
	g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
	const char *name;
	guint64 bytes = 0;
	struct stat st;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *file = g_build_filename(path, name, NULL);

		if (lstat(file, &st) == 0)
			bytes += (guint64)st.st_blocks * 512;
	}
	return bytes;
}

int hpci_ld_cache_trim(const char *dir, guint64 max_bytes, unsigned *ret_removed)
{
	g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)
								      entry_use_free);
	g_autoptr(GDir) top = NULL;
	g_autoptr(GError) gerr = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	guint64 total = 0;
	unsigned removed = 0;
	const char *shard;
	int rc;

	if (ret_removed)
		*ret_removed = 0;
	if (!hpci_is_dir(dir))
		return 0;
	top = g_dir_open(dir, 0, &gerr);
	if (!top)
		return hpci_error(EIO, "cannot list the link cache '%s': %s", dir, gerr->message);
	while ((shard = g_dir_read_name(top))) {
		g_autofree char *shard_path = g_build_filename(dir, shard, NULL);
		g_autoptr(GDir) d = g_dir_open(shard_path, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *path = g_build_filename(shard_path, name, NULL);
			struct entry_use *e;
			struct stat st;

			if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			if (strstr(name, ".tmp-")) {
				if (now - st.st_mtime > STALE_TMP_S && (rc = hpci_rm_rf(path)) < 0)
					return rc;
				continue;
			}
			e = g_new0(struct entry_use, 1);
			e->path = g_steal_pointer(&path);
			e->used_s = st.st_mtime;
			e->bytes = dir_bytes(e->path);
			total += e->bytes;
			g_ptr_array_add(entries, e);
		}
	}
	g_ptr_array_sort(entries, by_use);
	for (guint i = 0; i < entries->len && total > max_bytes; i++) {
		const struct entry_use *e = entries->pdata[i];

		if ((rc = hpci_rm_rf(e->path)) < 0)
			return rc;
		total -= e->bytes;
		removed++;
	}
	if (ret_removed)
		*ret_removed = removed;
	return 0;
}
