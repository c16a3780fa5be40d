/*
 * run_host.c - what the hosted runner changes in the host process itself.
 * Apart from the other run_*.c files because <signal.h> defines si_addr
 * as a macro, and os.h has a field of that name.
 */
#define _DEFAULT_SOURCE /* SIGPIPE */
#include <signal.h>

void run_ignore_sigpipe(void);

void run_ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}
