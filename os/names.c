/*
 * names.c - errno names for reports, and the error-message return the
 * loader and process creation share.
 */
#include "os_internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *os_errno_name(int err)
{
    switch (err < 0 ? -err : err) {
    case 0:
        return "OK";
    case OS_EPERM:
        return "EPERM";
    case OS_ENOENT:
        return "ENOENT";
    case OS_EIO:
        return "EIO";
    case OS_ENXIO:
        return "ENXIO";
    case OS_E2BIG:
        return "E2BIG";
    case OS_ENOEXEC:
        return "ENOEXEC";
    case OS_ENOMEM:
        return "ENOMEM";
    case OS_EACCES:
        return "EACCES";
    case OS_EFAULT:
        return "EFAULT";
    case OS_EEXIST:
        return "EEXIST";
    case OS_EINVAL:
        return "EINVAL";
    case OS_ENAMETOOLONG:
        return "ENAMETOOLONG";
    case OS_EOVERFLOW:
        return "EOVERFLOW";
    default:
        return "E?";
    }
}

int os_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err != NULL && errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}
