/* SPDX-License-Identifier: MIT */
/*
 * Axis values: topology, smi (with QEMU's machine-compat defaults), count
 * and ops, the implicit value of an absent axis, and $.axes itself; the
 * firmware and qemu values are builds.c's.
 */
#include "matrix-private.h"
#include "error.h"

#include <errno.h>
#include <string.h>

#define MAX_VCPUS 1024                 /* topology fields, max, counts */
#define MAX_SWEEPS 1000
#define DEFAULT_SWEEPS 2
#define DEFAULT_MACHINE "q35"
#define DEFAULT_FW_CODE "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define DEFAULT_FW_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"
#define IMPLICIT_NAME "default"

const char *const matrix_axis_names[AXIS__N + 1] = {
	"topology", "smi", "firmware", "qemu", "count", "ops", NULL
};

static const char *const topology_keys[] = {
	"sockets", "dies", "cores", "threads", "boot", "max", NULL
};
static const char *const smi_keys[] = {
	"machine", "broadcast", "cpu_hotplug", "cpu_hotunplug", "smbase_smram", NULL
};
static const char *const step_keys[] = { "op", "sweeps", NULL };

void matrix_axis_value_free(struct axis_value *v)
{
	if (!v)
		return;
	g_free(v->name);
	g_free(v->path);
	g_free(v->smi.machine);
	hpci_firmware_clear(&v->firmware);
	hpci_qemu_clear(&v->qemu);
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


/* ---- axis values ------------------------------------------------------- */

static int parse_topology(const struct matrix_parser *p, const char *path, json_object *spec,
			  struct axis_value *v)
{
	struct hpci_topology t = { .dies = 1, .threads = 1 };
	guint64 product;
	int rc, has_max;

	if ((rc = hpci_json_object(p->file, path, spec)) < 0 ||
	    (rc = hpci_json_keys(p->file, path, spec, topology_keys)) < 0 ||
	    (rc = hpci_json_req_uint(p->file, path, spec, "sockets", MAX_VCPUS, &t.sockets)) < 0 ||
	    (rc = hpci_json_opt_uint(p->file, path, spec, "dies", MAX_VCPUS, &t.dies)) < 0 ||
	    (rc = hpci_json_req_uint(p->file, path, spec, "cores", MAX_VCPUS, &t.cores)) < 0 ||
	    (rc = hpci_json_opt_uint(p->file, path, spec, "threads", MAX_VCPUS, &t.threads)) < 0 ||
	    (rc = hpci_json_req_uint(p->file, path, spec, "boot", MAX_VCPUS, &t.boot)) < 0 ||
	    (rc = has_max = hpci_json_opt_uint(p->file, path, spec, "max", MAX_VCPUS, &t.max)) < 0)
		return rc;

	product = (guint64)t.sockets * t.dies * t.cores * t.threads;
	if (has_max && product != t.max)
		return hpci_json_fail(p->file, path, "sockets*dies*cores*threads is %"
				      G_GUINT64_FORMAT " but max is %u; make max equal the "
				      "product", product, t.max);
	if (!has_max && product > MAX_VCPUS)
		return hpci_json_fail(p->file, path, "sockets*dies*cores*threads is %"
				      G_GUINT64_FORMAT ", over the limit of %u vCPUs; use a "
				      "smaller topology", product, MAX_VCPUS);
	t.max = (unsigned)product;
	if (t.boot > t.max) {
		g_autofree char *bpath = hpci_json_path_key(path, "boot");

		return hpci_json_fail(p->file, bpath, "boot %u exceeds max %u; boot at most max "
				      "vCPUs", t.boot, t.max);
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
char *matrix_smi_origin(const char *machine, unsigned given, enum hpci_smi_switch bit)
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

	if ((rc = hpci_json_object(p->file, path, spec)) < 0 ||
	    (rc = hpci_json_keys(p->file, path, spec, smi_keys)) < 0 ||
	    (rc = hpci_json_opt_string(p->file, path, spec, "machine", &machine)) < 0)
		return rc;
	if (!parse_machine(machine, &version)) {
		g_autofree char *mpath = hpci_json_path_key(path, "machine");

		return hpci_json_fail(p->file, mpath, "machine '%s' is not q35 or "
				      "pc-q35-<major>.<minor>; CPU hotplug with SMM needs a q35 "
				      "machine type", machine);
	}
	smi_machine_defaults(&version, &m);
	for (size_t i = 0; i < G_N_ELEMENTS(smi_switches); i++) {
		const struct smi_switch *sw = &smi_switches[i];

		if ((rc = hpci_json_opt_bool(p->file, path, spec, sw->key,
					     smi_value(&m, sw->bit))) < 0)
			return rc;
		if (rc)
			m.given |= sw->bit;
	}
	/* Checked on the effective values: QEMU refuses to start this way
	 * whether the matrix or the machine type set them (docs/facts.md §2, §3). */
	if (m.cpu_hotunplug && !m.cpu_hotplug) {
		unplug_origin = matrix_smi_origin(machine, m.given, HPCI_SMI_CPU_HOTUNPLUG);
		plug_origin = matrix_smi_origin(machine, m.given, HPCI_SMI_CPU_HOTPLUG);
		return hpci_json_fail(p->file, path, "cpu_hotunplug is true%s while cpu_hotplug "
				      "is false%s, which QEMU refuses to start with (\"cpu "
				      "hot-unplug requires cpu hot-plug\"); set cpu_hotunplug "
				      "to false or cpu_hotplug to true", unplug_origin,
				      plug_origin);
	}
	m.machine = g_strdup(machine);
	v->smi = m;
	return 0;
}

static const char *const step_names[] = { "plug-each", "plug-burst", "unplug", "smi",
					   "attack-smbase", "attack-sipi", NULL };

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
		if ((rc = hpci_json_string(p->file, path, spec, &op)) < 0)
			return rc;
		opath = g_strdup(path);
	} else if (json_object_is_type(spec, json_type_object)) {
		if ((rc = hpci_json_keys(p->file, path, spec, step_keys)) < 0 ||
		    (rc = hpci_json_req_string(p->file, path, spec, "op", &op)) < 0)
			return rc;
		opath = hpci_json_path_key(path, "op");
	} else {
		return hpci_json_type_error(p->file, path, "a step name or an object with \"op\"",
					    spec);
	}
	for (int k = HPCI_STEP_PLUG_EACH; k <= HPCI_STEP_ATTACK_SIPI; k++) {
		if (strcmp(op, hpci_step_name(k)) == 0) {
			step.kind = k;
			found = true;
		}
	}
	if (!found) {
		g_autofree char *list = matrix_join(step_names);

		return hpci_json_fail(p->file, opath, "unknown step '%s'; steps are %s", op, list);
	}
	if (step.kind == HPCI_STEP_SMI)
		step.sweeps = DEFAULT_SWEEPS;
	if (json_object_is_type(spec, json_type_object) &&
	    json_object_object_get_ex(spec, "sweeps", &sweeps)) {
		g_autofree char *spath = hpci_json_path_key(path, "sweeps");

		if (step.kind != HPCI_STEP_SMI)
			return hpci_json_fail(p->file, spath, "sweeps only applies to step "
					      "'smi', not '%s'; remove it", op);
		if ((rc = hpci_json_uint(p->file, spath, "sweeps", sweeps, MAX_SWEEPS,
					 &step.sweeps)) < 0)
			return rc;
	}
	*ret = step;
	return 0;
}

static enum hpci_step_kind step_kind(const GArray *steps, guint i)
{
	return g_array_index(steps, struct hpci_step, i).kind;
}

/* attack-sipi's fault: what follows it, which is not a plug. */
static char *sipi_not_before_plug(const GArray *steps, guint i)
{
	if (i + 1 == steps->len)
		return g_strdup("attack-sipi is the last step");
	return g_strdup_printf("attack-sipi is followed by '%s'",
			       hpci_step_name(step_kind(steps, i + 1)));
}

/*
 * The attack steps aim at a plug: attack-smbase plants at the default SMBASE
 * before any CPU is added, attack-sipi arms the CPUs that the plug right
 * after it adds.
 */
static int check_attacks(const struct matrix_parser *p, const char *path, const GArray *steps)
{
	g_autofree char *plug_path = NULL;

	for (guint i = 0; i < steps->len; i++) {
		enum hpci_step_kind kind = step_kind(steps, i);
		g_autofree char *spath = hpci_json_path_index(path, i);
		g_autofree char *fault = NULL;

		if (kind == HPCI_STEP_ATTACK_SMBASE && plug_path)
			return hpci_json_fail(p->file, spath, "attack-smbase comes after the plug "
					      "step %s, but it plants at the default SMBASE before "
					      "any CPU is added; move it ahead of the first "
					      "plug-each or plug-burst step", plug_path);
		if (kind == HPCI_STEP_ATTACK_SIPI &&
		    (i + 1 == steps->len || !hpci_step_is_plug(step_kind(steps, i + 1)))) {
			fault = sipi_not_before_plug(steps, i);
			return hpci_json_fail(p->file, spath, "%s, but attack-sipi arms the CPUs "
					      "the next plug adds; put a plug-each or plug-burst "
					      "step right after it", fault);
		}
		if (!plug_path && hpci_step_is_plug(kind))
			plug_path = g_steal_pointer(&spath);
	}
	return 0;
}

static int parse_ops(const struct matrix_parser *p, const char *path, json_object *spec,
		     struct axis_value *v)
{
	g_autoptr(GArray) steps = NULL;
	size_t n;
	int rc;

	if ((rc = hpci_json_array(p->file, path, spec)) < 0)
		return rc;
	n = json_object_array_length(spec);
	if (n == 0) {
		g_autofree char *list = matrix_join(step_names);

		return hpci_json_fail(p->file, path, "no steps; list at least one of %s", list);
	}
	steps = g_array_sized_new(FALSE, TRUE, sizeof(struct hpci_step), n);
	for (size_t i = 0; i < n; i++) {
		g_autofree char *spath = hpci_json_path_index(path, i);
		struct hpci_step step;

		if ((rc = parse_step(p, spath, json_object_array_get_idx(spec, i), &step)) < 0)
			return rc;
		g_array_append_val(steps, step);
	}
	if ((rc = check_attacks(p, path, steps)) < 0)
		return rc;
	v->steps = g_steal_pointer(&steps);
	return 0;
}

typedef int (*spec_parser)(const struct matrix_parser *p, const char *path, json_object *spec,
			   struct axis_value *v);

static const spec_parser spec_parsers[AXIS__N] = {
	[AXIS_TOPOLOGY] = parse_topology,
	[AXIS_SMI] = parse_smi,
	[AXIS_FIRMWARE] = matrix_parse_firmware,
	[AXIS_QEMU] = matrix_parse_qemu,
	[AXIS_OPS] = parse_ops,
};

int matrix_find_value(const GPtrArray *values, const char *name)
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

	if ((rc = hpci_json_object(p->file, path, axis)) < 0)
		return rc;
	it = json_object_iter_begin(axis);
	end = json_object_iter_end(axis);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		g_autofree char *vpath = hpci_json_path_key(path, name);
		g_autoptr(axis_value) v = NULL;

		if (!*name)
			return hpci_json_fail(p->file, vpath, "empty value name; name it with "
					      "letters, digits and . _ + -");
		if (!hpci_json_name_ok(name, "._+-"))
			return hpci_json_fail(p->file, vpath, "value name '%s' may only contain "
					      "letters, digits and . _ + -", name);
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

	if ((rc = hpci_json_array(p->file, path, axis)) < 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(axis); i++) {
		json_object *e = json_object_array_get_idx(axis, i);
		g_autofree char *epath = hpci_json_path_index(path, i);
		g_autofree char *name = NULL;
		g_autoptr(axis_value) v = NULL;
		unsigned count = 0;
		int dup;

		if (json_object_is_type(e, json_type_int) && json_object_get_int64(e) > 0) {
			if ((rc = hpci_json_uint(p->file, epath, "count", e, MAX_VCPUS,
						 &count)) < 0)
				return rc;
			name = g_strdup_printf("%u", count);
		} else if (json_object_is_type(e, json_type_string) &&
			   strcmp(json_object_get_string(e), "all") == 0 &&
			   json_object_get_string_len(e) == 3) {
			name = g_strdup("all");
		} else {
			return hpci_json_type_error(p->file, epath, "a positive integer or \"all\"",
						    e);
		}
		if ((dup = matrix_find_value(p->axes[AXIS_COUNT], name)) >= 0) {
			const struct axis_value *first = g_ptr_array_index(p->axes[AXIS_COUNT], dup);

			return hpci_json_fail(p->file, epath, "count '%s' is already listed at "
					      "%s; remove one", name, first->path);
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
	g_autofree char *path = g_strdup_printf("$.axes.%s", matrix_axis_names[a]);
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

int matrix_axis_lookup(const char *name)
{
	for (int a = 0; a < AXIS__N; a++) {
		if (strcmp(matrix_axis_names[a], name) == 0)
			return a;
	}
	return -1;
}

int matrix_parse_axes(struct matrix_parser *p, json_object *axes)
{
	struct json_object_iterator it, end;
	int rc;

	if ((rc = hpci_json_object(p->file, "$.axes", axes)) < 0)
		return rc;
	it = json_object_iter_begin(axes);
	end = json_object_iter_end(axes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		json_object *axis = json_object_iter_peek_value(&it);
		g_autofree char *path = hpci_json_path_key("$.axes", name);
		int a = matrix_axis_lookup(name);

		if (a < 0) {
			g_autofree char *list = matrix_join(matrix_axis_names);
			g_autofree char *escaped = g_strescape(name, NULL);

			return hpci_json_fail(p->file, "$.axes", "unknown axis '%s'; axes are %s",
					      escaped, list);
		}
		rc = a == AXIS_COUNT ? parse_count_axis(p, path, axis)
				     : parse_named_axis(p, a, path, axis);
		if (rc < 0)
			return rc;
		if (p->axes[a]->len == 0)
			return hpci_json_fail(p->file, path, "axis '%s' has no values; add one, "
					      "or remove the axis to get its default", name);
	}
	for (int a = 0; a < AXIS__N; a++) {
		if (p->axes[a]->len == 0)
			g_ptr_array_add(p->axes[a], implicit_value(a));
	}
	return 0;
}

