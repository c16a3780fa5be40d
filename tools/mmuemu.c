/*
 * mmuemu.c - the `mmuemu` command: dispatch to one subcommand per file.
 *
 * `mmuemu SUBCOMMAND ...` runs cmd_SUBCOMMAND(argc - 1, argv + 1), so each
 * subcommand sees its own name as argv[0]. Hidden subcommands work but are
 * not listed in the help (example-image exists for the examples and tests).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* NULL: hidden */
} subcommands[] = {
    {"translate", cmd_translate,
     "translate virtual addresses through page tables in a RAM image"},
    {"run", cmd_run, "run a guest ELF on Unicorn with the model translating"},
    {"example-image", cmd_example_image, NULL},
};

#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void print_usage(FILE *f)
{
    fputs("usage: mmuemu SUBCOMMAND [OPTIONS]   (mmuemu SUBCOMMAND --help)\n"
          "\nsubcommands:\n",
          f);
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (subcommands[i].summary != NULL)
            fprintf(f, "  %-12s %s\n", subcommands[i].name,
                    subcommands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_error(NULL, "missing subcommand (try mmuemu --help)");
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        print_usage(stdout);
        return cli_flush_stdout(NULL) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (strcmp(subcommands[i].name, cmd) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    cli_error(NULL, "unknown subcommand '%s' (try mmuemu --help)", cmd);
    return CLI_EXIT_USAGE;
}
