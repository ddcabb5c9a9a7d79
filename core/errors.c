/* errors.c - names of the SL_E* codes. */
#include "sluice.h"

const char *sl_strerror(int code)
{
	switch (code) {
	case SL_OK:
		return "success";
	case SL_ENOMEM:
		return "out of memory";
	case SL_EINVAL:
		return "invalid argument";
	case SL_EIO:
		return "I/O error";
	case SL_ECORRUPT:
		return "data is corrupt";
	case SL_ENOTFOUND:
		return "not found";
	case SL_ELOCKED:
		return "locked by another process";
	case SL_EVERSION:
		return "unsupported version";
	case SL_ETIMEDOUT:
		return "timed out";
	case SL_ECRYPTO:
		return "authentication failed";
	case SL_ESTALE:
		return "stale transaction";
	case SL_EFULL:
		return "queue full";
	case SL_ETRUNC:
		return "truncated input";
	case SL_EOVERFLOW:
		return "length or count overflows";
	case SL_EPROTO:
		return "protocol error";
	case SL_ECLOSED:
		return "closed";
	case SL_ENOSPC:
		return "no space left on device";
	case SL_EPERM:
		return "permission denied";
	case SL_EFAILED:
		return "batch failed";
	case SL_ESTATE:
		return "not valid in the current state";
	case SL_EAGAIN:
		return "try again";
	case SL_ELIMIT:
		return "limit reached";
	}
	return "unknown error";
}

#include <stdarg.h>
#include <stdio.h>

static __thread char detail[512];

const char *sl_errdetail(void)
{
	return detail;
}

int sli_err(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return code;
}

#include <errno.h>

int sli_errno_code(int e)
{
	switch (e) {
	case ENOMEM:
		return SL_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		return SL_ENOSPC;
	case EACCES:
	case EPERM:
	case EROFS:
		return SL_EPERM;
	case ENOENT:
	case ENOTDIR:
		return SL_ENOTFOUND;
	case EINVAL:
		return SL_EINVAL;
	case ETIMEDOUT:
		return SL_ETIMEDOUT;
	case EWOULDBLOCK:
		return SL_ELOCKED;
	default:
		return SL_EIO;
	}
}
