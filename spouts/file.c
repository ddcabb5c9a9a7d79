/*
 * file.c - the transactional file spout: lines of a file, each batch a byte
 * range [start, end) recorded per txid, so a replay reads exactly the same
 * lines, also after a crash. Meta (little-endian): start u64, end u64,
 * hash u64 (FNV-1a 64 of the input's bytes [0, end): the identity of what
 * was counted), flags u8 (SLI_META_*, file_identity.h). A position of another
 * length is refused (the 16 bytes of earlier versions could not be told apart
 * from other spouts' positions, red team F1). Batches are cut at the batch
 * size (in lines, or in words when asked) or, on a pipe, after batch_ms with
 * at least one line. A finished file's last line without '\n' is counted, as
 * awk does; a later run refuses the file when that line has grown since (its
 * word would be split). Follow mode instead holds an unterminated line back
 * until its newline arrives and waits for the file to grow.
 * stdin ("-") cannot be re-read: the spout keeps the bytes of recent
 * batches in memory for replays within a run; after a restart, stored
 * meta with no bytes behind it is dropped and the batch reads on from the
 * pipe (what the crashed process had read past the last commit is lost).
 */
#include "core/core.h"
#include "file_identity.h"
#include "sluice/spouts.h"
#include "trident/spout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const sl_spout_ops file_ops; /* at the end */

typedef struct filespout {
	int fd;
	int regular;
	int count_words;
	int follow;
	uint64_t hash; /* of [0, hash_end) for the batch being emitted */
	uint64_t hash_end;
	int open_line; /* the last line emitted had no '\n' */
	char *path;
	_Atomic uint64_t next; /* where the next new batch starts */
	_Atomic uint64_t size; /* regular files: size seen */
	_Atomic uint64_t lines; /* lines emitted in fresh batches */
	_Atomic uint64_t words;
	_Atomic int eof; /* pipes: read returned 0 */
	int checked;
	/* bytes [base, base + buf.len) of the stream (pipes) */
	sli_buf buf;
	uint64_t base;
	sli_buf scratch;
	int input_error; /* the last error is the input's: fatal */
	uint64_t run_start; /* follow: the first fresh batch's start + 1 */
	_Atomic uint64_t shrank_from; /* regular files: the size before a
	                                 shrink seen while running, or 0 */
	struct stat seen; /* regular files: when opened or last checked */
	/* follow: the last bytes counted, [tail_end - tail_len, tail_end) */
	uint8_t tail[32];
	size_t tail_len;
	uint64_t tail_end;
} filespout;

/* The number (from 1) of the line starting at byte off of a regular
 * file; 0 when it cannot be read (error messages only). */
static uint64_t line_number(filespout *f, uint64_t off)
{
	uint8_t b[65536];
	uint64_t at = 0, n = 1;
	while (at < off) {
		size_t want
		    = off - at < sizeof(b) ? (size_t)(off - at) : sizeof(b);
		ssize_t r = pread(f->fd, b, want, (off_t)at);
		if (r <= 0)
			return 0;
		for (ssize_t i = 0; i < r; i++)
			n += b[i] == '\n';
		at += (uint64_t)r;
	}
	return n;
}

/* A line longer than SL_MAX_BYTES at byte offset off: a fatal input
 * error naming the line. */
static int too_long(filespout *f, uint64_t off)
{
	f->input_error = 1;
	uint64_t ln = f->regular ? line_number(f, off) : 0;
	if (ln)
		return sli_err(SL_ELIMIT,
		    "%s: line %llu (at byte %llu) is longer than %u bytes, "
		    "the "
		    "limit of a value",
		    f->path, (unsigned long long)ln, (unsigned long long)off,
		    SL_MAX_BYTES);
	return sli_err(SL_ELIMIT,
	    "%s: the line at byte %llu is longer than %u bytes, the limit of "
	    "a value",
	    f->path, (unsigned long long)off, SL_MAX_BYTES);
}

int sl_spout_file_new(sl_spout **out, const char *path)
{
	SLI_NONNULL(out);
	SLI_NONNULL(path);
	*out = NULL;
	filespout *f = calloc(1, sizeof(*f));
	if (!f)
		return SL_ENOMEM;
	f->path = strdup(path);
	if (!strcmp(path, "-"))
		f->fd = dup(0);
	else
		f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		int e = errno;
		free(f->path);
		free(f);
		return sli_err(sli_errno_code(e), "cannot read %s: %s", path,
		    strerror(e));
	}
	struct stat st;
	if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		f->regular = 1;
		f->size = (uint64_t)st.st_size;
		f->seen = st;
	} else if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(f->fd);
		free(f->path);
		free(f);
		return sli_err(
		    SL_EINVAL, "cannot read %s: is a directory", path);
	}
	return sl_spout_new(out, &file_ops, f);
}

void sl_spout_file_follow(sl_spout *spout, int on)
{
	filespout *f = sli_spout_self(spout, &file_ops);
	if (f)
		f->follow = on;
}

void sl_spout_file_count_words(sl_spout *spout, int on)
{
	filespout *f = sli_spout_self(spout, &file_ops);
	if (f)
		f->count_words = on;
}

uint64_t sl_spout_file_lines(sl_spout *spout)
{
	filespout *f = sli_spout_self(spout, &file_ops);
	return f ? f->lines : 0;
}

uint64_t sl_spout_file_words(sl_spout *spout)
{
	filespout *f = sli_spout_self(spout, &file_ops);
	return f ? f->words : 0;
}

static int file_resume(void *self, const void *meta, size_t len)
{
	filespout *f = self;
	const uint8_t *m = meta;
	if (meta && len == SLI_META_LEN)
		f->next = sli_le64_get(m + 8);
	else if (meta && len)
		/* another spout's position (the state's writer record
		 * refuses those; a directory of an older sluice has none,
		 * and its 16-byte file positions had no identity): never
		 * read a position it cannot verify, never "start over" */
		return sli_err(SL_EINVAL,
		    "the state's last position (%zu bytes) is not one this "
		    "file spout can verify: another spout wrote it, or an "
		    "older sluice (a format-1 word count wrote 16 bytes "
		    "without the input's identity); resuming there could skip "
		    "or recount input: count %s into a new state directory "
		    "(this one can still be read: state dump, get)",
		    len, f->path);
	if (f->regular && f->next > f->size)
		return sli_err(SL_EINVAL,
		    "%s has %llu bytes but %llu were already counted: the "
		    "file changed since the last run (to count it from the "
		    "start, use a new state directory or delete the old one)",
		    f->path, (unsigned long long)f->size,
		    (unsigned long long)f->next);
	if (!f->regular || !meta || len != SLI_META_LEN)
		return SL_OK;
	return sli_file_check_position(f->fd, f->path, f->size, m);
}

/* Follow mode: whether the file changed under the counted bytes [0,
 * start) (sets shrank_from). They end with a newline (an unfinished line
 * is held back), so another byte there means the file was replaced, even
 * if it grew back past start between two looks at its size. */
static int check_unchanged(filespout *f, uint64_t start)
{
	uint8_t c = '\n';
	if (!f->run_start)
		f->run_start = start + 1;
	/* only bytes this run counted: an earlier run without --follow may
	 * have counted a last line without its newline */
	if (!f->shrank_from && start + 1 > f->run_start
	    && pread(f->fd, &c, 1, (off_t)(start - 1)) == 1 && c != '\n')
		f->shrank_from = start;
	/* a rewrite with lines of the same width that has grown past start
	 * between two looks passes the newline test: the last bytes counted
	 * must still be there (red team F2) */
	uint8_t now[sizeof(f->tail)];
	if (!f->shrank_from && f->tail_len && f->tail_end == start
	    && (pread(f->fd, now, f->tail_len, (off_t)(start - f->tail_len))
	            != (ssize_t)f->tail_len
	        || memcmp(now, f->tail, f->tail_len) != 0))
		f->shrank_from = start;
	return f->shrank_from != 0;
}

static int file_has_more(void *self)
{
	filespout *f = self;
	if (f->regular) {
		struct stat st;
		if (fstat(f->fd, &st) == 0) {
			/* a file that shrinks while it is read was truncated
			 * or overwritten (logrotate's copytruncate, `: >
			 * file`): what follows the counted offset is not the
			 * continuation of what was counted (red team T5) */
			if ((uint64_t)st.st_size < f->size && !f->shrank_from)
				f->shrank_from = f->size;
			f->size = (uint64_t)st.st_size;
		}
		return f->follow || f->next < f->size;
	}
	return !f->eof;
}

/* Counts the units (lines or words) of line [p, p+n). */
static size_t units(const filespout *f, const uint8_t *p, size_t n)
{
	if (!f->count_words)
		return 1;
	size_t pos = 0, c = 0;
	const uint8_t *w;
	while (sli_next_word(p, n, &pos, &w))
		c++;
	return c;
}

/* Emits the complete lines of [p, p+n) (the last one may lack '\n' only
 * when last is set); returns bytes consumed in *used. */
static int emit_lines(filespout *f, uint64_t at, const uint8_t *p, size_t n,
    int last, size_t max_units, sl_collector *out, size_t *used,
    size_t *nunits, uint64_t *nlines)
{
	size_t i = 0;
	int rc = SL_OK;
	while (i < n && *nunits < max_units) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (p + i)) : n - i;
		if (!nl && !last)
			break;
		if (len > SL_MAX_BYTES)
			return too_long(f, at + i);
		sl_value v = sl_bytes(p + i, (uint32_t)len);
		*nunits += units(f, p + i, len);
		(*nlines)++;
		if ((rc = sl_emit(out, &v, 1)))
			return rc;
		i += len + (nl ? 1 : 0);
	}
	*used = i;
	return rc;
}

/* Regular files: emits the lines of [start, end) or, when end is 0, from
 * start until the batch is full; returns the end offset. */
/* Keeps the last bytes of [p, p + n), which ends at offset end. */
static void keep_tail(filespout *f, const uint8_t *p, size_t n, uint64_t end)
{
	size_t k = n < sizeof(f->tail) ? n : sizeof(f->tail);
	memcpy(f->tail, p + n - k, k);
	f->tail_len = k;
	f->tail_end = end;
}

static int emit_regular(filespout *f, uint64_t start, uint64_t end,
    size_t max_units, sl_collector *out, uint64_t *end_out, uint64_t *nlines,
    size_t *units_out)
{
	/* the buffer grows (to one line of SL_MAX_BYTES and its newline)
	 * when a line does not fit */
	size_t chunk = 1 << 20;
	uint64_t off = start;
	size_t nunits = 0;
	int replay = end != 0;
	f->scratch.len = 0;
	for (;;) {
		if (replay && off >= end)
			break;
		if (!replay && nunits >= max_units)
			break;
		size_t want = chunk;
		if (replay && end - off < want)
			want = (size_t)(end - off);
		if (sli_buf_reserve(&f->scratch, want))
			return SL_ENOMEM;
		ssize_t r = pread(f->fd, f->scratch.data, want, (off_t)off);
		if (r < 0)
			return sli_err(sli_errno_code(errno), "read %s: %s",
			    f->path, strerror(errno));
		if (r == 0) {
			if (replay)
				return sli_err(SL_ECORRUPT,
				    "%s is shorter than a recorded batch "
				    "(offset %llu): the file changed",
				    f->path, (unsigned long long)end);
			break;
		}
		int at_end = replay
		    ? off + (uint64_t)r >= end
		    : (off + (uint64_t)r >= f->size && !f->follow);
		size_t used;
		int rc = emit_lines(f, off, f->scratch.data, (size_t)r, at_end,
		    replay ? SIZE_MAX : max_units, out, &used, &nunits,
		    nlines);
		if (rc)
			return rc;
		if (!replay && used) {
			f->hash = sli_fnv(f->hash, f->scratch.data, used);
			f->hash_end = off + used;
			f->open_line = f->scratch.data[used - 1] != '\n';
			keep_tail(f, f->scratch.data, used, off + used);
		}
		if (used == 0) {
			if ((size_t)r == want && want == chunk) {
				if (chunk > SL_MAX_BYTES)
					return too_long(f, off);
				chunk = chunk * 2 > (size_t)SL_MAX_BYTES + 1
				    ? (size_t)SL_MAX_BYTES + 1
				    : chunk * 2;
				continue;
			}
			break;
		}
		off += used;
	}
	*end_out = off;
	*units_out = nunits;
	return SL_OK;
}

/* Pipes: reads more bytes into the buffer, waiting at most ms. */
static int fill(filespout *f, int ms)
{
	struct pollfd p = { f->fd, POLLIN, 0 };
	int r = poll(&p, 1, ms);
	if (r <= 0)
		return SL_OK;
	if (sli_buf_reserve(&f->buf, 65536))
		return SL_ENOMEM;
	ssize_t n = read(f->fd, f->buf.data + f->buf.len, 65536);
	if (n < 0 && errno != EINTR && errno != EAGAIN)
		return sli_err(sli_errno_code(errno), "read %s: %s", f->path,
		    strerror(errno));
	if (n == 0)
		f->eof = 1;
	if (n > 0)
		f->buf.len += (size_t)n;
	return SL_OK;
}

static int emit_pipe(filespout *f, sl_spout_ctx *ctx, uint64_t start,
    uint64_t end, sl_collector *out, uint64_t *end_out, uint64_t *nlines,
    size_t *units_out)
{
	if (start < f->base)
		return sli_err(SL_EINVAL,
		    "%s: cannot replay bytes from %llu: stdin was not "
		    "kept that far back",
		    f->path, (unsigned long long)start);
	size_t nunits = 0, used = 0;
	if (end) { /* a replay from memory */
		if (end > f->base + f->buf.len)
			return sli_err(SL_EINVAL,
			    "%s: replay past what was read", f->path);
		int rc = emit_lines(f, start, f->buf.data + (start - f->base),
		    (size_t)(end - start), 1, SIZE_MAX, out, &used, &nunits,
		    nlines);
		*end_out = end;
		return rc;
	}
	size_t max = sl_spout_batch_size(ctx);
	uint64_t deadline
	    = sli_now_ns() + (uint64_t)sl_spout_batch_ms(ctx) * 1000000u;
	uint64_t off = start;
	for (;;) {
		size_t have = (size_t)(f->base + f->buf.len - off);
		int rc = emit_lines(f, off, f->buf.data + (off - f->base),
		    have, f->eof, max, out, &used, &nunits, nlines);
		if (rc)
			return rc;
		off += used;
		/* a line that never ends must not grow the buffer without
		 * bound: past the longest valid line it is an input error */
		if (!f->eof && have - used > (size_t)SL_MAX_BYTES + 1
		    && !memchr(
		        f->buf.data + (off - f->base), '\n', have - used))
			return too_long(f, off);
		if (nunits >= max || f->eof)
			break;
		/* cut at batch_ms, even with nothing (an empty batch keeps
		 * the topology responsive while the pipe is idle) */
		uint64_t now = sli_now_ns();
		if (now >= deadline)
			break;
		if ((rc = fill(f, (int)((deadline - now) / 1000000u) + 1)))
			return rc;
	}
	*end_out = off;
	*units_out = nunits;
	return SL_OK;
}

/* Meta of a batch: [start, end), the identity hash, flags. */
static void meta_put(uint8_t mb[SLI_META_LEN], uint64_t start, uint64_t end,
    uint64_t hash, uint8_t flags)
{
	sli_le64_put(mb, start);
	sli_le64_put(mb + 8, end);
	sli_le64_put(mb + 16, hash);
	mb[24] = flags;
}

/* One call of file_emit: the batch's range and what it emitted. */
typedef struct fbatch {
	uint64_t start, end; /* end 0: a fresh batch (not a replay) */
	int fresh; /* reads on (not a replay of stored meta) */
	int hashed; /* the identity hash of [0, start) is known */
	const uint8_t *rm; /* the replay meta, rlen bytes (or NULL) */
	size_t rlen;
	uint64_t new_end, nlines; /* what the emit read */
	size_t nunits;
} fbatch;

/* The batch's byte range: a replay's stored [start, end), or a fresh
 * batch from where the one before ended. */
static void batch_range(filespout *f, sl_spout_ctx *ctx, fbatch *b)
{
	size_t len;
	b->rm = sl_spout_replay_meta(ctx, &len);
	b->rlen = len;
	const uint8_t *m = b->rm;
	if (m && len == SLI_META_LEN) {
		b->start = sli_le64_get(m);
		b->end = sli_le64_get(m + 8);
		const uint8_t *pm = sl_spout_prev_meta(ctx, &len);
		uint64_t pend = pm && len == SLI_META_LEN
		    ? sli_le64_get(pm + 8)
		    : b->start;
		if (!f->regular
		    && (b->end > f->base + f->buf.len || pend != b->start)) {
			/* a pipe after a restart: the stored range has no
			 * bytes behind it (the crashed process read them and
			 * they are gone), or it does not follow the batch
			 * before (which read on): read on from the pipe */
			b->fresh = 1;
			b->start = pend;
		}
	} else {
		m = sl_spout_prev_meta(ctx, &len);
		b->start = m && len == SLI_META_LEN ? sli_le64_get(m + 8) : 0;
		b->fresh = 1;
	}
}

/* Where the identity hash stands at the batch's start: from the meta
 * of the batch before (a fresh batch), else from the file's first byte.
 * Sets b->hashed (0: an older meta, no identity). */
static void hash_at_start(filespout *f, sl_spout_ctx *ctx, fbatch *b)
{
	size_t len;
	f->hash = SLI_FNV_BASIS;
	b->hashed = f->regular;
	if (b->fresh && b->start) {
		const uint8_t *pm = sl_spout_prev_meta(ctx, &len);
		if (pm && len == SLI_META_LEN && (pm[24] & SLI_META_HASHED)
		    && sli_le64_get(pm + 8) == b->start)
			f->hash = sli_le64_get(pm + 16);
		else
			b->hashed = 0;
	}
	f->hash_end = b->start;
	f->open_line = 0;
}

/* The first batch of a run: a regular file shorter than what was
 * counted is refused; stdin counts its new input from start. */
static int check_first(filespout *f, uint64_t start)
{
	if (f->checked)
		return SL_OK;
	f->checked = 1;
	if (f->regular && start > f->size)
		return sli_err(SL_EINVAL,
		    "%s has %llu bytes but %llu were already "
		    "counted: the file changed since the last run "
		    "(to count it from the start, use a new state "
		    "directory or delete the old one)",
		    f->path, (unsigned long long)f->size,
		    (unsigned long long)start);
	if (!f->regular && start > 0) {
		/* a restart on stdin: what was committed is gone from
		 * the pipe; count the new input from here */
		f->base = start;
	}
	return SL_OK;
}

/* Regular files: the file must still hold what was counted (follow: not
 * truncated or overwritten while read; a replay: as long as its
 * range). */
static int check_file(filespout *f, sl_spout_ctx *ctx, const fbatch *b)
{
	if (f->follow && b->fresh)
		check_unchanged(f, b->start);
	if (f->shrank_from) {
		f->input_error = 1;
		sl_spout_set_fatal(ctx);
		return sli_err(SL_ECORRUPT,
		    "%s was truncated or overwritten while it was read (it "
		    "had %llu bytes, now %llu): what follows the counted "
		    "bytes is not their continuation; the state holds the "
		    "counts of the old content (count the new content into a "
		    "new state directory)",
		    f->path, (unsigned long long)f->shrank_from,
		    (unsigned long long)f->size);
	}
	if (b->end && b->end > f->size)
		return sli_err(SL_EINVAL,
		    "%s is shorter than a recorded batch (it has %llu "
		    "bytes, batch %llu ends at %llu): the file "
		    "changed since the last run (to count it from the "
		    "start, use a new state directory or delete the "
		    "old one)",
		    f->path, (unsigned long long)f->size,
		    (unsigned long long)sl_spout_txid(ctx),
		    (unsigned long long)b->end);
	return SL_OK;
}

/* Regular files: emits the batch's lines; in follow mode a fresh batch
 * waits up to batch_ms for a complete line. */
static int emit_file(
    filespout *f, sl_spout_ctx *ctx, fbatch *b, sl_collector *out)
{
	int rc = (b->start == b->end && !b->fresh)
	    ? SL_OK
	    : emit_regular(f, b->start, b->fresh ? 0 : b->end,
	        sl_spout_batch_size(ctx), out, &b->new_end, &b->nlines,
	        &b->nunits);
	uint64_t deadline
	    = sli_now_ns() + (uint64_t)sl_spout_batch_ms(ctx) * 1000000u;
	while (!rc && b->fresh && f->follow && b->new_end == b->start
	    && sli_now_ns() < deadline) {
		struct timespec ts = { 0, 5 * 1000000 };
		nanosleep(&ts, NULL);
		file_has_more(f);
		if (check_unchanged(f, b->start))
			break; /* the next batch says so */
		rc = emit_regular(f, b->start, 0, sl_spout_batch_size(ctx),
		    out, &b->new_end, &b->nlines, &b->nunits);
	}
	if (!b->fresh)
		b->new_end = b->end;
	return rc;
}

/* Records the batch's meta: a replay keeps its own; a fresh batch gets
 * its range, identity hash and flags. */
static int set_batch_meta(filespout *f, sl_spout_ctx *ctx, const fbatch *b)
{
	uint8_t mb[SLI_META_LEN];
	if (!b->fresh && b->rm && b->rlen == SLI_META_LEN) {
		memcpy(mb, b->rm, SLI_META_LEN); /* a replay keeps its meta */
	} else {
		uint8_t flags = f->regular ? 0 : SLI_META_PIPE;
		if (f->regular && b->hashed && f->hash_end == b->new_end)
			flags |= SLI_META_HASHED;
		if (f->open_line && b->new_end > b->start)
			flags |= SLI_META_OPEN_LINE;
		meta_put(mb, b->start, b->new_end,
		    flags & SLI_META_HASHED ? f->hash : 0, flags);
	}
	return sl_spout_set_meta(ctx, mb, SLI_META_LEN);
}

/* After an emitted batch: counts a fresh batch, says end of input, and
 * lets a pipe forget bytes well before this batch (kept for replays of
 * the batches that may still be in flight). */
static void batch_done(filespout *f, sl_spout_ctx *ctx, const fbatch *b)
{
	if (b->fresh) {
		f->next = b->new_end;
		f->lines += b->nlines;
		f->words += b->nunits;
	}
	if (!f->follow
	    && (f->regular ? b->new_end >= f->size
	                   : (f->eof && b->new_end >= f->base + f->buf.len)))
		sl_spout_set_eof(ctx);
	if (!f->regular && b->fresh) {
		static const uint64_t keep = 64u << 20;
		if (b->start > f->base + keep) {
			size_t drop = (size_t)(b->start - keep - f->base);
			memmove(f->buf.data, f->buf.data + drop,
			    f->buf.len - drop);
			f->buf.len -= drop;
			f->base += drop;
		}
	}
}

/* The batch that reaches the end of a regular file (not followed): the
 * file must still begin with the bytes read (red team T5/F3). */
static int check_at_end(filespout *f, sl_spout_ctx *ctx, const fbatch *b)
{
	if (!f->regular || f->follow || !b->fresh || !b->hashed
	    || f->hash_end != b->new_end || b->new_end < f->size)
		return SL_OK;
	int rc = sli_file_check_prefix(
	    f->fd, f->path, &f->seen, b->new_end, f->hash);
	if (rc)
		sl_spout_set_fatal(ctx);
	return rc;
}

static int file_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	filespout *f = self;
	fbatch b = { 0 };
	batch_range(f, ctx, &b);
	hash_at_start(f, ctx, &b);
	int rc = check_first(f, b.start);
	if (rc)
		return rc;
	if (f->regular && (rc = check_file(f, ctx, &b)))
		return rc;
	b.new_end = b.end;
	rc = f->regular ? emit_file(f, ctx, &b, out)
	                : emit_pipe(f, ctx, b.start, b.fresh ? 0 : b.end, out,
	                    &b.new_end, &b.nlines, &b.nunits);
	if (rc && f->input_error)
		sl_spout_set_fatal(ctx); /* a replay reads the same bytes */
	f->input_error = 0;
	if (rc || (rc = check_at_end(f, ctx, &b)))
		return rc;
	if ((rc = set_batch_meta(f, ctx, &b)))
		return rc;
	batch_done(f, ctx, &b);
	return SL_OK;
}

static void file_free(void *self)
{
	filespout *f = self;
	if (!f)
		return;
	close(f->fd);
	sli_buf_free(&f->buf);
	sli_buf_free(&f->scratch);
	free(f->path);
	free(f);
}

/* A pipe cannot be read twice: after a crash, a batch re-reads other
 * bytes, so transactional state (which skips a replayed txid) would keep
 * the lost attempt's counts. */
static int file_replays_exactly(void *self)
{
	return ((filespout *)self)->regular;
}

static const sl_spout_ops file_ops = { "file", 1, file_emit, file_has_more,
	file_free, file_resume, file_replays_exactly };
