/*
 * protocol.c - what a DRPC request and its reply look like in clear: a
 * request is `FUNCTION` TAB `ARGS` (UTF-8, bounded), a reply is JSON,
 * {"result":...} or {"error":"..."} (jansson).
 */
#include "drpc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int sli_drpc_utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800)
		    || (k == 3 && (cp < 0x10000 || cp > 0x10ffff))
		    || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

char *sli_drpc_error_json(const char *msg)
{
	/* details may quote anything (a key, a path): bytes that are not
	 * valid UTF-8 become '?', never a failed reply */
	char clean[1024];
	size_t n = strlen(msg);
	if (!sli_drpc_utf8_ok((const uint8_t *)msg, n)) {
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < sizeof(clean); i++) {
			uint8_t c = (uint8_t)msg[i];
			clean[o++] = c < 0x80 ? (char)c : '?';
		}
		clean[o] = 0;
		msg = clean;
	}
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

char *sli_drpc_result_json(const sl_value *v, int *refused)
{
	json_t *r;
	*refused = 0;
	switch (v->type) {
	case SL_INT:
		r = json_integer(v->u.i);
		break;
	case SL_DOUBLE:
		/* null would read as "no value" (R6): say what it was */
		if (v->u.d != v->u.d || v->u.d - v->u.d != 0) {
			*refused = 1;
			return sli_drpc_error_json(v->u.d != v->u.d
			        ? "the result is not representable in JSON: "
			          "NaN"
			        : v->u.d > 0
			        ? "the result is not representable in JSON: "
			          "inf"
			        : "the result is not representable in JSON: "
			          "-inf");
		}
		r = json_real(v->u.d);
		break;
	case SL_BYTES:
		if (!sli_drpc_utf8_ok(v->u.p, v->len)) {
			char m[160];
			snprintf(m, sizeof(m),
			    "the result is not representable in JSON: %u "
			    "bytes that are not UTF-8",
			    (unsigned)v->len);
			*refused = 1;
			return sli_drpc_error_json(m);
		}
		r = json_stringn((const char *)v->u.p, v->len);
		break;
	default:
		r = json_null();
		break;
	}
	json_t *j = json_object();
	json_object_set_new(j, "result", r);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

int sli_drpc_check_request(
    const uint8_t *p, size_t n, size_t max, size_t *tab, const char **why)
{
	*why = NULL;
	if (n == 0)
		*why = "empty request: expected FUNCTION<TAB>ARGS";
	else if (n > max)
		*why = "request too large";
	else {
		const uint8_t *t = memchr(p, '\t', n);
		if (!t)
			*why
			    = "malformed request: no TAB between function and "
			      "args";
		else if (t == p)
			*why = "malformed request: no function name";
		else if (!sli_drpc_utf8_ok(p, n))
			*why = "request is not valid UTF-8";
		else if (memchr(p, 0, (size_t)(t - p)))
			*why = "malformed request: NUL in function name";
		else
			*tab = (size_t)(t - p);
	}
	return *why ? SL_EINVAL : SL_OK;
}
