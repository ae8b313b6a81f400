/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "firmware-log.h"
#include "fsutil.h"
#include "observe.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* How soon a line written to a followed file must end a wait: the promise
 * is 5 s; the firmware tail settles for 200 ms. */
#define PROMPT_MS 2000

struct fixture {
	char *dir;
	char *path;
	int fd;               /* the followed file, for appending */
	struct hpci_obs obs;
	struct hpci_tail *tail;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->dir = g_dir_make_tmp("hpci-observe-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->path = g_build_filename(f->dir, "followed.log", NULL);
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(f->fd >= 0);
	assert_int_equal(hpci_obs_init(&f->obs, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hpci_tail_stop(f->tail);
	hpci_obs_release(&f->obs);
	close(f->fd);
	(void)hpci_rm_rf(f->dir);
	g_free(f->path);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static void start(struct fixture *f, enum hpci_tail_kind kind)
{
	assert_int_equal(hpci_tail_start(f->path, kind, &f->obs, &f->tail), 0);
}

/* Stops the tail, which reads what is left; the events are final then. */
static void stop(struct fixture *f)
{
	hpci_tail_stop(f->tail);
	f->tail = NULL;
}

static void write_bytes(struct fixture *f, const char *data, size_t len)
{
	assert_int_equal(write(f->fd, data, len), (ssize_t)len);
}

static void write_str(struct fixture *f, const char *text)
{
	write_bytes(f, text, strlen(text));
}

/* Writes text in pieces cut every `step` bytes, mid-line too, with pauses
 * so the tail sees the file grow rather than all at once. */
static void write_in_pieces(struct fixture *f, const char *text, size_t step)
{
	size_t len = strlen(text);

	for (size_t at = 0; at < len; at += step) {
		write_bytes(f, text + at, MIN(step, len - at));
		g_usleep(7 * 1000);
	}
}

static void assert_events(struct fixture *f, enum hpci_event_kind kind,
			  const char *const *texts, size_t n)
{
	assert_int_equal(f->obs.events->len, n);
	for (size_t i = 0; i < n; i++) {
		const struct hpci_event *ev = g_ptr_array_index(f->obs.events, i);

		assert_int_equal(ev->kind, kind);
		assert_string_equal(ev->text, texts[i]);
	}
}

#define ASSERT_SMI "ASSERT /build/edk2/OvmfPkg/SmmControl2Dxe/SmiFeatures.c(243): " \
		   "((BOOLEAN)(0==1))"
#define ASSERT_CPU "ASSERT [PiSmmCpuDxeSmm] /build/edk2/UefiCpuPkg/PiSmmCpuDxeSmm/" \
		   "CpuService.c(123): mSmmMpSyncData->CpuData[CpuIndex].Present"
#define DEADLOOP "PlatformCpuCountBugCheck: Broken CPU hotplug register block found. " \
		 "Update QEMU to version 8+, or"
#define NEGOTIATION "NegotiateSmiFeatures: negotiation failed for feature bitmap 0x6"

/* Only the fatal lines of a DEBUG log become events, in order, whole
 * however the writes cut them. */
static void test_firmware_tail_keeps_fatal_lines(void **state)
{
	static const char *const expected[] = {
		NEGOTIATION, ASSERT_SMI, DEADLOOP, "ASSERT [Cpu?Smm] x.c(12): a? b", ASSERT_CPU,
	};
	struct fixture *f = *state;
	g_autofree char *long_line = g_strnfill(HPCI_FW_LOG_LINE_MAX, 'x');
	g_autofree char *text = g_strconcat(
		"MaxCpuCountInitialization: BootCpuCount=1 MaxCpuCount=4\n",
		"NegotiateSmiFeatures: using SMI broadcast\n",
		NEGOTIATION "\r\n",
		"ASSERT_EFI_ERROR (Status = Already started)\n",
		ASSERT_SMI "\n",
		DEADLOOP "\n",
		"AppendFwCfgBootScript: SMI feature negotiation boot script saved\n",
		/* Past the parser's line limit the rest of a line is not read:
		 * nor is it by the tail, so no second line starts there. */
		long_line, "ASSERT /build/X.c(7): cut off\n",
		"ASSERT [Cpu\001Smm] x.c(12): a\377 b\n",
		"NegotiateSmiFeatures: negotiation failed for feature bitmap 0x\n",
		/* The last line, without its newline, is read at the stop. */
		ASSERT_CPU, NULL);

	start(f, HPCI_TAIL_FIRMWARE);
	write_in_pieces(f, text, 97);
	stop(f);
	assert_events(f, HPCI_EV_FIRMWARE, expected, G_N_ELEMENTS(expected));
}

/* The serial tail's lines, as they always were: control bytes dropped, one
 * '\r' before the newline dropped, a long line cut into lines. */
static void test_serial_tail_lines(void **state)
{
	struct fixture *f = *state;
	g_autofree char *long_line = g_strnfill(4096 + 10, 'y');
	g_autofree char *first = g_strnfill(4096, 'y');
	const char *const expected[] = {
		"HPCI-READY", "[    7.1] Kernel panic - not syncing: Fatal exception",
		"abc[0mdef\t.", "two\r", first, "yyyyyyyyyy",
	};
	g_autofree char *text = g_strconcat(
		"HPCI-READY\r\n",
		"[    7.1] Kernel panic - not syncing: Fatal exception\n",
		"abc\033[0mdef\t.\n",
		"two\r\r\n",
		long_line, "\n", NULL);

	start(f, HPCI_TAIL_SERIAL);
	write_in_pieces(f, text, 13);
	stop(f);
	assert_events(f, HPCI_EV_SERIAL, expected, G_N_ELEMENTS(expected));
	assert_int_equal(((const struct hpci_event *)g_ptr_array_index(f->obs.events, 1))->line.kind,
			 HPCI_LINE_KERNEL_PANIC);
}

struct writer {
	struct fixture *f;
	const char *text;
	gint64 written_ms;    /* on the log's clock, after the last byte */
};

/* Writes the line in two pieces while the test's thread waits. */
static gpointer write_later(gpointer data)
{
	struct writer *w = data;
	size_t half = strlen(w->text) / 2;

	g_usleep(300 * 1000);
	write_bytes(w->f, w->text, half);
	g_usleep(50 * 1000);
	write_bytes(w->f, w->text + half, strlen(w->text) - half);
	w->written_ms = hpci_obs_now(&w->f->obs);
	return NULL;
}

static bool never(const struct hpci_event *ev, void *data)
{
	(void)ev;
	(void)data;
	return false;
}

/* A wait blocked for something else ends with `expected` soon after the
 * line is written, and so does every later wait, whatever its cursor. */
static void assert_line_ends_wait(struct fixture *f, const char *line, int expected)
{
	struct writer w = { .f = f, .text = line };
	GThread *thread = g_thread_new("writer", write_later, &w);
	guint cursor = hpci_obs_count(&f->obs);
	gint64 deadline = hpci_obs_now(&f->obs) + 30000;
	int rc = hpci_obs_wait(&f->obs, &cursor, never, NULL, deadline, NULL);
	gint64 returned = hpci_obs_now(&f->obs);

	g_thread_join(thread);
	assert_int_equal(rc, expected);
	assert_true(w.written_ms > 0);
	if (returned - w.written_ms >= PROMPT_MS)
		fail_msg("the wait returned %" G_GINT64_FORMAT " ms after the line was written",
			 returned - w.written_ms);
	cursor = hpci_obs_count(&f->obs);
	assert_int_equal(hpci_obs_wait(&f->obs, &cursor, never, NULL, deadline, NULL), expected);
	assert_true(hpci_obs_now(&f->obs) - returned < PROMPT_MS);
}

static void test_fatal_firmware_line_ends_wait(void **state)
{
	struct fixture *f = *state;

	start(f, HPCI_TAIL_FIRMWARE);
	write_str(f, "SmmCpuFeaturesLibConstructor: SMRAM at default SMBASE found\n");
	assert_line_ends_wait(f, ASSERT_SMI "\r\n", -EPROTO);
	assert_int_equal(f->obs.events->len, 1);
	assert_string_equal(((const struct hpci_event *)g_ptr_array_index(f->obs.events, 0))->text,
			    ASSERT_SMI);
}

static void test_panic_ends_wait(void **state)
{
	struct fixture *f = *state;

	start(f, HPCI_TAIL_SERIAL);
	write_str(f, "HPCI-READY\n");
	assert_line_ends_wait(f, "[   12.5] Kernel panic - not syncing: Fatal exception\n",
			      -EOWNERDEAD);
}

/* An oops too; and the first fatal line decides the code, ahead of a stop. */
static void test_first_fatal_line_decides(void **state)
{
	struct fixture *f = *state;
	guint cursor = 0;

	hpci_obs_serial(&f->obs, "HPCI-READY");
	assert_int_equal(hpci_obs_wait(&f->obs, &cursor, never, NULL, 0, NULL), -ETIMEDOUT);
	hpci_obs_serial(&f->obs, "[    9.2] BUG: unable to handle page fault for address: 0");
	hpci_obs_firmware(&f->obs, ASSERT_SMI);
	hpci_obs_stopped(&f->obs, "crashed");
	assert_int_equal(hpci_obs_wait(&f->obs, &cursor, never, NULL, 0, NULL), -EOWNERDEAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_firmware_tail_keeps_fatal_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_serial_tail_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_firmware_line_ends_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panic_ends_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_fatal_line_decides, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
