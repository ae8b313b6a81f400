/* SPDX-License-Identifier: MIT */
#include "firmware-log.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define BROKEN_REGISTER_BLOCK "Broken CPU hotplug register block found"

struct hpci_fw_log_parser {
	struct hpci_fw_log *log;
	/* Unplugs started but not yet done: processor number (a g_new'd
	 * guint64) -> index in log->unplugs.  A map, not a search of the array,
	 * so a flood of "Unplugged" lines costs constant time per line. */
	GHashTable *open_unplugs;
	size_t line_len;
	bool line_cut;               /* the current line overflowed line[] */
	char line[HPCI_FW_LOG_LINE_MAX + 1];
};

static void assert_free(gpointer data)
{
	struct hpci_fw_assert *a = data;

	g_free(a->module);
	g_free(a->file);
	g_free(a->expression);
	g_free(a);
}

void hpci_fw_log_init(struct hpci_fw_log *log)
{
	*log = (struct hpci_fw_log){
		.smram_at_default_smbase = HPCI_FW_MISSING,
		.boot_cpu_count = -1,
		.max_cpu_count = -1,
		.broadcast = HPCI_FW_MISSING,
		.cpu_hotplug = HPCI_FW_MISSING,
		.cpu_hotunplug = HPCI_FW_MISSING,
		.hot_added = g_array_new(FALSE, TRUE, sizeof(struct hpci_fw_hot_add)),
		.unplugs = g_array_new(FALSE, TRUE, sizeof(struct hpci_fw_unplug)),
		.asserts = g_ptr_array_new_with_free_func(assert_free),
	};
}

void hpci_fw_log_release(struct hpci_fw_log *log)
{
	g_clear_pointer(&log->hot_added, g_array_unref);
	g_clear_pointer(&log->unplugs, g_array_unref);
	g_clear_pointer(&log->asserts, g_ptr_array_unref);
}

/* The log may carry any byte; what goes into the report must be printable
 * ASCII so the JSON stays valid and readable. */
static char *printable_copy(const char *s, size_t len)
{
	char *copy = g_strndup(s, len);

	for (char *c = copy; *c; c++) {
		if (!g_ascii_isprint(*c))
			*c = '?';
	}
	return copy;
}

/* Parses digits of the base at *cursor into *ret and advances the cursor;
 * false (cursor unchanged) without a digit or when the value overflows. */
static bool parse_number(const char **cursor, unsigned base, guint64 *ret)
{
	const char *p = *cursor;
	guint64 value = 0;
	int digit;

	for (; (digit = g_ascii_xdigit_value(*p)) >= 0 && (unsigned)digit < base; p++) {
		if (value > (G_MAXUINT64 - digit) / base)
			return false;
		value = value * base + digit;
	}
	if (p == *cursor)
		return false;
	*cursor = p;
	*ret = value;
	return true;
}

enum match {
	MATCH_NONE,         /* not this message */
	MATCH_MALFORMED,    /* this message, but damaged */
	MATCH_OK,
};

/*
 * Matches text against a format of literal text and the conversions %x (hex
 * digits) and %u (decimal digits), each stored as a guint64 in values.  The
 * literal text before the first conversion identifies the message, so a line
 * that has it but fails later (cut mid-number, say) is malformed rather than
 * some other line.  Trailing blanks are allowed; anything else is not.
 */
static enum match match_message(const char *text, const char *format, guint64 *values,
				size_t max_values)
{
	bool identified = false;
	size_t n = 0;

	while (*format) {
		if (*format == '%') {
			identified = true;
			g_assert(n < max_values);
			if (!parse_number(&text, format[1] == 'x' ? 16 : 10, &values[n++]))
				return MATCH_MALFORMED;
			format += 2;
		} else if (*text == *format) {
			text++;
			format++;
		} else {
			return identified ? MATCH_MALFORMED : MATCH_NONE;
		}
	}
	text += strspn(text, " \t");
	if (*text)
		return identified ? MATCH_MALFORMED : MATCH_NONE;
	return MATCH_OK;
}

/* Room for one more entry in an array of the cap; when full, says so in the
 * log, since dropped entries make the arrays incomplete. */
static bool has_room(struct hpci_fw_log *log, guint len, guint cap)
{
	if (len < cap)
		return true;
	log->capped = true;
	return false;
}

/* Each record function gets the numbers of its format; false: they are out
 * of range, so the line is malformed. */
static bool record_cpu_counts(struct hpci_fw_log_parser *p, const guint64 *v)
{
	if (v[0] > G_MAXINT64 || v[1] > G_MAXINT64)
		return false;
	p->log->boot_cpu_count = (gint64)v[0];
	p->log->max_cpu_count = (gint64)v[1];
	return true;
}

static bool record_negotiation_failure(struct hpci_fw_log_parser *p, const guint64 *v)
{
	p->log->negotiation_failed = true;
	p->log->failed_bitmap = v[0];
	return true;
}

static bool record_hot_add(struct hpci_fw_log_parser *p, const guint64 *v)
{
	struct hpci_fw_log *log = p->log;
	struct hpci_fw_hot_add add;

	if (v[0] > G_MAXUINT32)
		return false;
	if (!has_room(log, log->hot_added->len, HPCI_FW_LOG_CPUS_MAX))
		return true;
	add = (struct hpci_fw_hot_add){
		.apic_id = (guint32)v[0], .smbase = v[1], .number = v[2], .line_no = log->lines,
	};
	g_array_append_val(log->hot_added, add);
	return true;
}

static bool record_unplug_start(struct hpci_fw_log_parser *p, const guint64 *v)
{
	struct hpci_fw_log *log = p->log;
	struct hpci_fw_unplug unplug;

	if (v[1] > G_MAXUINT32)
		return false;
	if (!has_room(log, log->unplugs->len, HPCI_FW_LOG_CPUS_MAX))
		return true;
	unplug = (struct hpci_fw_unplug){
		.processor = v[0], .apic_id = (guint32)v[1], .selector = v[2],
		.started = true, .line_no = log->lines,
	};
	/* A second start for the processor replaces the first as the one the
	 * next "Unplugged" completes; the first stays open. */
	g_hash_table_insert(p->open_unplugs, g_memdup2(&v[0], sizeof(v[0])),
			    GUINT_TO_POINTER(log->unplugs->len));
	g_array_append_val(log->unplugs, unplug);
	return true;
}

static bool record_unplug_done(struct hpci_fw_log_parser *p, const guint64 *v)
{
	struct hpci_fw_log *log = p->log;
	struct hpci_fw_unplug unplug = {
		.processor = v[0], .selector = v[1], .done = true, .line_no = log->lines,
	};
	gpointer slot;

	if (g_hash_table_lookup_extended(p->open_unplugs, &v[0], NULL, &slot)) {
		guint i = GPOINTER_TO_UINT(slot);

		g_array_index(log->unplugs, struct hpci_fw_unplug, i).done = true;
		g_hash_table_remove(p->open_unplugs, &v[0]);
	} else if (has_room(log, log->unplugs->len, HPCI_FW_LOG_CPUS_MAX)) {
		g_array_append_val(log->unplugs, unplug);
	}
	return true;
}

/* The messages with numbers, as this parser's formats (edk2's %d, %08x, %Lx
 * and %Lu all become %u or %x here). */
static const struct numeric_message {
	const char *format;
	bool (*record)(struct hpci_fw_log_parser *p, const guint64 *values);
} numeric_messages[] = {
	/* PlatformPei: BootCpuCount is printed with %d but is a UINT16 */
	{ "BootCpuCount=%u MaxCpuCount=%u", record_cpu_counts },
	/* SmmControl2Dxe/SmiFeatures.c */
	{ "negotiation failed for feature bitmap 0x%x", record_negotiation_failure },
	/* CpuHotplugSmm/CpuHotplug.c */
	{ "hot-added APIC ID 0x%x, SMBASE 0x%x, EFI_SMM_CPU_SERVICE_PROTOCOL assigned number %u",
	  record_hot_add },
	{ "Started hot-unplug on ProcessorNum %u, APIC ID 0x%x, QemuSelector %u",
	  record_unplug_start },
	{ "Unplugged ProcessorNum %u, QemuSelector %u", record_unplug_done },
};

#define FACT(field) offsetof(struct hpci_fw_log, field)

/* The messages that state a yes/no fact by their whole text. */
static const struct fact_message {
	const char *text;
	size_t field;                /* of the enum hpci_fw_fact in struct hpci_fw_log */
	enum hpci_fw_fact value;
} fact_messages[] = {
	{ "SMRAM at default SMBASE found", FACT(smram_at_default_smbase), HPCI_FW_YES },
	{ "SMRAM at default SMBASE not found", FACT(smram_at_default_smbase), HPCI_FW_NO },
	/* CSM builds skip the probe: that says nothing about the machine */
	{ "SMRAM at default SMBASE not checked due to CSM", FACT(smram_at_default_smbase),
	  HPCI_FW_MISSING },
	{ "SMI broadcast unavailable", FACT(broadcast), HPCI_FW_NO },
	{ "using SMI broadcast", FACT(broadcast), HPCI_FW_YES },
	{ "CPU hotplug not negotiated", FACT(cpu_hotplug), HPCI_FW_NO },
	{ "CPU hotplug with SMI negotiated", FACT(cpu_hotplug), HPCI_FW_YES },
	{ "CPU hot-unplug not negotiated", FACT(cpu_hotunplug), HPCI_FW_NO },
	{ "CPU hot-unplug with SMI negotiated", FACT(cpu_hotunplug), HPCI_FW_YES },
};

static bool parse_fact(struct hpci_fw_log *log, const char *message)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fact_messages); i++) {
		const struct fact_message *m = &fact_messages[i];

		if (strcmp(message, m->text) == 0) {
			*(enum hpci_fw_fact *)((char *)log + m->field) = m->value;
			return true;
		}
	}
	return false;
}

static void parse_numeric(struct hpci_fw_log_parser *p, const char *message)
{
	guint64 values[3];

	for (size_t i = 0; i < G_N_ELEMENTS(numeric_messages); i++) {
		const struct numeric_message *m = &numeric_messages[i];

		switch (match_message(message, m->format, values, G_N_ELEMENTS(values))) {
		case MATCH_NONE:
			continue;
		case MATCH_MALFORMED:
			p->log->malformed++;
			return;
		case MATCH_OK:
			if (!m->record(p, values))
				p->log->malformed++;
			return;
		}
	}
}

/* Finds "(<digits>):" in text, the end of the file name; the first such is
 * it, as the expression after it may contain the same pattern. */
static const char *find_assert_location(const char *text, guint64 *ret_line)
{
	for (const char *open = strchr(text, '('); open; open = strchr(open + 1, '(')) {
		const char *p = open + 1;

		if (parse_number(&p, 10, ret_line) && p[0] == ')' && p[1] == ':')
			return open;
	}
	return NULL;
}

/* text follows "ASSERT ": "[module] file(line): expression" (MdePkg's
 * BaseDebugLibSerialPort) or "file(line): expression" (OVMF's
 * PlatformDebugLibIoPort). */
static void parse_assert(struct hpci_fw_log *log, const char *text)
{
	const char *module = NULL, *module_end = NULL, *location, *expression;
	struct hpci_fw_assert *a;
	guint64 line;

	if (*text == '[') {
		module = text + 1;
		module_end = strstr(module, "] ");
		if (!module_end) {
			log->malformed++;
			return;
		}
		text = module_end + 2;
	}
	location = find_assert_location(text, &line);
	if (!location || location == text || line > UINT_MAX) {
		log->malformed++;
		return;
	}
	if (!has_room(log, log->asserts->len, HPCI_FW_LOG_ASSERTS_MAX))
		return;
	expression = strchr(location, ':') + 1;
	if (*expression == ' ')
		expression++;
	a = g_new0(struct hpci_fw_assert, 1);
	a->module = module ? printable_copy(module, module_end - module) : NULL;
	a->file = printable_copy(text, location - text);
	a->line = (unsigned)line;
	a->expression = printable_copy(expression, strlen(expression));
	a->line_no = log->lines;
	g_ptr_array_add(log->asserts, a);
}

/* edk2 starts its messages with the function name ("%a: "); returns the
 * message after it, or NULL when the line does not start that way. */
static const char *skip_function_name(const char *line)
{
	const char *p = line;

	if (!g_ascii_isalpha(*p) && *p != '_')
		return NULL;
	while (g_ascii_isalnum(*p) || *p == '_')
		p++;
	return p[0] == ':' && p[1] == ' ' ? p + 2 : NULL;
}

static void parse_line(struct hpci_fw_log_parser *p, const char *line)
{
	const char *message;

	if (g_str_has_prefix(line, "ASSERT ")) {
		parse_assert(p->log, line + strlen("ASSERT "));
		return;
	}
	message = skip_function_name(line);
	if (!message)
		return;
	/* The message goes on ("... found. Update QEMU to version 8+, or"),
	 * and the firmware hangs right after it. */
	if (g_str_has_prefix(message, BROKEN_REGISTER_BLOCK)) {
		p->log->deadloop = true;
		return;
	}
	if (!parse_fact(p->log, message))
		parse_numeric(p, message);
}

/* The line is parsed as a C string: a NUL byte in it ends it early, which
 * at worst makes a damaged line malformed. */
static void end_line(struct hpci_fw_log_parser *p)
{
	size_t len = p->line_len;

	while (len > 0 && p->line[len - 1] == '\r')
		len--;
	p->line[len] = '\0';
	p->log->lines++;
	parse_line(p, p->line);
	p->line_len = 0;
	p->line_cut = false;
}

static void append_to_line(struct hpci_fw_log_parser *p, const char *bytes, size_t len)
{
	size_t room = HPCI_FW_LOG_LINE_MAX - p->line_len;

	if (len > room) {
		len = room;
		p->line_cut = true;
		p->log->truncated_lines = true;
	}
	memcpy(p->line + p->line_len, bytes, len);
	p->line_len += len;
}

struct hpci_fw_log_parser *hpci_fw_log_parser_new(struct hpci_fw_log *log)
{
	struct hpci_fw_log_parser *p = g_new0(struct hpci_fw_log_parser, 1);

	p->log = log;
	p->open_unplugs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	return p;
}

void hpci_fw_log_parser_feed(struct hpci_fw_log_parser *p, const void *data, size_t len)
{
	const char *bytes = data;

	p->log->bytes += len;
	while (len > 0) {
		const char *newline = memchr(bytes, '\n', len);
		size_t line_part = newline ? (size_t)(newline - bytes) : len;

		append_to_line(p, bytes, line_part);
		if (!newline)
			break;
		end_line(p);
		bytes += line_part + 1;
		len -= line_part + 1;
	}
}

void hpci_fw_log_parser_finish(struct hpci_fw_log_parser *p)
{
	if (p->line_len > 0 || p->line_cut)
		end_line(p);
}

void hpci_fw_log_parser_free(struct hpci_fw_log_parser *p)
{
	if (!p)
		return;
	g_hash_table_unref(p->open_unplugs);
	g_free(p);
}

size_t hpci_fw_log_parser_pending(const struct hpci_fw_log_parser *p)
{
	return p->line_len;
}

int hpci_fw_log_parse_buffer(const char *data, size_t len, struct hpci_fw_log *ret)
{
	struct hpci_fw_log_parser *p;

	hpci_fw_log_init(ret);
	p = hpci_fw_log_parser_new(ret);
	hpci_fw_log_parser_feed(p, data, len);
	hpci_fw_log_parser_finish(p);
	hpci_fw_log_parser_free(p);
	return 0;
}

static int feed_fd(struct hpci_fw_log_parser *p, int fd, const char *path)
{
	char chunk[64 * 1024];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return hpci_error_errno(errno, "cannot read '%s'", path);
		}
		hpci_fw_log_parser_feed(p, chunk, n);
	}
	hpci_fw_log_parser_finish(p);
	return 0;
}

int hpci_fw_log_parse_file(const char *path, struct hpci_fw_log *ret)
{
	struct hpci_fw_log_parser *p;
	struct hpci_fw_log log;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hpci_error_errno(errno, "cannot open '%s'", path);
	hpci_fw_log_init(&log);
	p = hpci_fw_log_parser_new(&log);
	rc = feed_fd(p, fd, path);
	hpci_fw_log_parser_free(p);
	close(fd);
	if (rc < 0) {
		hpci_fw_log_release(&log);
		return rc;
	}
	*ret = log;
	return 0;
}

static json_object *fact_json(enum hpci_fw_fact fact)
{
	return fact == HPCI_FW_MISSING ? NULL : json_object_new_boolean(fact == HPCI_FW_YES);
}

static json_object *count_json(gint64 count)
{
	return count >= 0 ? json_object_new_int64(count) : NULL;
}

/* 64-bit addresses and bitmaps read best as hex, and as strings they stay
 * exact in every JSON reader. */
static json_object *hex_json(guint64 value)
{
	g_autofree char *text = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", value);

	return json_object_new_string(text);
}

static json_object *hot_added_json(GArray *hot_added)
{
	json_object *arr = json_object_new_array();

	for (guint i = 0; i < hot_added->len; i++) {
		const struct hpci_fw_hot_add *h =
			&g_array_index(hot_added, struct hpci_fw_hot_add, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "apic_id", json_object_new_int64(h->apic_id));
		json_object_object_add(o, "smbase", hex_json(h->smbase));
		json_object_object_add(o, "number", json_object_new_uint64(h->number));
		json_object_object_add(o, "log_line", json_object_new_uint64(h->line_no));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *unplugs_json(GArray *unplugs)
{
	json_object *arr = json_object_new_array();

	for (guint i = 0; i < unplugs->len; i++) {
		const struct hpci_fw_unplug *u = &g_array_index(unplugs, struct hpci_fw_unplug, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "processor", json_object_new_uint64(u->processor));
		/* Only the start line names the APIC ID. */
		json_object_object_add(o, "apic_id",
				       u->started ? json_object_new_int64(u->apic_id) : NULL);
		json_object_object_add(o, "selector", json_object_new_uint64(u->selector));
		json_object_object_add(o, "started", json_object_new_boolean(u->started));
		json_object_object_add(o, "completed", json_object_new_boolean(u->done));
		json_object_object_add(o, "log_line", json_object_new_uint64(u->line_no));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *asserts_json(GPtrArray *asserts)
{
	json_object *arr = json_object_new_array();

	for (guint i = 0; i < asserts->len; i++) {
		const struct hpci_fw_assert *a = g_ptr_array_index(asserts, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "module",
				       a->module ? json_object_new_string(a->module) : NULL);
		json_object_object_add(o, "file", json_object_new_string(a->file));
		json_object_object_add(o, "line", json_object_new_int64(a->line));
		json_object_object_add(o, "expression", json_object_new_string(a->expression));
		json_object_object_add(o, "log_line", json_object_new_uint64(a->line_no));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *negotiated_json(const struct hpci_fw_log *log)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "broadcast", fact_json(log->broadcast));
	json_object_object_add(o, "cpu_hotplug", fact_json(log->cpu_hotplug));
	json_object_object_add(o, "cpu_hotunplug", fact_json(log->cpu_hotunplug));
	return o;
}

static void add_if_missing(json_object *missing, bool is_missing, const char *name)
{
	if (is_missing)
		json_object_array_add(missing, json_object_new_string(name));
}

static json_object *missing_json(const struct hpci_fw_log *log)
{
	json_object *missing = json_object_new_array();

	add_if_missing(missing, log->smram_at_default_smbase == HPCI_FW_MISSING,
		       "smram_at_default_smbase");
	add_if_missing(missing, log->boot_cpu_count < 0, "boot_cpu_count");
	add_if_missing(missing, log->max_cpu_count < 0, "max_cpu_count");
	add_if_missing(missing, log->broadcast == HPCI_FW_MISSING, "negotiated.broadcast");
	add_if_missing(missing, log->cpu_hotplug == HPCI_FW_MISSING, "negotiated.cpu_hotplug");
	add_if_missing(missing, log->cpu_hotunplug == HPCI_FW_MISSING, "negotiated.cpu_hotunplug");
	return missing;
}

json_object *hpci_fw_log_to_json(const struct hpci_fw_log *log)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "smram_at_default_smbase",
			       fact_json(log->smram_at_default_smbase));
	json_object_object_add(o, "boot_cpu_count", count_json(log->boot_cpu_count));
	json_object_object_add(o, "max_cpu_count", count_json(log->max_cpu_count));
	json_object_object_add(o, "negotiated", negotiated_json(log));
	json_object_object_add(o, "negotiation_failed_bitmap",
			       log->negotiation_failed ? hex_json(log->failed_bitmap) : NULL);
	json_object_object_add(o, "hot_added", hot_added_json(log->hot_added));
	json_object_object_add(o, "unplugs", unplugs_json(log->unplugs));
	json_object_object_add(o, "asserts", asserts_json(log->asserts));
	json_object_object_add(o, "deadloop", json_object_new_boolean(log->deadloop));
	json_object_object_add(o, "bytes", json_object_new_uint64(log->bytes));
	json_object_object_add(o, "lines", json_object_new_uint64(log->lines));
	json_object_object_add(o, "malformed_lines", json_object_new_uint64(log->malformed));
	json_object_object_add(o, "truncated_lines", json_object_new_boolean(log->truncated_lines));
	json_object_object_add(o, "capped", json_object_new_boolean(log->capped));
	json_object_object_add(o, "missing", missing_json(log));
	return o;
}

/* Build hosts print full paths, with '\' on Windows; the name is enough. */
static const char *file_name(const char *path)
{
	const char *name = path;

	for (const char *c = path; *c; c++) {
		if (*c == '/' || *c == '\\')
			name = c + 1;
	}
	return name;
}

bool hpci_fw_log_failed(const struct hpci_fw_log *log, char **ret_summary)
{
	char *summary = NULL;

	if (log->asserts->len > 0) {
		const struct hpci_fw_assert *a = g_ptr_array_index(log->asserts, 0);

		summary = g_strdup_printf("ASSERT %s(%u): %s", file_name(a->file), a->line,
					  a->expression);
	} else if (log->deadloop) {
		summary = g_strdup(BROKEN_REGISTER_BLOCK);
	} else if (log->negotiation_failed) {
		summary = g_strdup_printf("SMI feature negotiation failed for feature bitmap 0x%"
					  G_GINT64_MODIFIER "x", log->failed_bitmap);
	}
	if (ret_summary)
		*ret_summary = summary;
	else
		g_free(summary);
	return summary != NULL;
}

bool hpci_fw_line_fatal(const char *line)
{
	struct hpci_fw_log log;
	bool fatal;

	/* The line parsed as a log of its own: one definition of a failure,
	 * the parser's, with its line handling (trailing '\r', the length cap).
	 * A few allocations per line cost nothing next to QEMU writing the log
	 * a byte at a time. */
	hpci_fw_log_parse_buffer(line, strlen(line), &log);
	fatal = hpci_fw_log_failed(&log, NULL);
	hpci_fw_log_release(&log);
	return fatal;
}
