/* errors.c - names of the SL_E* codes. */
#include "sluice/core.h"

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

static int verr(int code, const char *fmt, va_list ap)
{
	int n = vsnprintf(detail, sizeof(detail), fmt, ap);
	if (n >= (int)sizeof(detail)) {
		/* cut before a UTF-8 sequence the limit split: a detail is
		 * shown and sent as JSON (DRPC), and must stay valid text */
		size_t end = sizeof(detail) - 1, i = end;
		while (i > 0 && end - i < 3
		    && ((uint8_t)detail[i - 1] & 0xc0) == 0x80)
			i--;
		uint8_t lead = i > 0 ? (uint8_t)detail[i - 1] : 0;
		size_t need = lead >= 0xf0 ? 4
		    : lead >= 0xe0         ? 3
		    : lead >= 0xc0         ? 2
		                           : 1;
		if (end - (i - 1) < need)
			detail[i - 1] = 0;
	}
	return code;
}

int sl_errorf(int code, const char *fmt, ...)
{
	if (!fmt)
		return sl_errorf(code, "%s", "");
	va_list ap;
	va_start(ap, fmt);
	code = verr(code, fmt, ap);
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
