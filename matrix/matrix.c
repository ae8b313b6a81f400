/* SPDX-License-Identifier: MIT */
/*
 * The matrix parser: reads a matrix file (format in matrix/README.md),
 * validates every part of it against its JSON path, and expands it into
 * cells.  This is the only file of matrix/ that includes json-c.
 *
 * Every mistake is reported once, through fail(), as
 *   <file>: <json path>: <problem>; <fix>
 * and returned as -EINVAL; nothing is handed to the caller on failure.
 */
#include "matrix.h"
#include "firmware-build.h"
#include "qemu-build.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <string.h>

#define MAX_VCPUS 1024                 /* topology fields, max, counts */
#define MAX_TIMEOUT_S 86400            /* one day */
#define MAX_SWEEPS 1000
#define MAX_COMBINATIONS 100000        /* cartesian product before the rules */
#define MAX_FILE_BYTES (16u << 20)
#define DEFAULT_SWEEPS 2
#define KVM_MIN_TIMEOUT_MS 5000

enum axis_id {
	AXIS_TOPOLOGY,
	AXIS_SMI,
	AXIS_FIRMWARE,
	AXIS_QEMU,
	AXIS_COUNT,
	AXIS_OPS,
	AXIS__N
};

/* Canonical order: expansion, cell ids and cell->axes all follow it. */
static const char *const axis_names[AXIS__N + 1] = {
	"topology", "smi", "firmware", "qemu", "count", "ops", NULL
};

static const char *const top_keys[] = {
	"name", "description", "defaults", "axes", "include", "exclude", "expect", NULL
};
static const char *const defaults_keys[] = { "image", "timeouts", NULL };
static const char *const timeout_keys[] = {
	"boot_s", "plug_s", "online_s", "unplug_s", "smi_s", NULL
};
static const char *const topology_keys[] = {
	"sockets", "dies", "cores", "threads", "boot", "max", NULL
};
static const char *const smi_keys[] = {
	"machine", "broadcast", "cpu_hotplug", "cpu_hotunplug", "smbase_smram", NULL
};
/* The firmware axis's three forms, and all their keys together. */
static const char *const firmware_keys[] = {
	"code", "vars", "smm", "verbose", "descriptor", "build", NULL
};
static const char *const firmware_image_keys[] = { "code", "vars", "smm", "verbose", NULL };
static const char *const firmware_descriptor_keys[] = { "descriptor", NULL };
static const char *const firmware_recipe_keys[] = { "build", NULL };
static const char *const firmware_build_keys[] = {
	"source", "rev", "sha256", "patches", "build_type", "defines", "pcds", NULL
};
static const char *const qemu_keys[] = { "emulator", "build", NULL };
static const char *const qemu_build_keys[] = { "source", "rev", "sha256", "patches", "configure",
					       NULL };
static const char *const step_keys[] = { "op", "sweeps", NULL };
static const char *const expect_keys[] = {
	"when", "host", "outcome", "message", "reason", "firmware", "known_issue", NULL
};
static const char *const known_issue_keys[] = {
	"outcome", "component", "upstream", "note", "evidence", NULL
};
static const char *const expect_firmware_keys[] = {
	"smram_at_default_smbase", "negotiated", NULL
};
static const char *const negotiated_keys[] = {
	"broadcast", "cpu_hotplug", "cpu_hotunplug", NULL
};
static const char *const host_keys[] = { "accel", NULL };

/* Built-in defaults, in seconds (README: "defaults"). */
static const unsigned default_timeouts_s[] = { 120, 60, 60, 90, 120 };
#define DEFAULT_IMAGE "minimal"
#define DEFAULT_MACHINE "q35"
#define DEFAULT_FW_CODE "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define DEFAULT_FW_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"
#define IMPLICIT_NAME "default"
/* A firmware descriptor's x86_64 target must list a glob matching this. */
#define DESCRIPTOR_MACHINE "pc-q35-7.2"

/* Where QEMU looks up a firmware descriptor by file name, first match wins
 * (docs/interop/firmware.json; the per-user directory is left out, as a CI
 * run must not depend on who runs it). */
static const char *const descriptor_dirs[] = {
	"/etc/qemu/firmware", "/usr/share/qemu/firmware", NULL
};

/* One value of one axis; only the member of its axis is used. */
struct axis_value {
	char *name;
	char *path;       /* its JSON path, or the axis path when implicit */
	bool implicit;    /* the value an absent axis gets */
	struct hpci_topology topology;
	struct hpci_smi_mode smi;
	struct hpci_firmware firmware;
	struct hpci_qemu qemu;
	unsigned count;   /* 0 means "all" */
	GArray *steps;    /* struct hpci_step */
};

/* include/exclude/expect rule; allowed[a] NULL: any value of axis a. */
struct rule {
	char *path;
	bool *allowed[AXIS__N];
	char *accel;      /* expect only: "tcg"/"kvm", or NULL */
	enum hpci_outcome outcome;
	char *message;
	char *reason;
	struct hpci_firmware_expect firmware;   /* all HPCI_FACT_ANY when not given */
	GArray *known_issues;   /* struct hpci_known_issue, or NULL when not given */
};

struct matrix_parser {
	const char *file;
	const struct hpci_matrix_host *host;
	char *image;
	struct hpci_timeouts timeouts;   /* scaled for the host */
	GPtrArray *axes[AXIS__N];        /* struct axis_value * */
	GPtrArray *include;              /* struct rule *; NULL when absent */
	GPtrArray *exclude;
	GPtrArray *expect;
};

static void axis_value_free(struct axis_value *v)
{
	if (!v)
		return;
	g_free(v->name);
	g_free(v->path);
	g_free(v->smi.machine);
	g_free(v->firmware.code);
	g_free(v->firmware.vars);
	g_free(v->firmware.descriptor);
	hpci_firmware_recipe_free(v->firmware.recipe);
	g_free(v->qemu.emulator);
	hpci_qemu_recipe_free(v->qemu.recipe);
	if (v->steps)
		g_array_unref(v->steps);
	g_free(v);
}

static struct axis_value *axis_value_new(const char *name, const char *path)
{
	struct axis_value *v = g_new0(struct axis_value, 1);

	v->name = g_strdup(name);
	v->path = g_strdup(path);
	return v;
}

static void rule_free(struct rule *r)
{
	if (!r)
		return;
	for (int a = 0; a < AXIS__N; a++)
		g_free(r->allowed[a]);
	g_free(r->path);
	g_free(r->accel);
	g_free(r->message);
	g_free(r->reason);
	if (r->known_issues)
		g_array_unref(r->known_issues);
	g_free(r);
}

static void matrix_parser_release(struct matrix_parser *p)
{
	g_free(p->image);
	for (int a = 0; a < AXIS__N; a++)
		if (p->axes[a])
			g_ptr_array_unref(p->axes[a]);
	if (p->include)
		g_ptr_array_unref(p->include);
	if (p->exclude)
		g_ptr_array_unref(p->exclude);
	if (p->expect)
		g_ptr_array_unref(p->expect);
}

typedef struct matrix_parser matrix_parser;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(matrix_parser, matrix_parser_release)
typedef struct axis_value axis_value;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(axis_value, axis_value_free)
typedef struct rule rule;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rule, rule_free)

/* ---- messages ---------------------------------------------------------- */

static int fail(const struct matrix_parser *p, const char *path, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static int fail(const struct matrix_parser *p, const char *path, const char *fmt, ...)
{
	g_autofree char *problem = NULL;
	va_list ap;

	va_start(ap, fmt);
	problem = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return hpci_error(EINVAL, "%s: %s: %s", p->file, path, problem);
}

static bool name_chars_ok(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!g_ascii_isalnum(*s) && !strchr(extra, *s))
			return false;
	}
	return true;
}

/* $.a.b for plain keys, $.a["b c"] for the others. */
static char *path_key(const char *parent, const char *key)
{
	g_autofree char *escaped = NULL;

	if (name_chars_ok(key, "._+-"))
		return g_strdup_printf("%s.%s", parent, key);
	escaped = g_strescape(key, NULL);
	return g_strdup_printf("%s[\"%s\"]", parent, escaped);
}

static char *path_index(const char *parent, size_t index)
{
	return g_strdup_printf("%s[%zu]", parent, index);
}

static char *join(const char *const *list)
{
	return g_strjoinv(", ", (char **)list);
}

static char *value_names(const GPtrArray *values)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint i = 0; i < values->len; i++) {
		const struct axis_value *v = g_ptr_array_index(values, i);

		g_string_append_printf(s, "%s%s", i ? ", " : "", v->name);
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* "array", "string \"2\"", "number 0", "boolean true", "null". */
static char *describe(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return g_strdup("null");
	case json_type_boolean:
		return g_strdup_printf("boolean %s", json_object_get_boolean(v) ? "true" : "false");
	case json_type_int:
	case json_type_double:
		return g_strdup_printf("number %s",
				       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	case json_type_string: {
		const char *s = json_object_get_string(v);
		gsize len = strlen(s);
		g_autofree char *head = g_strndup(s, MIN(len, 40));
		g_autofree char *escaped = g_strescape(head, NULL);

		return g_strdup_printf("string \"%s\"%s", escaped, len > 40 ? "..." : "");
	}
	case json_type_object:
		return g_strdup("object");
	case json_type_array:
		return g_strdup("array");
	}
	return g_strdup("unknown");
}

static int type_error(const struct matrix_parser *p, const char *path, const char *expected,
		      json_object *v)
{
	g_autofree char *got = describe(v);

	return fail(p, path, "expected %s, got %s", expected, got);
}

static int missing(const struct matrix_parser *p, const char *path, const char *key)
{
	return fail(p, path, "missing required key '%s'", key);
}

/* ---- typed access ------------------------------------------------------ */

static int check_object(const struct matrix_parser *p, const char *path, json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return type_error(p, path, "an object", v);
	return 0;
}

static int check_array(const struct matrix_parser *p, const char *path, json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return type_error(p, path, "an array", v);
	return 0;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++) {
		if (strcmp(*list, s) == 0)
			return true;
	}
	return false;
}

/* The object at `path` may only hold the keys in `allowed`. */
static int check_keys(const struct matrix_parser *p, const char *path, json_object *obj,
		      const char *const *allowed)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (!in_list(allowed, key)) {
			g_autofree char *list = join(allowed);
			g_autofree char *escaped = g_strescape(key, NULL);

			return fail(p, path, "unknown key '%s'; allowed keys are %s", escaped, list);
		}
	}
	return 0;
}

static int as_string(const struct matrix_parser *p, const char *path, json_object *v,
		     const char **ret)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return type_error(p, path, "a string", v);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return fail(p, path, "the string contains a NUL character; remove it");
	*ret = s;
	return 0;
}

static int as_bool(const struct matrix_parser *p, const char *path, json_object *v, bool *ret)
{
	if (!json_object_is_type(v, json_type_boolean))
		return type_error(p, path, "a boolean", v);
	*ret = json_object_get_boolean(v);
	return 0;
}

/* A positive integer up to `limit`; `what` names it in the limit message. */
static int as_uint(const struct matrix_parser *p, const char *path, const char *what,
		   json_object *v, unsigned limit, unsigned *ret)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return type_error(p, path, "a positive integer", v);
	n = json_object_get_int64(v);
	if (n <= 0)
		return type_error(p, path, "a positive integer", v);
	if ((uint64_t)n > limit)
		return fail(p, path, "%s %s exceeds the limit of %u", what,
			    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), limit);
	*ret = (unsigned)n;
	return 0;
}

/* Optional members: 0 when absent, 1 when read, negative on error. */
static int opt_string(const struct matrix_parser *p, const char *path, json_object *obj,
		      const char *key, const char **ret)
{
	g_autofree char *kpath = NULL;
	json_object *v;
	int rc;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	kpath = path_key(path, key);
	if ((rc = as_string(p, kpath, v, ret)) < 0)
		return rc;
	return 1;
}

static int opt_bool(const struct matrix_parser *p, const char *path, json_object *obj,
		    const char *key, bool *ret)
{
	g_autofree char *kpath = NULL;
	json_object *v;
	int rc;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	kpath = path_key(path, key);
	if ((rc = as_bool(p, kpath, v, ret)) < 0)
		return rc;
	return 1;
}

static int opt_uint(const struct matrix_parser *p, const char *path, json_object *obj,
		    const char *key, unsigned limit, unsigned *ret)
{
	g_autofree char *kpath = NULL;
	json_object *v;
	int rc;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	kpath = path_key(path, key);
	if ((rc = as_uint(p, kpath, key, v, limit, ret)) < 0)
		return rc;
	return 1;
}

static int req_string(const struct matrix_parser *p, const char *path, json_object *obj,
		      const char *key, const char **ret)
{
	int rc = opt_string(p, path, obj, key, ret);

	return rc == 0 ? missing(p, path, key) : rc;
}

static int req_bool(const struct matrix_parser *p, const char *path, json_object *obj,
		    const char *key, bool *ret)
{
	int rc = opt_bool(p, path, obj, key, ret);

	return rc == 0 ? missing(p, path, key) : rc;
}

static int req_uint(const struct matrix_parser *p, const char *path, json_object *obj,
		    const char *key, unsigned limit, unsigned *ret)
{
	int rc = opt_uint(p, path, obj, key, limit, ret);

	return rc == 0 ? missing(p, path, key) : rc;
}

static int req_abs_path(const struct matrix_parser *p, const char *path, json_object *obj,
			const char *key, char **ret)
{
	g_autofree char *kpath = NULL;
	const char *s;
	int rc;

	if ((rc = req_string(p, path, obj, key, &s)) < 0)
		return rc;
	if (!g_path_is_absolute(s)) {
		kpath = path_key(path, key);
		return fail(p, kpath, "'%s' is not an absolute path; give the full path", s);
	}
	*ret = g_strdup(s);
	return 0;
}

/* ---- axis values ------------------------------------------------------- */

static int parse_topology(const struct matrix_parser *p, const char *path, json_object *spec,
			  struct axis_value *v)
{
	struct hpci_topology t = { .dies = 1, .threads = 1 };
	guint64 product;
	int rc, has_max;

	if ((rc = check_object(p, path, spec)) < 0 ||
	    (rc = check_keys(p, path, spec, topology_keys)) < 0 ||
	    (rc = req_uint(p, path, spec, "sockets", MAX_VCPUS, &t.sockets)) < 0 ||
	    (rc = opt_uint(p, path, spec, "dies", MAX_VCPUS, &t.dies)) < 0 ||
	    (rc = req_uint(p, path, spec, "cores", MAX_VCPUS, &t.cores)) < 0 ||
	    (rc = opt_uint(p, path, spec, "threads", MAX_VCPUS, &t.threads)) < 0 ||
	    (rc = req_uint(p, path, spec, "boot", MAX_VCPUS, &t.boot)) < 0 ||
	    (rc = has_max = opt_uint(p, path, spec, "max", MAX_VCPUS, &t.max)) < 0)
		return rc;

	product = (guint64)t.sockets * t.dies * t.cores * t.threads;
	if (has_max && product != t.max)
		return fail(p, path, "sockets*dies*cores*threads is %" G_GUINT64_FORMAT
			    " but max is %u; make max equal the product", product, t.max);
	if (!has_max && product > MAX_VCPUS)
		return fail(p, path, "sockets*dies*cores*threads is %" G_GUINT64_FORMAT
			    ", over the limit of %u vCPUs; use a smaller topology",
			    product, MAX_VCPUS);
	t.max = (unsigned)product;
	if (t.boot > t.max) {
		g_autofree char *bpath = path_key(path, "boot");

		return fail(p, bpath, "boot %u exceeds max %u; boot at most max vCPUs",
			    t.boot, t.max);
	}
	v->topology = t;
	return 0;
}

/* A q35 machine type's version. */
struct machine_version {
	guint64 major, minor;
};

/* "q35": the newest, above every numbered machine type. */
static const struct machine_version newest_machine = { G_MAXUINT64, G_MAXUINT64 };

/*
 * "q35" or "pc-q35-<major>.<minor>", compared as numbers (4.10 is newer than
 * 4.2).  A number too large for 64 bits saturates, which still orders it
 * after every real machine type.
 */
static bool parse_machine(const char *m, struct machine_version *ret)
{
	struct machine_version v;
	const char *s;
	char *end;

	if (strcmp(m, "q35") == 0) {
		*ret = newest_machine;
		return true;
	}
	if (!g_str_has_prefix(m, "pc-q35-"))
		return false;
	s = m + strlen("pc-q35-");
	if (!g_ascii_isdigit(*s))
		return false;
	v.major = g_ascii_strtoull(s, &end, 10);
	if (*end++ != '.' || !g_ascii_isdigit(*end))
		return false;
	v.minor = g_ascii_strtoull(end, &end, 10);
	if (*end != '\0')
		return false;
	*ret = v;
	return true;
}

static bool machine_at_most(const struct machine_version *v, const struct machine_version *limit)
{
	return v->major < limit->major || (v->major == limit->major && v->minor <= limit->minor);
}

/*
 * The smi axis's switches.  QEMU's compat properties (hw/i386/pc.c,
 * pc_compat_<major>_<minor>) turn each one off for every machine type up to
 * and including `off_through`; newer ones have it on.
 */
static const struct smi_switch {
	const char *key;      /* in the matrix */
	enum hpci_smi_switch bit;
	struct machine_version off_through;
} smi_switches[] = {
	{ "broadcast", HPCI_SMI_BROADCAST, { 2, 8 } },
	{ "cpu_hotplug", HPCI_SMI_CPU_HOTPLUG, { 5, 1 } },
	{ "cpu_hotunplug", HPCI_SMI_CPU_HOTUNPLUG, { 5, 2 } },
	{ "smbase_smram", HPCI_SMI_SMBASE_SMRAM, { 4, 2 } },
};

static bool *smi_value(struct hpci_smi_mode *m, enum hpci_smi_switch bit)
{
	switch (bit) {
	case HPCI_SMI_BROADCAST:
		return &m->broadcast;
	case HPCI_SMI_CPU_HOTPLUG:
		return &m->cpu_hotplug;
	case HPCI_SMI_CPU_HOTUNPLUG:
		return &m->cpu_hotunplug;
	case HPCI_SMI_SMBASE_SMRAM:
		return &m->smbase_smram;
	}
	g_assert_not_reached();
}

/* Every switch as the machine type leaves it, none of them given. */
static void smi_machine_defaults(const struct machine_version *v, struct hpci_smi_mode *m)
{
	for (size_t i = 0; i < G_N_ELEMENTS(smi_switches); i++)
		*smi_value(m, smi_switches[i].bit) = !machine_at_most(v, &smi_switches[i].off_through);
	m->given = 0;
}

/* For messages: where a switch's value came from when the matrix left it out. */
static char *smi_origin(const char *machine, unsigned given, enum hpci_smi_switch bit)
{
	if (given & bit)
		return g_strdup("");
	return g_strdup_printf(" (the default of machine type '%s')", machine);
}

static int parse_smi(const struct matrix_parser *p, const char *path, json_object *spec,
		     struct axis_value *v)
{
	struct hpci_smi_mode m = { 0 };
	g_autofree char *unplug_origin = NULL, *plug_origin = NULL;
	const char *machine = DEFAULT_MACHINE;
	struct machine_version version;
	int rc;

	if ((rc = check_object(p, path, spec)) < 0 ||
	    (rc = check_keys(p, path, spec, smi_keys)) < 0 ||
	    (rc = opt_string(p, path, spec, "machine", &machine)) < 0)
		return rc;
	if (!parse_machine(machine, &version)) {
		g_autofree char *mpath = path_key(path, "machine");

		return fail(p, mpath, "machine '%s' is not q35 or pc-q35-<major>.<minor>; "
			    "CPU hotplug with SMM needs a q35 machine type", machine);
	}
	smi_machine_defaults(&version, &m);
	for (size_t i = 0; i < G_N_ELEMENTS(smi_switches); i++) {
		const struct smi_switch *sw = &smi_switches[i];

		if ((rc = opt_bool(p, path, spec, sw->key, smi_value(&m, sw->bit))) < 0)
			return rc;
		if (rc)
			m.given |= sw->bit;
	}
	/* Checked on the effective values: QEMU refuses to start this way
	 * whether the matrix or the machine type set them (facts, section 6). */
	if (m.cpu_hotunplug && !m.cpu_hotplug) {
		unplug_origin = smi_origin(machine, m.given, HPCI_SMI_CPU_HOTUNPLUG);
		plug_origin = smi_origin(machine, m.given, HPCI_SMI_CPU_HOTPLUG);
		return fail(p, path, "cpu_hotunplug is true%s while cpu_hotplug is false%s, which "
			    "QEMU refuses to start with (\"cpu hot-unplug requires cpu hot-plug\"); "
			    "set cpu_hotunplug to false or cpu_hotplug to true", unplug_origin,
			    plug_origin);
	}
	m.machine = g_strdup(machine);
	v->smi = m;
	return 0;
}

/* A path in the matrix relative to the matrix file's directory, so a matrix
 * under matrix/ names our queue as "../qemu-build/patches". */
static char *resolve_relative(const struct matrix_parser *p, const char *rel)
{
	g_autofree char *base = NULL;

	if (g_path_is_absolute(rel))
		return g_strdup(rel);
	base = g_path_get_dirname(p->file);
	if (!g_path_is_absolute(base)) {
		g_autofree char *cwd = g_get_current_dir();
		g_autofree char *abs = g_build_filename(cwd, base, NULL);

		return g_build_filename(abs, rel, NULL);
	}
	return g_build_filename(base, rel, NULL);
}

/* What a build recipe (qemu or firmware) builds from: "source", and the
 * optional "rev", "sha256" and "patches" (relative to the matrix file). */
static int parse_recipe_source(const struct matrix_parser *p, const char *path, json_object *spec,
			       char **source, char **rev, char **sha256, char **patches)
{
	const char *s = NULL;
	int rc;

	if ((rc = req_string(p, path, spec, "source", &s)) < 0)
		return rc;
	*source = g_strdup(s);
	if ((rc = opt_string(p, path, spec, "rev", &s)) < 0)
		return rc;
	*rev = rc ? g_strdup(s) : NULL;
	if ((rc = opt_string(p, path, spec, "sha256", &s)) < 0)
		return rc;
	*sha256 = rc ? g_strdup(s) : NULL;
	if ((rc = opt_string(p, path, spec, "patches", &s)) < 0)
		return rc;
	*patches = rc ? resolve_relative(p, s) : NULL;
	return 0;
}

/* An optional array of strings; *ret gets an empty array when it is absent. */
static int opt_string_list(const struct matrix_parser *p, const char *path, json_object *obj,
			   const char *key, GPtrArray **ret)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *kpath = path_key(path, key);
	json_object *v;
	const char *s;
	int rc;

	if (json_object_object_get_ex(obj, key, &v)) {
		if (!json_object_is_type(v, json_type_array))
			return fail(p, kpath, "expected an array of strings, got %s",
				    json_type_to_name(json_object_get_type(v)));
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			g_autofree char *ipath = path_index(kpath, i);

			if ((rc = as_string(p, ipath, json_object_array_get_idx(v, i), &s)) < 0)
				return rc;
			g_ptr_array_add(list, g_strdup(s));
		}
	}
	*ret = g_steal_pointer(&list);
	return 0;
}

/* ---- firmware ----------------------------------------------------------- */

static int parse_strict_json(const char *what, const char *data, gsize len, json_object **ret,
			     size_t *ret_line, const char **ret_problem);

/* { "code", "vars", "smm", "verbose" }: images given as they are. */
static int parse_firmware_images(const struct matrix_parser *p, const char *path,
				 json_object *spec, struct hpci_firmware *fw)
{
	int rc;

	if ((rc = req_abs_path(p, path, spec, "code", &fw->code)) < 0 ||
	    (rc = req_abs_path(p, path, spec, "vars", &fw->vars)) < 0 ||
	    (rc = req_bool(p, path, spec, "smm", &fw->smm)) < 0 ||
	    (rc = opt_bool(p, path, spec, "verbose", &fw->verbose)) < 0)
		return rc;
	return 0;
}

static int descriptor_fail(const struct matrix_parser *p, const char *path, const char *file,
			   const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static int descriptor_fail(const struct matrix_parser *p, const char *path, const char *file,
			   const char *fmt, ...)
{
	g_autofree char *problem = NULL;
	va_list ap;

	va_start(ap, fmt);
	problem = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return fail(p, path, "firmware descriptor '%s' %s", file, problem);
}

/* The member `key` of `obj` when obj is an object that has it, else NULL. */
static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

static const char *member_string(json_object *obj, const char *key)
{
	json_object *v = member(obj, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool array_has_string(json_object *array, const char *s)
{
	for (size_t i = 0; json_object_is_type(array, json_type_array) &&
			   i < json_object_array_length(array); i++) {
		json_object *e = json_object_array_get_idx(array, i);

		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), s) == 0)
			return true;
	}
	return false;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The descriptor file names in QEMU's directories, for "no such descriptor". */
static char *system_descriptors(void)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) s = g_string_new(NULL);

	for (const char *const *d = descriptor_dirs; *d; d++) {
		g_autoptr(GDir) dir = g_dir_open(*d, 0, NULL);
		const char *name;

		while (dir && (name = g_dir_read_name(dir))) {
			bool dup = false;

			if (!g_str_has_suffix(name, ".json"))
				continue;
			for (guint i = 0; i < names->len && !dup; i++)
				dup = strcmp(g_ptr_array_index(names, i), name) == 0;
			if (!dup)
				g_ptr_array_add(names, g_strdup(name));
		}
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "",
				       (const char *)g_ptr_array_index(names, i));
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/*
 * "descriptor" names a file: absolute, relative to the matrix file's
 * directory when it has a '/', or else a file name looked up QEMU's way, in
 * the first of descriptor_dirs that has it (an empty file in /etc/qemu/firmware
 * hides the one in /usr/share, and then fails as invalid JSON).
 */
static int find_descriptor(const struct matrix_parser *p, const char *path, const char *name,
			   char **ret)
{
	g_autofree char *dirs = NULL, *known = NULL;

	if (!*name)
		return fail(p, path, "empty descriptor name; give a file name from "
			    "/usr/share/qemu/firmware or a path");
	if (strchr(name, '/')) {
		g_autofree char *abs = resolve_relative(p, name);

		*ret = g_canonicalize_filename(abs, NULL);
		return 0;
	}
	for (const char *const *d = descriptor_dirs; *d; d++) {
		g_autofree char *candidate = g_build_filename(*d, name, NULL);

		if (hpci_is_file(candidate)) {
			*ret = g_steal_pointer(&candidate);
			return 0;
		}
	}
	dirs = g_strjoinv(" or ", (char **)descriptor_dirs);
	known = system_descriptors();
	if (!*known)
		return fail(p, path, "no firmware descriptor '%s' in %s, which have none; install "
			    "OVMF (apt-get install ovmf) or give the path of a descriptor", name, dirs);
	return fail(p, path, "no firmware descriptor '%s' in %s; use one of %s, or give the path "
		    "of a descriptor", name, dirs, known);
}

/* One of mapping.executable / mapping.nvram-template: a raw image's absolute path. */
static int descriptor_image(const struct matrix_parser *p, const char *path, const char *file,
			    json_object *mapping, const char *key, const char *fix, char **ret)
{
	json_object *image = member(mapping, key);
	const char *filename = member_string(image, "filename");
	const char *format = member_string(image, "format");

	if (!filename)
		return descriptor_fail(p, path, file, "has no mapping.%s.filename; %s", key, fix);
	if (!g_path_is_absolute(filename))
		return descriptor_fail(p, path, file, "has mapping.%s.filename '%s', which is not "
				       "an absolute path; fix the descriptor", key, filename);
	/* The domain's <loader>/<nvram> take raw images. */
	if (format && strcmp(format, "raw") != 0)
		return descriptor_fail(p, path, file, "has mapping.%s.format '%s'; hotplug-ci "
				       "attaches raw flash images, use a descriptor for raw ones",
				       key, format);
	*ret = g_strdup(filename);
	return 0;
}

/* Some x86_64 target must list a machine glob that matches a q35 machine. */
static int descriptor_targets(const struct matrix_parser *p, const char *path, const char *file,
			      json_object *root)
{
	json_object *targets = member(root, "targets");
	g_autoptr(GString) archs = g_string_new(NULL);
	g_autoptr(GString) machines = g_string_new(NULL);
	bool x86 = false;

	for (size_t i = 0; json_object_is_type(targets, json_type_array) &&
			   i < json_object_array_length(targets); i++) {
		json_object *target = json_object_array_get_idx(targets, i);
		json_object *globs = member(target, "machines");
		const char *arch = member_string(target, "architecture");

		if (!arch)
			continue;
		if (strcmp(arch, "x86_64") != 0) {
			g_string_append_printf(archs, "%s%s", archs->len ? ", " : "", arch);
			continue;
		}
		x86 = true;
		for (size_t j = 0; json_object_is_type(globs, json_type_array) &&
				   j < json_object_array_length(globs); j++) {
			json_object *glob = json_object_array_get_idx(globs, j);

			if (!json_object_is_type(glob, json_type_string))
				continue;
			if (fnmatch(json_object_get_string(glob), DESCRIPTOR_MACHINE, 0) == 0)
				return 0;
			g_string_append_printf(machines, "%s%s", machines->len ? ", " : "",
					       json_object_get_string(glob));
		}
	}
	if (!x86)
		return descriptor_fail(p, path, file, "has no x86_64 target (%s%s); hotplug-ci "
				       "runs x86_64 guests, use an x86_64 OVMF descriptor",
				       archs->len ? "it is for " : "no targets",
				       archs->len ? archs->str : "");
	return descriptor_fail(p, path, file, "has no x86_64 machine pattern matching "
			       "pc-q35-* (%s%s); hotplug-ci needs a q35 machine, use a descriptor "
			       "whose x86_64 target lists pc-q35-*",
			       machines->len ? "it lists " : "it lists none",
			       machines->str);
}

/* { "descriptor": NAME-or-PATH }: a firmware descriptor in the format of
 * QEMU's docs/interop/firmware.json, read now. */
static int parse_firmware_descriptor(const struct matrix_parser *p, const char *path,
				     json_object *spec, struct hpci_firmware *fw)
{
	g_autofree char *dpath = path_key(path, "descriptor");
	g_autofree char *file = NULL, *data = NULL;
	g_autoptr(json_object) root = NULL;
	json_object *mapping, *features;
	const char *name, *problem = NULL, *device, *mode;
	size_t line = 0;
	gsize len = 0;
	int rc;

	if ((rc = req_string(p, path, spec, "descriptor", &name)) < 0 ||
	    (rc = find_descriptor(p, dpath, name, &file)) < 0)
		return rc;
	if (hpci_read_file(file, &data, &len) < 0) {
		g_autofree char *why = g_strdup(hpci_error_message());

		return fail(p, dpath, "%s; give the name or path of a firmware descriptor", why);
	}
	if (len > MAX_FILE_BYTES)
		return descriptor_fail(p, dpath, file, "has %" G_GSIZE_FORMAT " bytes, more than "
				       "the %u a descriptor may have; give a real descriptor", len,
				       MAX_FILE_BYTES);
	rc = parse_strict_json(file, data, len, &root, &line, &problem);
	if (rc == -EINVAL)
		return descriptor_fail(p, dpath, file, "is not valid JSON (near line %zu: %s); "
				       "give a descriptor in the format of QEMU's "
				       "docs/interop/firmware.json", line, problem);
	if (rc < 0)
		return rc;
	if (!json_object_is_type(root, json_type_object))
		return descriptor_fail(p, dpath, file, "holds %s, not a JSON object; give a "
				       "descriptor in the format of QEMU's docs/interop/firmware.json",
				       json_type_to_name(json_object_get_type(root)));
	if (!array_has_string(member(root, "interface-types"), "uefi"))
		return descriptor_fail(p, dpath, file, "has no \"uefi\" in interface-types; "
				       "hotplug-ci boots UEFI firmware (OVMF)");
	mapping = member(root, "mapping");
	if (!json_object_is_type(mapping, json_type_object))
		return descriptor_fail(p, dpath, file, "has no mapping object; give a descriptor "
				       "in the format of QEMU's docs/interop/firmware.json");
	device = member_string(mapping, "device");
	if (!device || strcmp(device, "flash") != 0)
		return descriptor_fail(p, dpath, file, "has mapping.device '%s', not 'flash'; "
				       "hotplug-ci needs split flash (CODE + VARS)",
				       device ? device : "(none)");
	mode = member_string(mapping, "mode");
	if (mode && strcmp(mode, "split") != 0)
		return descriptor_fail(p, dpath, file, "has mapping.mode '%s'; hotplug-ci needs "
				       "split flash (CODE + VARS)", mode);
	if ((rc = descriptor_image(p, dpath, file, mapping, "executable",
				   "a flash descriptor must name its CODE image", &fw->code)) < 0 ||
	    (rc = descriptor_image(p, dpath, file, mapping, "nvram-template",
				   "hotplug-ci needs split flash (CODE + VARS)", &fw->vars)) < 0 ||
	    (rc = descriptor_targets(p, dpath, file, root)) < 0)
		return rc;
	features = member(root, "features");
	fw->smm = array_has_string(features, "requires-smm");
	fw->verbose = array_has_string(features, "verbose-static");
	fw->descriptor = g_steal_pointer(&file);
	return 0;
}

/* Where in the recipe hpci_firmware_check's complaint is: checks the parts
 * one by one, in the order it checks them. */
static char *firmware_check_where(const char *path, const struct hpci_firmware_request *req)
{
	struct hpci_firmware_request part = {
		.source = req->source, .rev = req->rev, .sha256 = req->sha256,
		.patches = req->patches,
	};
	g_autoptr(GPtrArray) one = g_ptr_array_new();
	g_autofree char *dpath = path_key(path, "defines");
	g_autofree char *ppath = path_key(path, "pcds");

	if (hpci_firmware_check(&part) < 0)
		return g_strdup(path);
	part.build_type = req->build_type;
	if (hpci_firmware_check(&part) < 0)
		return path_key(path, "build_type");
	part.defines = one;
	for (guint i = 0; req->defines && i < req->defines->len; i++) {
		g_ptr_array_set_size(one, 0);
		g_ptr_array_add(one, g_ptr_array_index(req->defines, i));
		if (hpci_firmware_check(&part) < 0)
			return path_index(dpath, i);
	}
	part.defines = NULL;
	part.pcds = one;
	for (guint i = 0; req->pcds && i < req->pcds->len; i++) {
		g_ptr_array_set_size(one, 0);
		g_ptr_array_add(one, g_ptr_array_index(req->pcds, i));
		if (hpci_firmware_check(&part) < 0)
			return path_index(ppath, i);
	}
	return g_strdup(path);
}

/* { "build": {...} }: an OVMF firmware-build/ builds; the run fills in the
 * images. */
static int parse_firmware_build(const struct matrix_parser *p, const char *path,
				json_object *spec, struct hpci_firmware *fw)
{
	g_autoptr(GPtrArray) defines = NULL, pcds = NULL;
	struct hpci_firmware_recipe *r;
	struct hpci_firmware_request req;
	const char *s = NULL;
	int rc;

	if ((rc = check_object(p, path, spec)) < 0 ||
	    (rc = check_keys(p, path, spec, firmware_build_keys)) < 0)
		return rc;
	r = fw->recipe = g_new0(struct hpci_firmware_recipe, 1);
	if ((rc = parse_recipe_source(p, path, spec, &r->source, &r->rev, &r->sha256,
				      &r->patches)) < 0)
		return rc;
	if ((rc = opt_string(p, path, spec, "build_type", &s)) < 0)
		return rc;
	r->build_type = g_strdup(rc ? s : "DEBUG");
	if ((rc = opt_string_list(p, path, spec, "defines", &r->defines)) < 0 ||
	    (rc = opt_string_list(p, path, spec, "pcds", &r->pcds)) < 0)
		return rc;
	/* The source's form, the build type, -D and PCD syntax and the patch
	 * queue, before anything is built. */
	req = (struct hpci_firmware_request){
		.source = r->source, .rev = r->rev, .sha256 = r->sha256, .patches = r->patches,
		.build_type = r->build_type, .defines = r->defines, .pcds = r->pcds,
	};
	if (hpci_firmware_check(&req) < 0) {
		g_autofree char *why = g_strdup(hpci_error_message());
		g_autofree char *where = firmware_check_where(path, &req);

		return fail(p, where, "%s", why);
	}
	fw->smm = hpci_firmware_request_smm(&req);
	fw->verbose = strcmp(r->build_type, "RELEASE") != 0;
	return 0;
}

/* The first key of `obj` that is in `keys`, or NULL. */
static const char *first_key(json_object *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		if (json_object_object_get_ex(obj, *keys, NULL))
			return *keys;
	}
	return NULL;
}

#define FIRMWARE_FORMS "\"code\" + \"vars\" + \"smm\" (flash images, optional \"verbose\"), " \
	"\"descriptor\" (a QEMU firmware descriptor) or \"build\" (a recipe firmware-build/ builds)"

/* Exactly one of three forms: images, descriptor, build recipe. */
static int parse_firmware(const struct matrix_parser *p, const char *path, json_object *spec,
			  struct axis_value *v)
{
	static const char *const *const form_keys[] = {
		firmware_image_keys, firmware_descriptor_keys, firmware_recipe_keys,
	};
	const char *found[G_N_ELEMENTS(form_keys)];
	int rc, forms = 0, form = -1;

	if ((rc = check_object(p, path, spec)) < 0)
		return rc;
	for (size_t f = 0; f < G_N_ELEMENTS(form_keys); f++) {
		if ((found[f] = first_key(spec, form_keys[f]))) {
			forms++;
			if (form < 0)
				form = (int)f;
		}
	}
	if (forms > 1) {
		const char *second = NULL;

		for (size_t f = (size_t)form + 1; !second && f < G_N_ELEMENTS(form_keys); f++)
			second = found[f];
		return fail(p, path, "'%s' and '%s' belong to different forms; give exactly one "
			    "of " FIRMWARE_FORMS, found[form], second);
	}
	if ((rc = check_keys(p, path, spec, form < 0 ? firmware_keys : form_keys[form])) < 0)
		return rc;
	switch (form) {
	case 0:
		return parse_firmware_images(p, path, spec, &v->firmware);
	case 1:
		return parse_firmware_descriptor(p, path, spec, &v->firmware);
	case 2: {
		g_autofree char *bpath = path_key(path, "build");
		json_object *build = NULL;

		json_object_object_get_ex(spec, "build", &build);
		return parse_firmware_build(p, bpath, build, &v->firmware);
	}
	default:
		return fail(p, path, "no firmware given; give exactly one of " FIRMWARE_FORMS);
	}
}

static int parse_qemu_build(const struct matrix_parser *p, const char *path, json_object *spec,
			    struct hpci_qemu_recipe *r)
{
	int rc;

	if ((rc = check_object(p, path, spec)) < 0 ||
	    (rc = check_keys(p, path, spec, qemu_build_keys)) < 0 ||
	    (rc = parse_recipe_source(p, path, spec, &r->source, &r->rev, &r->sha256,
				      &r->patches)) < 0)
		return rc;
	if ((rc = opt_string_list(p, path, spec, "configure", &r->configure)) < 0)
		return rc;
	/* The source's form and the patch queue, before anything is built. */
	{
		struct hpci_qemu_request req = {
			.source = r->source, .rev = r->rev, .sha256 = r->sha256,
			.patches = r->patches, .configure = r->configure,
		};

		if (hpci_qemu_check(&req) < 0) {
			g_autofree char *why = g_strdup(hpci_error_message());

			return fail(p, path, "%s", why);
		}
	}
	return 0;
}

static int parse_qemu(const struct matrix_parser *p, const char *path, json_object *spec,
		      struct axis_value *v)
{
	bool has_emulator, has_build;
	json_object *build;
	int rc;

	if ((rc = check_object(p, path, spec)) < 0 ||
	    (rc = check_keys(p, path, spec, qemu_keys)) < 0)
		return rc;
	has_emulator = json_object_object_get_ex(spec, "emulator", NULL);
	has_build = json_object_object_get_ex(spec, "build", &build);
	if (has_emulator == has_build)
		return fail(p, path, "give exactly one of 'emulator' (a QEMU binary) or 'build' "
			    "(a recipe qemu-build/ builds)");
	if (has_emulator)
		return req_abs_path(p, path, spec, "emulator", &v->qemu.emulator);
	{
		g_autofree char *bpath = path_key(path, "build");

		v->qemu.recipe = g_new0(struct hpci_qemu_recipe, 1);
		return parse_qemu_build(p, bpath, build, v->qemu.recipe);
	}
}

static const char *const step_names[] = { "plug-each", "plug-burst", "unplug", "smi", NULL };

static int parse_step(const struct matrix_parser *p, const char *path, json_object *spec,
		      struct hpci_step *ret)
{
	g_autofree char *opath = NULL;
	struct hpci_step step = { 0 };
	const char *op;
	bool found = false;
	json_object *sweeps;
	int rc;

	if (json_object_is_type(spec, json_type_string)) {
		if ((rc = as_string(p, path, spec, &op)) < 0)
			return rc;
		opath = g_strdup(path);
	} else if (json_object_is_type(spec, json_type_object)) {
		if ((rc = check_keys(p, path, spec, step_keys)) < 0 ||
		    (rc = req_string(p, path, spec, "op", &op)) < 0)
			return rc;
		opath = path_key(path, "op");
	} else {
		return type_error(p, path, "a step name or an object with \"op\"", spec);
	}
	for (int k = HPCI_STEP_PLUG_EACH; k <= HPCI_STEP_SMI; k++) {
		if (strcmp(op, hpci_step_name(k)) == 0) {
			step.kind = k;
			found = true;
		}
	}
	if (!found) {
		g_autofree char *list = join(step_names);

		return fail(p, opath, "unknown step '%s'; steps are %s", op, list);
	}
	if (step.kind == HPCI_STEP_SMI)
		step.sweeps = DEFAULT_SWEEPS;
	if (json_object_is_type(spec, json_type_object) &&
	    json_object_object_get_ex(spec, "sweeps", &sweeps)) {
		g_autofree char *spath = path_key(path, "sweeps");

		if (step.kind != HPCI_STEP_SMI)
			return fail(p, spath, "sweeps only applies to step 'smi', not '%s'; remove it",
				    op);
		if ((rc = as_uint(p, spath, "sweeps", sweeps, MAX_SWEEPS, &step.sweeps)) < 0)
			return rc;
	}
	*ret = step;
	return 0;
}

static int parse_ops(const struct matrix_parser *p, const char *path, json_object *spec,
		     struct axis_value *v)
{
	g_autoptr(GArray) steps = NULL;
	size_t n;
	int rc;

	if ((rc = check_array(p, path, spec)) < 0)
		return rc;
	n = json_object_array_length(spec);
	if (n == 0) {
		g_autofree char *list = join(step_names);

		return fail(p, path, "no steps; list at least one of %s", list);
	}
	steps = g_array_sized_new(FALSE, TRUE, sizeof(struct hpci_step), n);
	for (size_t i = 0; i < n; i++) {
		g_autofree char *spath = path_index(path, i);
		struct hpci_step step;

		if ((rc = parse_step(p, spath, json_object_array_get_idx(spec, i), &step)) < 0)
			return rc;
		g_array_append_val(steps, step);
	}
	v->steps = g_steal_pointer(&steps);
	return 0;
}

typedef int (*spec_parser)(const struct matrix_parser *p, const char *path, json_object *spec,
			   struct axis_value *v);

static const spec_parser spec_parsers[AXIS__N] = {
	[AXIS_TOPOLOGY] = parse_topology,
	[AXIS_SMI] = parse_smi,
	[AXIS_FIRMWARE] = parse_firmware,
	[AXIS_QEMU] = parse_qemu,
	[AXIS_OPS] = parse_ops,
};

static int find_value(const GPtrArray *values, const char *name)
{
	for (guint i = 0; i < values->len; i++) {
		const struct axis_value *v = g_ptr_array_index(values, i);

		if (strcmp(v->name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* An axis written as an object of value name -> spec. */
static int parse_named_axis(struct matrix_parser *p, enum axis_id a, const char *path,
			    json_object *axis)
{
	struct json_object_iterator it, end;
	int rc;

	if ((rc = check_object(p, path, axis)) < 0)
		return rc;
	it = json_object_iter_begin(axis);
	end = json_object_iter_end(axis);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		g_autofree char *vpath = path_key(path, name);
		g_autoptr(axis_value) v = NULL;

		if (!*name)
			return fail(p, vpath, "empty value name; name it with letters, digits "
				    "and . _ + -");
		if (!name_chars_ok(name, "._+-"))
			return fail(p, vpath, "value name '%s' may only contain letters, digits "
				    "and . _ + -", name);
		v = axis_value_new(name, vpath);
		if ((rc = spec_parsers[a](p, vpath, json_object_iter_peek_value(&it), v)) < 0)
			return rc;
		g_ptr_array_add(p->axes[a], g_steal_pointer(&v));
	}
	return 0;
}

/* The count axis: an array of positive integers and "all". */
static int parse_count_axis(struct matrix_parser *p, const char *path, json_object *axis)
{
	int rc;

	if ((rc = check_array(p, path, axis)) < 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(axis); i++) {
		json_object *e = json_object_array_get_idx(axis, i);
		g_autofree char *epath = path_index(path, i);
		g_autofree char *name = NULL;
		g_autoptr(axis_value) v = NULL;
		unsigned count = 0;
		int dup;

		if (json_object_is_type(e, json_type_int) && json_object_get_int64(e) > 0) {
			if ((rc = as_uint(p, epath, "count", e, MAX_VCPUS, &count)) < 0)
				return rc;
			name = g_strdup_printf("%u", count);
		} else if (json_object_is_type(e, json_type_string) &&
			   strcmp(json_object_get_string(e), "all") == 0 &&
			   json_object_get_string_len(e) == 3) {
			name = g_strdup("all");
		} else {
			return type_error(p, epath, "a positive integer or \"all\"", e);
		}
		if ((dup = find_value(p->axes[AXIS_COUNT], name)) >= 0) {
			const struct axis_value *first = g_ptr_array_index(p->axes[AXIS_COUNT], dup);

			return fail(p, epath, "count '%s' is already listed at %s; remove one",
				    name, first->path);
		}
		v = axis_value_new(name, epath);
		v->count = count;
		g_ptr_array_add(p->axes[AXIS_COUNT], g_steal_pointer(&v));
	}
	return 0;
}

/* The one value an absent axis gets (README: "Axes"). */
static struct axis_value *implicit_value(enum axis_id a)
{
	g_autofree char *path = g_strdup_printf("$.axes.%s", axis_names[a]);
	struct axis_value *v = axis_value_new(IMPLICIT_NAME, path);
	struct hpci_step steps[] = {
		{ .kind = HPCI_STEP_PLUG_EACH },
		{ .kind = HPCI_STEP_SMI, .sweeps = DEFAULT_SWEEPS },
	};

	v->implicit = true;
	switch (a) {
	case AXIS_TOPOLOGY:
		v->topology = (struct hpci_topology){ .sockets = 1, .dies = 1, .cores = 2,
						      .threads = 1, .boot = 1, .max = 2 };
		break;
	case AXIS_SMI:
		/* DEFAULT_MACHINE is q35, the newest: every switch on. */
		smi_machine_defaults(&newest_machine, &v->smi);
		v->smi.machine = g_strdup(DEFAULT_MACHINE);
		break;
	case AXIS_FIRMWARE:
		v->firmware = (struct hpci_firmware){ .code = g_strdup(DEFAULT_FW_CODE),
						      .vars = g_strdup(DEFAULT_FW_VARS),
						      .smm = true };
		break;
	case AXIS_QEMU:
		v->qemu.emulator = g_strdup(DEFAULT_EMULATOR);
		break;
	case AXIS_COUNT:
		v->count = 1;
		break;
	case AXIS_OPS:
		v->steps = g_array_sized_new(FALSE, TRUE, sizeof(struct hpci_step),
					     G_N_ELEMENTS(steps));
		g_array_append_vals(v->steps, steps, G_N_ELEMENTS(steps));
		break;
	case AXIS__N:
		break;
	}
	return v;
}

static int axis_lookup(const char *name)
{
	for (int a = 0; a < AXIS__N; a++) {
		if (strcmp(axis_names[a], name) == 0)
			return a;
	}
	return -1;
}

static int parse_axes(struct matrix_parser *p, json_object *axes)
{
	struct json_object_iterator it, end;
	int rc;

	if ((rc = check_object(p, "$.axes", axes)) < 0)
		return rc;
	it = json_object_iter_begin(axes);
	end = json_object_iter_end(axes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		json_object *axis = json_object_iter_peek_value(&it);
		g_autofree char *path = path_key("$.axes", name);
		int a = axis_lookup(name);

		if (a < 0) {
			g_autofree char *list = join(axis_names);
			g_autofree char *escaped = g_strescape(name, NULL);

			return fail(p, "$.axes", "unknown axis '%s'; axes are %s", escaped, list);
		}
		rc = a == AXIS_COUNT ? parse_count_axis(p, path, axis)
				     : parse_named_axis(p, a, path, axis);
		if (rc < 0)
			return rc;
		if (p->axes[a]->len == 0)
			return fail(p, path, "axis '%s' has no values; add one, or remove the axis "
				    "to get its default", name);
	}
	for (int a = 0; a < AXIS__N; a++) {
		if (p->axes[a]->len == 0)
			g_ptr_array_add(p->axes[a], implicit_value(a));
	}
	return 0;
}

/* ---- defaults ---------------------------------------------------------- */

static unsigned scale_timeout(const struct matrix_parser *p, unsigned seconds)
{
	unsigned ms = seconds * 1000;

	/* KVM runs the guest several times faster than TCG, which the numbers
	 * in a matrix are written for; never go below 5 s (or the given value). */
	if (p->host && g_strcmp0(p->host->accel, "kvm") == 0)
		return MAX(ms / 4, MIN(ms, KVM_MIN_TIMEOUT_MS));
	return ms;
}

static int parse_defaults(struct matrix_parser *p, json_object *root)
{
	unsigned secs[G_N_ELEMENTS(default_timeouts_s)];
	json_object *defaults, *timeouts;
	const char *image = DEFAULT_IMAGE;
	int rc;

	memcpy(secs, default_timeouts_s, sizeof(secs));
	if (json_object_object_get_ex(root, "defaults", &defaults)) {
		if ((rc = check_object(p, "$.defaults", defaults)) < 0 ||
		    (rc = check_keys(p, "$.defaults", defaults, defaults_keys)) < 0 ||
		    (rc = opt_string(p, "$.defaults", defaults, "image", &image)) < 0)
			return rc;
		if (!name_chars_ok(image, "._-"))
			return fail(p, "$.defaults.image", "'%s' is not an image recipe name; use "
				    "the name of a directory under images/, e.g. 'minimal'", image);
		if (json_object_object_get_ex(defaults, "timeouts", &timeouts)) {
			const char *tpath = "$.defaults.timeouts";

			if ((rc = check_object(p, tpath, timeouts)) < 0 ||
			    (rc = check_keys(p, tpath, timeouts, timeout_keys)) < 0)
				return rc;
			for (size_t i = 0; i < G_N_ELEMENTS(secs); i++) {
				if ((rc = opt_uint(p, tpath, timeouts, timeout_keys[i],
						   MAX_TIMEOUT_S, &secs[i])) < 0)
					return rc;
			}
		}
	}
	p->image = g_strdup(image);
	p->timeouts = (struct hpci_timeouts){
		.boot_ms = scale_timeout(p, secs[0]),
		.plug_ms = scale_timeout(p, secs[1]),
		.online_ms = scale_timeout(p, secs[2]),
		.unplug_ms = scale_timeout(p, secs[3]),
		.smi_ms = scale_timeout(p, secs[4]),
	};
	return 0;
}

/* ---- rules ------------------------------------------------------------- */

static int rule_value(const struct matrix_parser *p, const char *path, enum axis_id a,
		      json_object *v, bool in_list_form, bool *allowed)
{
	const GPtrArray *values = p->axes[a];
	char number[24];
	const char *name;
	int index, rc;

	if (a == AXIS_COUNT && json_object_is_type(v, json_type_int)) {
		g_snprintf(number, sizeof(number), "%" PRId64, json_object_get_int64(v));
		name = number;
	} else if (json_object_is_type(v, json_type_string)) {
		if ((rc = as_string(p, path, v, &name)) < 0)
			return rc;
	} else {
		return type_error(p, path, in_list_form ? "a value name"
					   : "a value name or an array of value names", v);
	}
	if ((index = find_value(values, name)) < 0) {
		g_autofree char *list = value_names(values);

		return fail(p, path, "unknown %s value '%s'; values are %s", axis_names[a], name,
			    list);
	}
	allowed[index] = true;
	return 0;
}

/* axis -> value name or [value names]; every listed axis must match. */
static int parse_when(const struct matrix_parser *p, const char *path, json_object *when,
		      struct rule *r)
{
	struct json_object_iterator it, end;
	int rc;

	if ((rc = check_object(p, path, when)) < 0)
		return rc;
	it = json_object_iter_begin(when);
	end = json_object_iter_end(when);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *v = json_object_iter_peek_value(&it);
		g_autofree char *apath = path_key(path, key);
		int a = axis_lookup(key);

		if (a < 0) {
			g_autofree char *list = join(axis_names);
			g_autofree char *escaped = g_strescape(key, NULL);

			return fail(p, path, "unknown axis '%s'; axes are %s", escaped, list);
		}
		g_free(r->allowed[a]);
		r->allowed[a] = g_new0(bool, p->axes[a]->len);
		if (!json_object_is_type(v, json_type_array)) {
			if ((rc = rule_value(p, apath, a, v, false, r->allowed[a])) < 0)
				return rc;
			continue;
		}
		if (json_object_array_length(v) == 0)
			return fail(p, apath, "an empty list matches no cell; list at least one "
				    "value or drop '%s'", key);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			g_autofree char *epath = path_index(apath, i);

			if ((rc = rule_value(p, epath, a, json_object_array_get_idx(v, i), true,
					     r->allowed[a])) < 0)
				return rc;
		}
	}
	return 0;
}

/* An optional boolean as a fact: HPCI_FACT_ANY when absent. */
static int opt_fact(const struct matrix_parser *p, const char *path, json_object *obj,
		    const char *key, int *ret)
{
	bool b;
	int rc = opt_bool(p, path, obj, key, &b);

	if (rc > 0)
		*ret = b;
	return rc;
}

/* "firmware": what the firmware's debug log must say. */
static int parse_expect_firmware(const struct matrix_parser *p, const char *path,
				 json_object *spec, struct hpci_firmware_expect *ret)
{
	g_autofree char *fpath = path_key(path, "firmware");
	g_autofree char *npath = NULL;
	json_object *fw, *negotiated;
	int rc;

	*ret = (struct hpci_firmware_expect){ HPCI_FACT_ANY, HPCI_FACT_ANY, HPCI_FACT_ANY,
					      HPCI_FACT_ANY };
	if (!json_object_object_get_ex(spec, "firmware", &fw))
		return 0;
	if ((rc = check_object(p, fpath, fw)) < 0 ||
	    (rc = check_keys(p, fpath, fw, expect_firmware_keys)) < 0 ||
	    (rc = opt_fact(p, fpath, fw, "smram_at_default_smbase",
			   &ret->smram_at_default_smbase)) < 0)
		return rc;
	if (!json_object_object_get_ex(fw, "negotiated", &negotiated))
		return 0;
	npath = path_key(fpath, "negotiated");
	if ((rc = check_object(p, npath, negotiated)) < 0 ||
	    (rc = check_keys(p, npath, negotiated, negotiated_keys)) < 0 ||
	    (rc = opt_fact(p, npath, negotiated, "broadcast", &ret->broadcast)) < 0 ||
	    (rc = opt_fact(p, npath, negotiated, "cpu_hotplug", &ret->cpu_hotplug)) < 0 ||
	    (rc = opt_fact(p, npath, negotiated, "cpu_hotunplug", &ret->cpu_hotunplug)) < 0)
		return rc;
	return 0;
}

static int parse_outcome(const struct matrix_parser *p, const char *path, json_object *spec,
			 enum hpci_outcome *ret)
{
	const char *outcome;
	int rc;

	if ((rc = req_string(p, path, spec, "outcome", &outcome)) < 0)
		return rc;
	if (hpci_outcome_parse(outcome, ret) < 0) {
		g_autofree char *opath = path_key(path, "outcome");
		g_autoptr(GString) list = g_string_new(NULL);

		for (int o = 0; o < HPCI_OUTCOME__COUNT; o++)
			g_string_append_printf(list, "%s%s", o ? ", " : "", hpci_outcome_name(o));
		return fail(p, opath, "unknown outcome '%s'; outcomes are %s", outcome, list->str);
	}
	return 0;
}

/* "component": what the known issue is a bug in, never a part we build. */
static int parse_component(const struct matrix_parser *p, const char *kpath, json_object *known,
			   enum hpci_known_component *ret)
{
	g_autofree char *cpath = path_key(kpath, "component");
	const char *name;
	int rc;

	g_autoptr(GString) list = g_string_new(NULL);

	if ((rc = req_string(p, kpath, known, "component", &name)) < 0)
		return rc;
	for (int c = 0; c < HPCI_COMPONENT__N; c++) {
		if (strcmp(name, hpci_known_component_name(c)) == 0) {
			*ret = c;
			return 0;
		}
		g_string_append_printf(list, "%s%s", !c ? "" : c + 1 < HPCI_COMPONENT__N ? ", " :
				       " or ", hpci_known_component_name(c));
	}
	return fail(p, cpath, "'%s' is not a component a known issue may name: use %s.  A bug "
		    "in QEMU or OVMF that hotplug-ci builds or patches, or in its guest image, is "
		    "fixed in its patch queue, not declared", name, list->str);
}

/*
 * A known issue in the system QEMU (or firmware) cannot excuse a cell that
 * runs our build of it: there the bug is ours.
 */
static int check_known_issue_components(const struct matrix_parser *p, const struct rule *r,
					const struct axis_value *const *v, const char *id)
{
	g_autofree char *kpath = path_key(r->path, "known_issue");

	for (guint i = 0; r->known_issues && i < r->known_issues->len; i++) {
		const struct hpci_known_issue *ki =
			&g_array_index(r->known_issues, struct hpci_known_issue, i);
		int ours = -1;

		if (ki->component == HPCI_COMPONENT_SYSTEM_QEMU && v[AXIS_QEMU]->qemu.recipe)
			ours = AXIS_QEMU;
		else if (ki->component == HPCI_COMPONENT_SYSTEM_FIRMWARE &&
			 v[AXIS_FIRMWARE]->firmware.recipe)
			ours = AXIS_FIRMWARE;
		if (ours >= 0)
			return fail(p, kpath, "cell '%s' runs %s '%s', which hotplug-ci builds (%s.build), "
				    "but its known issue names the %s: a bug in what we build is "
				    "fixed in its patch queue, not declared; narrow the rule's "
				    "'when' to the system build", id, axis_names[ours], v[ours]->name,
				    v[ours]->path, hpci_known_component_name(ki->component));
	}
	return 0;
}

/* One known issue at kpath: a product bug the cell may hit, with the evidence kept. */
static int parse_known_issue(const struct matrix_parser *p, const char *kpath, json_object *known,
			     struct rule *r)
{
	g_autofree char *opath = path_key(kpath, "outcome");
	g_autofree char *epath = path_key(kpath, "evidence");
	g_autofree char *evidence_path = NULL;
	struct hpci_known_issue ki = { .note = NULL };
	const char *note, *evidence, *upstream;
	int rc;

	if ((rc = check_object(p, kpath, known)) < 0 ||
	    (rc = check_keys(p, kpath, known, known_issue_keys)) < 0 ||
	    (rc = parse_outcome(p, kpath, known, &ki.outcome)) < 0 ||
	    (rc = parse_component(p, kpath, known, &ki.component)) < 0 ||
	    (rc = req_string(p, kpath, known, "upstream", &upstream)) < 0 ||
	    (rc = req_string(p, kpath, known, "note", &note)) < 0 ||
	    (rc = req_string(p, kpath, known, "evidence", &evidence)) < 0)
		return rc;
	if (ki.outcome == r->outcome || ki.outcome == HPCI_OUTCOME_PASS ||
	    ki.outcome == HPCI_OUTCOME_INFRA_ERROR)
		return fail(p, opath, "a known issue is a product failure other than the expected "
			    "outcome '%s'; '%s' cannot be one", hpci_outcome_name(r->outcome),
			    hpci_outcome_name(ki.outcome));
	if (hpci_known_issue_find(r->known_issues, ki.outcome))
		return fail(p, opath, "an earlier known issue of this rule has outcome '%s' too, so "
			    "a cell ending in it would match both; merge them into one",
			    hpci_outcome_name(ki.outcome));
	evidence_path = resolve_relative(p, evidence);
	if (!g_file_test(evidence_path, G_FILE_TEST_EXISTS))
		return fail(p, epath, "evidence '%s' does not exist; keep the logs and register "
			    "dumps of the failure there (a path relative to the matrix file)",
			    evidence_path);
	ki.note = g_strdup_printf("%s; upstream: %s (evidence: %s)", note, upstream, evidence_path);
	g_array_append_val(r->known_issues, ki);
	return 0;
}

/* "known_issue": one known issue, or a non-empty array of them. */
static int parse_known_issues(const struct matrix_parser *p, const char *path, json_object *spec,
			      struct rule *r)
{
	g_autofree char *kpath = path_key(path, "known_issue");
	json_object *known;
	size_t n;
	int rc;

	if (!json_object_object_get_ex(spec, "known_issue", &known))
		return 0;
	r->known_issues = hpci_known_issues_new();
	if (json_object_is_type(known, json_type_object))
		return parse_known_issue(p, kpath, known, r);
	if (!json_object_is_type(known, json_type_array))
		return type_error(p, kpath, "an object or an array of objects", known);
	n = json_object_array_length(known);
	if (n == 0)
		return fail(p, kpath, "empty list of known issues; name at least one, or remove "
			    "the key");
	for (size_t j = 0; j < n; j++) {
		g_autofree char *ipath = path_index(kpath, j);

		if ((rc = parse_known_issue(p, ipath, json_object_array_get_idx(known, j), r)) < 0)
			return rc;
	}
	return 0;
}

static int parse_expect_rule(const struct matrix_parser *p, const char *path, json_object *spec,
			     struct rule *r)
{
	g_autofree char *wpath = path_key(path, "when");
	const char *outcome, *message = NULL, *reason = NULL;
	json_object *when, *host;
	int rc;

	if ((rc = check_object(p, path, spec)) < 0 ||
	    (rc = check_keys(p, path, spec, expect_keys)) < 0)
		return rc;
	if (!json_object_object_get_ex(spec, "when", &when))
		return fail(p, path, "missing required key 'when'; use \"when\": {} to match "
			    "every cell");
	if ((rc = parse_when(p, wpath, when, r)) < 0)
		return rc;
	if (json_object_object_get_ex(spec, "host", &host)) {
		g_autofree char *hpath = path_key(path, "host");
		const char *accel;

		if ((rc = check_object(p, hpath, host)) < 0 ||
		    (rc = check_keys(p, hpath, host, host_keys)) < 0 ||
		    (rc = req_string(p, hpath, host, "accel", &accel)) < 0)
			return rc;
		if (strcmp(accel, "tcg") != 0 && strcmp(accel, "kvm") != 0) {
			g_autofree char *apath = path_key(hpath, "accel");

			return fail(p, apath, "unknown accelerator '%s'; use tcg or kvm", accel);
		}
		r->accel = g_strdup(accel);
	}
	if ((rc = parse_outcome(p, path, spec, &r->outcome)) < 0)
		return rc;
	outcome = hpci_outcome_name(r->outcome);
	if ((rc = opt_string(p, path, spec, "message", &message)) < 0 ||
	    (rc = opt_string(p, path, spec, "reason", &reason)) < 0)
		return rc;
	if (message) {
		g_autofree char *mpath = path_key(path, "message");

		if (r->outcome != HPCI_OUTCOME_REFUSED)
			return fail(p, mpath, "message only applies to outcome 'refused', not '%s'; "
				    "remove it", outcome);
		if (!*message)
			return fail(p, mpath, "empty message matches every error; give the text "
				    "the refusal must contain, or remove it");
	}
	r->message = g_strdup(message);
	r->reason = g_strdup(reason);
	if ((rc = parse_known_issues(p, path, spec, r)) < 0)
		return rc;
	return parse_expect_firmware(p, path, spec, &r->firmware);
}

/* $.include / $.exclude / $.expect: arrays of rules, kept in file order. */
static int parse_rules(struct matrix_parser *p, json_object *root, const char *key,
		       GPtrArray **ret)
{
	g_autofree char *path = path_key("$", key);
	g_autoptr(GPtrArray) rules = NULL;
	json_object *list;
	int rc;

	if (!json_object_object_get_ex(root, key, &list))
		return 0;
	if ((rc = check_array(p, path, list)) < 0)
		return rc;
	rules = g_ptr_array_new_with_free_func((GDestroyNotify)rule_free);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *spec = json_object_array_get_idx(list, i);
		g_autoptr(rule) r = g_new0(struct rule, 1);

		r->path = path_index(path, i);
		if (strcmp(key, "expect") == 0)
			rc = parse_expect_rule(p, r->path, spec, r);
		else
			rc = parse_when(p, r->path, spec, r);
		if (rc < 0)
			return rc;
		g_ptr_array_add(rules, g_steal_pointer(&r));
	}
	*ret = g_steal_pointer(&rules);
	return 0;
}

/* ---- expansion --------------------------------------------------------- */

static bool rule_matches(const struct rule *r, const guint *idx)
{
	for (int a = 0; a < AXIS__N; a++) {
		if (r->allowed[a] && !r->allowed[a][idx[a]])
			return false;
	}
	return true;
}

static bool any_matches(const GPtrArray *rules, const guint *idx)
{
	for (guint i = 0; i < rules->len; i++) {
		if (rule_matches(g_ptr_array_index(rules, i), idx))
			return true;
	}
	return false;
}

static bool selected(const struct matrix_parser *p, const guint *idx)
{
	if (p->include && !any_matches(p->include, idx))
		return false;
	return !(p->exclude && any_matches(p->exclude, idx));
}

/* The most plug steps that run with no unplug between them. */
static unsigned plug_runs(const GArray *steps)
{
	unsigned run = 0, peak = 0;

	for (guint i = 0; i < steps->len; i++) {
		switch (g_array_index(steps, struct hpci_step, i).kind) {
		case HPCI_STEP_PLUG_EACH:
		case HPCI_STEP_PLUG_BURST:
			run++;
			peak = MAX(peak, run);
			break;
		case HPCI_STEP_UNPLUG:
			run = 0;
			break;
		case HPCI_STEP_SMI:
			break;
		}
	}
	return peak;
}

/* The vCPUs to plug per plug step, checked against the free slots. */
static int resolve_count(const struct matrix_parser *p, const struct axis_value *const *v,
			 const char *id, unsigned *ret)
{
	const struct axis_value *topo = v[AXIS_TOPOLOGY], *cv = v[AXIS_COUNT];
	unsigned free_slots = topo->topology.max - topo->topology.boot;
	unsigned count = cv->count ? cv->count : free_slots;
	unsigned runs = plug_runs(v[AXIS_OPS]->steps);
	g_autofree char *shown = cv->count ? g_strdup_printf("%u", count)
					   : g_strdup_printf("'all' (%u)", count);

	if (count == 0)
		return fail(p, cv->path, "count 'all' has no free vCPU slot to plug: topology '%s' "
			    "boots all %u of its vCPUs (cell '%s'); exclude the pair or raise max "
			    "in %s", topo->name, topo->topology.max, id, topo->path);
	if (runs <= 1 && count > free_slots)
		return fail(p, cv->path, "count %u exceeds the %u free vCPU slot(s) of topology "
			    "'%s' (cell '%s'); exclude the pair or raise max in %s",
			    count, free_slots, topo->name, id, topo->path);
	if (runs > 1 && (guint64)count * runs > free_slots)
		return fail(p, cv->path, "count %s needs %" G_GUINT64_FORMAT " free vCPU slots for "
			    "the %u plug steps of ops '%s' that no unplug separates, but topology "
			    "'%s' has %u (cell '%s'); exclude the combination, add an unplug step "
			    "in %s, or raise max in %s", shown, (guint64)count * runs, runs,
			    v[AXIS_OPS]->name, topo->name, free_slots, id, v[AXIS_OPS]->path,
			    topo->path);
	*ret = count;
	return 0;
}

static const struct rule *expectation(const struct matrix_parser *p, const guint *idx)
{
	const char *accel = p->host ? p->host->accel : NULL;

	for (guint i = 0; p->expect && i < p->expect->len; i++) {
		const struct rule *r = g_ptr_array_index(p->expect, i);

		/* A host-conditional rule never matches an unknown host. */
		if (r->accel && g_strcmp0(r->accel, accel) != 0)
			continue;
		if (rule_matches(r, idx))
			return r;
	}
	return NULL;
}

static bool expects_firmware_facts(const struct hpci_firmware_expect *e)
{
	return e->smram_at_default_smbase != HPCI_FACT_ANY || e->broadcast != HPCI_FACT_ANY ||
	       e->cpu_hotplug != HPCI_FACT_ANY || e->cpu_hotunplug != HPCI_FACT_ANY;
}

/* Firmware facts come from the debug log, which only a verbose firmware writes. */
static int check_firmware_facts(const struct matrix_parser *p, const struct rule *r,
				const struct axis_value *fw, const char *id)
{
	g_autofree char *rpath = path_key(r->path, "firmware");
	g_autofree char *why = NULL, *fix = NULL;

	if (!expects_firmware_facts(&r->firmware) || fw->firmware.verbose)
		return 0;
	if (fw->firmware.recipe) {
		why = g_strdup_printf("a %s build", fw->firmware.recipe->build_type);
		fix = g_strdup_printf("use a DEBUG build (build_type DEBUG or NOOPT in %s.build)",
				      fw->path);
	} else if (fw->firmware.descriptor) {
		why = g_strdup_printf("descriptor '%s' lacks the feature verbose-static",
				      fw->firmware.descriptor);
		fix = g_strdup("use a DEBUG build");
	} else if (fw->implicit) {
		why = g_strdup("the default firmware is the distribution's OVMF, which is not "
			       "verbose");
		fix = g_strdup("use a DEBUG build");
	} else {
		why = g_strdup_printf("verbose is false in %s", fw->path);
		fix = g_strdup("use a DEBUG build (and set verbose to true)");
	}
	return fail(p, rpath, "cell '%s' expects firmware facts but firmware '%s' writes no debug "
		    "log (%s); %s or drop the expectation", id, fw->name, why, fix);
}

/*
 * With mch.smbase-smram off the guest can plant code at the default SMBASE
 * and a hot-added CPU runs it in SMM (facts file, section 6): the barrier the
 * feature exists for is gone whatever the guest then sees, so such a cell is
 * never expected to pass.  `r` is the cell's expect rule, or NULL.
 */
static int check_smbase_smram(const struct matrix_parser *p, const struct rule *r,
			      const struct axis_value *smi, const struct hpci_cell *cell)
{
	g_autofree char *origin = NULL, *by = NULL;

	if (cell->smi.smbase_smram || cell->expect.outcome != HPCI_OUTCOME_PASS)
		return 0;
	origin = smi_origin(cell->smi.machine, cell->smi.given, HPCI_SMI_SMBASE_SMRAM);
	by = r ? g_strdup_printf("by %s", r->path) : g_strdup("as no expect rule matches it");
	return fail(p, r ? r->path : smi->path, "cell '%s' is expected to pass (%s) but smi '%s' "
		    "has smbase_smram false%s, so the guest can plant code at the default SMBASE "
		    "that a hot-added CPU runs in SMM and the cell must never count as a pass; "
		    "give it an expect rule, ahead of any that expects pass, with the outcome it "
		    "actually shows (e.g. hang-smm or guest-crash)", cell->id, by, smi->name, origin);
}

static int make_cell(const struct matrix_parser *p, const guint *idx, struct hpci_cell **ret)
{
	g_autoptr(hpci_cell) cell = g_new0(struct hpci_cell, 1);
	g_autoptr(GString) id = g_string_new(NULL);
	const struct axis_value *v[AXIS__N];
	const struct rule *expect;
	int rc;

	cell->axes = g_array_sized_new(FALSE, TRUE, sizeof(struct hpci_axis_value), AXIS__N);
	for (int a = 0; a < AXIS__N; a++) {
		struct hpci_axis_value av;

		v[a] = g_ptr_array_index(p->axes[a], idx[a]);
		g_string_append_printf(id, "%s%s=%s", a ? "," : "", axis_names[a], v[a]->name);
		av.axis = g_strdup(axis_names[a]);
		av.value = g_strdup(v[a]->name);
		g_array_append_val(cell->axes, av);
	}
	if ((rc = resolve_count(p, v, id->str, &cell->count)) < 0)
		return rc;
	cell->id = g_string_free(g_steal_pointer(&id), FALSE);
	cell->topology = v[AXIS_TOPOLOGY]->topology;
	cell->smi = v[AXIS_SMI]->smi;
	cell->smi.machine = g_strdup(v[AXIS_SMI]->smi.machine);
	cell->firmware.code = g_strdup(v[AXIS_FIRMWARE]->firmware.code);
	cell->firmware.vars = g_strdup(v[AXIS_FIRMWARE]->firmware.vars);
	cell->firmware.smm = v[AXIS_FIRMWARE]->firmware.smm;
	cell->firmware.verbose = v[AXIS_FIRMWARE]->firmware.verbose;
	cell->firmware.descriptor = g_strdup(v[AXIS_FIRMWARE]->firmware.descriptor);
	cell->firmware.recipe = hpci_firmware_recipe_copy(v[AXIS_FIRMWARE]->firmware.recipe);
	cell->qemu.emulator = g_strdup(v[AXIS_QEMU]->qemu.emulator);
	cell->qemu.recipe = hpci_qemu_recipe_copy(v[AXIS_QEMU]->qemu.recipe);
	cell->image = g_strdup(p->image);
	cell->steps = g_array_copy(v[AXIS_OPS]->steps);
	cell->timeouts = p->timeouts;
	cell->expect.outcome = HPCI_OUTCOME_PASS;
	cell->expect.firmware = (struct hpci_firmware_expect){ HPCI_FACT_ANY, HPCI_FACT_ANY,
							       HPCI_FACT_ANY, HPCI_FACT_ANY };
	if ((expect = expectation(p, idx))) {
		if ((rc = check_firmware_facts(p, expect, v[AXIS_FIRMWARE], cell->id)) < 0 ||
		    (rc = check_known_issue_components(p, expect, v, cell->id)) < 0)
			return rc;
		cell->expect.outcome = expect->outcome;
		cell->expect.message = g_strdup(expect->message);
		cell->expect.reason = g_strdup(expect->reason);
		cell->expect.firmware = expect->firmware;
		cell->expect.known_issues = hpci_known_issues_copy(expect->known_issues);
	}
	if ((rc = check_smbase_smram(p, expect, v[AXIS_SMI], cell)) < 0)
		return rc;
	*ret = g_steal_pointer(&cell);
	return 0;
}

static void axis_value_name_clear(gpointer data)
{
	struct hpci_axis_value *av = data;

	g_free(av->axis);
	g_free(av->value);
}

/* struct hpci_matrix's axis_values. */
static GArray *axis_values(const struct matrix_parser *p)
{
	GArray *values = g_array_new(FALSE, TRUE, sizeof(struct hpci_axis_value));

	g_array_set_clear_func(values, axis_value_name_clear);
	for (int a = 0; a < AXIS__N; a++) {
		for (guint i = 0; i < p->axes[a]->len; i++) {
			const struct axis_value *v = g_ptr_array_index(p->axes[a], i);
			struct hpci_axis_value av = { g_strdup(axis_names[a]), g_strdup(v->name) };

			g_array_append_val(values, av);
		}
	}
	return values;
}

/* Cartesian product, topology outermost and ops innermost. */
static int expand(const struct matrix_parser *p, GPtrArray *cells)
{
	guint64 total = 1;
	guint n[AXIS__N];
	int rc;

	for (int a = 0; a < AXIS__N; a++) {
		n[a] = p->axes[a]->len;
		total *= n[a];
		if (total > MAX_COMBINATIONS)
			return fail(p, "$.axes", "the axes combine into more than %u cells; split the "
				    "matrix into several files", MAX_COMBINATIONS);
	}
	for (guint64 k = 0; k < total; k++) {
		guint idx[AXIS__N];
		guint64 rest = k;
		struct hpci_cell *cell;

		for (int a = AXIS__N - 1; a >= 0; a--) {
			idx[a] = rest % n[a];
			rest /= n[a];
		}
		if (!selected(p, idx))
			continue;
		if ((rc = make_cell(p, idx, &cell)) < 0)
			return rc;
		g_ptr_array_add(cells, cell);
	}
	if (cells->len == 0)
		return fail(p, "$", "no cells left after include/exclude rules (of %" G_GUINT64_FORMAT
			    " combinations); loosen $.include or $.exclude", total);
	return 0;
}

/* ---- entry points ------------------------------------------------------ */

/*
 * Strict JSON: no comments, no trailing commas, nothing after the value.
 * On a syntax error returns -EINVAL with the line and a description of the
 * problem, and records nothing; -ENOMEM is recorded.
 */
static int parse_strict_json(const char *what, const char *data, gsize len, json_object **ret,
			     size_t *ret_line, const char **ret_problem)
{
	g_autoptr(json_tokener) tok = json_tokener_new();
	g_autoptr(json_object) root = NULL;
	enum json_tokener_error jerr;
	const char *problem;
	size_t end, line = 1;

	if (!tok)
		return hpci_error(ENOMEM, "%s: cannot allocate a JSON parser", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* The terminating NUL goes in too, so json-c knows the input ends. */
	root = json_tokener_parse_ex(tok, data, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = MIN(json_tokener_get_parse_end(tok), len);
	problem = json_tokener_error_desc(jerr);
	if (jerr == json_tokener_success) {
		/* json-c stops quietly at a NUL byte inside the file. */
		for (size_t i = end; i < len; i++) {
			if (!g_ascii_isspace(data[i])) {
				end = i;
				jerr = json_tokener_error_parse_unexpected;
				problem = data[i] ? "unexpected text after the top-level value"
						  : "NUL byte in the file";
				break;
			}
		}
	} else if (jerr == json_tokener_continue) {
		problem = "unexpected end of data";
	}
	if (jerr != json_tokener_success) {
		for (size_t i = 0; i < end; i++)
			line += data[i] == '\n';
		*ret_line = line;
		*ret_problem = problem;
		return -EINVAL;
	}
	*ret = g_steal_pointer(&root);
	return 0;
}

static int parse_json(const char *file, const char *data, gsize len, json_object **ret)
{
	const char *problem = NULL;
	size_t line = 0;
	int rc = parse_strict_json(file, data, len, ret, &line, &problem);

	if (rc == -EINVAL)
		return hpci_error(EINVAL, "%s: invalid JSON near line %zu: %s", file, line, problem);
	return rc;
}

static int parse_matrix(const char *path, const char *data, gsize len,
			const struct hpci_matrix_host *host, struct hpci_matrix **ret)
{
	g_auto(matrix_parser) p = { .file = path, .host = host };
	g_autoptr(json_object) root = NULL;
	g_autoptr(hpci_matrix) m = NULL;
	const char *name, *description;
	json_object *axes;
	int rc;

	if (len > MAX_FILE_BYTES)
		return hpci_error(EINVAL, "%s: the file has %" G_GSIZE_FORMAT " bytes; a matrix "
				  "file may have at most %u", path, len, MAX_FILE_BYTES);
	if ((rc = parse_json(path, data, len, &root)) < 0)
		return rc;
	for (int a = 0; a < AXIS__N; a++)
		p.axes[a] = g_ptr_array_new_with_free_func((GDestroyNotify)axis_value_free);

	if ((rc = check_object(&p, "$", root)) < 0 ||
	    (rc = check_keys(&p, "$", root, top_keys)) < 0 ||
	    (rc = req_string(&p, "$", root, "name", &name)) < 0)
		return rc;
	if (!name_chars_ok(name, "._-"))
		return fail(&p, "$.name", "name '%s' may only contain letters, digits and . _ -",
			    name);
	if ((rc = opt_string(&p, "$", root, "description", &description)) < 0 ||
	    (rc = parse_defaults(&p, root)) < 0)
		return rc;
	if (!json_object_object_get_ex(root, "axes", &axes))
		return missing(&p, "$", "axes");
	if ((rc = parse_axes(&p, axes)) < 0 ||
	    (rc = parse_rules(&p, root, "include", &p.include)) < 0 ||
	    (rc = parse_rules(&p, root, "exclude", &p.exclude)) < 0 ||
	    (rc = parse_rules(&p, root, "expect", &p.expect)) < 0)
		return rc;

	m = g_new0(struct hpci_matrix, 1);
	m->path = g_strdup(path);
	m->name = g_strdup(name);
	m->sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	m->cells = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_free);
	m->axis_values = axis_values(&p);
	if ((rc = expand(&p, m->cells)) < 0)
		return rc;
	*ret = g_steal_pointer(&m);
	return 0;
}

int hpci_matrix_load(const char *path, const struct hpci_matrix_host *host,
		     struct hpci_matrix **ret)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	int rc;

	if ((rc = hpci_read_file(path, &data, &len)) < 0)
		return rc;
	return parse_matrix(path, data, len, host, ret);
}

int hpci_matrix_parse(const char *path, const char *json, const struct hpci_matrix_host *host,
		      struct hpci_matrix **ret)
{
	return parse_matrix(path, json, strlen(json), host, ret);
}

void hpci_matrix_free(struct hpci_matrix *matrix)
{
	if (!matrix)
		return;
	g_free(matrix->path);
	g_free(matrix->name);
	g_free(matrix->sha256);
	if (matrix->cells)
		g_ptr_array_unref(matrix->cells);
	if (matrix->axis_values)
		g_array_unref(matrix->axis_values);
	g_free(matrix);
}
