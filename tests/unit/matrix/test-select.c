/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "select.h"
#include "error.h"

#include <errno.h>
#include <string.h>

/* 2 topologies x 2 smi x 3 ops = 12 cells. */
static const char matrix_json[] =
	"{\"name\": \"sel\", \"axes\": {"
	" \"topology\": {\"1s2c\": {\"sockets\": 1, \"cores\": 2, \"boot\": 1},"
	"                \"2s2c\": {\"sockets\": 2, \"cores\": 2, \"boot\": 1}},"
	" \"smi\": {\"full\": {}, \"machine-5.2\": {\"machine\": \"pc-q35-5.2\", \"cpu_hotunplug\": false}},"
	" \"ops\": {\"each\": [\"plug-each\"], \"burst\": [\"plug-burst\"],"
	"           \"cycle\": [\"plug-each\", \"unplug\", \"plug-each\"]}}}";

static struct hpci_matrix *load(void)
{
	struct hpci_matrix_host host = { "tcg" };
	struct hpci_matrix *m = NULL;

	if (hpci_matrix_parse("matrix/sel.json", matrix_json, &host, &m) < 0)
		fail_msg("parse: %s", hpci_error_message());
	assert_int_equal(m->cells->len, 12);
	return m;
}

static const char *cell_id(const struct hpci_matrix *m, guint i)
{
	return ((const struct hpci_cell *)g_ptr_array_index(m->cells, i))->id;
}

static void expect_filter_error(const char *filter, const char *expected)
{
	g_autoptr(hpci_matrix) m = load();
	const char *filters[] = { filter };

	hpci_error_clear();
	assert_int_equal(hpci_matrix_filter(m, filters, 1, "--filter"), -EINVAL);
	if (!strstr(hpci_error_message(), expected))
		fail_msg("message '%s' lacks '%s'", hpci_error_message(), expected);
}

static void test_filter_terms_all_hold(void **state)
{
	g_autoptr(hpci_matrix) m = load();
	const char *filters[] = { "topology=2s2c, ops=each|cycle" };

	(void)state;
	assert_int_equal(hpci_matrix_filter(m, filters, 1, "--filter"), 0);
	assert_int_equal(m->cells->len, 4);
	assert_string_equal(cell_id(m, 0), "topology=2s2c,smi=full,firmware=default,qemu=default,"
			    "count=default,ops=each");
	assert_string_equal(cell_id(m, 3), "topology=2s2c,smi=machine-5.2,firmware=default,"
			    "qemu=default,count=default,ops=cycle");
}

static void test_filter_globs_negation_and_union(void **state)
{
	g_autoptr(hpci_matrix) m = load();
	const char *filters[] = { "smi=machine-*,ops!=c*", "topology=1s2c,smi=full,ops=cycle" };

	(void)state;
	assert_int_equal(hpci_matrix_filter(m, filters, 2, "--filter"), 0);
	/* 2 topologies x machine-5.2 x {each, burst}, plus one 1s2c full cycle. */
	assert_int_equal(m->cells->len, 5);
	assert_non_null(strstr(cell_id(m, 0), "topology=1s2c,smi=full"));
	for (guint i = 0; i < m->cells->len; i++)
		assert_true(i == 0 || strstr(cell_id(m, i), "smi=machine-5.2") != NULL);
}

static void test_filter_errors(void **state)
{
	(void)state;
	expect_filter_error("topo=1s2c", "unknown axis 'topo'");
	expect_filter_error("smi=ful", "no smi value of 'matrix/sel.json' matches 'ful'; its values "
			    "are: full, machine-5.2");
	expect_filter_error("smi", "term 'smi' is not AXIS=VALUE");
	expect_filter_error("smi=", "is not AXIS=VALUE");
	expect_filter_error("!=x", "is not AXIS=VALUE");
	expect_filter_error("smi=full,smi=machine-5.2", "selects no cell");
}

static void test_shards_partition_the_selection(void **state)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(hpci_matrix) all = load();

	(void)state;
	for (unsigned k = 1; k <= 5; k++) {
		g_autoptr(hpci_matrix) m = load();

		assert_int_equal(hpci_matrix_shard(m, k, 5), 0);
		assert_true(m->cells->len == 2 || m->cells->len == 3);
		for (guint i = 0; i < m->cells->len; i++)
			assert_true(g_hash_table_add(seen, g_strdup(cell_id(m, i))));
	}
	assert_int_equal(g_hash_table_size(seen), all->cells->len);
}

static void test_shard_parse(void **state)
{
	unsigned k = 0, n = 0;

	(void)state;
	assert_int_equal(hpci_shard_parse("2/4", "--shard", &k, &n), 0);
	assert_int_equal(k, 2);
	assert_int_equal(n, 4);
	const char *bad[] = { "0/2", "3/2", "1/0", "2", "a/b", "1/2x", "", "-1/2" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		hpci_error_clear();
		assert_int_equal(hpci_shard_parse(bad[i], "--shard", &k, &n), -EINVAL);
		assert_non_null(strstr(hpci_error_message(), "is not K/N"));
	}
}

static void test_empty_shard_is_an_error(void **state)
{
	g_autoptr(hpci_matrix) m = load();
	const char *filters[] = { "topology=1s2c,smi=full,ops=each" };

	(void)state;
	assert_int_equal(hpci_matrix_filter(m, filters, 1, "--filter"), 0);
	assert_int_equal(hpci_matrix_shard(m, 2, 2), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "shard 2/2 of 'matrix/sel.json' is empty"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_terms_all_hold),
		cmocka_unit_test(test_filter_globs_negation_and_union),
		cmocka_unit_test(test_filter_errors),
		cmocka_unit_test(test_shards_partition_the_selection),
		cmocka_unit_test(test_shard_parse),
		cmocka_unit_test(test_empty_shard_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
