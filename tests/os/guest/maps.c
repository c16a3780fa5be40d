/*
 * maps.c - a static Linux program for the loader tests: prints its own
 * /proc/self/maps, so running it natively gives the kernel's layout of
 * the very file the OS model loads.
 */
#include <stdio.h>

int main(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    if (f == NULL)
        return 1;
    while (fgets(line, sizeof line, f) != NULL)
        fputs(line, stdout);
    fclose(f);
    return 0;
}
