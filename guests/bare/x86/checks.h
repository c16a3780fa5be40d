/*
 * checks.h - the paging checks, run once per paging mode. Each prints one
 * line "<mode>: <what> [err=0x.. cr2=0x..] ok" (or FAILED with the wanted
 * values) and counts as one failure if it fails. Only values that two
 * faithful implementations agree on are printed: error codes, CR2, A/D.
 */
#ifndef GUEST_X86_CHECKS_H
#define GUEST_X86_CHECKS_H

#include <stdbool.h>

#include "paging.h"

/* Set by the "observe" word on the command line: print extra lines
 * (prefixed "observe:", never counted) about behaviour where QEMU and the
 * SDM are known to differ. */
extern bool checks_observe;

/* Runs every check whose feature CPUID reports; returns the failures. */
unsigned checks_run(struct space *s);

#endif
