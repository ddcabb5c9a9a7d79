#!/usr/bin/env python3
"""faults.py - fault injection on real state directories (issue 15).

Builds a word-count state in three runs (so LevelDB holds several tables,
a log, a manifest), then, N times: copies it, damages one file of one kind
(CURRENT, MANIFEST, log, table, the lock file) by removing it, truncating it,
flipping bits at random offsets or zeroing a range, and runs every state
tool (stats, dump, get), a resume of the word count and sometimes a repair
followed by the tools again. The rule checked each time:

    exit 0  => the numbers are the exact counts of some committed txid
               (after a repair that dropped records, the state must say so)
    exit !0 => a clear message on stderr ("sluice: ...")

never wrong numbers with exit status 0.

usage: faults.py [--iterations N] [--seed S] [--sluice PATH] [--keep DIR]
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
LINES_PER_BATCH = 100
LINES_PER_PART = 1500
VOCAB = 2000


def run(cmd, timeout=60):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "timeout", b"", "timed out"


class World:
    def __init__(self, sluice, root, rng):
        self.sluice = sluice
        self.root = root
        self.input = os.path.join(root, "in.txt")
        self.base = os.path.join(root, "base")
        vocab = ["w%d" % i for i in range(VOCAB)]
        lines = [" ".join(rng.choice(vocab) for _ in range(WORDS_PER_LINE))
                 for _ in range(3 * LINES_PER_PART)]
        # counts after every batch boundary (the committed txids)
        self.prefix = {}
        c = collections.Counter()
        self.prefix[0] = dict(c)
        for i, ln in enumerate(lines, 1):
            c.update(ln.split())
            if i % LINES_PER_BATCH == 0:
                self.prefix[i] = dict(c)
        self.full = dict(c)
        with open(self.input, "w") as f:
            pass
        for part in range(3):
            with open(self.input, "a") as f:
                for ln in lines[part * LINES_PER_PART:(part + 1) * LINES_PER_PART]:
                    f.write(ln + "\n")
            rc, _, err = self.wordcount(self.base)
            if rc != 0:
                sys.exit("faults: building the base state failed: " + err)
        self.files = sorted(os.listdir(self.base))

    def wordcount(self, d):
        return run([self.sluice, "wordcount", "--input", self.input,
                    "--state", d, "--batch-size",
                    str(WORDS_PER_LINE * LINES_PER_BATCH), "--no-sync",
                    "--quiet"], timeout=120)

    def matches_commit(self, counts):
        """The committed txid whose exact counts these are, or None."""
        total = sum(counts.values())
        if total % WORDS_PER_LINE:
            return None
        lines = total // WORDS_PER_LINE
        want = self.prefix.get(lines)
        return lines if want == counts else None


def parse_dump(out):
    counts = {}
    for ln in out.decode("utf-8", "replace").splitlines():
        k, _, v = ln.partition("\t")
        counts[k] = int(v)
    return counts


def damage(rng, d):
    """Damages one file of d; returns a description."""
    files = [f for f in os.listdir(d) if f not in ("LOG", "LOG.old", "LOCK")]
    kinds = {
        "CURRENT": [f for f in files if f == "CURRENT"],
        "MANIFEST": [f for f in files if f.startswith("MANIFEST-")],
        "log": [f for f in files if f.endswith(".log")],
        "table": [f for f in files if f.endswith(".ldb") or f.endswith(".sst")],
        "lock": [f for f in files if f == "sluice.lock"],
    }
    kind = rng.choice([k for k in kinds if kinds[k]])
    name = rng.choice(kinds[kind])
    path = os.path.join(d, name)
    size = os.path.getsize(path)
    action = rng.choice(["remove", "truncate", "flip", "flip", "zero"])
    if action == "remove":
        os.unlink(path)
    elif action == "truncate":
        with open(path, "r+b") as f:
            f.truncate(rng.randrange(size) if size else 0)
    elif action == "flip" and size:
        with open(path, "r+b") as f:
            for _ in range(rng.randint(1, 8)):
                off = rng.randrange(size)
                f.seek(off)
                b = f.read(1)
                f.seek(off)
                f.write(bytes([b[0] ^ (1 << rng.randrange(8))]))
    elif action == "zero" and size:
        off = rng.randrange(size)
        n = min(size - off, rng.randint(1, 4096))
        with open(path, "r+b") as f:
            f.seek(off)
            f.write(b"\0" * n)
    return "%s %s (%s, %d bytes)" % (action, name, kind, size)


class Tally:
    def __init__(self):
        self.corruptions = 0
        self.tool_runs = 0
        self.exact = 0
        self.refused = 0
        self.flagged = 0
        self.silent_wrong = []
        self.unclear = []


def check_exit0_counts(world, tally, what, counts, repaired, desc):
    if world.matches_commit(counts) is not None:
        tally.exact += 1
    elif repaired:
        tally.flagged += 1
    else:
        tally.silent_wrong.append("%s after %s" % (what, desc))


def check_error(tally, what, rc, err, desc):
    tally.refused += 1
    if rc == "timeout" or not err.startswith("sluice:") or rc < 0:
        tally.unclear.append("%s after %s: rc %s, %r" % (what, desc, rc,
                                                         err[:200]))


def tools(world, tally, d, desc, rng):
    """Runs stats, dump and get on d; returns the repaired flag."""
    s = world.sluice
    rc, out, err = run([s, "state", "stats", d])
    tally.tool_runs += 1
    repaired = False
    if rc == 0:
        st = dict(ln.split("\t", 1) for ln in
                  out.decode().splitlines() if "\t" in ln)
        repaired = st.get("repaired", "no").startswith("yes")
        if int(st["last_committed_txid"]) > 3 * LINES_PER_PART // LINES_PER_BATCH:
            tally.silent_wrong.append("stats txid after " + desc)
    else:
        check_error(tally, "stats", rc, err, desc)
    rc, out, err = run([s, "state", "dump", d])
    tally.tool_runs += 1
    repaired = repaired or "was repaired" in err
    if rc == 0:
        check_exit0_counts(world, tally, "dump", parse_dump(out), repaired,
                           desc)
    else:
        check_error(tally, "dump", rc, err, desc)
    keys = ["w%d" % rng.randrange(VOCAB) for _ in range(5)]
    rc, out, err = run([s, "state", "get", d] + keys)
    tally.tool_runs += 1
    repaired = repaired or "was repaired" in err
    if rc == 0:
        got = {}
        for ln in out.decode().splitlines():
            k, _, v = ln.partition("\t")
            got[k] = None if v == "-" else int(v)
        ok = any(all(world.prefix[l].get(k) == got[k] for k in keys)
                 for l in world.prefix)
        if ok:
            tally.exact += 1
        elif repaired:
            tally.flagged += 1
        else:
            tally.silent_wrong.append("get after " + desc)
    else:
        check_error(tally, "get", rc, err, desc)
    return repaired


def one(world, tally, rng, i, keep):
    d = os.path.join(world.root, "work")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(world.base, d)
    desc = "#%d: %s" % (i, damage(rng, d))
    tally.corruptions += 1
    repaired = tools(world, tally, d, desc, rng)
    # a resume: exit 0 means every line of the input is counted exactly
    rc, _, err = world.wordcount(d)
    tally.tool_runs += 1
    if rc == 0:
        rc2, out, err2 = run([world.sluice, "state", "dump", d])
        if rc2 == 0:
            counts = parse_dump(out)
            if counts == world.full:
                tally.exact += 1
            elif repaired:
                tally.flagged += 1
            else:
                tally.silent_wrong.append("resume after " + desc)
        else:
            check_error(tally, "dump after resume", rc2, err2, desc)
    else:
        check_error(tally, "resume", rc, err, desc)
    if rng.random() < 0.3:
        if keep:
            shutil.rmtree(d + ".pre", ignore_errors=True)
            shutil.copytree(d, d + ".pre")
        rc, _, err = run([world.sluice, "state", "repair", d])
        tally.tool_runs += 1
        if rc != 0:
            check_error(tally, "repair", rc, err, desc)
            if keep and not os.path.exists(os.path.join(keep, "repair%d" % i)):
                shutil.copytree(d + ".pre", os.path.join(keep, "repair%d" % i))
        else:
            tools(world, tally, d, desc + " + repair", rng)
    if keep and (tally.silent_wrong or tally.unclear) and not os.path.exists(os.path.join(keep, "case%d" % i)) and len(tally.unclear) + len(tally.silent_wrong) <= 3:
        shutil.copytree(d, os.path.join(keep, "case%d" % i))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--sluice", default="build/bin/sluice")
    ap.add_argument("--keep", default=None)
    ap.add_argument("--minutes", type=float, default=0)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    root = tempfile.mkdtemp(prefix="sluice-faults-")
    t0 = time.time()
    try:
        world = World(a.sluice, root, rng)
        tally = Tally()
        i = 0
        while i < a.iterations or (a.minutes and
                                   time.time() - t0 < a.minutes * 60):
            one(world, tally, rng, i, a.keep)
            i += 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("faults: seed %d: %d corruptions, %d tool runs: %d exact, "
          "%d refused with a message, %d flagged repaired, %d unclear, "
          "%d silent wrong answers (%.0f s)"
          % (seed, tally.corruptions, tally.tool_runs, tally.exact,
             tally.refused, tally.flagged, len(tally.unclear),
             len(tally.silent_wrong), time.time() - t0))
    for w in tally.silent_wrong[:20]:
        print("  SILENT WRONG: " + w)
    for u in tally.unclear[:20]:
        print("  UNCLEAR: " + u)
    sys.exit(1 if tally.silent_wrong or tally.unclear else 0)


if __name__ == "__main__":
    main()
