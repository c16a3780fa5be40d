/*
 * cli.h - what the mmuemu subcommands share: error reporting, strict number
 * parsing and guest RAM images (raw binary files) in and out.
 *
 * Every user error of a subcommand is one line on stderr,
 * "mmuemu SUBCOMMAND: what went wrong", and exit status CLI_EXIT_USAGE.
 * Not here: anything about translation (see translate.h).
 */
#ifndef MMUEMU_TOOLS_CLI_H
#define MMUEMU_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "mmuemu/phys.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_USAGE 2 /* bad arguments, bad input files, bad ops lines */

/* Largest guest RAM image the tool loads. */
#define CLI_IMAGE_MAX (UINT64_C(4) << 30)

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* Subcommands (one file each). @return the process exit status. */
int cmd_translate(int argc, char **argv);
int cmd_example_image(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* "mmuemu CMD: message\n" on stderr; cmd may be NULL. */
void cli_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * Parse a whole string as an unsigned number: 0x hex, 0 octal or decimal
 * (strtoull base 0). Rejects empty strings, signs, spaces, trailing junk
 * and values above UINT64_MAX. @return false on any of those.
 */
bool cli_parse_u64(const char *s, uint64_t *out);

/* Same, with an upper bound (inclusive). */
bool cli_parse_max(const char *s, uint64_t max, uint64_t *out);

/*
 * Load a raw RAM image: mem->ram gets a malloc'd copy of the file, mem->size
 * its length, mem->base = base. Refuses missing/unreadable/empty files,
 * files above CLI_IMAGE_MAX and a range that would wrap past 2^64.
 * @return false after printing the reason with cli_error(cmd, ...).
 */
bool cli_load_image(const char *cmd, const char *path, uint64_t base,
                    mmu_phys *mem);

/* Write mem's RAM to path. @return false after printing the reason. */
bool cli_save_image(const char *cmd, const char *path, const mmu_phys *mem);

/* Free what cli_load_image allocated. */
void cli_free_image(mmu_phys *mem);

/* Flush stdout. @return false (after printing why) on a write error. */
bool cli_flush_stdout(const char *cmd);

#endif
