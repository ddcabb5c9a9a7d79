/* fields.c - field schemas (ordered lists of names). */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_fields {
	size_t n;
	char **names;
};

int sl_fields_new(sl_fields **out, size_t n, const char *const *names)
{
	SLI_NONNULL(out);
	SLI_NONNULL(names || n == 0);
	*out = NULL;
	if (n > SL_MAX_FIELDS)
		return SL_EINVAL;
	sl_fields *f = calloc(1, sizeof(*f));
	if (!f)
		return SL_ENOMEM;
	f->names = calloc(n ? n : 1, sizeof(char *));
	if (!f->names) {
		free(f);
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		for (size_t j = 0; names[i] && j < i; j++)
			dup |= !strcmp(names[i], names[j]);
		if (!names[i] || !names[i][0] || dup) {
			f->n = i;
			sl_fields_free(f);
			return dup ? sli_err(SL_EINVAL,
			           "field '%s' named twice", names[i])
			           : SL_EINVAL;
		}
		f->names[i] = strdup(names[i]);
		if (!f->names[i]) {
			f->n = i;
			sl_fields_free(f);
			return SL_ENOMEM;
		}
	}
	f->n = n;
	*out = f;
	return SL_OK;
}

sl_fields *sl_fields_of(const char *first, ...)
{
	const char *names[SL_MAX_FIELDS];
	size_t n = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s && n < SL_MAX_FIELDS;
	     s = va_arg(ap, const char *))
		names[n++] = s;
	va_end(ap);
	sl_fields *f;
	return sl_fields_new(&f, n, names) ? NULL : f;
}

void sl_fields_free(sl_fields *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f);
}

size_t sl_fields_count(const sl_fields *f)
{
	return f ? f->n : 0;
}

const char *sl_fields_name(const sl_fields *f, size_t i)
{
	return f && i < f->n ? f->names[i] : NULL;
}

int sl_fields_index(const sl_fields *f, const char *name)
{
	SLI_NONNULL(f);
	SLI_NONNULL(name);
	for (size_t i = 0; f && i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return (int)i;
	return SL_ENOTFOUND;
}

int sl_fields_parse(sl_fields **out, const char *list)
{
	SLI_NONNULL(out);
	char buf[1024];
	const char *names[SL_MAX_FIELDS];
	size_t n = 0;
	*out = NULL;
	if (list && strlen(list) >= sizeof(buf))
		return SL_EINVAL;
	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *save = NULL, *f = strtok_r(buf, ", ", &save); f;
	     f = strtok_r(NULL, ", ", &save)) {
		if (n == SL_MAX_FIELDS)
			return SL_EINVAL;
		names[n++] = f;
	}
	return sl_fields_new(out, n, names);
}
