/* test_security.c - issue 15: hostile peers and careless operators.
 * Receives capped before any allocation (a 16-byte header must not abort
 * the process), the loopback rule for every scheme, oversize socket spout
 * messages, and the network fuzzer's short run over real loopback
 * sockets. Each test failed before its fix (docs/errors.md names them).
 * Longer than 700 lines: one suite of 22 independent findings, each test
 * with its own hostile peer or damaged input just above it (they share a
 * few raw-socket helpers at the top); docs/errors.md cites the tests by
 * this suite's name. */
#include "../state/kv.h"
#include "../trident/trident.h"
#include "sltest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* nanomsg's SP protocol ids (sp-tcp-mapping): PUSH 0x50, REP 0x31 */
#define SP_PUSH 0x50
#define SP_REP  0x31

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 100; i++) {
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		usleep(10000);
	}
	close(fd);
	return -1;
}

static void sp_header(uint8_t h[8], int proto)
{
	uint8_t x[8]
	    = { 0, 'S', 'P', 0, (uint8_t)(proto >> 8), (uint8_t)proto, 0, 0 };
	memcpy(h, x, 8);
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Runs fn in a child; returns its wait status (the child may abort). */
static int in_child(void (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(20);
		fn(arg);
		_exit(0);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	return st;
}

/* A PULL link gets a header announcing 2^62 bytes, then a real frame on a
 * second connection: it must drop the liar and still deliver the frame. */
static void huge_header_child(void *arg)
{
	(void)arg;
	sli_link *pull;
	if (sli_link_pull(&pull, "tcp://127.0.0.1:37901"))
		_exit(3);
	int fd = tcp_connect(37901);
	if (fd < 0)
		_exit(4);
	uint8_t m[16];
	sp_header(m, SP_PUSH);
	be64(m + 8, (uint64_t)1 << 62);
	if (write(fd, m, 16) != 16)
		_exit(5);
	sli_msg msg;
	sli_link_recv(pull, &msg, 300); /* nothing: the liar is dropped */
	sli_link *push;
	if (sli_link_push(&push, "tcp://127.0.0.1:37901", 4))
		_exit(6);
	if (sli_link_send(push, "hello", 5, 2000))
		_exit(7);
	if (sli_link_recv(pull, &msg, 3000) || msg.len != 5)
		_exit(8);
	sli_msg_free(&msg);
	close(fd);
	sli_link_close(push);
	sli_link_close(pull);
}

static void test_huge_announced_frame_does_not_abort_a_link(void)
{
	int st = in_child(huge_header_child, NULL);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

/* A fake DRPC server answers with a header announcing 2^62 bytes: the
 * client times out instead of aborting. */
static void *fake_rep(void *arg)
{
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	uint8_t h[8], buf[256];
	sp_header(h, SP_REP);
	if (write(fd, h, 8) != 8 || read(fd, buf, 8) != 8)
		goto out;
	/* the request: 8-byte length, then the body */
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 2000) <= 0 || read(fd, buf, sizeof(buf)) <= 0)
		goto out;
	uint8_t m[8];
	be64(m, (uint64_t)1 << 62);
	if (write(fd, m, 8) != 8)
		goto out;
	poll(&p, 1, 2000);
out:
	close(fd);
	return NULL;
}

static void huge_reply_child(void *arg)
{
	(void)arg;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons(37902);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4))
		_exit(3);
	pthread_t th;
	pthread_create(&th, NULL, fake_rep, &lfd);
	sli_msg m;
	int rc = sli_req_call("tcp://127.0.0.1:37902", "w\tx", 3, 800, &m);
	pthread_join(th, NULL);
	close(lfd);
	_exit(rc == SL_ETIMEDOUT ? 0 : 9);
}

static void test_huge_announced_reply_does_not_abort_the_drpc_client(void)
{
	int st = in_child(huge_reply_child, NULL);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

static int never_called(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result)
{
	(void)user, (void)function, (void)args, (void)len;
	*result = sl_null();
	return SL_OK;
}

static void test_loopback_rule_checks_every_scheme(void)
{
	/* ws:// listened on every interface without a key before */
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("ws://0.0.0.0:37903", NULL), SL_EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "cluster key"));
	CU_ASSERT_EQUAL(sli_bind_allowed("ws://127.0.0.1:37903", NULL), 0);
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("ws://127.0.0.1:37903/path", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://[::1]:37903", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://localhost:37903", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("inproc://x", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("ipc:///tmp/x", NULL), 0);
	/* the whole host is compared, not a prefix */
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("tcp://127.attacker.example:1", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("tcp://localhost.example:1", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://eth0:37903", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://*:37903", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://[::]:37903", NULL), SL_EPERM);
	/* unknown schemes are refused, whatever the key */
	uint8_t key[SL_KEY_BYTES] = { 1 };
	CU_ASSERT_EQUAL(sli_bind_allowed("foo://127.0.0.1:1", key), SL_EINVAL);
	CU_ASSERT_EQUAL(sli_bind_allowed("ws://0.0.0.0:37903", key), 0);
	/* the DRPC server follows the rule */
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = "ws://0.0.0.0:37903";
	sl_drpc_server *s = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_server_start(&s, &o, never_called, NULL), SL_EPERM);
	CU_ASSERT_PTR_NULL(s);
}

struct sockrun {
	sl_topology *t;
	sl_state *st;
};

static void stop_when_counted(void *user, uint64_t txid)
{
	struct sockrun *r = user;
	sl_value v, w = sl_str("tail");
	if (txid > 300 || sl_state_get_group(r->st, &w, 1, &v) == SL_OK)
		sl_topology_stop(r->t);
}

static void *push_lines(void *arg)
{
	sli_link *push = arg;
	size_t big = (size_t)SL_MAX_BYTES + 100;
	char *b = malloc(big);
	memset(b, 'x', big);
	memcpy(b, "head ", 5);
	CU_ASSERT_EQUAL(sli_link_send(push, "a b", 3, 5000), SL_OK);
	CU_ASSERT_EQUAL(sli_link_send(push, b, big, 10000), SL_OK);
	CU_ASSERT_EQUAL(sli_link_send(push, "tail", 4, 10000), SL_OK);
	free(b);
	return NULL;
}

/* A message over 16 MiB is rejected and counted, never cut into a word. */
static void test_socket_spout_rejects_oversize_messages(void)
{
	sl_spout *sp;
	const char *ep = "tcp://127.0.0.1:37904";
	CU_ASSERT_EQUAL_FATAL(sl_spout_socket_new(&sp, ep), SL_OK);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, NULL), SL_OK);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "sock"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "l");
	s = sl_stream_flat_map(s, "l", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	sl_stream_persistent_aggregate(s, st, NULL, sl_agg_count(), "count");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sli_link *push;
	CU_ASSERT_EQUAL_FATAL(sli_link_push(&push, ep, 4), SL_OK);
	pthread_t th;
	pthread_create(&th, NULL, push_lines, push);
	struct sockrun r = { t, st };
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_ms = 20;
	o.on_commit = stop_when_counted;
	o.user = &r;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	pthread_join(th, NULL);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT(ts.rejected_frames >= 1);
	sl_state_stats ss;
	CU_ASSERT_EQUAL(sl_state_stats_get(st, &ss), SL_OK);
	CU_ASSERT_EQUAL(ss.keys, 3); /* a, b, tail: no "head", no x... */
	sl_value v, w = sl_str("head");
	CU_ASSERT_EQUAL(sl_state_get_group(st, &w, 1, &v), SL_ENOTFOUND);
	w = sl_str("tail");
	CU_ASSERT_EQUAL(sl_state_get_group(st, &w, 1, &v), SL_OK);
	sli_link_close(push);
	sl_topology_free(t);
	sl_state_close(st);
}

/* ---------------------------------------------------------- state */

/* Runs `sluice ARGS` with stderr into DIR/err; returns the exit status. */
static int sluice_in(const char *dir, const char *args)
{
	return sl_test_sh("'%s' %s >'%s/out' 2>'%s/err'", sl_test_sluice_bin(),
	    args, dir, dir);
}

static int file_has(const char *dir, const char *file, const char *what)
{
	return sl_test_sh("grep -q -- '%s' '%s/%s'", what, dir, file) == 0;
}

/* A small word count state in DIR/st (input DIR/in.txt). */
static void make_state(const char *dir, int runs)
{
	FILE *f = NULL;
	char path[800], args[2000];
	snprintf(path, sizeof(path), "%s/in.txt", dir);
	for (int r = 0; r < runs; r++) {
		f = fopen(path, "a");
		for (int i = 0; i < 2000; i++)
			fprintf(
			    f, "w%d w%d x%d\n", i % 97, (i * 7 + r) % 101, r);
		fclose(f);
		snprintf(args, sizeof(args),
		    "wordcount --input %s --state %s/st --batch-size 300 "
		    "--no-sync --quiet",
		    path, dir);
		CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	}
}

static void test_repair_takes_the_lock_and_creates_nothing(void)
{
	char dir[600], st[700], missing[700];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-repair"));
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	CU_ASSERT_EQUAL(sl_state_repair(missing), SL_ENOTFOUND);
	CU_ASSERT_NOT_EQUAL(sl_test_sh("test -e '%s'", missing), 0);
	sl_test_sh("mkdir '%s'", missing);
	CU_ASSERT_EQUAL(sl_state_repair(missing), SL_EINVAL);
	CU_ASSERT_EQUAL(sl_test_sh("test -z \"$(ls -A '%s')\"", missing), 0);
	make_state(dir, 1);
	snprintf(st, sizeof(st), "%s/st", dir);
	sl_state_options o;
	sl_state_options_default(&o);
	sl_state *s;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&s, st, &o), SL_OK);
	/* a running topology holds the lock: repair must refuse */
	CU_ASSERT_EQUAL(sl_state_repair(st), SL_ELOCKED);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "locked"));
	sl_state_close(s);
	char args[800];
	snprintf(args, sizeof(args), "state repair %s", st);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	snprintf(args, sizeof(args), "state stats %s", st);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	CU_ASSERT(file_has(dir, "out", "repaired.no")); /* nothing lost */
}

/* Red team R5: an app.log made any directory look like a damaged
 * LevelDB, and `state repair` then made a LevelDB database of it. Only
 * LevelDB's own numbered names count, and repair refuses a directory that
 * is not a sluice state (no sluice.lock, no format record), changing
 * nothing. */
static void test_repair_refuses_a_directory_that_is_not_a_state(void)
{
	char dir[600], d[700], args[1600];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-notstate"));
	snprintf(d, sizeof(d), "%s/d", dir);
	sl_test_sh("mkdir '%s' && echo hello > '%s/app.log'", d, d);
	snprintf(args, sizeof(args), "state stats %s", d);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 1);
	CU_ASSERT(file_has(dir, "err", "is not a sluice state directory"));
	CU_ASSERT(!file_has(dir, "err", "repair"));
	snprintf(args, sizeof(args), "state repair %s", d);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 1);
	CU_ASSERT(file_has(dir, "err", "not a sluice state directory"));
	CU_ASSERT_EQUAL(sl_test_sh("test \"$(ls -A '%s')\" = app.log", d), 0);
	/* LevelDB-shaped files of something else: still not a state */
	sl_test_sh("printf 'x' > '%s/000005.log' && printf 'y' > "
	           "'%s/MANIFEST-000004'",
	    d, d);
	CU_ASSERT_EQUAL(sl_state_repair(d), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "sluice.lock"));
	CU_ASSERT_EQUAL(sl_test_sh("test \"$(ls -A '%s' | tr '\\n' ' ')\" = "
	                           "'000005.log MANIFEST-000004 app.log '",
	                    d),
	    0);
}

static void test_missing_current_is_corrupt_not_a_new_state(void)
{
	char dir[600], args[1400];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-current"));
	make_state(dir, 2);
	sl_test_sh("rm '%s/st/CURRENT'", dir);
	snprintf(args, sizeof(args), "state stats %s/st", dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 1);
	CU_ASSERT(file_has(dir, "err", "no CURRENT file"));
	CU_ASSERT(file_has(dir, "err", "state repair"));
	/* a resume must not start over and delete the old tables */
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st --quiet", dir, dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 1);
	CU_ASSERT(file_has(dir, "err", "no CURRENT file"));
	CU_ASSERT_EQUAL(sl_test_sh("ls '%s'/st/*.ldb >/dev/null", dir), 0);
	/* the repair brings the counts back */
	snprintf(args, sizeof(args), "state repair %s/st", dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	snprintf(args, sizeof(args), "state get %s/st x0 x1", dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	CU_ASSERT(file_has(dir, "out", "x0.2000"));
	CU_ASSERT(file_has(dir, "out", "x1.2000"));
}

/* A repair that dropped records marks the state, and says so. */
static void test_repair_that_dropped_data_marks_the_state(void)
{
	char dir[600], args[1400];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-mark"));
	make_state(dir, 3);
	/* cut the newest table in half: its records are lost */
	sl_test_sh("f=$(ls '%s'/st/*.ldb | sort | tail -1); "
	           "truncate -s $(( $(stat -c %%s \"$f\") / 2 )) \"$f\"",
	    dir);
	snprintf(args, sizeof(args), "state repair %s/st", dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	CU_ASSERT(file_has(dir, "err", "records were dropped"));
	snprintf(args, sizeof(args), "state stats %s/st", dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	CU_ASSERT(file_has(dir, "out", "repaired.yes"));
	snprintf(args, sizeof(args), "state dump %s/st", dir);
	sluice_in(dir, args);
	CU_ASSERT(file_has(dir, "err", "was repaired"));
	/* a run must not resume on it and add to wrong counts (T6): it
	 * stops, says so, and changes nothing */
	sl_test_sh("'%s' state dump '%s/st' > '%s/before' 2>/dev/null",
	    sl_test_sluice_bin(), dir, dir);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st --quiet", dir, dir);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 1);
	CU_ASSERT(file_has(dir, "err", "repaired with records dropped"));
	CU_ASSERT(file_has(dir, "err", "new state directory"));
	sl_test_sh("'%s' state dump '%s/st' > '%s/after' 2>/dev/null",
	    sl_test_sluice_bin(), dir, dir);
	CU_ASSERT_EQUAL(sl_test_sh("cmp '%s/before' '%s/after'", dir, dir), 0);
}

static void test_leveldb_errors_mapped_by_kind_not_path(void)
{
	CU_ASSERT_EQUAL(
	    sli_kv_leveldb_errcode(
	        "IO error: /data/blocks/st/000005.ldb: Input/output "
	        "error"),
	    SL_EIO);
	CU_ASSERT_EQUAL(
	    sli_kv_leveldb_errcode("IO error: /srv/lock/x/MANIFEST-"
	                           "000002: No such file or "
	                           "directory"),
	    SL_EIO);
	CU_ASSERT_EQUAL(
	    sli_kv_leveldb_errcode("IO error: /a/Corruption/000005."
	                           "ldb: Permission denied"),
	    SL_EPERM);
	CU_ASSERT_EQUAL(sli_kv_leveldb_errcode("IO error: lock /a/LOCK: "
	                                       "Resource temporarily "
	                                       "unavailable"),
	    SL_ELOCKED);
	CU_ASSERT_EQUAL(sli_kv_leveldb_errcode("IO error: lock /a/LOCK: "
	                                       "already held by process"),
	    SL_ELOCKED);
	CU_ASSERT_EQUAL(
	    sli_kv_leveldb_errcode("Corruption: bad block in /x/lock.ldb"),
	    SL_ECORRUPT);
	CU_ASSERT_EQUAL(sli_kv_leveldb_errcode("IO error: /x/000009.log: No "
	                                       "space left on device"),
	    SL_ENOSPC);
	/* a directory whose name holds "blocks" opens as usual */
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/no-space-left-blocks",
	    sl_test_tmpdir("sec-map"));
	sl_state *s;
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, dir, NULL), SL_OK);
	sl_state_close(s);
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, dir, NULL), SL_OK);
	sl_state_close(s);
}

static void test_lock_file_never_follows_a_symlink(void)
{
	char dir[600], st[1400];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-link"));
	make_state(dir, 1);
	snprintf(st, sizeof(st), "%s/st", dir);
	sl_test_sh("rm '%s/sluice.lock' && echo keep >'%s/victim' && "
	           "ln -s '%s/victim' '%s/sluice.lock'",
	    st, dir, dir, st);
	sl_state *s = NULL;
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, st, NULL), SL_EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "symbolic link"));
	CU_ASSERT_EQUAL(sl_state_repair(st), SL_EPERM);
	/* the link's target is untouched (no pid written into it) */
	CU_ASSERT(file_has(dir, "victim", "^keep$"));
	sl_test_sh("rm '%s/sluice.lock' && mkdir '%s/sluice.lock'", st, st);
	CU_ASSERT_NOT_EQUAL(sl_state_open_leveldb(&s, st, NULL), SL_OK);
	sl_state_close(s);
}

/* The fault-injection harness, short: random damage to every kind of
 * LevelDB file, then every state tool, a resume and repairs; never wrong
 * numbers with exit status 0 (`./run soak` runs it for longer). */
static void test_fault_injection_never_gives_wrong_counts(void)
{
	if (sl_test_sh("test -f tests/faults.py") != 0) {
		printf("\n    (tests/faults.py not found from the working "
		       "directory: skipped)\n");
		return;
	}
	int n = getenv("SLUICE_FAULTS") ? atoi(getenv("SLUICE_FAULTS")) : 25;
	/* the harness's own exit status (not a pipe's last command's) */
	const char *log = sl_test_tmpdir("faults");
	CU_ASSERT_EQUAL(sl_test_sh("python3 tests/faults.py --iterations %d "
	                           "--sluice '%s' > '%s/out' 2>&1; rc=$?; "
	                           "sed 's/^/    /' '%s/out'; exit $rc",
	                    n, sl_test_sluice_bin(), log, log),
	    0);
}

/* Disk full at every point of a commit, short: the LD_PRELOAD shim
 * (tests/diskfull/enospc.c) fails the Nth call that needs space or makes
 * data durable, for every N of a resumed word count that commits two
 * txids (the disk staying full, then once more with only call N failing);
 * each time a clear error naming the full disk, the exact counts of a
 * committed txid on disk, and an exact rerun (`./run soak` sweeps larger
 * runs). */
static void test_disk_full_at_every_call_of_a_commit(void)
{
	if (sl_test_sh("test -f tests/diskfull.py") != 0) {
		printf("\n    (tests/diskfull.py not found from the working "
		       "directory: skipped)\n");
		return;
	}
	char shim[PATH_MAX + 64];
	snprintf(shim, sizeof(shim), "%s", sl_test_sluice_bin());
	char *slash = strrchr(shim, '/');
	CU_ASSERT_FATAL(slash != NULL);
	*slash = 0; /* VARIANT/bin */
	slash = strrchr(shim, '/');
	CU_ASSERT_FATAL(slash != NULL);
	strcpy(slash, "/lib/sluice-enospc.so");
	const char *log = sl_test_tmpdir("diskfull");
	for (int once = 0; once < 2; once++)
		CU_ASSERT_EQUAL(
		    sl_test_sh(
		        "TMPDIR=%s python3 tests/diskfull.py --lines 100 "
		        "--batch 50 --sluice '%s' --shim '%s' %s > "
		        "'%s/out' 2>&1; rc=$?; sed 's/^/    /' '%s/out'; "
		        "exit $rc",
		        access("/dev/shm", W_OK) == 0 ? "/dev/shm" : log,
		        sl_test_sluice_bin(), shim,
		        once ? "--once --every 3" : "", log, log),
		    0);
}

/* ---------------------------------------------------------- errors */

struct failing_spout {
	int n;
};

static int failing_next(void *self, sl_plain_collector *c)
{
	struct failing_spout *f = self;
	if (f->n >= 10)
		return sli_err(
		    SL_EIO, "the source broke after %d tuples", f->n);
	sl_value v = sl_str("a b");
	f->n++;
	return sl_plain_spout_emit(c, (uint64_t)f->n, &v, 1);
}

static int swallow(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	(void)user, (void)in, (void)c;
	return SL_OK;
}

static void test_plain_run_reports_a_failing_spout(void)
{
	for (int acking = 0; acking <= 1; acking++) {
		sl_plain_options o;
		sl_plain_options_default(&o);
		o.acking = acking;
		sl_plain *p;
		CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, &o), SL_OK);
		struct failing_spout f = { 0 };
		sl_plain_spout ops = { "broken", failing_next, NULL, NULL };
		CU_ASSERT_EQUAL(
		    sl_plain_set_spout(p, "lines", &ops, &f, "line"), SL_OK);
		CU_ASSERT_EQUAL(
		    sl_plain_add_bolt(p, "sink", "lines", SL_GROUP_SHUFFLE,
		        NULL, swallow, NULL, "", 1),
		    SL_OK);
		CU_ASSERT_EQUAL(sl_plain_run(p), SL_EIO);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "broke"));
		sl_plain_free(p);
	}
}

static void test_null_spout_instance_is_refused_at_build(void)
{
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "nullspout"), SL_OK);
	/* what sl_spout_file_new leaves when the input is missing */
	sl_spout *sp = NULL;
	CU_ASSERT_NOT_EQUAL(sl_spout_file_new(&sp, "/nonexistent/x"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "instance"));
	sl_run_options o;
	sl_run_options_default(&o);
	CU_ASSERT_NOT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_free(t);
}

/* ---------------------------------------------------------- DRPC */

static int long_error(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result)
{
	(void)user, (void)function, (void)args, (void)len;
	if (!strcmp(function, "utf8")) {
		char msg[1400];
		size_t o = 0;
		while (o + 2 < sizeof(msg) - 1) {
			memcpy(msg + o, "\xc3\xa9", 2); /* e acute */
			o += 2;
		}
		msg[o] = 0;
		/* the detail buffer cuts this mid-character */
		return sli_err(SL_EINVAL, "x%s", msg);
	}
	if (!strcmp(function, "size")) {
		static char big[300];
		memset(big, 'z', sizeof(big) - 1);
		*result
		    = len && args[0] == 'b' ? sl_bytes(big, 100) : sl_int(1);
		return SL_OK;
	}
	return SL_ENOTFOUND;
}

static void test_drpc_error_cut_mid_utf8_is_still_an_error(void)
{
	const char *ep = "tcp://127.0.0.1:37905";
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = ep;
	sl_drpc_server *s;
	CU_ASSERT_EQUAL_FATAL(
	    sl_drpc_server_start(&s, &o, long_error, NULL), 0);
	char *r = NULL;
	CU_ASSERT_EQUAL(sl_drpc_call(ep, "utf8", "x", 3000, &r), SL_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(strstr(r, "out of memory"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"error\":\"x\xc3\xa9"));
	free(r);
	sl_drpc_server_stop(s);
}

/* R6: results JSON cannot hold came back as {"result":null}, the answer
 * for "no value". */
static int odd_result(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result)
{
	(void)user, (void)args, (void)len;
	static const uint8_t latin1[] = { 0xff, 0x00, 'z', 0xc3 };
	if (!strcmp(function, "nan"))
		*result = sl_double(NAN);
	else if (!strcmp(function, "minf"))
		*result = sl_double(-INFINITY);
	else if (!strcmp(function, "bytes"))
		*result = sl_bytes(latin1, sizeof(latin1));
	else if (!strcmp(function, "real"))
		*result = sl_double(2.5);
	else
		*result = sl_null();
	return SL_OK;
}

static void test_drpc_unrepresentable_results_are_errors_not_null(void)
{
	const char *ep = "inproc://sec-r6";
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = ep;
	sl_drpc_server *s;
	CU_ASSERT_EQUAL_FATAL(
	    sl_drpc_server_start(&s, &o, odd_result, NULL), 0);
	const char *fn[] = { "nan", "minf", "bytes", "real", "none" };
	const char *want[] = { "{\"error\":\"the result is not representable "
		               "in JSON: NaN\"}",
		"{\"error\":\"the result is not representable in JSON: "
		"-inf\"}",
		"{\"error\":\"the result is not representable in JSON: 4 "
		"bytes "
		"that are not UTF-8\"}",
		"{\"result\":2.5}", "{\"result\":null}" };
	for (int i = 0; i < 5; i++) {
		char *r = NULL;
		CU_ASSERT_EQUAL(sl_drpc_call(ep, fn[i], "", 3000, &r), SL_OK);
		CU_ASSERT(r && !strcmp(r, want[i]));
		if (r && strcmp(r, want[i]))
			printf("\n    %s: %s\n", fn[i], r);
		free(r);
	}
	sl_drpc_stats st;
	sl_drpc_server_stats(s, &st);
	CU_ASSERT_EQUAL(st.errors, 3);
	CU_ASSERT_EQUAL(st.answered, 2);
	sl_drpc_server_stop(s);
}

static const char *KEY_HEX
    = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* Sends the sealed request msg (n bytes) and returns the reply. */
static sli_msg send_raw(const char *ep, const uint8_t *msg, size_t n)
{
	sli_msg m = { NULL, 0 };
	CU_ASSERT_EQUAL(sli_req_call(ep, msg, n, 3000, &m), SL_OK);
	return m;
}

static void test_sealed_drpc_replays_refused_and_replies_padded(void)
{
	const char *ep = "tcp://127.0.0.1:37906";
	uint8_t key[SL_KEY_BYTES], dk[SL_KEY_BYTES];
	CU_ASSERT_EQUAL_FATAL(sl_key_from_hex(key, KEY_HEX), SL_OK);
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = ep;
	o.cluster_key = key;
	sl_drpc_server *s;
	CU_ASSERT_EQUAL_FATAL(
	    sl_drpc_server_start(&s, &o, long_error, NULL), 0);
	/* one sealed request, sent twice: the copy is refused */
	sli_derive_key(dk, key, "sluice drpc v1");
	uint8_t plain[64], msg[64 + SLI_SEAL_OVERHEAD + 1];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sli_le64_put(plain,
	    (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
	memcpy(plain + 8, "size\ts", 6);
	msg[0] = 0x01;
	const char *ad = "sluice drpc request v1";
	sli_seal(dk, (const uint8_t *)ad, strlen(ad), plain, 14, msg + 1);
	size_t n = 1 + 14 + SLI_SEAL_OVERHEAD;
	sli_msg a = send_raw(ep, msg, n);
	CU_ASSERT(a.len > 0 && a.data[0] == 0x01); /* answered, sealed */
	sli_msg b = send_raw(ep, msg, n);
	CU_ASSERT(b.len > 0 && b.data[0] != 0x01);
	if (b.len) {
		char *txt = strndup((const char *)b.data, b.len);
		CU_ASSERT_PTR_NOT_NULL(strstr(txt, "replayed"));
		free(txt);
	}
	sl_drpc_stats st;
	sl_drpc_server_stats(s, &st);
	CU_ASSERT_EQUAL(st.auth_failures, 1);
	sli_msg_free(&a);
	sli_msg_free(&b);
	/* a small and a larger answer travel in replies of one size */
	char *r1 = NULL, *r2 = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_call_keyed(ep, key, "size", "s", 3000, &r1), SL_OK);
	CU_ASSERT_EQUAL(
	    sl_drpc_call_keyed(ep, key, "size", "b", 3000, &r2), SL_OK);
	CU_ASSERT_STRING_EQUAL(r1 ? r1 : "", "{\"result\":1}");
	CU_ASSERT(r2 && strlen(r2) > 100);
	free(r1);
	free(r2);
	uint8_t p2[64], m2[64 + SLI_SEAL_OVERHEAD + 1];
	size_t lens[2];
	for (int i = 0; i < 2; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		sli_le64_put(p2,
		    (uint64_t)ts.tv_sec * 1000u
		        + (uint64_t)ts.tv_nsec / 1000000u);
		memcpy(p2 + 8, i ? "size\tb" : "size\ts", 6);
		m2[0] = 0x01;
		sli_seal(dk, (const uint8_t *)ad, strlen(ad), p2, 14, m2 + 1);
		sli_msg r = send_raw(ep, m2, n);
		lens[i] = r.len;
		sli_msg_free(&r);
	}
	CU_ASSERT_EQUAL(lens[0], lens[1]);
	sl_drpc_server_stop(s);
}

/* ---------------------------------------------------------- inputs */

static void test_long_lines_are_counted_or_refused_never_retried(void)
{
	char dir[600], args[2400];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-long"));
	/* 3 MiB: over the reader's first buffer, under the value limit */
	sl_test_sh("cd '%s' && (echo 'a b'; head -c 3145728 /dev/zero | "
	           "tr '\\0' x; echo; echo 'b c') >ok.txt && "
	           "(echo 'a b'; echo c; head -c 17000000 /dev/zero | "
	           "tr '\\0' x; echo; echo d) >bad.txt",
	    dir);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/ok.txt --state %s/st1 --quiet "
	    "--batch-timeout 60000 --dump %s/dump",
	    dir, dir, dir);
	/* the batch timeout is generous: under TSan on a loaded machine the
	 * 3 MiB word's batch took over 3 s, timed out and replayed (CI
	 * trial, session 4); what is checked is that it is counted once */
	CU_ASSERT_EQUAL(sl_test_sh("timeout -s KILL 180 '%s' %s 2>'%s/err'",
	                    sl_test_sluice_bin(), args, dir),
	    0);
	CU_ASSERT(file_has(dir, "dump", "^b.2$"));
	CU_ASSERT_EQUAL(sl_test_sh("test $(wc -l <'%s/dump') = 4", dir), 0);
	/* over 16 MiB: fatal at once, naming the line */
	snprintf(args, sizeof(args),
	    "wordcount --input %s/bad.txt --state %s/st2 --quiet "
	    "--batch-timeout 3000",
	    dir, dir);
	CU_ASSERT_EQUAL(sl_test_sh("timeout -s KILL 60 '%s' %s 2>'%s/err'",
	                    sl_test_sluice_bin(), args, dir),
	    1);
	CU_ASSERT(file_has(dir, "err", "line 3 "));
	CU_ASSERT(file_has(dir, "err", "longer than"));
	/* a line on stdin that never ends: refused, memory bounded */
	CU_ASSERT_EQUAL(
	    sl_test_sh("(echo 'a b'; head -c 20000000 /dev/zero | tr '\\0' "
	               "x; sleep 20) | timeout -s KILL 60 '%s' wordcount "
	               "--input - --memory --quiet 2>'%s/err'",
	        sl_test_sluice_bin(), dir),
	    1);
	CU_ASSERT(file_has(dir, "err", "longer than"));
}

/* 1 when process pid has a handler for SIGTERM (/proc's SigCgt mask). */
static int catches_term(pid_t pid)
{
	char pfile[64], line[256];
	snprintf(pfile, sizeof(pfile), "/proc/%d/status", (int)pid);
	FILE *f = fopen(pfile, "r");
	if (!f)
		return 0;
	int yes = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigCgt:", 7))
			yes = (strtoull(line + 7, NULL, 16) >> (SIGTERM - 1))
			    & 1;
	fclose(f);
	return yes;
}

/* SIGTERM while every batch times out and replays: the run stops within
 * about 2 s, exits 1 saying it stopped while a batch was failing (0 if
 * the stop found no batch failing), and a rerun is exact. */
static void test_stop_completes_in_two_seconds_whatever_replays(void)
{
	char dir[600], in[700], st[700], dump[700];
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir("sec-stop"));
	snprintf(in, sizeof(in), "%s/in.txt", dir);
	snprintf(st, sizeof(st), "%s/st", dir);
	snprintf(dump, sizeof(dump), "%s/dump", dir);
	FILE *f = fopen(in, "w");
	for (int i = 0; i < 300000; i++)
		fprintf(f, "w%d w%d w%d\n", i % 1000, i % 7, i % 13);
	fclose(f);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char errf[800];
		snprintf(errf, sizeof(errf), "%s/err", dir);
		int ef = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(ef, 2);
		execl(sl_test_sluice_bin(), "sluice", "wordcount", "--input",
		    in, "--state", st, "--batch-timeout", "1", "--no-sync",
		    "--quiet", (char *)NULL);
		_exit(127);
	}
	for (int w = 0; w < 400 && !catches_term(pid); w++)
		usleep(5000);
	usleep(500000);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	kill(pid, SIGTERM);
	int status = -1;
	for (int w = 0; w < 1000; w++) { /* up to 10 s, then kill */
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	double secs = (double)(b.tv_sec - a.tv_sec)
	    + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("\n    stop took %.2f s\n", secs);
	CU_ASSERT(secs < 2.5);
	CU_ASSERT(WIFEXITED(status)
	    && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		CU_ASSERT(file_has(dir, "err", "stopped while txid"));
	/* the rerun (normal timeouts) finishes and is exact */
	char args[2400];
	snprintf(args, sizeof(args),
	    "wordcount --input %s --state %s --quiet --dump %s", in, st, dump);
	CU_ASSERT_EQUAL(sluice_in(dir, args), 0);
	CU_ASSERT(file_has(dir, "dump", "^w1.66234$"));
	CU_ASSERT(file_has(dir, "dump", "^w0.66235$"));
}

/* R16: a key's byte-string length must be in its shortest varint form
 * (the encoding is injective): `03 82 00 61 62` decoded to the same
 * value as `03 02 61 62` and showed in dumps as a second copy of a key
 * whose value `state get` never returned. */
static void test_key_decoder_refuses_overlong_lengths(void)
{
	sl_value v[4];
	size_t n = 0;
	const uint8_t good[] = { SL_BYTES, 0x02, 'a', 'b' };
	CU_ASSERT_EQUAL(
	    sl_state_key_values(good, sizeof(good), v, 4, &n), SL_OK);
	CU_ASSERT(n == 1 && v[0].len == 2 && !memcmp(v[0].u.p, "ab", 2));
	const uint8_t overlong[] = { SL_BYTES, 0x82, 0x00, 'a', 'b' };
	CU_ASSERT_EQUAL(
	    sl_state_key_values(overlong, sizeof(overlong), v, 4, &n),
	    SL_ECORRUPT);
	const uint8_t overlong0[] = { SL_BYTES, 0x80, 0x80, 0x00 };
	CU_ASSERT_EQUAL(
	    sl_state_key_values(overlong0, sizeof(overlong0), v, 4, &n),
	    SL_ECORRUPT);
	/* every key the encoder makes still decodes */
	uint8_t buf[300], big[200];
	memset(big, 'x', sizeof(big)); /* a length of two varint bytes */
	sl_value in[2] = { sl_bytes(big, sizeof(big)), sl_int(-5) };
	size_t len = 0;
	CU_ASSERT_EQUAL(sl_state_key(in, 2, buf, sizeof(buf), &len), SL_OK);
	CU_ASSERT_EQUAL(sl_state_key_values(buf, len, v, 4, &n), SL_OK);
	CU_ASSERT(n == 2 && v[0].len == sizeof(big) && v[1].u.i == -5);
}

/* ---------------------------------------------------------- fd limit */

/* A connection to 127.0.0.1:port that gives up after about 200 ms (a
 * full accept queue makes connect(2) wait); -1 when it did not connect. */
static int tcp_connect_once(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	struct pollfd p = { fd, POLLOUT, 0 };
	int err = 0;
	socklen_t len = sizeof(err);
	if (errno == EINPROGRESS && poll(&p, 1, 200) == 1
	    && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && !err)
		return fd;
	close(fd);
	return -1;
}

/* `sluice wordcount --drpc tcp://127.0.0.1:PORT` on a one-line input
 * under `prlimit --nofile=N:N`; stderr into DIR/err. */
static pid_t drpc_wordcount_limited(const char *dir, int nofile, int port)
{
	char in[700], st[700], err[700], lim[64], ep[64];
	snprintf(in, sizeof(in), "%s/in.txt", dir);
	snprintf(st, sizeof(st), "%s/st", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	snprintf(lim, sizeof(lim), "--nofile=%d:%d", nofile, nofile);
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
	FILE *f = fopen(in, "w");
	fprintf(f, "a b c a\n");
	fclose(f);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(e, 2);
		execlp("prlimit", "prlimit", lim, sl_test_sluice_bin(),
		    "wordcount", "--input", in, "--state", st, "--drpc", ep,
		    "--quiet", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Ends pid with SIGTERM (SIGKILL after 10 s); returns its wait status. */
static int term_and_wait(pid_t pid)
{
	int status = -1;
	kill(pid, SIGTERM);
	for (int w = 0; w < 1000; w++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

/* Issue 15.4: with 64 open files allowed, 300 idle clients that
 * completed the SP handshake used to take every descriptor: nanomsg then
 * retried accept(2) in a loop (~90% CPU) and an honest client never got
 * in (its call timed out). The server now bounds its connections by the
 * descriptors it has; an honest call after the flood is answered, and
 * the server is still running. */
static void test_drpc_server_answers_under_idle_flood_and_low_fd_limit(void)
{
	const char *dir = sl_test_tmpdir("sec-fdlimit");
	const int port = 37920;
	char ep[64];
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
	pid_t pid = drpc_wordcount_limited(dir, 64, port);
	char *reply = NULL;
	int counted = 0, rc = SL_ETIMEDOUT;
	for (int i = 0; i < 200 && !counted; i++) { /* the line counted */
		rc = sl_drpc_call(ep, "count", "a", 500, &reply);
		counted = !rc && strstr(reply, "\"result\":2");
		free(reply);
		reply = NULL;
		if (!counted)
			usleep(50000);
	}
	CU_ASSERT_FATAL(counted);
	/* idle clients: connect, send the SP header of a REQ socket, then
	 * nothing (nanomsg keeps such connections forever) */
	int idle[300], n = 0;
	uint8_t h[8];
	sp_header(h, 0x30);
	for (int i = 0; i < 300; i++) {
		int fd = tcp_connect_once(port);
		if (fd < 0)
			continue;
		if (write(fd, h, 8) == 8)
			idle[n++] = fd;
		else
			close(fd);
	}
	printf("\n    %d idle connections opened\n", n);
	CU_ASSERT(n > 64); /* more than the server has descriptors */
	rc = sl_drpc_call(ep, "count", "a", 3000, &reply);
	if (rc)
		printf("    honest call: %s: %s\n", sl_strerror(rc),
		    sl_errdetail());
	CU_ASSERT_EQUAL(rc, SL_OK);
	CU_ASSERT(reply && strstr(reply, "\"result\":2"));
	free(reply);
	CU_ASSERT_EQUAL(kill(pid, 0), 0); /* still running */
	for (int i = 0; i < n; i++)
		close(idle[i]);
	int status = term_and_wait(pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* With too few descriptors to serve even a handful of clients the DRPC
 * server refuses to start, naming the limit, instead of starting and
 * hanging its clients. */
static void test_drpc_server_refuses_a_too_low_fd_limit(void)
{
	const char *dir = sl_test_tmpdir("sec-fdlow");
	pid_t pid = drpc_wordcount_limited(dir, 24, 37921);
	int status = -1;
	for (int w = 0; w < 1000; w++) { /* it must exit by itself */
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	if (kill(pid, 0) == 0)
		status = term_and_wait(pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	CU_ASSERT(file_has(dir, "err", "open files"));
	CU_ASSERT(file_has(dir, "err", "ulimit -n"));
}

/* ---------------------------------------------------------- net fuzz */

/* Sends hostile traffic to every kind of listening socket over real
 * loopback TCP: random bytes, SP headers with random, huge or lying
 * lengths, valid frames with flipped bits, idle and slow peers; then
 * checks that each listener still works. SLUICE_NETFUZZ (connections,
 * default 300) makes it longer in the soak. */
static uint64_t fuzz_rng = 88172645463325252ull;

static uint64_t xr(void)
{
	fuzz_rng ^= fuzz_rng << 13;
	fuzz_rng ^= fuzz_rng >> 7;
	fuzz_rng ^= fuzz_rng << 17;
	return fuzz_rng;
}

static void fuzz_one(int port, int proto, const uint8_t *valid, size_t vn,
    int *idle, int *nidle, uint64_t *sent)
{
	int fd = tcp_connect(port);
	if (fd < 0)
		return;
	uint8_t buf[4096];
	size_t n = 0;
	int kind = getenv("SLUICE_NETFUZZ_KIND")
	    ? atoi(getenv("SLUICE_NETFUZZ_KIND"))
	    : (int)(xr() % 6);
	if (kind > 0) {
		sp_header(buf, proto);
		if (kind == 5) /* a wrong protocol id */
			buf[5] ^= (uint8_t)(1 + xr() % 255);
		n = 8;
	}
	if (kind == 1 || kind == 5) { /* random bytes */
		size_t r = xr() % 2048;
		for (size_t i = 0; i < r; i++)
			buf[n++] = (uint8_t)xr();
	} else if (kind == 2) { /* a lying or huge length */
		uint64_t len = xr() % 3 == 0 ? xr() : xr() % 100000;
		be64(buf + n, len);
		n += 8;
		size_t r = xr() % 512;
		for (size_t i = 0; i < r; i++)
			buf[n++] = (uint8_t)xr();
	} else if (kind == 3 && vn && vn < 2000) { /* flipped valid msg */
		be64(buf + n, vn);
		n += 8;
		memcpy(buf + n, valid, vn);
		for (int f = 0; f < 1 + (int)(xr() % 4); f++)
			buf[n + xr() % vn] ^= (uint8_t)(1u << (xr() % 8));
		n += vn;
	} else if (kind == 4) { /* slow: a header, then stays idle */
		n = 8;
	} else if (kind == 0) {
		size_t r = 1 + xr() % 64;
		for (size_t i = 0; i < r; i++)
			buf[n++] = (uint8_t)xr();
	}
	if (write(fd, buf, n) < 0) {
		/* the peer may have cut us off already */
	}
	(*sent)++;
	if (kind == 4 && *nidle < 40) {
		idle[(*nidle)++] = fd;
		return;
	}
	close(fd);
}

struct fake_rep {
	int lfd, rounds;
};

/* A hostile DRPC server: answers each client with garbage. */
static void *hostile_rep(void *arg)
{
	struct fake_rep *f = arg;
	for (int i = 0; i < f->rounds; i++) {
		struct pollfd p = { f->lfd, POLLIN, 0 };
		if (poll(&p, 1, 3000) <= 0)
			break;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		uint8_t buf[1024];
		sp_header(buf, SP_REP);
		size_t n = 8;
		if (xr() % 2) {
			be64(buf + n, xr() % 4 ? xr() % 300 : xr());
			n += 8;
		}
		size_t r = xr() % 300;
		for (size_t k = 0; k < r; k++)
			buf[n++] = (uint8_t)xr();
		if (write(fd, buf, n) < 0) { }
		usleep(20000);
		close(fd);
	}
	return NULL;
}

/* After the fuzzing: each listener still takes a valid message (the
 * sealed frame fd/fn on the keyed pull) and each DRPC server answers. */
static void listeners_still_answer(sli_link *plain_pull, sli_link *sealed_pull,
    const uint8_t *key, const uint8_t *fd, size_t fn)
{
	sli_link *push;
	sli_msg m;
	CU_ASSERT_EQUAL(sli_link_push(&push, "tcp://127.0.0.1:37910", 4), 0);
	CU_ASSERT_EQUAL(sli_link_send(push, "line", 4, 2000), SL_OK);
	int got = 0;
	for (int i = 0; i < 50 && !got; i++) {
		if (sli_link_recv(plain_pull, &m, 100) == SL_OK) {
			got = m.len == 4;
			sli_msg_free(&m);
		}
	}
	CU_ASSERT(got);
	sli_link_close(push);
	CU_ASSERT_EQUAL(sli_link_push(&push, "tcp://127.0.0.1:37911", 4), 0);
	CU_ASSERT_EQUAL(sli_link_send(push, fd, fn, 2000), SL_OK);
	got = 0;
	for (int i = 0; i < 50 && !got; i++) {
		if (sli_link_recv(sealed_pull, &m, 100) == SL_OK) {
			sli_frame_reader r;
			got = sli_frame_decode(&r, m.data, m.len, key)
			    == SL_OK;
			sli_msg_free(&m);
		}
	}
	CU_ASSERT(got);
	sli_link_close(push);
	char *r = NULL;
	CU_ASSERT_EQUAL(sl_drpc_call_keyed("tcp://127.0.0.1:37912", key,
	                    "size", "s", 3000, &r),
	    SL_OK);
	CU_ASSERT_STRING_EQUAL(r ? r : "", "{\"result\":1}");
	free(r);
	r = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_call("tcp://127.0.0.1:37913", "size", "s", 3000, &r),
	    SL_OK);
	CU_ASSERT_STRING_EQUAL(r ? r : "", "{\"result\":1}");
	free(r);
}

/* The DRPC client against a hostile server (garbage replies, rounds of
 * them): garbage is never an answer. Counts the calls in *sent. */
static void client_vs_hostile_server(int rounds, uint64_t *sent)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons(37914);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16), 0);
	struct fake_rep fr = { lfd, rounds };
	pthread_t th;
	pthread_create(&th, NULL, hostile_rep, &fr);
	int clean = 0;
	for (int i = 0; i < fr.rounds; i++) {
		char *rr = NULL;
		int rc = sl_drpc_call(
		    "tcp://127.0.0.1:37914", "size", "s", 150, &rr);
		clean += rc != SL_OK;
		free(rr);
		(*sent)++;
	}
	pthread_join(th, NULL);
	close(lfd);
	CU_ASSERT_EQUAL(clean, fr.rounds); /* garbage is never an answer */
}

static void test_network_fuzzer_every_listener_survives(void)
{
	int conns
	    = getenv("SLUICE_NETFUZZ") ? atoi(getenv("SLUICE_NETFUZZ")) : 300;
	uint8_t key[SL_KEY_BYTES];
	CU_ASSERT_EQUAL_FATAL(sl_key_from_hex(key, KEY_HEX), SL_OK);
	sli_link *plain_pull, *sealed_pull;
	CU_ASSERT_EQUAL_FATAL(
	    sli_link_pull_max(&plain_pull, "tcp://127.0.0.1:37910",
	        (size_t)SL_MAX_BYTES * 2 + 2),
	    SL_OK);
	CU_ASSERT_EQUAL_FATAL(
	    sli_link_pull_keyed(&sealed_pull, "tcp://127.0.0.1:37911", key),
	    SL_OK);
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = "tcp://127.0.0.1:37912";
	o.cluster_key = key;
	sl_drpc_server *keyed, *open_srv;
	CU_ASSERT_EQUAL_FATAL(
	    sl_drpc_server_start(&keyed, &o, long_error, NULL), SL_OK);
	o.endpoint = "tcp://127.0.0.1:37913";
	o.cluster_key = NULL;
	CU_ASSERT_EQUAL_FATAL(
	    sl_drpc_server_start(&open_srv, &o, long_error, NULL), SL_OK);
	/* a valid sealed frame to mutate */
	sli_frame_writer w;
	sli_frame_writer_init(&w);
	sli_frame_header h = { SLI_FRAME_DATA, 0, 1, 5, 1, 0, 0, 0 };
	sli_frame_writer_begin(&w, &h);
	sl_value v[2] = { sl_str("word"), sl_int(7) };
	sli_frame_writer_add(&w, v, 2);
	const uint8_t *fd;
	size_t fn;
	sli_frame_writer_finish(&w, key, &fd, &fn);
	int idle[40], nidle = 0;
	uint64_t sent = 0;
	const int ports[4] = { 37910, 37911, 37912, 37913 };
	const int protos[4] = { SP_PUSH, SP_PUSH, 0x30 /* REQ */, 0x30 };
	for (int i = 0; i < conns; i++) {
		int t = (int)(xr() % 4);
		fuzz_one(ports[t], protos[t], fd, fn, idle, &nidle, &sent);
	}
	/* every listener still works, idle peers still connected */
	listeners_still_answer(plain_pull, sealed_pull, key, fd, fn);
	/* the DRPC client against a hostile server: opt-in, because
	 * nanomsg 1.1.5 aborts the client process on some of these replies
	 * ("Unexpected source: state=6 source=1 action=3", stcp.c:422; a
	 * known class of nanomsg FSM bugs, e.g. nanomsg#603): found by this
	 * fuzzer, open (docs/errors.md) */
	if (getenv("SLUICE_NETFUZZ_CLIENT"))
		client_vs_hostile_server(conns / 10 + 5, &sent);
	for (int i = 0; i < nidle; i++)
		close(idle[i]);
	printf("\n    network fuzz: %llu hostile connections/messages, "
	       "%llu frames rejected in all; every listener still answers\n",
	    (unsigned long long)sent,
	    (unsigned long long)sli_transport_rejected());
	sli_frame_writer_free(&w);
	sl_drpc_server_stop(keyed);
	sl_drpc_server_stop(open_srv);
	sli_link_close(plain_pull);
	sli_link_close(sealed_pull);
}

SL_SUITE(security, NULL, NULL,
    { "huge announced frame does not abort a link",
        test_huge_announced_frame_does_not_abort_a_link },
    { "huge announced reply does not abort the drpc client",
        test_huge_announced_reply_does_not_abort_the_drpc_client },
    { "loopback rule checks every scheme",
        test_loopback_rule_checks_every_scheme },
    { "socket spout rejects oversize messages",
        test_socket_spout_rejects_oversize_messages },
    { "repair refuses a directory that is not a state",
        test_repair_refuses_a_directory_that_is_not_a_state },
    { "repair takes the lock and creates nothing",
        test_repair_takes_the_lock_and_creates_nothing },
    { "missing CURRENT is corrupt, not a new state",
        test_missing_current_is_corrupt_not_a_new_state },
    { "repair that dropped data marks the state",
        test_repair_that_dropped_data_marks_the_state },
    { "leveldb errors mapped by kind, not path",
        test_leveldb_errors_mapped_by_kind_not_path },
    { "lock file never follows a symlink",
        test_lock_file_never_follows_a_symlink },
    { "fault injection never gives wrong counts",
        test_fault_injection_never_gives_wrong_counts },
    { "plain run reports a failing spout",
        test_plain_run_reports_a_failing_spout },
    { "null spout instance is refused at build",
        test_null_spout_instance_is_refused_at_build },
    { "drpc error cut mid UTF-8 is still an error",
        test_drpc_error_cut_mid_utf8_is_still_an_error },
    { "sealed drpc replays refused and replies padded",
        test_sealed_drpc_replays_refused_and_replies_padded },
    { "long lines are counted or refused, never retried",
        test_long_lines_are_counted_or_refused_never_retried },
    { "stop completes in two seconds whatever replays",
        test_stop_completes_in_two_seconds_whatever_replays },
    { "disk full at every call of a commit",
        test_disk_full_at_every_call_of_a_commit },
    { "key decoder refuses overlong lengths",
        test_key_decoder_refuses_overlong_lengths },
    { "drpc unrepresentable results are errors, not null",
        test_drpc_unrepresentable_results_are_errors_not_null },
    { "drpc server answers under idle flood and low fd limit",
        test_drpc_server_answers_under_idle_flood_and_low_fd_limit },
    { "drpc server refuses a too low fd limit",
        test_drpc_server_refuses_a_too_low_fd_limit },
    { "network fuzzer: every listener survives",
        test_network_fuzzer_every_listener_survives })
