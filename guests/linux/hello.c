/*
 * hello - the smallest workload: prints its arguments and one line.
 * argv[0] is printed as its last path component, since the runner chooses
 * the path.
 */
#include "glx.h"

int main(int argc, char **argv)
{
    glx_init();
    const char *slash = strrchr(argv[0], '/');
    printf("argc %d\n", argc);
    printf("argv[0] basename %s\n", slash ? slash + 1 : argv[0]);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] %s\n", i, argv[i]);
    printf("argv[argc] is %s\n", argv[argc] == NULL ? "NULL" : "not NULL");
    printf("hello, world\n");
    return 0;
}
