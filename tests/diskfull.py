#!/usr/bin/env python3
"""diskfull.py - disk full at every point of a commit (issue 15).

Builds a word-count state with LevelDB (run A: the first part of the
input, several committed txids), appends more input, then counts the calls
that need disk space or make data durable (write, pwrite, fdatasync,
fsync, rename, open/mkdir of a new name, ...) that run B makes on the
state directory, through the LD_PRELOAD shim build/lib/sluice-enospc.so
(tests/diskfull/enospc.c). Then for every N from 1 to that count: a copy
of A's state, run B with the disk full from call N on (or, --once, only
call N failing), and the rules:

  the faulted run   exit != 0 with a message naming the full disk
                    ("No space left on device"); exit 0 only when the
                    shim never fired, or fired and the counts are exact
  the state after   `state stats` and `state dump` (no shim) exit 0 and
                    show the exact counts of some committed txid, never
                    fewer than A committed, and the txid stats names is
                    the one whose counts dump shows
  a rerun           without the shim exits 0 with the exact counts of the
                    whole input

usage: diskfull.py [--sluice PATH] [--shim PATH] [--lines N] [--batch N]
                   [--parallelism P] [--once] [--every K] [--seed S]
"""
import argparse
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

WORDS_PER_LINE = 8


def run(cmd, env=None, timeout=120):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "timeout", b"", "timed out"


def parse_dump(out):
    counts = {}
    for ln in out.decode("utf-8", "replace").splitlines():
        k, _, v = ln.partition("\t")
        counts[k] = int(v)
    return counts


def parse_stats(out):
    return dict(ln.split("\t", 1) for ln in out.decode().splitlines()
                if "\t" in ln)


class Sweep:
    def __init__(self, a):
        self.a = a
        self.root = tempfile.mkdtemp(prefix="sluice-diskfull-")
        self.input = os.path.join(self.root, "in.txt")
        self.base = os.path.join(self.root, "base")
        self.work = os.path.join(self.root, "work")
        rng = random.Random(a.seed)
        vocab = ["w%d" % i for i in range(a.vocab)]
        lines = [" ".join(rng.choice(vocab) for _ in range(WORDS_PER_LINE))
                 for _ in range(2 * a.lines)]
        # the counts after every line (an independent count of the input)
        self.prefix = [collections.Counter()]
        for ln in lines:
            c = collections.Counter(self.prefix[-1])
            c.update(ln.split())
            self.prefix.append(c)
        self.by_total = {sum(c.values()): i for i, c in enumerate(self.prefix)}
        with open(self.input, "w") as f:
            f.writelines(ln + "\n" for ln in lines[:a.lines])
        rc, _, err = self.wordcount(self.base)
        if rc != 0:
            sys.exit("diskfull: building the base state failed: " + err)
        self.base_lines = self.committed_lines(self.base, "base")[0]
        with open(self.input, "a") as f:
            f.writelines(ln + "\n" for ln in lines[a.lines:])
        self.full = dict(self.prefix[-1])
        self.outcomes = collections.Counter()
        self.problems = []
        self.absorbed = []

    def wordcount(self, d, env=None):
        cmd = [self.a.sluice, "wordcount", "--input", self.input, "--state",
               d, "--batch-size", str(WORDS_PER_LINE * self.a.batch),
               "--parallelism", str(self.a.parallelism), "--quiet"]
        return run(cmd, env=env)

    def shim_env(self, at, log):
        env = dict(os.environ)
        env["LD_PRELOAD"] = self.a.shim
        env["SLUICE_ENOSPC_DIR"] = self.work
        env["SLUICE_ENOSPC_AT"] = str(at)
        env["SLUICE_ENOSPC_LOG"] = log
        if self.a.once:
            env["SLUICE_ENOSPC_ONCE"] = "1"
        # the shim comes before an ASan runtime in the preload list
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":verify_asan_link_order=0").lstrip(":")
        return env

    def committed_lines(self, d, what):
        """(lines counted, txid) of d read without the shim, or a problem."""
        s = self.a.sluice
        rc, out, err = run([s, "state", "stats", d])
        if rc != 0:
            self.problems.append("%s: state stats exit %s: %s" %
                                 (what, rc, err.strip()[:300]))
            return None, None
        st = parse_stats(out)
        txid = int(st.get("last_committed_txid", "-1"))
        if st.get("repaired", "no") != "no":
            self.problems.append("%s: state says repaired" % what)
        rc, out, err = run([s, "state", "dump", d])
        if rc != 0:
            self.problems.append("%s: state dump exit %s: %s" %
                                 (what, rc, err.strip()[:300]))
            return None, None
        counts = parse_dump(out)
        lines = self.by_total.get(sum(counts.values()))
        if lines is None or dict(self.prefix[lines]) != counts:
            self.problems.append("%s: SILENT WRONG: dump exit 0 with counts "
                                 "of no prefix of the input" % what)
            return None, None
        # the txid stats names is the one whose counts dump shows
        if self.a.parallelism == 1 and lines != min(
                txid * self.a.batch, len(self.prefix) - 1):
            self.problems.append("%s: stats says txid %d, dump shows the "
                                 "first %d lines" % (what, txid, lines))
        return lines, txid

    def one(self, n, log):
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.base, self.work)
        if os.path.exists(log):
            os.unlink(log)
        what = "N=%d%s" % (n, " once" if self.a.once else "")
        rc, _, err = self.wordcount(self.work, self.shim_env(n, log))
        fired = os.path.exists(log) and "ENOSPC" in open(log).read()
        if rc == "timeout":
            self.problems.append("%s: the faulted run hung" % what)
            return
        if rc != 0:
            if rc < 0 or not err.startswith("sluice:") or \
                    "No space left on device" not in err:
                self.problems.append("%s: UNCLEAR: exit %s: %r" %
                                     (what, rc, err[:300]))
                return
            self.outcomes["refused naming the full disk"] += 1
        elif fired:
            self.outcomes["absorbed (exit 0 after a failed call)"] += 1
            failed = [ln.split()[1] + " " + os.path.basename(ln.split()[2])
                      for ln in open(log).read().splitlines()
                      if ln.endswith(" ENOSPC")]
            self.absorbed.append("%s: %s" % (what, ", ".join(failed[:3])))
        else:
            self.outcomes["fault not reached"] += 1
        lines, _ = self.committed_lines(self.work, what)
        if lines is None:
            return
        if lines < self.base_lines:
            self.problems.append("%s: LOST: %d lines committed before, %d "
                                 "after" % (what, self.base_lines, lines))
        if rc == 0 and lines != len(self.prefix) - 1:
            self.problems.append("%s: SILENT WRONG: exit 0 but only %d of "
                                 "%d lines counted" %
                                 (what, lines, len(self.prefix) - 1))
        rc, _, err = self.wordcount(self.work)
        if rc != 0:
            self.problems.append("%s: the rerun without the shim failed: "
                                 "exit %s: %s" % (what, rc, err[:300]))
            return
        lines, _ = self.committed_lines(self.work, what + " rerun")
        if lines is not None and lines != len(self.prefix) - 1:
            self.problems.append("%s: the rerun counted %d of %d lines" %
                                 (what, lines, len(self.prefix) - 1))
        self.outcomes["rerun exact"] += lines == len(self.prefix) - 1

    def sweep(self):
        t0 = time.time()
        log = os.path.join(self.root, "calls.log")
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.base, self.work)
        rc, _, err = self.wordcount(self.work, self.shim_env(0, log))
        if rc != 0:
            sys.exit("diskfull: the counting run failed: " + err)
        calls = open(log).read().splitlines()
        kinds = collections.Counter(c.split()[1] for c in calls)
        print("diskfull: run B makes %d calls on the state directory (%s)" %
              (len(calls), ", ".join("%s %d" % k for k in
                                     sorted(kinds.items()))))
        points = list(range(1, len(calls) + 2, self.a.every))
        for n in points:
            self.one(n, log + ".%d" % n)
            if self.a.minutes and time.time() - t0 > self.a.minutes * 60:
                break
        tried = sum(v for k, v in self.outcomes.items() if k != "rerun exact")
        silent = sum("SILENT WRONG" in p or "LOST" in p
                     for p in self.problems)
        print("diskfull: %d disk-full points tried (%s), %d problems, %d "
              "silent wrong answers (%.0f s)" %
              (tried, ", ".join("%s %d" % kv for kv in
                                sorted(self.outcomes.items())),
               len(self.problems), silent, time.time() - t0))
        for p in self.absorbed[:30]:
            print("  absorbed, counts exact: " + p)
        for p in self.problems[:30]:
            print("  " + p)
        return not self.problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", default="build/bin/sluice")
    ap.add_argument("--shim", default="build/lib/sluice-enospc.so")
    ap.add_argument("--lines", type=int, default=300,
                    help="lines of run A (run B adds as many)")
    ap.add_argument("--batch", type=int, default=100, help="lines a batch")
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--parallelism", type=int, default=1)
    ap.add_argument("--once", action="store_true",
                    help="only call N fails (space returns at once)")
    ap.add_argument("--every", type=int, default=1,
                    help="try every K-th call only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=0)
    a = ap.parse_args()
    a.sluice = os.path.abspath(a.sluice)
    a.shim = os.path.abspath(a.shim)
    for p in (a.sluice, a.shim):
        if not os.path.exists(p):
            sys.exit("diskfull: %s not found (build first)" % p)
    s = Sweep(a)
    try:
        ok = s.sweep()
    finally:
        shutil.rmtree(s.root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
