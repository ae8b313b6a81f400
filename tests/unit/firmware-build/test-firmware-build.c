/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "descriptor.h"
#include "error.h"
#include "firmware-build.h"
#include "fsutil.h"

#include <errno.h>
#include <string.h>

/* What a build writes is what the matrix accepts: the reader gets back the
 * images and features the writer was given. */
static void test_descriptor_round_trip(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("hpci-fw-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "firmware.json", NULL);
	struct hpci_firmware_descriptor in = {
		.code = "/cache/OVMF_CODE.fd", .vars = "/cache/OVMF_VARS.fd", .smm = true,
		.verbose = true,
	};
	struct hpci_firmware_descriptor out = { 0 };

	(void)state;
	assert_int_equal(hpci_firmware_descriptor_write(path, &in, "OVMF DEBUG", false), 0);
	/* A name with a '/' is a path, relative to the directory given. */
	if (hpci_firmware_descriptor_read("./firmware.json", dir, &out) < 0)
		fail_msg("%s", hpci_error_message());
	assert_string_equal(out.path, path);
	assert_string_equal(out.code, in.code);
	assert_string_equal(out.vars, in.vars);
	assert_true(out.smm);
	assert_true(out.verbose);
	hpci_firmware_descriptor_release(&out);

	in.smm = in.verbose = false;
	assert_int_equal(hpci_firmware_descriptor_write(path, &in, "OVMF RELEASE", true), 0);
	assert_int_equal(hpci_firmware_descriptor_read(path, "/", &out), 0);
	assert_false(out.smm);
	assert_false(out.verbose);
	hpci_firmware_descriptor_release(&out);
	hpci_firmware_descriptor_release(&out);   /* twice is harmless */
	assert_int_equal(hpci_rm_rf(dir), 0);
}

/* The reader names the file and leaves saying who named it to the caller. */
static void test_descriptor_errors(void **state)
{
	struct hpci_firmware_descriptor out = { 0 };

	(void)state;
	assert_int_equal(hpci_firmware_descriptor_read("", "/", &out), -EINVAL);
	assert_string_equal(hpci_error_message(), "empty descriptor name; give a file name "
			    "from /usr/share/qemu/firmware or a path");
	assert_int_equal(hpci_firmware_descriptor_read("/dev/zero", "/", &out), -EINVAL);
	assert_string_equal(hpci_error_message(), "/dev/zero: is a character device, not a "
			    "regular file; give the path of a JSON file; give the name or path "
			    "of a firmware descriptor");
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_INPUT);
	assert_null(out.path);
}

/* The check names the request member it rejects. */
static void test_check_field(void **state)
{
	g_autoptr(GPtrArray) defines = g_ptr_array_new();
	g_autoptr(GPtrArray) pcds = g_ptr_array_new();
	struct hpci_firmware_request req = {
		.src = { .source = "debian:edk2" }, .defines = defines, .pcds = pcds,
	};
	const char *field = NULL;
	guint index = 99;

	(void)state;
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), 0);
	assert_null(field);
	req.src.source = "debian:qemu";
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "source");
	req.src.source = "debian:edk2";
	req.src.patches = "/nonexistent/queue";
	assert_true(hpci_firmware_check_field(&req, &field, &index) < 0);
	assert_string_equal(field, "patches");
	req.src.patches = NULL;
	req.build_type = "debug";
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "build_type");
	req.build_type = NULL;
	g_ptr_array_add(defines, "SMM_REQUIRE=TRUE");
	g_ptr_array_add(defines, "-D X=1");
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "defines");
	assert_int_equal(index, 1);
	g_ptr_array_set_size(defines, 1);
	g_ptr_array_add(pcds, "PcdNoGuid=1");
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "pcds");
	assert_int_equal(index, 0);
	assert_int_equal(hpci_firmware_check(&req), -EINVAL);
}

static void test_request_copy(void **state)
{
	g_autoptr(GPtrArray) defines = g_ptr_array_new();
	struct hpci_firmware_request req = {
		.src = { .source = "debian:edk2" }, .build_type = "NOOPT", .defines = defines,
	};
	g_autoptr(hpci_firmware_request) copy = NULL;

	(void)state;
	g_ptr_array_add(defines, "SMM_REQUIRE=TRUE");
	copy = hpci_firmware_request_copy(&req);
	assert_ptr_not_equal(copy->src.source, req.src.source);
	assert_string_equal(copy->src.source, "debian:edk2");
	assert_string_equal(copy->build_type, "NOOPT");
	assert_int_equal(copy->defines->len, 1);
	assert_ptr_not_equal(copy->defines, defines);
	assert_int_equal(copy->pcds->len, 0);
	assert_true(hpci_firmware_request_smm(copy));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor_round_trip),
		cmocka_unit_test(test_descriptor_errors),
		cmocka_unit_test(test_check_field),
		cmocka_unit_test(test_request_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
