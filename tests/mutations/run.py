#!/usr/bin/env python3
"""run.py - mutation testing of the exactly-once rules (docs/testing.md).

For each mutation in mutations.py (or --only M1,M5): a scratch worktree of
REF (default main) gets that one edit, is built, and runs the suites that
guard the rules and the differential tester (with crash runs); the result
says which tests caught it. Nothing is committed; the scratch worktree is
removed at the end. Slow (a build and a few minutes per mutation): run by
hand, not in CI. Run it where others' suites cannot collide on ports (it
uses `unshare -n` itself).

    python3 tests/mutations/run.py [--ref main] [--only M1,M2]
        [--suites state,model,...] [--no-suites] [--count 300]
        [--crash-share 2] [--keep]
"""
import argparse, glob, os, re, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutations import ALTERNATES, MUTATIONS  # noqa: E402

SUITES = "state,state_rules,model,crash,keys,trident,compose,api,plain,plain_replies"


def sh(cmd, cwd, timeout=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, shell=True, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        return "timeout", out


def apply(wt, globs, old, new):
    """Replaces the one occurrence of old; returns 'file:line' or None."""
    hits = []
    for g in globs:
        for f in sorted(glob.glob(os.path.join(wt, g))):
            s = open(f).read()
            n = s.count(old)
            if n:
                hits.append((f, s, n))
    if len(hits) != 1 or hits[0][2] != 1:
        return None
    f, s, _ = hits[0]
    line = s[: s.index(old)].count("\n") + 1
    open(f, "w").write(s.replace(old, new))
    return "%s:%d" % (os.path.relpath(f, wt), line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="main")
    ap.add_argument("--only", default="")
    ap.add_argument("--suites", default=SUITES)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--crash-share", type=int, default=2)
    ap.add_argument("--no-suites", action="store_true",
                    help="only the differential tester")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    repo = subprocess.check_output(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=os.path.dirname(os.path.abspath(__file__)), text=True).strip()
    wt = tempfile.mkdtemp(prefix="sluice-mut.", dir="/tmp")
    os.rmdir(wt)
    rc, out = sh("git worktree add -q --detach '%s' '%s'" % (wt, a.ref), repo)
    if rc:
        sys.exit("cannot make the scratch worktree: " + out)
    rev = sh("git rev-parse --short HEAD", wt)[1].strip()
    print("mutation testing of %s (%s) in %s" % (a.ref, rev, wt), flush=True)
    rc, out = sh("nice scons -Q -j2", wt, 3600)
    if rc:
        sys.exit("the unmutated tree does not build:\n" + out[-3000:])
    only = set(x for x in a.only.split(",") if x)
    rows = []
    try:
        for mid, rule, globs, old, new in MUTATIONS:
            if only and mid not in only:
                continue
            sh("git checkout -q -- .", wt)
            where = None
            for o2, n2 in [(old, new)] + ALTERNATES.get(mid, []):
                where = apply(wt, globs, o2, n2)
                if where:
                    break
            if not where:
                rows.append((mid, rule, "-", "does not apply (code changed: re-derive)"))
                print("%s: does not apply" % mid, flush=True)
                continue
            t0 = time.time()
            rc, out = sh("nice scons -Q -j2 build/bin/sluice-tests "
                         "build/bin/sluice build/bin/sluice-difftest", wt, 1800)
            if rc:
                rows.append((mid, rule, where, "build failed"))
                continue
            caught = []
            rc, out = (0, "") if a.no_suites else sh(
                "unshare -n bash -c 'ip link set lo up && "
                "build/bin/sluice-tests -s %s'" % a.suites, wt, 900)
            if rc == "timeout":
                caught.append("suites hung (900 s)")
            for m in re.finditer(r"Suite (\S+), Test (.+?) had failures", out):
                caught.append("%s: \"%s\"" % (m.group(1), m.group(2)))
            if rc not in (0, "timeout") and not caught:
                caught.append("suites exit %s" % rc)
            rc, out = sh("unshare -n bash -c 'ip link set lo up && "
                         "SL_DIFFTEST_WATCHDOG=30 build/bin/sluice-difftest "
                         "--seed 1 --count %d --crash-share %d'"
                         % (a.count, a.crash_share),
                         wt, 900)
            seeds = sorted(set(int(x) for x in re.findall(
                r"MISMATCH seed (\d+)", out)))
            crash = sorted(set(int(x) for x in re.findall(
                r"reproduce: \S+ --seed (\d+) --one --crash-all", out)))
            if rc == "timeout":
                caught.append("difftest hung")
            elif seeds:
                caught.append("difftest: %d of %d seeds (%d crash runs), "
                              "first %d" % (len(seeds), a.count,
                                            len(crash), seeds[0]))
            elif rc:
                caught.append("difftest exit %s" % rc)
            res = "; ".join(caught) if caught else "NOT CAUGHT"
            rows.append((mid, rule, where, res))
            print("%s (%s, %.0f s): %s" % (mid, where, time.time() - t0, res),
                  flush=True)
    finally:
        sh("git checkout -q -- .", wt)
        if not a.keep:
            sh("git worktree remove --force '%s'" % wt, repo)
    print("\n| mutation | rule broken | where | caught by |")
    print("|---|---|---|---|")
    for mid, rule, where, res in rows:
        print("| %s | %s | `%s` | %s |" % (mid, rule, where, res))
    return 1 if any(r[3].startswith(("NOT", "does not")) for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
