/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the OVMF debug-log parser (reports/firmware-log.c).
 *
 * The input is parsed twice: whole, with hpci_fw_log_parse_buffer(), and
 * streamed in chunks whose sizes come from the input's own bytes (so lines
 * split everywhere), then finished.  Both must describe the same log (as
 * JSON), the parser must never hold more than HPCI_FW_LOG_LINE_MAX pending
 * bytes, and the summary helpers must work on whatever came out.
 */
#include "firmware-log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *log_json(const struct hpci_fw_log *log)
{
	json_object *o = hpci_fw_log_to_json(log);
	char *text;

	if (!o)
		abort();
	text = g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static guint64 count_lines(const uint8_t *data, size_t size)
{
	guint64 n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size > 0 && data[size - 1] != '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hpci_fw_log whole, streamed;
	g_autofree char *whole_json = NULL, *streamed_json = NULL, *summary = NULL;
	struct hpci_fw_log_parser *parser;
	size_t off = 0, i = 0;
	bool failed;

	if (hpci_fw_log_parse_buffer((const char *)data, size, &whole) != 0)
		abort();
	/* every byte counted, every line (a last one without newline too),
	 * the arrays within their caps */
	if (whole.bytes != size || whole.lines != count_lines(data, size) ||
	    whole.hot_added->len > HPCI_FW_LOG_CPUS_MAX ||
	    whole.unplugs->len > HPCI_FW_LOG_CPUS_MAX ||
	    whole.asserts->len > HPCI_FW_LOG_ASSERTS_MAX)
		abort();
	whole_json = log_json(&whole);
	failed = hpci_fw_log_failed(&whole, &summary);
	if (failed != (summary != NULL))
		abort();

	hpci_fw_log_init(&streamed);
	parser = hpci_fw_log_parser_new(&streamed);
	while (off < size) {
		/* 1..64 bytes, or a big chunk every so often */
		size_t n = data[i++ % size];

		n = (n & 0xc0) == 0xc0 ? 8192 : (n & 0x3f) + 1;
		n = MIN(n, size - off);
		hpci_fw_log_parser_feed(parser, data + off, n);
		off += n;
		if (hpci_fw_log_parser_pending(parser) > HPCI_FW_LOG_LINE_MAX)
			abort();
	}
	hpci_fw_log_parser_finish(parser);
	hpci_fw_log_parser_free(parser);
	streamed_json = log_json(&streamed);
	if (strcmp(whole_json, streamed_json) != 0) {
		fprintf(stderr, "whole:    %s\nstreamed: %s\n", whole_json, streamed_json);
		abort();
	}
	hpci_fw_log_release(&streamed);
	hpci_fw_log_release(&whole);
	return 0;
}
