/* SPDX-License-Identifier: MIT */
#include "firmware-check.h"
#include "observe.h"
#include "strlist.h"

#include <stdio.h>
#include <string.h>

/* Bits QEMU reserves for a field of `count` values (apicid_bitwidth_for_count). */
static unsigned field_width(unsigned count)
{
	unsigned width = 0;

	if (count <= 1)
		return 0;
	for (count -= 1; count; count >>= 1)
		width++;
	return width;
}

guint32 hpci_topology_apic_id(const struct hpci_topology *t, unsigned index)
{
	unsigned threads = MAX(t->threads, 1), cores = MAX(t->cores, 1), dies = MAX(t->dies, 1);
	unsigned thread_w = field_width(threads), core_w = field_width(cores);
	unsigned die_w = field_width(dies);
	unsigned thread = index % threads;
	unsigned core = index / threads % cores;
	unsigned die = index / (threads * cores) % dies;
	unsigned socket = index / (threads * cores * dies);

	return (socket << (die_w + core_w + thread_w)) | (die << (core_w + thread_w)) |
	       (core << thread_w) | thread;
}

static void problem(GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void problem(GPtrArray *problems, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(problems, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static gint compare_u32(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

	return x < y ? -1 : x > y;
}

/* "1, 2, 4" (sorted), or "none". */
static char *apic_list(GArray *ids)
{
	GString *s = g_string_new(NULL);

	g_array_sort(ids, compare_u32);
	for (guint i = 0; i < ids->len; i++)
		g_string_append_printf(s, "%s%u", i ? ", " : "", g_array_index(ids, guint32, i));
	if (!ids->len)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

static bool same_ids(GArray *a, GArray *b)
{
	g_array_sort(a, compare_u32);
	g_array_sort(b, compare_u32);
	return a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len * 4));
}

/* The APIC ID the guest announced for CPU `cpu` ("smpboot: Booting ... APIC
 * 0x4"), the last one when it booted that CPU several times; -1 if never. */
static long guest_apic(GPtrArray *events, int cpu)
{
	long apic = -1;

	for (guint i = 0; events && i < events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(events, i);

		if (ev->kind == HPCI_EV_SERIAL && ev->line.kind == HPCI_LINE_KERNEL_CPU_APIC &&
		    ev->line.cpu == cpu)
			apic = ev->line.apic;
	}
	return apic;
}

static void check_apic_ids(const struct hpci_fw_check_input *in, GPtrArray *problems)
{
	g_autoptr(GArray) firmware = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(GArray) plugged = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(GArray) guest = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(GArray) guest_expected = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autofree char *fw_text = NULL, *plugged_text = NULL;

	for (guint i = 0; i < in->log->hot_added->len; i++)
		g_array_append_val(firmware,
				   g_array_index(in->log->hot_added, struct hpci_fw_hot_add, i).apic_id);
	for (guint i = 0; in->plugs && i < in->plugs->len; i++) {
		const struct hpci_plug_timing *p = &g_array_index(in->plugs, struct hpci_plug_timing, i);
		guint32 id = hpci_topology_apic_id(&in->cell->topology, p->vcpu);
		long seen;

		/* A plug QEMU refused never reached the firmware. */
		if (p->returned_ms < 0 || p->request_failed)
			continue;
		g_array_append_val(plugged, id);
		if (p->online_ms < 0 || p->guest_cpu < 0 ||
		    (seen = guest_apic(in->events, p->guest_cpu)) < 0)
			continue;
		g_array_append_val(guest_expected, id);
		g_array_append_vals(guest, &(guint32){ (guint32)seen }, 1);
	}

	fw_text = apic_list(firmware);
	plugged_text = apic_list(plugged);
	/* A firmware that did not negotiate CPU hotplug with SMI relocates
	 * nothing, rightly: whatever QEMU then plugged runs unrelocated, which
	 * the run itself shows (docs/facts.md §1), not this account. */
	if (in->log->cpu_hotplug != HPCI_FW_NO && firmware->len != plugged->len)
		problem(problems, "the firmware relocated %u CPU(s) (APIC IDs %s) but libvirt "
			"plugged %u (APIC IDs %s by the topology)", firmware->len, fw_text,
			plugged->len, plugged_text);
	else if (in->log->cpu_hotplug != HPCI_FW_NO && !same_ids(firmware, plugged))
		problem(problems, "the firmware relocated APIC IDs %s but the topology gives the "
			"plugged vCPUs APIC IDs %s", fw_text, plugged_text);
	if (!same_ids(guest, guest_expected)) {
		g_autofree char *guest_text = apic_list(guest);
		g_autofree char *expected_text = apic_list(guest_expected);

		problem(problems, "the guest booted hot-added CPUs with APIC IDs %s but the "
			"topology gives them %s (firmware relocated %s)", guest_text, expected_text,
			fw_text);
	}
}

/* SMBASEs must differ between CPUs present at the same time; an unplugged
 * CPU's slot, and its SMBASE, may be given to the next one. */
static void check_smbases(const struct hpci_fw_log *log, GPtrArray *problems)
{
	g_autoptr(GHashTable) live = g_hash_table_new(g_int64_hash, g_int64_equal);
	guint next_unplug = 0;

	for (guint i = 0; i < log->hot_added->len; i++) {
		struct hpci_fw_hot_add *a = &g_array_index(log->hot_added, struct hpci_fw_hot_add, i);
		GHashTableIter it;
		gpointer key, value;

		for (; next_unplug < log->unplugs->len; next_unplug++) {
			const struct hpci_fw_unplug *u = &g_array_index(log->unplugs,
									struct hpci_fw_unplug,
									next_unplug);

			if (u->line_no > a->line_no)
				break;
			if (u->done)
				g_hash_table_remove(live, &u->processor);
		}
		g_hash_table_iter_init(&it, live);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			const struct hpci_fw_hot_add *other = value;

			if (other->smbase == a->smbase)
				problem(problems, "the firmware gave APIC IDs %u and %u the same SMBASE "
					"0x%" G_GINT64_MODIFIER "x", other->apic_id, a->apic_id,
					a->smbase);
		}
		g_hash_table_insert(live, &a->number, a);
	}
}

/* Every vCPU the guest saw go away was ejected by the firmware. */
static void check_unplugs(const struct hpci_fw_check_input *in, GPtrArray *problems)
{
	g_autoptr(GArray) firmware = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint32));

	for (guint i = 0; i < in->log->unplugs->len; i++) {
		const struct hpci_fw_unplug *u = &g_array_index(in->log->unplugs,
								struct hpci_fw_unplug, i);

		if (u->started)
			g_array_append_val(firmware, u->apic_id);
	}
	for (guint i = 0; in->plugs && i < in->plugs->len; i++) {
		const struct hpci_plug_timing *p = &g_array_index(in->plugs, struct hpci_plug_timing, i);
		guint32 id = hpci_topology_apic_id(&in->cell->topology, p->vcpu);

		if (p->unplug_request_ms >= 0 && p->removed_ms >= 0)
			g_array_append_val(removed, id);
	}
	if (!same_ids(firmware, removed)) {
		g_autofree char *fw_text = apic_list(firmware);
		g_autofree char *removed_text = apic_list(removed);

		problem(problems, "the firmware started the hot-unplug of APIC IDs %s but the guest "
			"saw vCPUs with APIC IDs %s go away", fw_text, removed_text);
	}
}

static const char *yes_no(bool b)
{
	return b ? "on" : "off";
}

static void check_feature(GPtrArray *problems, const char *name, enum hpci_fw_fact negotiated,
			  bool offered, const char *property)
{
	if (negotiated == HPCI_FW_MISSING || (negotiated == HPCI_FW_YES) == offered)
		return;
	problem(problems, "the firmware %s %s but the cell's SMI mode has ICH9-LPC.%s=%s",
		negotiated == HPCI_FW_YES ? "negotiated" : "did not negotiate", name, property,
		yes_no(offered));
}

void hpci_fw_cross_check(const struct hpci_fw_check_input *in, GPtrArray *problems)
{
	const struct hpci_smi_mode *smi = &in->cell->smi;

	check_apic_ids(in, problems);
	check_smbases(in->log, problems);
	check_unplugs(in, problems);
	check_feature(problems, "SMI broadcast", in->log->broadcast, smi->broadcast,
		      "x-smi-broadcast");
	check_feature(problems, "CPU hotplug with SMI", in->log->cpu_hotplug, smi->cpu_hotplug,
		      "x-smi-cpu-hotplug");
	check_feature(problems, "CPU hot-unplug with SMI", in->log->cpu_hotunplug,
		      smi->cpu_hotunplug, "x-smi-cpu-hotunplug");
}

static const char *fact_name(enum hpci_fw_fact fact)
{
	return fact == HPCI_FW_MISSING ? "missing from firmware.log" : fact ? "true" : "false";
}

static void expect_fact(GPtrArray *problems, const char *field, int expected,
			enum hpci_fw_fact observed)
{
	if (expected == HPCI_FACT_ANY || (int)observed == expected)
		return;
	problem(problems, "firmware.%s: expected %s, observed %s", field,
		expected ? "true" : "false", fact_name(observed));
}

void hpci_fw_expect_check(const struct hpci_firmware_expect *expect,
			  const struct hpci_fw_log *log, GPtrArray *problems)
{
	expect_fact(problems, "smram_at_default_smbase", expect->smram_at_default_smbase,
		    log->smram_at_default_smbase);
	expect_fact(problems, "negotiated.broadcast", expect->broadcast, log->broadcast);
	expect_fact(problems, "negotiated.cpu_hotplug", expect->cpu_hotplug, log->cpu_hotplug);
	expect_fact(problems, "negotiated.cpu_hotunplug", expect->cpu_hotunplug,
		    log->cpu_hotunplug);
}
