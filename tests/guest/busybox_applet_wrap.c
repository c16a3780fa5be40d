/*
 * busybox_applet_wrap.c - a host program standing for one busybox applet in
 * the PATH of the qemu-user reference runs (tests/guest/
 * qemu_user_busybox_sh.sh): run as APPLET ARGS..., it appends APPLET to
 * WRAP_LOG and execs
 *     WRAP_QEMU -0 APPLET WRAP_BUSYBOX ARGS...
 * so the applet runs in the same busybox binary under qemu-user, with
 * argv[0] and the environment exactly as the caller passed them (a shell
 * script would export PWD and SHLVL). WRAP_QEMU, WRAP_BUSYBOX and WRAP_LOG
 * are string macros given at build time, one build per architecture.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 1 || argv[0] == NULL)
        return 127;
    const char *applet = strrchr(argv[0], '/');
    applet = applet ? applet + 1 : argv[0];

    int log = open(WRAP_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log >= 0) {
        dprintf(log, "%s\n", applet);
        close(log);
    }

    char **nargv = calloc((size_t)argc + 4, sizeof *nargv);
    if (nargv == NULL)
        return 127;
    nargv[0] = (char *)WRAP_QEMU;
    nargv[1] = (char *)"-0";
    nargv[2] = (char *)applet;
    nargv[3] = (char *)WRAP_BUSYBOX;
    for (int i = 1; i < argc; i++)
        nargv[i + 3] = argv[i];
    execv(WRAP_QEMU, nargv);
    perror(WRAP_QEMU);
    return 127;
}
