/* SPDX-License-Identifier: MIT */
/*
 * QEMU builds: source + patch queue + configure arguments + compiler make
 * the key; a miss exports the source into the cache transaction's work
 * directory, patches, configures and compiles only qemu-system-x86_64, then
 * keeps the binary, the log and the manifest and drops the trees.
 */
#include "qemu-build.h"
#include "cache.h"
#include "ccache.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "manifest.h"
#include "own.h"
#include "patch-queue.h"
#include "source.h"
#include "strlist.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HPCI_SOURCE_ROOT
#error "HPCI_SOURCE_ROOT must name the source tree (set by meson.build)"
#endif

#define CACHE_KIND "qemu"
/* Bump when the build steps change what a key's entry contains. */
#define BUILD_FORMAT "hotplug-ci qemu build 1"
#define EMULATOR "qemu-system-x86_64"
#define CONFIGURE_TIMEOUT_MS (15 * 60 * 1000)
#define COMPILE_TIMEOUT_MS (90 * 60 * 1000)
#define PROBE_TIMEOUT_MS (30 * 1000)

const char *const hpci_qemu_default_configure[] = {
	"--target-list=x86_64-softmmu",
	"--without-default-features",
	"--enable-tcg",
	/* Without KVM, libvirt throws its capabilities cache away on every
	 * domain start on a host with /dev/kvm and probes again (35 s here). */
	"--enable-kvm",
	"--enable-slirp",
	"--enable-fdt=system",
	"--disable-docs",
	"--disable-install-blobs",
	"--disable-werror",
	/* The distro's ROMs (linuxboot_dma.bin, option ROMs, SeaBIOS). */
	"--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu",
	NULL
};

char *hpci_qemu_default_patches(void)
{
	return g_strdup(HPCI_SOURCE_ROOT "/qemu-build/patches");
}

void hpci_qemu_build_release(struct hpci_qemu_build *build)
{
	if (!build)
		return;
	g_free(build->key);
	g_free(build->dir);
	g_free(build->emulator);
	g_free(build->version);
	g_free(build->source);
	hpci_source_origin_clear(&build->origin);
	g_free(build->manifest);
	g_free(build->log);
	if (build->patches)
		g_ptr_array_unref(build->patches);
	memset(build, 0, sizeof(*build));
}

/* Everything the key is made of, resolved. */
struct plan {
	struct hpci_source source;
	struct hpci_patch_queue queue;
	GPtrArray *configure;      /* defaults + the request's */
	char *compiler;            /* "gcc (Debian 12.2.0-14) 12.2.0" */
	char *cc;                  /* "ccache gcc" when ccache is there, else "gcc" */
	char *key;
};

static void plan_release(struct plan *plan)
{
	hpci_source_release(&plan->source);
	hpci_patch_queue_release(&plan->queue);
	if (plan->configure)
		g_ptr_array_unref(plan->configure);
	g_free(plan->compiler);
	g_free(plan->cc);
	g_free(plan->key);
	memset(plan, 0, sizeof(*plan));
}
typedef struct plan build_plan;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(build_plan, plan_release)

/* *index: the argument rejected. */
static int check_configure(const GPtrArray *configure, guint *index)
{
	for (*index = 0; configure && *index < configure->len; (*index)++) {
		const char *arg = configure->pdata[*index];

		if (!g_str_has_prefix(arg, "--"))
			return hpci_error(EINVAL, "configure argument '%s' does not start with '--'; "
					  "give options such as --enable-debug", arg);
		if (g_str_has_prefix(arg, "--target-list="))
			return hpci_error(EINVAL, "configure argument '%s': the harness needs "
					  "x86_64-softmmu and sets the target list itself", arg);
		if (g_str_has_prefix(arg, "--cc=") || g_str_has_prefix(arg, "--prefix="))
			return hpci_error(EINVAL, "configure argument '%s' is the builder's to set; "
					  "leave it out", arg);
	}
	return 0;
}

struct hpci_qemu_request *hpci_qemu_request_copy(const struct hpci_qemu_request *req)
{
	struct hpci_qemu_request *copy;

	if (!req)
		return NULL;
	copy = g_new0(struct hpci_qemu_request, 1);
	copy->src = hpci_build_source_copy(&req->src);
	copy->configure = hpci_strings_copy(req->configure);
	return copy;
}

void hpci_qemu_request_free(struct hpci_qemu_request *req)
{
	if (!req)
		return;
	hpci_build_source_clear(&req->src);
	if (req->configure)
		g_ptr_array_unref(req->configure);
	g_free(req);
}

/* The request's own members: the configure arguments. */
static int check_request(const void *opaque, const char **field, guint *index)
{
	const struct hpci_qemu_request *req = opaque;

	*field = "configure";
	return check_configure(req->configure, index);
}

int hpci_qemu_check_field(const struct hpci_qemu_request *req, const char **ret_field,
			  guint *ret_index)
{
	return hpci_build_request_check(&req->src, "qemu", check_request, req, ret_field,
					ret_index);
}

int hpci_qemu_check(const struct hpci_qemu_request *req)
{
	return hpci_qemu_check_field(req, NULL, NULL);
}

/* configure's --enable-sanitizers: AddressSanitizer and UBSan. */
static bool sanitized(const struct plan *plan)
{
	for (guint i = 0; i < plan->configure->len; i++) {
		if (strcmp(plan->configure->pdata[i], "--enable-sanitizers") == 0)
			return true;
	}
	return false;
}

/*
 * libvirt probes an emulator with -daemonize.  GCC 12's AddressSanitizer
 * does not hold its allocator locks across fork(): when another QEMU thread
 * (RCU) allocates at the moment of the daemonizing fork, the child inherits
 * a locked size class and hangs in its first malloc (seen 2 of 3 probes).
 * A sanitized build therefore runs through this wrapper.  It daemonizes in
 * the shell instead: QEMU runs without -daemonize in the background, and the
 * wrapper exits once the QMP socket libvirt asked for exists, as QEMU's own
 * -daemonize parent would.  Leak checking is off (LeakSanitizer at exit of a
 * forked process hangs the same way) and the first error aborts, so a memory
 * error ends QEMU, with the report in the domain's log, instead of letting
 * it run on corrupted.
 */
#define SANITIZER_WRAPPER_VERSION "asan-wrapper-2"
static const char sanitizer_wrapper[] =
	"#!/bin/sh\n"
	"# hotplug-ci: QEMU built with --enable-sanitizers; see install_emulator() in\n"
	"# qemu-build/qemu-build.c for why this wrapper daemonizes QEMU itself.\n"
	"ASAN_OPTIONS=\"detect_leaks=0:abort_on_error=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}\"\n"
	"export ASAN_OPTIONS\n"
	"qemu=\"$0.bin\"\n"
	"daemonize= qmp= prev=\n"
	"for a; do\n"
	"\tshift\n"
	"\tcase $prev in -qmp) qmp=${a#unix:}; qmp=${qmp%%,*} ;; esac\n"
	"\tprev=$a\n"
	"\tif [ \"$a\" = -daemonize ]; then daemonize=1; else set -- \"$@\" \"$a\"; fi\n"
	"done\n"
	"[ -n \"$daemonize\" ] || exec \"$qemu\" \"$@\"\n"
	"if [ -z \"$qmp\" ]; then echo \"$0: -daemonize needs -qmp unix:PATH here\" >&2; exit 1; fi\n"
	"setsid \"$qemu\" \"$@\" </dev/null >/dev/null 2>&1 &\n"
	"pid=$!\n"
	"n=0\n"
	"while [ ! -S \"$qmp\" ]; do\n"
	"\tkill -0 $pid 2>/dev/null || { wait $pid; exit $?; }\n"
	"\tn=$((n + 1)); [ $n -lt 1200 ] || { kill $pid; exit 1; }\n"
	"\tsleep 0.05\n"
	"done\n"
	"exit 0\n";

static int install_emulator(const struct plan *plan, const char *built, const char *emulator)
{
	g_autofree char *real = NULL;
	int rc;

	if (!sanitized(plan))
		return hpci_copy_file(built, emulator, 0755);
	real = g_strconcat(emulator, ".bin", NULL);
	if ((rc = hpci_copy_file(built, real, 0755)) < 0 ||
	    (rc = hpci_write_file(emulator, sanitizer_wrapper, -1)) < 0)
		return rc;
	if (chmod(emulator, 0755) < 0)
		return hpci_error_errno(errno, "cannot make '%s' executable", emulator);
	return 0;
}

static int make_plan(const struct hpci_qemu_request *req, struct plan *plan)
{
	struct hpci_hash h;
	g_autofree char *ccache = hpci_ccache_find();
	guint bad;
	int rc;

	memset(plan, 0, sizeof(*plan));
	plan->configure = g_ptr_array_new_with_free_func(g_free);
	for (const char *const *a = hpci_qemu_default_configure; *a; a++)
		g_ptr_array_add(plan->configure, g_strdup(*a));
	for (guint i = 0; req->configure && i < req->configure->len; i++)
		g_ptr_array_add(plan->configure, g_strdup(req->configure->pdata[i]));
	/* ccache changes how fast, not what: it is not part of the key. */
	plan->cc = g_strdup(ccache ? "ccache gcc" : "gcc");
	if ((rc = hpci_build_source_load(&req->src, "qemu", &plan->source, &plan->queue,
					 NULL)) < 0 ||
	    (rc = check_configure(req->configure, &bad)) < 0)
		return rc;
	/* Before the source, which may mean a download. */
	if ((rc = hpci_cmd_version("gcc", PROBE_TIMEOUT_MS, &plan->compiler)) < 0) {
		hpci_error_prefix("cannot ask the compiler its version (install gcc)");
		return rc;
	}
	if ((rc = hpci_source_resolve(&plan->source)) < 0)
		return rc;

	hpci_hash_init(&h);
	hpci_hash_str(&h, "format", BUILD_FORMAT);
	hpci_hash_str(&h, "source-kind", hpci_source_kind_name(plan->source.kind));
	hpci_hash_str(&h, "source-identity", plan->source.identity);
	hpci_patch_queue_hash(&plan->queue, &h);
	for (guint i = 0; i < plan->configure->len; i++)
		hpci_hash_str(&h, "configure", plan->configure->pdata[i]);
	hpci_hash_str(&h, "compiler", plan->compiler);
	if (sanitized(plan))
		hpci_hash_str(&h, "emulator", SANITIZER_WRAPPER_VERSION);
	plan->key = hpci_hash_finish(&h);
	return 0;
}

int hpci_qemu_key(const struct hpci_qemu_request *req, char **ret_key)
{
	g_auto(build_plan) plan = { 0 };
	int rc;

	if ((rc = make_plan(req, &plan)) < 0)
		return rc;
	*ret_key = g_steal_pointer(&plan.key);
	return 0;
}

/* ---- the build ------------------------------------------------------------ */

static int configure(const struct plan *plan, const char *src, const char *build,
		     const char *work_dir, const char *log)
{
	g_autofree char *script = g_build_filename(src, "configure", NULL);
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	if (!hpci_is_file(script))
		return hpci_error(ENOENT, "%s has no 'configure' at its top; is it a QEMU source "
				  "tree?", plan->source.describe);
	if ((rc = hpci_mkdir_p(build, 0755)) < 0)
		return rc;
	hpci_info("qemu: configuring (%s)", plan->cc);
	hpci_cmd_init(&cmd, script);
	hpci_cmd_addf(&cmd, "--cc=%s", plan->cc);
	for (guint i = 0; i < plan->configure->len; i++)
		hpci_cmd_add(&cmd, plan->configure->pdata[i]);
	cmd.cwd = g_strdup(build);
	cmd.timeout_ms = CONFIGURE_TIMEOUT_MS;
	cmd.log_path = g_strdup(log);
	(void)hpci_cmd_add_ccache_env(&cmd, work_dir);
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		hpci_error_prefix("configure failed");
	return rc;
}

#define PROGRESS_PERIOD_US (15 * G_USEC_PER_SEC)

/* ninja prints "[655/1427] Compiling ..."; say where it is every 15 s. */
static void on_ninja_line(const char *line, void *opaque)
{
	gint64 *next_us = opaque;
	unsigned done, total;

	if (g_get_monotonic_time() >= *next_us && sscanf(line, "[%u/%u]", &done, &total) == 2 &&
	    total) {
		hpci_info("qemu: compiling, %u of %u steps (%u%%)", done, total, done * 100 / total);
		*next_us = g_get_monotonic_time() + PROGRESS_PERIOD_US;
	}
}

static int compile(const char *build, const char *work_dir, const char *log)
{
	gint64 next_progress_us = g_get_monotonic_time() + PROGRESS_PERIOD_US;
	g_auto(hpci_cmd) cmd = { 0 };
	gint64 start = g_get_monotonic_time();
	unsigned jobs = g_get_num_processors();
	int rc;

	hpci_info("qemu: compiling " EMULATOR " with %u jobs (minutes; log '%s')", jobs, log);
	hpci_cmd_init(&cmd, "ninja");
	hpci_cmd_addf(&cmd, "-j%u", jobs);
	hpci_cmd_add(&cmd, EMULATOR);
	cmd.cwd = g_strdup(build);
	cmd.timeout_ms = COMPILE_TIMEOUT_MS;
	cmd.log_path = g_strdup(log);
	cmd.on_stdout_line = on_ninja_line;
	cmd.opaque = &next_progress_us;
	(void)hpci_cmd_add_ccache_env(&cmd, work_dir);
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		hpci_error_prefix("compiling QEMU failed");
	else
		hpci_info("qemu: compiled in %.0f s", (g_get_monotonic_time() - start) / 1e6);
	return rc;
}

static int write_manifest(const struct plan *plan, const char *dir, const char *version,
			  gint64 duration_ms)
{
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	g_autoptr(json_object) root = hpci_manifest_new(BUILD_FORMAT, CACHE_KIND, plan->key,
							&plan->source, &plan->queue);

	json_object_object_add(root, "configure", hpci_json_strings(plan->configure));
	json_object_object_add(root, "cc", json_object_new_string(plan->cc));
	json_object_object_add(root, "compiler", json_object_new_string(plan->compiler));
	json_object_object_add(root, "emulator", json_object_new_string("bin/" EMULATOR));
	json_object_object_add(root, "version", json_object_new_string(version));
	json_object_object_add(root, "log", json_object_new_string("build.log"));
	json_object_object_add(root, "duration_ms", json_object_new_int64(duration_ms));
	return hpci_json_write_file(path, root);
}

static int build_entry(const struct plan *plan, const char *dir)
{
	g_autofree char *src = g_build_filename(dir, "src", NULL);
	g_autofree char *build = g_build_filename(dir, "build", NULL);
	g_autofree char *bin = g_build_filename(dir, "bin", NULL);
	g_autofree char *emulator = g_build_filename(bin, EMULATOR, NULL);
	g_autofree char *built = g_build_filename(build, EMULATOR, NULL);
	g_autofree char *log = g_build_filename(dir, "build.log", NULL);
	g_autofree char *version = NULL;
	gint64 start = g_get_monotonic_time();
	int rc;

	hpci_info("qemu: building %s (key %.12s)", plan->source.describe, plan->key);
	if ((rc = hpci_write_file(log, "", 0)) < 0 ||
	    (rc = hpci_source_export(&plan->source, src, log)) < 0)
		return rc;
	if ((rc = hpci_patch_queue_apply(&plan->queue, src, log)) < 0 ||
	    (rc = configure(plan, src, build, dir, log)) < 0 ||
	    (rc = compile(build, dir, log)) < 0)
		return rc;
	if ((rc = hpci_mkdir_p(bin, 0755)) < 0 || (rc = install_emulator(plan, built, emulator)) < 0)
		return rc;
	if ((rc = hpci_cmd_version(emulator, PROBE_TIMEOUT_MS, &version)) < 0) {
		hpci_error_prefix("the QEMU just built does not run");
		return rc;
	}
	/* The trees are large and the key reproduces them. */
	if ((rc = hpci_rm_rf(src)) < 0 || (rc = hpci_rm_rf(build)) < 0)
		return rc;
	return write_manifest(plan, dir, version, (g_get_monotonic_time() - start) / 1000);
}

static int read_manifest(const char *dir, struct hpci_qemu_build *ret)
{
	g_autoptr(json_object) root = NULL;
	int rc;

	if ((rc = hpci_manifest_read(dir, &root)) < 0)
		return rc;
	ret->version = g_strdup(hpci_json_get_string(root, "version"));
	ret->source = g_strdup(hpci_json_get_string(root, "source.describe"));
	ret->patches = hpci_manifest_patch_names(root);
	return 0;
}

static int fill_build(const char *key, const char *dir, bool hit, struct hpci_qemu_build *ret)
{
	g_auto(hpci_qemu_build_result) b = { 0 };
	int rc;

	b.key = g_strdup(key);
	b.dir = g_strdup(dir);
	b.emulator = g_build_filename(dir, "bin", EMULATOR, NULL);
	b.manifest = g_build_filename(dir, "manifest.json", NULL);
	b.log = g_build_filename(dir, "build.log", NULL);
	b.cache_hit = hit;
	if (!hpci_is_file(b.emulator))
		return hpci_error(ENOENT, "cache entry '%s' has no bin/" EMULATOR "; remove the "
				  "directory to rebuild it", dir);
	if ((rc = read_manifest(dir, &b)) < 0)
		return rc;
	*ret = HPCI_STEAL_STRUCT(b);
	return 0;
}

static int build_entry_cb(const char *work_dir, const char *final_dir, void *plan)
{
	(void)final_dir;
	return build_entry(plan, work_dir);
}

int hpci_qemu_build(const struct hpci_qemu_request *req, struct hpci_qemu_build *ret)
{
	g_autofree char *dir = NULL;
	g_auto(build_plan) plan = { 0 };
	bool hit = false;
	int rc;

	if ((rc = make_plan(req, &plan)) < 0 ||
	    (rc = hpci_cache_build(CACHE_KIND, plan.key, "QEMU", build_entry_cb, &plan, &dir,
				   &hit)) < 0)
		return rc;
	if ((rc = fill_build(plan.key, dir, hit, ret)) < 0)
		return rc;
	hpci_source_origin_set(&ret->origin, &plan.source);
	return 0;
}
