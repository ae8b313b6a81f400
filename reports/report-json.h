/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REPORT_JSON_H
#define HPCI_REPORT_JSON_H

#include "result.h"

#include <json-c/json.h>

/* Schema version of report.json (reports/README.md documents it). */
#define HPCI_REPORT_SCHEMA 1

/* Serialises the run as report.json text (newly allocated). */
char *hpci_report_json(const struct hpci_run_report *report);

/* report.json's "summary": "cells" and one count per verdict, by key. */
json_object *hpci_report_summary_json(const struct hpci_verdict_counts *counts);

/* Writes report.json atomically (temporary file + rename), so an
 * interrupted run never leaves a half-written report. */
int hpci_report_write_json(const struct hpci_run_report *report, const char *path);

#endif
