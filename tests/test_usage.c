/* test_usage.c - the command line does what was asked and nothing else:
 * -h/--help on every sub-command prints usage on stdout, exits 0 and
 * touches nothing (`state repair --help` used to create a LevelDB folder
 * named --help); --version everywhere; unknown options, missing values
 * and extra words are refused with the reason and a hint (one parser,
 * cli/args.c); `./run demo` with its DRPC
 * port taken never shows another server's answers. SLUICE_BIN and
 * SLUICE_DEMO_SCRIPT name another binary or demo to check. */
#include "sltest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const subs[] = { "wordcount", "wordcount --mode plain",
	"wordcount --acking on", "state", "state dump", "state get",
	"state stats", "state repair", "state upgrade", "drpc",
	"state repair somedir", "state get somedir k",
	"wordcount --input x --state y", "run", "run x.so --state st", "stats",
	"drpc --endpoint "
	"tcp://127.0.0.1:1" };

static void test_help_everywhere_and_nothing_created(void)
{
	const char *bin = sl_test_sluice_bin();
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("help"));
	int bad = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		for (int h = 0; h < 2; h++) {
			const char *opt = h ? "-h" : "--help";
			int rc
			    = sl_test_sh("cd '%s' && '%s' %s %s >out 2>err && "
			                 "grep -q '^usage: sluice' out && "
			                 "! test -s err && test \"$(ls -A | "
			                 "sort | tr '\\n' ' ')\" = 'err out '",
			        d, bin, subs[i], opt);
			if (rc) {
				printf("\n    sluice %s %s: exit, output or "
				       "files "
				       "wrong",
				    subs[i], opt);
				sl_test_sh("cd '%s' && ls -A && cat err", d);
				bad++;
			}
			sl_test_sh("cd '%s' && rm -rf -- * .[!.]*", d);
		}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_unknown_options_refused(void)
{
	const char *bin = sl_test_sluice_bin();
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("badopt"));
	int bad = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int rc
		    = sl_test_sh("cd '%s' && '%s' %s --frobnicate >out 2>err; "
		                 "test $? -eq 2 && grep -q 'frobnicate' err "
		                 "&& test \"$(ls -A | sort | tr '\\n' ' ')\" "
		                 "= 'err out '",
		        d, bin, subs[i]);
		if (rc) {
			printf("\n    sluice %s --frobnicate: not refused",
			    subs[i]);
			bad++;
		}
		sl_test_sh("cd '%s' && rm -rf -- * .[!.]*", d);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Runs `sluice ARGS` in d with stdout to out, stderr to err; returns the
 * exit status. */
static int run_in(const char *d, const char *args)
{
	return sl_test_sh(
	    "cd '%s' && '%s' %s >out 2>err", d, sl_test_sluice_bin(), args);
}

/* 1 when d/file holds text (read here: texts hold quotes). */
static int file_has(const char *d, const char *file, const char *text)
{
	char path[800], buf[65536];
	snprintf(path, sizeof(path), "%s/%s", d, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

/* --version on every sub-command: the version on stdout, exit 0, nothing
 * else done (the same line as `sluice version`). */
static void test_version_everywhere(void)
{
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("version"));
	CU_ASSERT_EQUAL_FATAL(run_in(d, "version"), 0);
	sl_test_sh("cd '%s' && mv out want", d);
	int bad = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char args[200];
		snprintf(args, sizeof(args), "%s --version", subs[i]);
		if (run_in(d, args) != 0
		    || sl_test_sh("cd '%s' && cmp -s out want && ! test -s "
		                  "err && test \"$(ls -A | sort | tr '\\n' "
		                  "' ')\" = 'err out want '",
		        d)) {
			printf("\n    sluice %s --version: wrong", subs[i]);
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(sl_test_sh("grep -qE '^sluice [0-9]+\\.[0-9]+\\.[0-9]+$' "
	                     "'%s/want'",
	              d)
	    == 0);
}

/* --help shows the defaults, an example and the exit codes. */
static void test_help_has_defaults_example_and_exit_codes(void)
{
	static const char *const cmds[]
	    = { "wordcount", "wordcount --mode plain", "run", "stats", "drpc",
		      "state", "state get", "state upgrade" };
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("helptext"));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char args[200];
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		CU_ASSERT_EQUAL(run_in(d, args), 0);
		int ok = file_has(d, "out", "Example:\n")
		    && file_has(d, "out", "Exit status: 0")
		    && file_has(d, "out", "-h, --help")
		    && file_has(d, "out", "--version");
		if (!ok)
			printf("\n    sluice %s --help lacks a part", cmds[i]);
		CU_ASSERT(ok);
	}
	/* defaults come from the values the command starts with */
	CU_ASSERT_EQUAL(run_in(d, "wordcount --help"), 0);
	CU_ASSERT(file_has(d, "out", "--batch-size N"));
	CU_ASSERT(file_has(d, "out", "(default 10000)"));
	CU_ASSERT(file_has(d, "out", "(default opaque)"));
	CU_ASSERT_EQUAL(run_in(d, "drpc -h"), 0);
	CU_ASSERT(file_has(d, "out", "(default 5000)"));
	CU_ASSERT(file_has(d, "out", "(default tcp://127.0.0.1:3772)"));
	CU_ASSERT_EQUAL(run_in(d, "run --help"), 0);
	CU_ASSERT(file_has(d, "out", "(default 30000)"));
}

/* 1 when `sluice args` in d exits 2 with says and the help hint on
 * stderr, nothing on stdout and no file made; else says what it did. */
static int refused(const char *d, const char *args, const char *says)
{
	int rc = run_in(d, args);
	int ok = rc == 2 && file_has(d, "err", says)
	    && file_has(d, "err", "--help)")
	    && sl_test_sh("cd '%s' && ! test -s out && test \"$(ls "
	                  "-A | sort | tr '\\n' ' ')\" = 'err out '",
	           d)
	        == 0;
	if (!ok) {
		printf("\n    sluice %s: exit %d, wanted 2 and '%s':", args,
		    rc, says);
		sl_test_sh("cat '%s/err'", d);
	}
	return ok;
}

/* Every kind of bad line: exit 2, the reason, the hint, nothing made. */
static void test_bad_lines_name_the_problem(void)
{
	static const struct {
		const char *args, *says;
	} cases[] = {
		{ "wordcount --inptu x --memory",
		    "unknown option '--inptu'; did you mean '--input'?" },
		{ "wordcount --input x --memory extra",
		    "unexpected argument 'extra'" },
		{ "wordcount --memory --input", "--input needs a value" },
		{ "wordcount --memory=yes --input x",
		    "--memory takes no value" },
		{ "wordcount --batch --input x --memory",
		    "'--batch' is ambiguous" },
		{ "wordcount --input x --memory --batch-size=0",
		    "--batch-size: expected a number from 1 to 10000000, got "
		    "'0'" },
		{ "wordcount --input x --memory --semantics=maybe",
		    "--semantics: expected opaque|transactional|none" },
		{ "wordcount --mode plain --input x --parallelism 65",
		    "--parallelism: expected a number from 1 to 64, got "
		    "'65'" },
		{ "wordcount --mode plain --input x --acking=maybe",
		    "--acking: expected on|off" },
		{ "wordcount -x", "unknown option '-x'" },
		{ "stats --jsno", "did you mean '--json'?" },
		{ "stats now", "unexpected argument 'now'" },
		{ "drpc", "expected a FUNCTION name" },
		{ "drpc --timeout=soon fn", "--timeout: expected a number" },
		{ "run", "expected a topology" },
		{ "run a.so b",
		    "unexpected argument 'b' (topology arguments "
		    "go after --)" },
		{ "run a.so --max-pending=0",
		    "--max-pending: expected a "
		    "number from 1 to 64" },
		{ "state", "expected a sub-command" },
		{ "state gte st k",
		    "unknown sub-command; did you mean 'get'?" },
		{ "state get st", "expected DIR and at least one KEY" },
		{ "state dump st extra", "unexpected argument 'extra'" },
		{ "state upgrade st --key", "--key needs a value" },
	};
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("badline"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT(refused(d, cases[i].args, cases[i].says));
}

/* --opt=value and --opt value are the same; `--` ends the options;
 * negative numbers are keys of `state get`; drpc's options end at the
 * function name. */
static void test_equals_dashdash_and_numbers(void)
{
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("equals"));
	sl_test_sh("printf 'a b a\\n-x -5\\n' > '%s/in.txt'", d);
	CU_ASSERT_EQUAL(run_in(d,
	                    "wordcount --input=in.txt --state=st --quiet "
	                    "--batch-size=1 --dump=d1"),
	    0);
	CU_ASSERT_EQUAL(run_in(d,
	                    "wordcount --input in.txt --memory --quiet "
	                    "--dump d2"),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && cmp -s d1 d2 && grep -q "
	                           "'^a.2$' d1",
	                    d),
	    0);
	/* the word "-5" is a string key; -5 bare is the int -5 (absent) */
	CU_ASSERT_EQUAL(run_in(d, "state get st a -5 '\"-5\"' -- -x"), 0);
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && printf "
	                           "'a\\t2\\n-5\\t-\\n\"-5\"\\t1\\n-x\\t1\\n' "
	                           "| cmp - out",
	                    d),
	    0);
	/* without --, -x is an option */
	CU_ASSERT_EQUAL(run_in(d, "state get st -x"), 2);
	CU_ASSERT(file_has(d, "err", "unknown option '-x'"));
	/* drpc: what follows the function is its arguments ("--json" here
	 * is not an option of drpc): nothing listens, so exit 2 with that
	 * reason rather than an option error */
	CU_ASSERT_EQUAL(run_in(d,
	                    "drpc --endpoint=tcp://127.0.0.1:9 --timeout=200 "
	                    "words --json"),
	    2);
	CU_ASSERT(file_has(d, "err", "nothing is listening"));
}

/* T11: an option that takes a value, given twice, is refused (no
 * option is repeatable: the first value was dropped in silence); a
 * number is digits only, with a '-' only where negatives are allowed
 * (" 5" and "+5" were taken, "5 " refused), on the command line, in a
 * config file and in a metrics port. */
static void test_repeated_options_and_loose_numbers_refused(void)
{
	static const struct {
		const char *args, *says;
	} cases[] = {
		{ "wordcount --input a --input b --memory",
		    "--input given twice" },
		{ "wordcount --input a --state x --state y",
		    "--state given twice" },
		{ "wordcount --input=a --memory --input a",
		    "--input given twice" },
		{ "wordcount --input a --memory --drpc --drpc",
		    "--drpc given twice" },
		{ "wordcount --mode plain --input a --seed 1 --seed 2",
		    "--seed given twice" },
		{ "run a.so --state x --state y", "--state given twice" },
		{ "run a.so --config c --config d", "--config given twice" },
		{ "state upgrade st --key int --key bytes",
		    "--key given twice" },
		{ "stats --timeout 5 --timeout 6", "--timeout given twice" },
		{ "wordcount --input a --memory --parallelism ' 5'",
		    "--parallelism: expected a number from 1 to 64, got ' "
		    "5'" },
		{ "wordcount --input a --memory --parallelism +5",
		    "--parallelism: expected a number from 1 to 64, got "
		    "'+5'" },
		{ "wordcount --input a --memory --parallelism '5 '",
		    "--parallelism: expected a number from 1 to 64, got '5 "
		    "'" },
		{ "wordcount --input a --memory --max-attempts -0",
		    "--max-attempts: expected a number from 0 to 1000000, "
		    "got '-0'" },
		{ "drpc --timeout 0x10 fn",
		    "--timeout: expected a number from 1 to 3600000, got "
		    "'0x10'" },
		{ "run a.so --batch-size ' 5'",
		    "--batch-size: expected a number from 1 to 10000000, got "
		    "' 5'" },
		{ "run a.so --max-pending +4",
		    "--max-pending: expected a number from 1 to 64, got "
		    "'+4'" },
	};
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("twice"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT(refused(d, cases[i].args, cases[i].says));
	/* a config file's number: the same rule */
	sl_test_sh("printf 'batch-size = +5\\n' > '%s/job.conf'", d);
	CU_ASSERT_EQUAL(run_in(d, "run a.so --config job.conf"), 2);
	CU_ASSERT(file_has(d, "err",
	    "job.conf:1: expected a number from 1 to 10000000, got '+5'"));
	/* a metrics port: the same rule (it was served on 9464) */
	sl_test_sh("printf 'a b\\n' > '%s/in.txt'", d);
	CU_ASSERT_NOT_EQUAL(run_in(d,
	                        "wordcount --input in.txt --memory --quiet "
	                        "--metrics 127.0.0.1:+9464"),
	    0);
	CU_ASSERT(file_has(d, "err", "bad port"));
	/* the bounds are right for the whole long range: --seed took no
	 * value at all ("from 0 to -9223372036854775808") */
	CU_ASSERT_EQUAL(run_in(d,
	                    "wordcount --mode plain --input in.txt --quiet "
	                    "--seed 9223372036854775807"),
	    0);
	CU_ASSERT_EQUAL(run_in(d,
	                    "wordcount --mode plain --input in.txt --quiet "
	                    "--seed 9223372036854775808"),
	    2);
	CU_ASSERT(file_has(d, "err",
	    "--seed: expected a number from 0 to 9223372036854775807"));
	/* a negative where negatives are not allowed */
	CU_ASSERT_EQUAL(run_in(d,
	                    "wordcount --input in.txt --memory "
	                    "--max-attempts -1"),
	    2);
	/* flags may repeat (nothing is lost) */
	CU_ASSERT_EQUAL(run_in(d,
	                    "wordcount --input in.txt --memory --quiet "
	                    "--quiet"),
	    0);
}

/* R20: an integer beyond int64 is refused, not looked up as a double. */
static void test_state_get_out_of_range_integer(void)
{
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("range"));
	sl_test_sh("printf 'a\\n' > '%s/in.txt'", d);
	CU_ASSERT_EQUAL_FATAL(
	    run_in(d, "wordcount --input in.txt --state st --quiet"), 0);
	CU_ASSERT_EQUAL(run_in(d, "state get st 99999999999999999999"), 1);
	CU_ASSERT(file_has(d, "err", "out of range"));
	CU_ASSERT_EQUAL(run_in(d, "state get st 1e999"), 1);
	CU_ASSERT(file_has(d, "err", "out of range"));
	/* the largest int64, a double written as one, a quoted string */
	CU_ASSERT_EQUAL(run_in(d,
	                    "state get st 9223372036854775807 1e20 "
	                    "'\"99999999999999999999\"'"),
	    0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("cd '%s' && printf '9223372036854775807\\t-\\n"
	               "1e+20\\t-\\n\"99999999999999999999\"\\t-\\n' | cmp - "
	               "out",
	        d),
	    0);
}

/* ./run bench and ./run bench-big write docs/ only when asked: by default
 * their report goes to --out. bench-big runs on a tiny corpus in a copy
 * of the scripts and docs (the scripts cd to their tree); bench's options
 * are checked without running it (CI runs `./run bench --quick` and
 * checks docs/ is unchanged). */
static void test_bench_writes_docs_only_when_asked(void)
{
	char root[2048];
	if (!getcwd(root, sizeof(root))
	    || sl_test_sh("test -f '%s/bench/big.sh' && test -x "
	                  "'%s/build/bin/bench-gencorpus'",
	        root, root)) {
		printf("\n    (no bench/big.sh or bench binaries: skipped)");
		return;
	}
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("benchdocs"));
	CU_ASSERT_EQUAL_FATAL(
	    sl_test_sh(
	        "cd '%s' && mkdir -p tree/build && cp -r '%s/bench' "
	        "'%s/docs' tree/ && ln -s '%s/build/bin' tree/build/bin "
	        "&& (cd tree && find docs -type f | sort | xargs cksum) "
	        "> before",
	        d, root, root, root),
	    0);
	/* default: the table in --out, docs/ untouched */
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && bash tree/bench/big.sh --out "
	                           "o1 20000 500 >big1.out 2>big1.err",
	                    d),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && grep -q '^| trident-leveldb "
	                           "|.*| yes |$' o1/benchmarks-big.md && grep "
	                           "-q '20,000 words' o1/benchmarks-big.md",
	                    d),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && (cd tree && find docs -type f "
	                           "| sort | xargs cksum) | cmp -s - before",
	                    d),
	    0);
	/* --update-docs: both docs files now hold this run's table */
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && bash tree/bench/big.sh "
	                           "--update-docs --out=o2 20000 500 "
	                           ">big2.out 2>big2.err",
	                    d),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s/tree/docs' && grep -q '20,000 "
	                           "words' benchmarks-big.md && grep -q "
	                           "'20,000 words' benchmarks.md && test "
	                           "\"$(grep -c '^## Peak memory on a big "
	                           "input' benchmarks.md)\" = 1",
	                    d),
	    0);
	/* bad lines, and --quick never goes to docs/ */
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && bash tree/bench/big.sh --bogus "
	                           "2>err; test $? -eq 2 && grep -q bogus err",
	                    d),
	    0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("cd '%s' && bash tree/bench/run.sh --quick "
	               "--update-docs 2>err; test $? -eq 2 && grep "
	               "-q 'not written to docs' err",
	        d),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("cd '%s' && bash tree/bench/run.sh --out "
	                           "2>err; test $? -eq 2 && grep -q 'needs a "
	                           "value' err && bash tree/bench/run.sh "
	                           "--help | grep -q -- --update-docs",
	                    d),
	    0);
}

/* The demo's DRPC port held by another server (it answers "FOREIGN"):
 * the demo must take another port or fail, never print that answer. */
static void test_demo_with_its_port_taken(void)
{
	char script[4200];
	const char *env = getenv("SLUICE_DEMO_SCRIPT");
	if (env)
		snprintf(script, sizeof(script), "%s", env);
	else if (getcwd(script, 2048))
		strcat(script, "/examples/demo.sh");
	if (access(script, R_OK) != 0) {
		printf("\n    (no %s: skipped)", script);
		return;
	}
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("demo"));
	int rc = sl_test_sh(
	    "nanocat --rep --bind tcp://127.0.0.1:37741 "
	    "--data '{\"result\":\"FOREIGN\"}' >/dev/null "
	    "2>&1 & n=$!; sleep 0.3; SLUICE_BIN='%s' SLUICE_DEMO_PORT=37741 "
	    "timeout 120 bash '%s' >'%s/out' 2>&1; rc=$?; "
	    "kill $n; exit $rc",
	    sl_test_sluice_bin(), script, d);
	int foreign = sl_test_sh("grep -q FOREIGN '%s/out'", d) == 0;
	if (foreign || rc)
		sl_test_sh("tail -12 '%s/out'", d);
	CU_ASSERT(!foreign);
	/* it moved to a free port and said so */
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q 'port 37741 is in use' '%s/out'", d), 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q '^demo done' '%s/out'", d), 0);
}

SL_SUITE(usage, NULL, NULL,
    { "help everywhere and nothing created",
        test_help_everywhere_and_nothing_created },
    { "unknown options refused", test_unknown_options_refused },
    { "version everywhere", test_version_everywhere },
    { "help has defaults, example and exit codes",
        test_help_has_defaults_example_and_exit_codes },
    { "bad lines name the problem", test_bad_lines_name_the_problem },
    { "--opt=value, -- and numbers", test_equals_dashdash_and_numbers },
    { "repeated options and loose numbers refused",
        test_repeated_options_and_loose_numbers_refused },
    { "state get: out-of-range integer refused",
        test_state_get_out_of_range_integer },
    { "bench writes docs only when asked",
        test_bench_writes_docs_only_when_asked },
    { "demo with its port taken", test_demo_with_its_port_taken })
