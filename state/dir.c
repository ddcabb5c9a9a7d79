/*
 * dir.c - a state directory on disk, before LevelDB opens it: the
 * sluice.lock file (the holder's pid for messages), what the directory
 * holds (only LevelDB's numbered files count as its files) and the
 * restart of a creation LevelDB did not finish (docs/state-format.md).
 */
#include "state_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens and flocks DIR/sluice.lock (never through a symbolic link, a
 * regular file only) into *fd; SL_ELOCKED naming the holder's pid. With
 * may_skip, a directory where the file cannot be created is not an
 * error (*fd = -1: read-only media, LevelDB's own lock decides). */
int sli_state_lock_dir(const char *dir, int write_pid, int may_skip, int *fd)
{
	char path[4096];
	*fd = -1;
	snprintf(path, sizeof(path), "%s/sluice.lock", dir);
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0 && errno == ELOOP)
		return sli_err(SL_EPERM,
		    "%s is a symbolic link: refusing to follow it (remove it)",
		    path);
	if (f < 0) {
		if (may_skip && (errno == EROFS || errno == EACCES))
			return SL_OK;
		return sli_err(
		    sli_errno_code(errno), "%s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return sli_err(SL_EPERM,
		    "%s is not a regular file: refusing to use it (remove it)",
		    path);
	}
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(f, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(f);
		return sli_err(SL_ELOCKED,
		    "state directory %s is locked by another process%s%s%s",
		    dir, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
	}
	if (write_pid) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (ftruncate(f, 0) == 0 && pwrite(f, pid, (size_t)n, 0) < 0) {
			/* the pid is only for messages */
		}
	}
	*fd = f;
	return SL_OK;
}

/* 1 when [p, p + n) is one or more decimal digits. */
static int all_digits(const char *p, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* 1 when name is a LevelDB data file: MANIFEST-NNNNNN, or NNNNNN.log,
 * .ldb or .sst (numbered as LevelDB numbers them; an app.log is not one,
 * red team R5). */
static int leveldb_file(const char *n)
{
	size_t l = strlen(n);
	if (!strncmp(n, "MANIFEST-", 9))
		return all_digits(n + 9, l - 9);
	return l > 4
	    && (!strcmp(n + l - 4, ".log") || !strcmp(n + l - 4, ".ldb")
	        || !strcmp(n + l - 4, ".sst"))
	    && all_digits(n, l - 4);
}

/* What a directory holds: *current when it has a CURRENT file, *other =
 * how many LevelDB data files (a MANIFEST, logs, tables). */
int sli_state_survey_dir(const char *dir, int *current, int *other)
{
	*current = 0;
	*other = 0;
	DIR *d = opendir(dir);
	if (!d)
		return sli_err(
		    sli_errno_code(errno), "%s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, "CURRENT"))
			*current = 1;
		else if (leveldb_file(e->d_name))
			(*other)++;
	}
	closedir(d);
	return SL_OK;
}

/* 1 when dir holds what LevelDB leaves when its creation of a database
 * is interrupted before CURRENT exists: MANIFEST-000001 (perhaps its
 * 000001.dbtmp) and none of its other numbered files, so no data. */
int sli_state_interrupted_creation(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int manifest = 0, other = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, "MANIFEST-000001"))
			manifest = 1;
		else if (!strcmp(e->d_name, "CURRENT")
		    || leveldb_file(e->d_name))
			other = 1;
	}
	closedir(d);
	return manifest && !other;
}

/* Removes what an interrupted creation left, so that it starts again. */
int sli_state_restart_creation(const char *dir)
{
	static const char *const left[]
	    = { "MANIFEST-000001", "000001.dbtmp" };
	char path[4096];
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, left[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			return sli_err(sli_errno_code(errno), "%s: %s", path,
			    strerror(errno));
	}
	return SL_OK;
}
