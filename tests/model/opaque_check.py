#!/usr/bin/env python3
"""Exhaustive check of sluice's commit protocol (docs/state-format.md),
widened from ../../../shared/models/opaque_check.py (kept beside this file
as opaque_check_reference.py) to what the C does: pipelined txids
(max_pending 2, spout metadata written before the state), a key ->
partition map that may change at any restart, several states with their
own commit records, sources that cannot replay (pipes), transactional
semantics, and a concurrent multi-key reader.

Every scenario explores each interleaving of atomic writes with a crash
(and restart) possible before any of them, and asserts after every step:
  * reads: the read rule at the committed txid gives exactly the counts
    of the committed batches' contents;
  * exactness: once the input is consumed and committed, every count
    equals the input (for a pipe: the input the committed batches read;
    bytes a crashed process had read past its last commit are lost);
  * progress: a restart never gets stuck on a batch it cannot replay;
  * snapshot: a multi-key request's values are those after one commit.

Each defect of issue 16 is a counterexample of the old rules:
  --old remap     records per partition number, no restart pass (defect 1)
  --old states    resume from the lowest txid with the first state's meta,
                  no commit given back (defect 2)
  --old pipe      stored ranges replayed on a pipe after a restart (defect 3)
  --old txpipe    transactional state allowed on a pipe, no restart pass
                  (defect 3; with the pass the model finds it exact, but a
                  replay after a crash reads other bytes: still refused)
  --old reads     each key of a request reads the then-committed txid (5)
  --old textbook  no in-run rollback (the reference's --textbook)
Without --old every scenario passes. --scenario NAME runs one.
"""
import sys
from collections import Counter

from model import Rules, apply, read, restart_pass

MAPS = (lambda k: ord(k) % 2, lambda k: (ord(k) // 2) % 2)


def counts_of(items):
    return tuple(sorted(Counter(items).items()))


class Found(Exception):
    pass


def check_reads(state, committed, counted, where):
    want = dict(counted)
    for k in set(want) | set(state):
        got = read(state, committed, k)
        if got != want.get(k, 0):
            raise Found("%s: read of %r = %d, committed batches hold %d "
                        "(txid %d)" % (where, k, got, want.get(k, 0),
                                       committed))


# ---------------------------------------------------------------- one state

class Single:
    """One state of two partitions fed by one spout.

    source: 'opaque' (two source partitions; a replay reads any range from
    the previous batch's end), 'file' (transactional: a replay reads the
    stored range), 'pipe' (a file spout on a pipe: what a crashed process
    read is gone). pending: batches in flight (their spout meta is written
    before the state). remap: the key map may change at a restart.
    reader: a concurrent request reading every key one at a time."""

    def __init__(self, rules, source, sem="opaque", pending=1, remap=False,
                 reader=False, crashes=2):
        self.r = rules
        self.source = source
        self.sem = sem
        self.pending = pending
        self.remap = remap
        self.reader = reader
        self.max_crashes = crashes
        if source == "opaque":
            self.src = (("a", "b", "a"), ("b", "c"))
        elif source == "pipe":
            self.src = (("a", "b", "a", "c"),)
        else:
            self.src = (("a", "b", "c", "a"),)
        if reader:
            self.src = (("a", "b", "c", "a", "b", "c"),)
        self.keys = sorted(set(k for p in self.src for k in p))
        self.seen = set()
        self.states = 0
        self.finished = 0

    # a world: dict with state, touched, committed, counted, ends (tuple of
    # committed offsets per source partition), stored (txid -> ends of
    # stored spout meta), inflight (list of (txid, starts, ends, content)),
    # written (partitions of the head txid written), crashes, map, pipe
    # (delivered, shift, read_end), reader, history
    def content(self, w, starts, ends):
        items = []
        for p in range(len(self.src)):
            sh = w["pipe"][1] if self.source == "pipe" else 0
            items += self.src[p][starts[p] + sh:ends[p] + sh]
        return tuple(items)

    def key(self, w):
        return (tuple(sorted(w["state"].items())), w["committed"],
                w["counted"], w["ends"], tuple(sorted(w["stored"].items())),
                tuple(w["inflight"]), w["written"],
                tuple(sorted(w["touched"].items())), w["crashes"], w["map"],
                w["pipe"], w["reader"],
                w["history"] if self.reader else None)

    def run(self):
        if self.source == "pipe" and self.sem == "transactional" \
                and self.r.refuse_tx_pipe:
            return "refused (transactional state on a pipe)"
        w = dict(state={}, touched={}, committed=0, counted=(),
                 ends=tuple(0 for _ in self.src), stored={}, inflight=(),
                 written=frozenset(), crashes=0, map=0,
                 pipe=(0, 0, 0), reader=None, history=((),))
        self.explore(w)
        return "%d states, %d finished runs" % (self.states, self.finished)

    def avail_end(self, w, p):
        if self.source == "pipe":
            return len(self.src[0]) - w["pipe"][1]
        return len(self.src[p])

    def explore(self, w):
        k = self.key(w)
        if k in self.seen:
            return
        self.seen.add(k)
        self.states += 1
        check_reads(w["state"], w["committed"], w["counted"], "step")
        if self.reader:
            self.reader_steps(w)
        # finished?
        if not w["inflight"] and all(
                w["ends"][p] >= self.avail_end(w, p)
                for p in range(len(self.src))):
            if self.source != "pipe" and dict(w["counted"]) != dict(
                    counts_of(x for p in self.src for x in p)):
                raise Found("final counts %r, input %r" % (
                    dict(w["counted"]), dict(counts_of(
                        x for p in self.src for x in p))))
            self.finished += 1
            return
        # crash and restart before the next write
        if w["crashes"] < self.max_crashes:
            for m in (range(len(MAPS)) if self.remap else (w["map"],)):
                self.explore(self.restart(w, m))
        # emit a new batch (its spout meta is a write)
        if len(w["inflight"]) < self.pending:
            for nw in self.emits(w):
                self.explore(nw)
        # state writes and the commit of the head batch
        if w["inflight"] and self.head_ready(w):
            txid, starts, ends, content = w["inflight"][0]
            delta = Counter(content)
            for part in (0, 1):
                if part in w["written"]:
                    continue
                d = {x: n for x, n in delta.items()
                     if MAPS[w["map"]](x) == part}
                st, tc = apply(w["state"], w["touched"], part, txid, d,
                               self.sem, self.r)
                nw = dict(w, state=st, touched=tc,
                          written=w["written"] | {part})
                check_reads(st, w["committed"], w["counted"], "write")
                self.explore(nw)
            if w["written"] == frozenset((0, 1)):
                counted = counts_of(list(x for x, n in w["counted"]
                                         for _ in range(n)) + list(content))
                nw = dict(w, committed=txid, counted=counted, ends=ends,
                          inflight=w["inflight"][1:], written=frozenset(),
                          history=w["history"] + (counted,))
                self.explore(nw)

    def head_ready(self, w):
        return True

    def emits(self, w):
        """Every batch the spout may emit next (a replay of a stored range
        or a fresh one), each after its meta write."""
        txid = w["committed"] + 1 + len(w["inflight"])
        starts = w["inflight"][-1][2] if w["inflight"] else w["ends"]
        out = []
        stored = w["stored"].get(txid)
        if stored is not None and self.source in ("file", "pipe"):
            s, e = stored
            if self.source == "pipe" and e[0] > w["pipe"][2]:
                if not self.r.pipe_drop:
                    raise Found("txid %d: stored range %r has no bytes "
                                "behind it after the restart: replayed "
                                "forever" % (txid, e))
            else:
                return [self.emitted(w, txid, s, e)]
        ranges = [[]]
        for p in range(len(self.src)):
            ranges = [r + [x] for r in ranges
                      for x in range(starts[p], self.avail_end(w, p) + 1)]
        for e in ranges:
            e = tuple(e)
            if e == tuple(starts):
                continue  # no empty batches (the world stays finite)
            out.append(self.emitted(w, txid, tuple(starts), e))
        return out

    def emitted(self, w, txid, starts, ends):
        pipe = w["pipe"]
        if self.source == "pipe" and ends[0] > pipe[2]:
            pipe = (pipe[0], pipe[1], ends[0])
        stored = dict(w["stored"])
        stored[txid] = (starts, ends)
        content = self.content(dict(w, pipe=pipe), starts, ends)
        return dict(w, stored=stored, pipe=pipe,
                    inflight=w["inflight"] + ((txid, starts, ends,
                                               content),))

    def restart(self, w, m):
        st, tc, c = restart_pass(w["state"], w["touched"], w["committed"],
                                 w["committed"], self.sem, self.r)
        pipe = w["pipe"]
        if self.source == "pipe":
            # the bytes read past the commit are gone; offsets go on from
            # the committed end over what the pipe delivers next
            delivered = pipe[2] + pipe[1]
            pipe = (delivered, delivered - w["ends"][0], w["ends"][0])
        return dict(w, state=st, touched=tc, committed=c, inflight=(),
                    written=frozenset(), crashes=w["crashes"] + 1, map=m,
                    pipe=pipe, reader=None)

    # ---- a concurrent request reading every key ----
    def reader_steps(self, w):
        rd = w["reader"]
        if rd is None:
            if w["committed"] >= 1:
                self.explore(dict(w, reader=(w["committed"], ())))
            return
        pin, got = rd
        if len(got) == len(self.keys):
            if self.r.snapshot_reads and pin != w["committed"]:
                self.explore(dict(w, reader=None))  # run again
                return
            totals = [dict(h) for h in w["history"]]
            vals = dict(zip(self.keys, got))
            if not any(all(vals[k] == t.get(k, 0) for k in self.keys)
                       for t in totals):
                raise Found("a request read %r: the state after no commit"
                            % vals)
            self.explore(dict(w, reader=(-1, ())))  # done, no more
            return
        if pin < 0:
            return
        at = pin if self.r.snapshot_reads else w["committed"]
        v = read(w["state"], at, self.keys[len(got)])
        self.explore(dict(w, reader=(pin, got + (v,))))


# ---------------------------------------------------------------- two states

def explore_states(rules, crashes=2):
    """Two states (one partition each) fed by one opaque spout (a replay
    reads any range from the previous batch's end); each state writes
    then commits, the commit records one after the other; a crash is
    possible before any write."""
    src = ("a", "b", "a", "c")
    seen = set()
    stats = Counter()

    def explore(w):
        k = repr(sorted(w.items()))
        if k in seen:
            return
        seen.add(k)
        stats["states"] += 1
        for i in (0, 1):
            check_reads(w["st"][i], w["c"][i], w["counted"][i],
                        "state %d" % i)
        if w["head"] is None and w["resume"] == len(src) \
                and w["c"][0] == w["c"][1]:
            want = dict(counts_of(src))
            for i in (0, 1):
                if dict(w["counted"][i]) != want:
                    raise Found("state %d final %r, input %r"
                                % (i, dict(w["counted"][i]), want))
            stats["finished"] += 1
            return
        if w["crashes"] < crashes:
            explore(restart(w))
        if w["head"] is None:
            start = w["resume"]
            for e in range(start + 1, len(src) + 1):
                explore(dict(w, head=(min(w["c"]) + 1, start, e), step=0))
            if start == len(src) and w["c"][0] != w["c"][1]:
                # nothing left to read: the state behind gets an empty
                # replay of its next txid
                explore(dict(w, head=(min(w["c"]) + 1, start, start),
                             step=0))
            return
        txid, s, e = w["head"]
        step = w["step"]
        st, tc, c = list(w["st"]), list(w["tc"]), list(w["c"])
        counted, prevc, meta = (list(w["counted"]), list(w["prevc"]),
                                list(w["meta"]))
        if step < 2:  # state writes, state 0 then 1
            i = step
            if c[i] < txid:
                st[i], tc[i] = apply(st[i], tc[i], 0, txid,
                                     Counter(src[s:e]), "opaque", rules)
        else:  # commit records, state 0 then 1
            i = step - 2
            if c[i] < txid:
                c[i] = txid
                meta[i] = e
                prevc[i] = counted[i]
                counted[i] = counts_of(
                    [x for x, n in counted[i] for _ in range(n)]
                    + list(src[s:e]))
        nw = dict(w, st=tuple(st), tc=tuple(tc), c=tuple(c),
                  counted=tuple(counted), prevc=tuple(prevc),
                  meta=tuple(meta), step=step + 1)
        if step == 3:
            nw = dict(nw, head=None, resume=e)
        explore(nw)

    def restart(w):
        c = list(w["c"])
        low = min(c)
        lowi = c.index(low)
        # old: the lowest txid, but the first state's meta
        resume = w["meta"][lowi] if rules.lowest_meta else w["meta"][0]
        st, tc = list(w["st"]), list(w["tc"])
        counted, meta = list(w["counted"]), list(w["meta"])
        for i in (0, 1):
            if c[i] > low and rules.uncommit:
                st[i], tc[i], c[i] = restart_pass(st[i], tc[i], c[i], low,
                                                  "opaque", rules)
                counted[i] = w["prevc"][i]
                meta[i] = w["meta"][lowi]
            else:
                st[i], tc[i], c[i] = restart_pass(st[i], tc[i], c[i], c[i],
                                                  "opaque", rules)
        return dict(w, st=tuple(st), tc=tuple(tc), c=tuple(c),
                    counted=tuple(counted), meta=tuple(meta), head=None,
                    resume=resume, crashes=w["crashes"] + 1)

    explore(dict(st=({}, {}), tc=({}, {}), c=(0, 0), counted=((), ()),
                 prevc=((), ()), meta=(0, 0), head=None, resume=0, step=0,
                 crashes=0))
    return "%d states, %d finished runs" % (stats["states"],
                                           stats["finished"])


# ---------------------------------------------------------------- scenarios

OLD = {
    "remap": dict(per_partition=True, restart_pass=False),
    "states": dict(lowest_meta=False, uncommit=False),
    "pipe": dict(pipe_drop=False),
    # the old C: allowed, and no restart pass (with the pass the model
    # finds it exact; it stays refused, a replay after a crash differs)
    "txpipe": dict(refuse_tx_pipe=False, restart_pass=False),
    "reads": dict(snapshot_reads=False),
    "textbook": dict(rollback=False, restart_pass=False),
}

SCENARIOS = [
    # name, what it runs, the old rules it is the counterexample for
    ("remap", lambda r: Single(r, "opaque", remap=True).run(), "remap"),
    ("textbook", lambda r: Single(r, "opaque").run(), "textbook"),
    ("pending", lambda r: Single(r, "opaque", pending=2, remap=True,
                                 crashes=1).run(), "remap"),
    ("file-pending", lambda r: Single(r, "file", pending=2, remap=True,
                                      crashes=2).run(), None),
    ("transactional", lambda r: Single(r, "file", sem="transactional",
                                       pending=2, remap=True).run(), None),
    ("states", lambda r: explore_states(r), "states"),
    ("pipe", lambda r: Single(r, "pipe", pending=2).run(), "pipe"),
    ("txpipe", lambda r: Single(r, "pipe", sem="transactional").run(),
     "txpipe"),
    ("reads", lambda r: Single(r, "opaque", reader=True, crashes=0).run(),
     "reads"),
]


def main(argv):
    sys.setrecursionlimit(100000)
    old = argv[argv.index("--old") + 1] if "--old" in argv else None
    only = argv[argv.index("--scenario") + 1] if "--scenario" in argv \
        else None
    rules = Rules(**OLD[old]) if old else Rules()
    bad = 0
    for name, fn, breaks in SCENARIOS:
        if only and name != only:
            continue
        if old and breaks != old and not only:
            continue
        try:
            res = fn(rules)
            print("ok   %-14s %s" % (name, res))
            if old and breaks == old:
                print("     (expected a counterexample of the old rule)")
                bad += 1
        except Found as e:
            print("%-4s %-14s counterexample: %s"
                  % ("fail" if not old else "old", name, e))
            if not old:
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
