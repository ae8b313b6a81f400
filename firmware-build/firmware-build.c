/* SPDX-License-Identifier: MIT */
/*
 * OVMF builds: source + patch queue + build type + defines + PCDs +
 * compiler make the key.  A miss exports the source into the cache
 * transaction's work directory, patches it, takes BaseTools from their own
 * cache entry (building them there the first time for this source), runs
 * edk2's `build` with its compiles behind ccache and its links behind
 * hpci-ld-cache (toolchain.h; neither is part of the key), keeps the two
 * flash images, a firmware descriptor, the log and the manifest, and drops
 * the tree.
 */
#include "firmware-build.h"
#include "descriptor.h"
#include "ld-cache.h"
#include "toolchain.h"
#include "cache.h"
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

#define CACHE_KIND "firmware"
#define BASETOOLS_KIND "basetools"
/* Bump when the build steps change what a key's entry contains. */
#define BUILD_FORMAT "hotplug-ci firmware build 1"
#define BASETOOLS_FORMAT "hotplug-ci basetools build 1"
#define PLATFORM "OvmfPkg/OvmfPkgIa32X64.dsc"
#define OUTPUT_DIRECTORY "Build/Ovmf3264"   /* the platform's OUTPUT_DIRECTORY */
#define TOOLCHAIN "GCC5"
#define CODE_IMAGE "OVMF_CODE.fd"
#define VARS_IMAGE "OVMF_VARS.fd"
#define DESCRIPTOR "firmware.json"
#define BASETOOLS_TIMEOUT_MS (30 * 60 * 1000)
#define BUILD_TIMEOUT_MS (90 * 60 * 1000)
#define PROBE_TIMEOUT_MS (30 * 1000)
#define PROGRESS_PERIOD_US (15 * G_USEC_PER_SEC)
/* The link cache keeps the links used last: one DEBUG build's 118 links
 * (with their DWARF) are ~115 MB, and a near revision adds only its own. */
#define LD_CACHE_MAX_BYTES ((guint64)2 << 30)

const char *const hpci_firmware_default_defines[] = {
	"SMM_REQUIRE=TRUE",
	/* What SMM is there to protect, as distributions build it; Debian's
	 * patch series also needs it (its Shell links SecureBootVariableLib).
	 * The VARS template is empty, so Secure Boot stays off at run time. */
	"SECURE_BOOT_ENABLE=TRUE",
	NULL
};

const char *const hpci_firmware_default_pcds[] = {
	/* OVMF's default 0x8000004F plus DEBUG_VERBOSE (0x00400000), which
	 * carries CpuHotplugSmm's per-CPU lines. */
	"gEfiMdePkgTokenSpaceGuid.PcdDebugPrintErrorLevel=0x8040004F",
	NULL
};

static const char *const build_types[] = { "DEBUG", "RELEASE", "NOOPT", NULL };

void hpci_firmware_build_release(struct hpci_firmware_build *build)
{
	if (!build)
		return;
	g_free(build->key);
	g_free(build->dir);
	g_free(build->code);
	g_free(build->vars);
	g_free(build->descriptor);
	g_free(build->manifest);
	g_free(build->log);
	g_free(build->source);
	hpci_source_origin_clear(&build->origin);
	g_free(build->build_type);
	g_free(build->version);
	if (build->patches)
		g_ptr_array_unref(build->patches);
	memset(build, 0, sizeof(*build));
}

/* ---- the request ---------------------------------------------------------- */

static bool is_identifier(const char *s, size_t len)
{
	if (len == 0 || !(g_ascii_isalpha(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(g_ascii_isalnum(s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* "NAME=VALUE" with an edk2 identifier; a PCD name is "Guid.PcdName". */
static int check_assignment(const char *what, const char *example, const char *arg, bool pcd)
{
	const char *eq = strchr(arg, '=');
	const char *dot = eq ? memchr(arg, '.', eq - arg) : NULL;
	bool ok;

	if (!eq || !eq[1] || strpbrk(arg, " \t\n"))
		ok = false;
	else if (pcd)
		ok = dot && is_identifier(arg, dot - arg) &&
		     is_identifier(dot + 1, eq - dot - 1);
	else
		ok = is_identifier(arg, eq - arg);
	if (!ok)
		return hpci_error(EINVAL, "%s '%s' is not of the form %s", what, arg, example);
	return 0;
}

static int check_build_type(const char *type)
{
	for (const char *const *t = build_types; *t; t++)
		if (!strcmp(*t, type))
			return 0;
	return hpci_error(EINVAL, "build type '%s' is not one of DEBUG, RELEASE or NOOPT", type);
}

static const char *request_build_type(const struct hpci_firmware_request *req)
{
	return req->build_type ? req->build_type : "DEBUG";
}

/* The build type, then every -D and PCD: *field and *index name the one rejected. */
static int check_request(const void *opaque, const char **field, guint *index)
{
	const struct hpci_firmware_request *req = opaque;
	int rc;

	*field = "build_type";
	if ((rc = check_build_type(request_build_type(req))) < 0)
		return rc;
	*field = "defines";
	for (*index = 0; req->defines && *index < req->defines->len; (*index)++)
		if ((rc = check_assignment("define", "NAME=VALUE (e.g. SECURE_BOOT_ENABLE=TRUE)",
					   req->defines->pdata[*index], false)) < 0)
			return rc;
	*field = "pcds";
	for (*index = 0; req->pcds && *index < req->pcds->len; (*index)++)
		if ((rc = check_assignment("PCD", "TokenSpaceGuid.PcdName=VALUE (e.g. "
					   "gEfiMdePkgTokenSpaceGuid.PcdDebugPrintErrorLevel="
					   "0x8000004F)", req->pcds->pdata[*index], true)) < 0)
			return rc;
	return 0;
}

struct hpci_firmware_request *hpci_firmware_request_copy(const struct hpci_firmware_request *req)
{
	struct hpci_firmware_request *copy;

	if (!req)
		return NULL;
	copy = g_new0(struct hpci_firmware_request, 1);
	copy->src = hpci_build_source_copy(&req->src);
	copy->build_type = g_strdup(req->build_type);
	copy->defines = hpci_strings_copy(req->defines);
	copy->pcds = hpci_strings_copy(req->pcds);
	return copy;
}

void hpci_firmware_request_free(struct hpci_firmware_request *req)
{
	if (!req)
		return;
	hpci_build_source_clear(&req->src);
	g_free(req->build_type);
	if (req->defines)
		g_ptr_array_unref(req->defines);
	if (req->pcds)
		g_ptr_array_unref(req->pcds);
	g_free(req);
}

int hpci_firmware_check_field(const struct hpci_firmware_request *req, const char **ret_field,
			      guint *ret_index)
{
	return hpci_build_request_check(&req->src, "edk2", check_request, req, ret_field,
					ret_index);
}

int hpci_firmware_check(const struct hpci_firmware_request *req)
{
	return hpci_firmware_check_field(req, NULL, NULL);
}

/*
 * The defaults, then the request's: a later NAME=VALUE replaces an earlier
 * one of the same NAME in place, so the list names each setting once.
 */
static GPtrArray *merge_assignments(const char *const *defaults, const GPtrArray *given)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (const char *const *d = defaults; *d; d++)
		g_ptr_array_add(out, g_strdup(*d));
	for (guint i = 0; given && i < given->len; i++) {
		const char *arg = given->pdata[i];
		size_t name_len = strcspn(arg, "=");
		guint j;

		for (j = 0; j < out->len; j++) {
			const char *have = out->pdata[j];

			if (strcspn(have, "=") == name_len && !strncmp(have, arg, name_len))
				break;
		}
		if (j < out->len) {
			g_free(out->pdata[j]);
			out->pdata[j] = g_strdup(arg);
		} else {
			g_ptr_array_add(out, g_strdup(arg));
		}
	}
	return out;
}

static bool defines_true(const GPtrArray *defines, const char *name)
{
	g_autofree char *want = g_strdup_printf("%s=TRUE", name);

	for (guint i = 0; i < defines->len; i++)
		if (!g_ascii_strcasecmp(defines->pdata[i], want))
			return true;
	return false;
}

static bool defines_smm(const GPtrArray *defines)
{
	return defines_true(defines, "SMM_REQUIRE");
}

bool hpci_firmware_request_smm(const struct hpci_firmware_request *req)
{
	g_autoptr(GPtrArray) defines = merge_assignments(hpci_firmware_default_defines,
							 req->defines);

	return defines_smm(defines);
}

/* ---- the plan: everything the key is made of, resolved --------------------- */

struct plan {
	struct hpci_source source;
	struct hpci_patch_queue queue;
	char *build_type;
	GPtrArray *defines;
	GPtrArray *pcds;
	char *compiler;
	char *nasm;
	char *iasl;
	char *key;
	char *basetools_key;
};

static void plan_release(struct plan *plan)
{
	hpci_source_release(&plan->source);
	hpci_patch_queue_release(&plan->queue);
	g_free(plan->build_type);
	if (plan->defines)
		g_ptr_array_unref(plan->defines);
	if (plan->pcds)
		g_ptr_array_unref(plan->pcds);
	g_free(plan->compiler);
	g_free(plan->nasm);
	g_free(plan->iasl);
	g_free(plan->key);
	g_free(plan->basetools_key);
	memset(plan, 0, sizeof(*plan));
}
typedef struct plan build_plan;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(build_plan, plan_release)

/* The tools whose versions shape the images; missing ones name their package. */
static int probe_tools(struct plan *plan)
{
	static const struct {
		const char *program, *arg, *package;
		size_t offset;
	} tools[] = {
		{ "gcc", "--version", "gcc", offsetof(struct plan, compiler) },
		{ "nasm", "-v", "nasm", offsetof(struct plan, nasm) },
		{ "iasl", "-v", "acpica-tools", offsetof(struct plan, iasl) },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(tools); i++) {
		char **slot = (char **)((char *)plan + tools[i].offset);
		g_autoptr(GString) out = g_string_new(NULL);
		g_auto(hpci_cmd) cmd = { 0 };
		char **lines;
		int rc;

		hpci_cmd_init(&cmd, tools[i].program);
		hpci_cmd_add(&cmd, tools[i].arg);
		cmd.timeout_ms = PROBE_TIMEOUT_MS;
		rc = hpci_cmd_run(&cmd, out, NULL);
		if (rc < 0) {
			hpci_error_prefix("building OVMF needs %s (apt-get install %s)",
					  tools[i].program, tools[i].package);
			return rc;
		}
		/* iasl names itself on one line and its version on the next: keep
		 * the first line that says "version", else the first with words. */
		lines = g_strsplit(out->str, "\n", -1);
		for (char **l = lines; *l && !*slot; l++)
			if (strstr(g_strstrip(*l), "version"))
				*slot = g_strdup(*l);
		for (char **l = lines; *l && !*slot; l++)
			if (**l)
				*slot = g_strdup(*l);
		g_strfreev(lines);
		if (!*slot)
			*slot = g_strdup(tools[i].program);
	}
	return 0;
}

/* Patches that touch BaseTools/ change the tools; others leave them alone. */
static void hash_basetools_patches(const struct hpci_patch_queue *queue, struct hpci_hash *h)
{
	for (guint i = 0; i < queue->patches->len; i++) {
		const struct hpci_patch *p = queue->patches->pdata[i];
		g_autofree char *text = NULL;

		if (!g_file_get_contents(p->path, &text, NULL, NULL) ||
		    strstr(text, "+++ b/BaseTools/"))
			hpci_hash_str(h, "patch", p->sha256);
	}
}

/*
 * What the BaseTools built from this source depend on.  In git that is the
 * BaseTools/ tree itself, so revisions that leave it alone share one build;
 * elsewhere it is the whole source's identity.
 */
static int basetools_identity(const struct hpci_source *src, char **ret)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	if (src->kind != HPCI_SOURCE_GIT) {
		*ret = g_strdup_printf("%s %s", hpci_source_kind_name(src->kind), src->identity);
		return 0;
	}
	hpci_cmd_init(&cmd, "git");
	hpci_cmd_addl(&cmd, "-C", src->location, "rev-parse", NULL);
	hpci_cmd_addf(&cmd, "%s:BaseTools", src->identity);
	cmd.timeout_ms = PROBE_TIMEOUT_MS;
	rc = hpci_cmd_run(&cmd, out, NULL);
	if (rc < 0) {
		hpci_error_prefix("%s has no BaseTools directory; is it an edk2 tree?",
				  src->describe);
		return rc;
	}
	*ret = g_strdup_printf("git tree %s", g_strstrip(out->str));
	return 0;
}

static int make_plan(const struct hpci_firmware_request *req, struct plan *plan)
{
	g_autofree char *basetools = NULL;
	struct hpci_hash h;
	const char *field;
	guint bad;
	int rc;

	memset(plan, 0, sizeof(*plan));
	plan->build_type = g_strdup(request_build_type(req));
	plan->defines = merge_assignments(hpci_firmware_default_defines, req->defines);
	plan->pcds = merge_assignments(hpci_firmware_default_pcds, req->pcds);
	if ((rc = hpci_build_source_load(&req->src, "edk2", &plan->source, &plan->queue,
					 NULL)) < 0 ||
	    (rc = check_request(req, &field, &bad)) < 0 || (rc = probe_tools(plan)) < 0 ||
	    (rc = hpci_source_resolve(&plan->source)) < 0)
		return rc;

	hpci_hash_init(&h);
	hpci_hash_str(&h, "format", BUILD_FORMAT);
	hpci_hash_str(&h, "source-kind", hpci_source_kind_name(plan->source.kind));
	hpci_hash_str(&h, "source-identity", plan->source.identity);
	hpci_patch_queue_hash(&plan->queue, &h);
	hpci_hash_str(&h, "platform", PLATFORM);
	hpci_hash_str(&h, "toolchain", TOOLCHAIN);
	hpci_hash_str(&h, "build-type", plan->build_type);
	for (guint i = 0; i < plan->defines->len; i++)
		hpci_hash_str(&h, "define", plan->defines->pdata[i]);
	for (guint i = 0; i < plan->pcds->len; i++)
		hpci_hash_str(&h, "pcd", plan->pcds->pdata[i]);
	hpci_hash_str(&h, "compiler", plan->compiler);
	hpci_hash_str(&h, "nasm", plan->nasm);
	hpci_hash_str(&h, "iasl", plan->iasl);
	plan->key = hpci_hash_finish(&h);

	if ((rc = basetools_identity(&plan->source, &basetools)) < 0)
		return rc;
	hpci_hash_init(&h);
	hpci_hash_str(&h, "format", BASETOOLS_FORMAT);
	hpci_hash_str(&h, "basetools", basetools);
	hash_basetools_patches(&plan->queue, &h);
	hpci_hash_str(&h, "compiler", plan->compiler);
	plan->basetools_key = hpci_hash_finish(&h);
	return 0;
}

int hpci_firmware_key(const struct hpci_firmware_request *req, char **ret_key)
{
	g_auto(build_plan) plan = { 0 };
	int rc;

	if ((rc = make_plan(req, &plan)) < 0)
		return rc;
	*ret_key = g_steal_pointer(&plan.key);
	return 0;
}

/* ---- BaseTools, once per source ------------------------------------------ */

static int copy_tree(const char *from, const char *to, const char *log)
{
	g_auto(hpci_cmd) cmd = { 0 };

	hpci_cmd_init(&cmd, "cp");
	hpci_cmd_addl(&cmd, "-a", "--", from, to, NULL);
	cmd.log_path = g_strdup(log);
	cmd.timeout_ms = 10 * 60 * 1000;
	return hpci_cmd_run(&cmd, NULL, NULL);
}

static int make_basetools(const char *tree, const char *log)
{
	g_auto(hpci_cmd) cmd = { 0 };
	gint64 start = g_get_monotonic_time();
	int rc;

	hpci_info("firmware: building BaseTools (once for this source)");
	hpci_cmd_init(&cmd, "make");
	hpci_cmd_addf(&cmd, "-j%u", g_get_num_processors());
	hpci_cmd_addl(&cmd, "-C", "BaseTools", NULL);
	cmd.cwd = g_strdup(tree);
	cmd.log_path = g_strdup(log);
	cmd.timeout_ms = BASETOOLS_TIMEOUT_MS;
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		hpci_error_prefix("building BaseTools failed");
	else
		hpci_info("firmware: BaseTools built in %.0f s",
			  (g_get_monotonic_time() - start) / 1e6);
	return rc;
}

static int write_basetools_manifest(const struct plan *plan, const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	g_autoptr(json_object) root = hpci_manifest_new(BASETOOLS_FORMAT, BASETOOLS_KIND,
							plan->basetools_key, &plan->source,
							&plan->queue);

	json_object_object_add(root, "compiler", json_object_new_string(plan->compiler));
	return hpci_json_write_file(path, root);
}

/* Puts built BaseTools into `tree`: from the cache, or built there and kept. */
static int provide_basetools(const struct plan *plan, const char *tree, const char *log)
{
	g_autofree char *in_tree = g_build_filename(tree, "BaseTools", NULL);
	g_auto(hpci_cache_txn) txn = HPCI_CACHE_TXN_INIT;
	g_autofree char *cached = NULL;
	int rc;

	rc = hpci_cache_begin(BASETOOLS_KIND, plan->basetools_key, &txn);
	if (rc == 1) {
		cached = g_build_filename(txn.final_dir, "BaseTools", NULL);
		hpci_info("firmware: BaseTools from the cache (%.12s)", plan->basetools_key);
		if ((rc = hpci_rm_rf(in_tree)) < 0)
			return rc;
		return copy_tree(cached, in_tree, log);
	}
	if (rc < 0)
		return rc;
	cached = g_build_filename(txn.work_dir, "BaseTools", NULL);
	if ((rc = make_basetools(tree, log)) < 0 || (rc = copy_tree(in_tree, cached, log)) < 0 ||
	    (rc = write_basetools_manifest(plan, txn.work_dir)) < 0)
		return rc;
	return hpci_cache_commit(&txn);
}

/* ---- the build ------------------------------------------------------------ */

struct build_progress {
	gint64 next_us;
	unsigned modules;
	unsigned links, linked_from_cache;
	bool ccache;          /* the compiles went through ccache */
};

/* edk2's build names each module as it starts it: "Building ... X.inf [X64]";
 * hpci-ld-cache says "hpci-ld-cache: hit|miss KEY OUTPUT" for each link. */
static void on_build_line(const char *line, void *opaque)
{
	struct build_progress *p = opaque;

	if (g_str_has_prefix(line, HPCI_LD_CACHE_LINE_PREFIX)) {
		p->links++;
		if (g_str_has_prefix(line + strlen(HPCI_LD_CACHE_LINE_PREFIX), "hit "))
			p->linked_from_cache++;
		return;
	}
	if (!g_str_has_prefix(line, "Building ... "))
		return;
	p->modules++;
	if (g_get_monotonic_time() >= p->next_us) {
		hpci_info("firmware: compiling, %u modules started", p->modules);
		p->next_us = g_get_monotonic_time() + PROGRESS_PERIOD_US;
	}
}

static int run_edk2_build(const struct plan *plan, const char *work_dir, const char *tree,
			  const char *log, struct build_progress *progress)
{
	g_auto(hpci_cmd) cmd = { 0 };
	g_autofree char *python = hpci_firmware_python();
	gint64 start = g_get_monotonic_time();
	unsigned jobs = g_get_num_processors();
	int rc;

	hpci_info("firmware: building " PLATFORM " %s with %u jobs (minutes; log '%s')",
		  plan->build_type, jobs, log);
	/* A caller's edk2 environment would point the build at another tree. */
	hpci_cmd_init(&cmd, "env");
	hpci_cmd_addl(&cmd, "-u", "WORKSPACE", "-u", "EDK_TOOLS_PATH", "-u", "CONF_PATH",
		      "-u", "PACKAGES_PATH", NULL);
	hpci_cmd_addf(&cmd, "PYTHON_COMMAND=%s", python);
	hpci_cmd_addl(&cmd,
		      /* so progress lines arrive as they are printed */
		      "PYTHONUNBUFFERED=1", "bash", "-c",
		      /* edksetup.sh reads the positional parameters as its own options. */
		      "args=(\"$@\"); set --; . ./edksetup.sh && exec build \"${args[@]}\" 2>&1",
		      "build", NULL);
	hpci_cmd_addl(&cmd, "-a", "IA32", "-a", "X64", "-p", PLATFORM, "-t", TOOLCHAIN, "-b",
		      plan->build_type, NULL);
	hpci_cmd_addf(&cmd, "-n%u", jobs);
	for (guint i = 0; i < plan->defines->len; i++)
		hpci_cmd_addl(&cmd, "-D", plan->defines->pdata[i], NULL);
	for (guint i = 0; i < plan->pcds->len; i++)
		hpci_cmd_addl(&cmd, "--pcd", plan->pcds->pdata[i], NULL);
	if ((rc = hpci_firmware_toolchain_setup(&cmd, work_dir, tree, plan->compiler)) < 0)
		return rc;
	*progress = (struct build_progress){ .next_us = start + PROGRESS_PERIOD_US,
					     .ccache = rc == 1 };
	cmd.cwd = g_strdup(tree);
	cmd.log_path = g_strdup(log);
	cmd.timeout_ms = BUILD_TIMEOUT_MS;
	cmd.on_stdout_line = on_build_line;
	cmd.opaque = progress;
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		hpci_error_prefix("building OVMF failed");
	else
		hpci_info("firmware: built %u modules in %.0f s (%u of %u links from the cache)",
			  progress->modules, (g_get_monotonic_time() - start) / 1e6,
			  progress->linked_from_cache, progress->links);
	return rc;
}

/* Keeps the link cache to its size; a failure costs disk, not the build. */
static void trim_ld_cache(void)
{
	g_autofree char *dir = hpci_firmware_ld_cache_dir();

	if (hpci_ld_cache_trim(dir, LD_CACHE_MAX_BYTES, NULL) < 0) {
		hpci_warn("firmware: %s; the link cache is left as it is", hpci_error_message());
		hpci_error_clear();
	}
}

/* QEMU's docs/interop/firmware.json: what libvirt and QEMU tools read. */
static int write_descriptor(const struct plan *plan, const char *work_dir, const char *final_dir)
{
	g_autofree char *path = g_build_filename(work_dir, DESCRIPTOR, NULL);
	g_autofree char *description = g_strdup_printf(
		"OVMF %s (IA32 PEI, X64 DXE)%s, built by hotplug-ci from %s", plan->build_type,
		defines_smm(plan->defines) ? " with SMM" : "", plan->source.describe);
	g_autofree char *code = g_build_filename(final_dir, CODE_IMAGE, NULL);
	g_autofree char *vars = g_build_filename(final_dir, VARS_IMAGE, NULL);
	struct hpci_firmware_descriptor d = {
		.code = code, .vars = vars, .smm = defines_smm(plan->defines),
		/* DEBUG and NOOPT builds print to the debug console unconditionally. */
		.verbose = strcmp(plan->build_type, "RELEASE") != 0,
	};

	return hpci_firmware_descriptor_write(path, &d, description,
					      defines_true(plan->defines, "SECURE_BOOT_ENABLE"));
}

static int write_manifest(const struct plan *plan, const char *dir, gint64 duration_ms,
			  const struct build_progress *progress)
{
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	g_autoptr(json_object) root = hpci_manifest_new(BUILD_FORMAT, CACHE_KIND, plan->key,
							&plan->source, &plan->queue);

	if (plan->source.kind == HPCI_SOURCE_GIT)
		json_object_object_add(root, "edk2_commit",
				       json_object_new_string(plan->source.identity));
	json_object_object_add(root, "platform", json_object_new_string(PLATFORM));
	json_object_object_add(root, "architectures", json_object_new_string("IA32 X64"));
	json_object_object_add(root, "toolchain", json_object_new_string(TOOLCHAIN));
	json_object_object_add(root, "build_type", json_object_new_string(plan->build_type));
	json_object_object_add(root, "defines", hpci_json_strings(plan->defines));
	json_object_object_add(root, "pcds", hpci_json_strings(plan->pcds));
	json_object_object_add(root, "smm", json_object_new_boolean(defines_smm(plan->defines)));
	json_object_object_add(root, "compiler", json_object_new_string(plan->compiler));
	json_object_object_add(root, "nasm", json_object_new_string(plan->nasm));
	json_object_object_add(root, "iasl", json_object_new_string(plan->iasl));
	json_object_object_add(root, "basetools_key", json_object_new_string(plan->basetools_key));
	json_object_object_add(root, "code", json_object_new_string(CODE_IMAGE));
	json_object_object_add(root, "vars", json_object_new_string(VARS_IMAGE));
	json_object_object_add(root, "descriptor", json_object_new_string(DESCRIPTOR));
	json_object_object_add(root, "log", json_object_new_string("build.log"));
	json_object_object_add(root, "duration_ms", json_object_new_int64(duration_ms));
	/* How it was built, should a cache ever be suspected. */
	json_object_object_add(root, "ccache", json_object_new_boolean(progress->ccache));
	json_object_object_add(root, "links", json_object_new_int(progress->links));
	json_object_object_add(root, "links_from_cache",
			       json_object_new_int(progress->linked_from_cache));
	return hpci_json_write_file(path, root);
}

static int keep_images(const struct plan *plan, const char *tree, const char *dir)
{
	g_autofree char *type_dir = g_strdup_printf("%s_" TOOLCHAIN, plan->build_type);
	g_autofree char *fv = g_build_filename(tree, OUTPUT_DIRECTORY, type_dir, "FV", NULL);
	const char *images[] = { CODE_IMAGE, VARS_IMAGE };
	int rc;

	for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
		g_autofree char *from = g_build_filename(fv, images[i], NULL);
		g_autofree char *to = g_build_filename(dir, images[i], NULL);

		if (!hpci_is_file(from))
			return hpci_error(ENOENT, "the build finished without %s; is %s an edk2 "
					  "tree whose " PLATFORM " writes " OUTPUT_DIRECTORY "?",
					  from, plan->source.describe);
		if ((rc = hpci_copy_file(from, to, 0644)) < 0)
			return rc;
	}
	return 0;
}

static int build_entry(const struct plan *plan, const char *dir, const char *final_dir)
{
	g_autofree char *src = g_build_filename(dir, "src", NULL);
	g_autofree char *tools = g_build_filename(dir, "tools", NULL);
	g_autofree char *edksetup = g_build_filename(src, "edksetup.sh", NULL);
	g_autofree char *conf = g_build_filename(src, "Conf", NULL);
	g_autofree char *log = g_build_filename(dir, "build.log", NULL);
	struct build_progress progress = { 0 };
	gint64 start = g_get_monotonic_time();
	int rc;

	hpci_info("firmware: building %s (key %.12s)", plan->source.describe, plan->key);
	if ((rc = hpci_write_file(log, "", 0)) < 0 ||
	    (rc = hpci_source_export(&plan->source, src, log)) < 0 ||
	    (rc = hpci_patch_queue_apply(&plan->queue, src, log)) < 0)
		return rc;
	if (!hpci_is_file(edksetup))
		return hpci_error(ENOENT, "%s has no 'edksetup.sh' at its top; is it an edk2 "
				  "source tree?", plan->source.describe);
	/* edksetup.sh writes its templates into Conf/, which git exports only
	 * when the repository tracks its placeholder files. */
	if ((rc = hpci_mkdir_p(conf, 0755)) < 0)
		return rc;
	if ((rc = provide_basetools(plan, src, log)) < 0 ||
	    (rc = run_edk2_build(plan, dir, src, log, &progress)) < 0 ||
	    (rc = keep_images(plan, src, dir)) < 0)
		return rc;
	trim_ld_cache();
	/* The tree is large and the key reproduces it. */
	if ((rc = hpci_rm_rf(src)) < 0 || (rc = hpci_rm_rf(tools)) < 0 ||
	    (rc = write_descriptor(plan, dir, final_dir)) < 0)
		return rc;
	return write_manifest(plan, dir, (g_get_monotonic_time() - start) / 1000, &progress);
}

static int fill_build(const char *key, const char *dir, bool hit, struct hpci_firmware_build *ret)
{
	g_auto(hpci_firmware_build_result) b = { 0 };
	g_autoptr(json_object) manifest = NULL;
	json_object *smm;
	int rc;

	b.key = g_strdup(key);
	b.dir = g_strdup(dir);
	b.code = g_build_filename(dir, CODE_IMAGE, NULL);
	b.vars = g_build_filename(dir, VARS_IMAGE, NULL);
	b.descriptor = g_build_filename(dir, DESCRIPTOR, NULL);
	b.manifest = g_build_filename(dir, "manifest.json", NULL);
	b.log = g_build_filename(dir, "build.log", NULL);
	b.cache_hit = hit;
	if (!hpci_is_file(b.code) || !hpci_is_file(b.vars))
		return hpci_error(ENOENT, "cache entry '%s' lacks " CODE_IMAGE " or " VARS_IMAGE
				  "; remove the directory to rebuild it", dir);
	if ((rc = hpci_manifest_read(dir, &manifest)) < 0)
		return rc;
	b.source = g_strdup(hpci_json_get_string(manifest, "source.describe"));
	b.build_type = g_strdup(hpci_json_get_string(manifest, "build_type"));
	b.patches = hpci_manifest_patch_names(manifest);
	b.smm = json_object_object_get_ex(manifest, "smm", &smm) && json_object_get_boolean(smm);
	b.version = g_strdup_printf("OVMF %s%s (build %.12s of %s)", b.build_type,
				    b.smm ? " SMM" : "", key, b.source);
	*ret = HPCI_STEAL_STRUCT(b);
	return 0;
}

static int build_entry_cb(const char *work_dir, const char *final_dir, void *plan)
{
	return build_entry(plan, work_dir, final_dir);
}

int hpci_firmware_build(const struct hpci_firmware_request *req, struct hpci_firmware_build *ret)
{
	g_autofree char *dir = NULL;
	g_auto(build_plan) plan = { 0 };
	bool hit = false;
	int rc;

	if ((rc = make_plan(req, &plan)) < 0 ||
	    (rc = hpci_cache_build(CACHE_KIND, plan.key, "OVMF", build_entry_cb, &plan, &dir,
				   &hit)) < 0)
		return rc;
	if ((rc = fill_build(plan.key, dir, hit, ret)) < 0)
		return rc;
	hpci_source_origin_set(&ret->origin, &plan.source);
	return 0;
}
