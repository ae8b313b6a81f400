/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the matrix loader (matrix/matrix.c) on arbitrary text.
 *
 * hpci_matrix_parse() takes a C string, so it sees the input up to its first
 * NUL byte.  An input with a NUL in it goes through hpci_matrix_load() instead
 * (from a memfd, nothing is written to disk), which must refuse it: a matrix
 * file with a NUL byte is not JSON.  Firmware descriptors named by the input
 * are read from /etc/qemu/firmware, /usr/share/qemu/firmware or the path given.
 */
#include "matrix.h"
#include "error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct hpci_matrix_host host = { .accel = "tcg" };

/* The attack steps' promises: attack-smbase before the first plug,
 * attack-sipi right before a plug, and either only on a firmware with SMM. */
static bool attacks_in_place(const struct hpci_cell *c)
{
	bool plugged = false;

	for (guint i = 0; i < c->steps->len; i++) {
		enum hpci_step_kind kind = g_array_index(c->steps, struct hpci_step, i).kind;
		bool attack = kind == HPCI_STEP_ATTACK_SMBASE || kind == HPCI_STEP_ATTACK_SIPI;
		enum hpci_step_kind next = i + 1 < c->steps->len ?
			g_array_index(c->steps, struct hpci_step, i + 1).kind : HPCI_STEP_SMI;

		if ((attack && !c->firmware.smm) ||
		    (kind == HPCI_STEP_ATTACK_SMBASE && plugged) ||
		    (kind == HPCI_STEP_ATTACK_SIPI && next != HPCI_STEP_PLUG_EACH &&
		     next != HPCI_STEP_PLUG_BURST))
			return false;
		plugged |= kind == HPCI_STEP_PLUG_EACH || kind == HPCI_STEP_PLUG_BURST;
	}
	return true;
}

/* What every loaded matrix promises (matrix/README.md): at least one cell,
 * one id per cell made of its six axis values, a count that fits the
 * topology's free slots, at least one step, attack steps in their place,
 * and breach expected only where smbase_smram is off. */
static void check_matrix(const struct hpci_matrix *m)
{
	static const char *const axes[] = { "topology", "smi", "firmware", "qemu", "count",
					    "ops" };
	g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);

	if (!m->path || !m->name || !m->sha256 || !m->cells || m->cells->len == 0)
		abort();
	for (guint i = 0; i < m->cells->len; i++) {
		const struct hpci_cell *c = m->cells->pdata[i];
		g_autoptr(GString) id = g_string_new(NULL);

		if (!c || !c->id || !c->axes || c->axes->len != G_N_ELEMENTS(axes) || !c->steps ||
		    c->steps->len == 0 || c->count == 0 ||
		    c->count > c->topology.max - c->topology.boot || !attacks_in_place(c) ||
		    (c->expect.outcome == HPCI_OUTCOME_BREACH && c->smi.smbase_smram))
			abort();
		for (guint a = 0; a < G_N_ELEMENTS(axes); a++) {
			const char *v = hpci_cell_axis(c, axes[a]);

			if (!v)
				abort();
			g_string_append_printf(id, "%s%s=%s", a ? "," : "", axes[a], v);
		}
		if (strcmp(id->str, c->id) != 0 || !g_hash_table_add(ids, c->id)) {
			fprintf(stderr, "cell %u: id '%s' (axes say '%s') wrong or repeated\n", i,
				c->id, id->str);
			abort();
		}
	}
}

static void load_with_nul(const uint8_t *data, size_t size)
{
	g_autoptr(hpci_matrix) m = NULL;
	g_autofree char *path = NULL;
	int fd = memfd_create("fuzz-matrix", MFD_CLOEXEC);
	int rc;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	path = g_strdup_printf("/proc/self/fd/%d", fd);
	rc = hpci_matrix_load(path, &host, &m);
	close(fd);
	if (rc != -EINVAL || m) {
		fprintf(stderr, "a matrix with a NUL byte loaded (rc %d): %s\n", rc,
			hpci_error_message());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(hpci_matrix) m = NULL;
	g_autofree char *text = NULL;
	int rc;

	if (memchr(data, 0, size)) {
		load_with_nul(data, size);
		hpci_error_clear();
		return 0;
	}
	text = g_strndup((const char *)data, size);
	rc = hpci_matrix_parse("fuzz.json", text, &host, &m);
	if (rc == 0) {
		check_matrix(m);
	} else if (rc >= 0 || m || !*hpci_error_message()) {
		fprintf(stderr, "hpci_matrix_parse: rc %d without a clean error\n", rc);
		abort();
	}
	hpci_error_clear();
	return 0;
}
