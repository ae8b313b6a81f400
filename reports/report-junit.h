/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REPORT_JUNIT_H
#define HPCI_REPORT_JUNIT_H

#include <json-c/json.h>

/* Lines of a failing cell's serial.log that go into its <failure> text. */
#define HPCI_JUNIT_SERIAL_TAIL_LINES 30

/*
 * The report as JUnit XML in the form GitLab's unit test report reads
 * (reports/README.md): one <testsuite> named after the matrix, one
 * <testcase> per cell; fail and flaky are <failure>, infra-error is
 * <error> (so is fail with outcome infra-error, as older reports say it),
 * not-run and known-issue are <skipped>.  report_dir is the directory of
 * report.json as the caller names it: serial.log tails are read below it,
 * and <system-out> attachment paths start with it.
 */
int hpci_report_junit(json_object *report, const char *report_dir, char **ret_xml);

#endif
