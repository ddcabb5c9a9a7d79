#!/usr/bin/env python3
"""Trace checking: replays the trace of a `scons --trace` build (every
atomic write and read of the state, docs/architecture.md) through the
model's step functions (model.py) and asserts after every event:

  * each partition write and each restart pass wrote exactly the records
    the model computes from the same deltas (the C follows the rules);
  * commits go in txid order; reads at a pinned txid T return the value
    after commit T (or after T+1 for a read a request then discards);
  * the read rule gives, for every key, the count of the words in the
    input bytes the committed batches cover (exactness at every step);
  * each DRPC answer the reader recorded equals the sum of its words at
    some committed txid (snapshot reads).

usage: trace_check.py TRACE INPUT [READS]   (word count over INPUT)
"""
import sys
from collections import Counter

from model import Rules, apply, read, restart_pass

RECOVER_PART = 4294967295


def decode_key(hexkey):
    """A typed single-field bytes key (03, varint length, bytes) -> str;
    other keys stay hex."""
    b = bytes.fromhex(hexkey) if hexkey != "-" else b""
    if b[:1] == b"\x03":
        n, i, shift = 0, 1, 0
        while i < len(b):
            c = b[i]
            i += 1
            n |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                break
        if i + n == len(b):
            return b[i:].decode("latin-1")
    return "#" + hexkey


def val(s):
    return None if s == "n" else int(s)


class Violation(Exception):
    pass


class Checker:
    def __init__(self, data):
        self.data = data
        self.prefix = {}
        self.rules = Rules()
        self.st = {}  # dir -> dict(state, touched, committed, end, hist)
        self.events = Counter()

    def words(self, end):
        if end not in self.prefix:
            self.prefix[end] = Counter(
                w.decode("latin-1") for w in self.data[:end].split())
        return self.prefix[end]

    def s(self, d):
        if d not in self.st:
            self.st[d] = dict(state={}, touched={}, committed=0, end=0,
                              hist={0: {}})
        return self.st[d]

    def invariant(self, d, where):
        s = self.s(d)
        want = self.words(s["end"])
        for k in set(want) | set(s["state"]):
            got = read(s["state"], s["committed"], k)
            if got != want.get(k, 0):
                raise Violation(
                    "%s: %s: %r reads %d, the committed input (bytes "
                    "[0, %d), txid %d) has %d" % (where, d, k, got, s["end"],
                                                   s["committed"],
                                                   want.get(k, 0)))

    def compare(self, d, written, model_state, old_state, where):
        """The records the C wrote equal the model's; the model changed no
        key the C did not write."""
        for k, rec in written.items():
            m = model_state.get(k)
            if rec != m:
                raise Violation("%s: %s: key %r: C wrote %r, the model %r"
                                % (where, d, k, rec, m))
        for k in set(model_state) | set(old_state):
            if model_state.get(k) != old_state.get(k) and k not in written:
                raise Violation("%s: %s: the model changes %r (%r -> %r), "
                                "the C did not" % (where, d, k,
                                                   old_state.get(k),
                                                   model_state.get(k)))

    def line(self, ln):
        f = ln.split()
        if not f:
            return
        ev = f[0]
        self.events[ev] += 1
        if ev == "write":
            d, part, txid = f[1], int(f[2]), int(f[3])
            s = self.s(d)
            delta, written = {}, {}
            for item in f[4:]:
                p = item.split(":")
                if p[0] == "d":
                    delta[decode_key(p[1])] = int(p[2])
                elif p[0] == "r":
                    written[decode_key(p[1])] = (int(p[2]), val(p[3]),
                                                 val(p[4]))
                elif p[0] == "x":
                    written[decode_key(p[1])] = None
            where = "write p%d txid %d" % (part, txid)
            if part == RECOVER_PART:
                self.compare(d, written, s["pending"], s["before"],
                             "restart pass")
                s["state"] = s.pop("pending")
                s.pop("before")
            else:
                if txid <= s["committed"]:
                    raise Violation("%s: %s: txid %d already committed"
                                    % (where, d, txid))
                st, tc = apply(s["state"], s["touched"], part, txid, delta,
                               "opaque", self.rules)
                self.compare(d, written, st, s["state"], where)
                s["state"], s["touched"] = st, tc
            self.invariant(d, where)
        elif ev == "recover":
            d, before, target = f[1], int(f[2]), int(f[3])
            s = self.s(d)
            if before != s["committed"]:
                raise Violation("restart: %s: the C has txid %d committed, "
                                "the trace %d" % (d, before, s["committed"]))
            st, tc, c = restart_pass(s["state"], s["touched"], before,
                                     target, "opaque", self.rules)
            s["before"], s["pending"] = s["state"], st
            s["touched"] = tc
            s["committed"] = c
            if target < before:
                s["end"] = s["hist_end"][target]
        elif ev == "commit":
            d, txid, meta = f[1], int(f[2]), bytes.fromhex(f[3])
            s = self.s(d)
            if txid != s["committed"] + 1:
                raise Violation("commit %d after %d in %s"
                                % (txid, s["committed"], d))
            s["committed"] = txid
            s["end"] = int.from_bytes(meta[8:16], "little")
            s.setdefault("hist_end", {0: 0})[txid] = s["end"]
            s["hist"][txid] = {k: read(s["state"], txid, k)
                               for k in s["state"]}
            self.invariant(d, "commit %d" % txid)
        elif ev == "read":
            d, key, at, v = f[1], decode_key(f[2]), int(f[3]), int(f[4])
            s = self.s(d)
            ok = [s["hist"][t].get(key, 0) for t in (at, at + 1)
                  if t in s["hist"]]
            if ok and v not in ok:
                raise Violation("read of %r at txid %d gave %d; after that "
                                "commit it was %r" % (key, at, v, ok))

    def check_reads_file(self, path):
        """Lines `WORDS<TAB>SUM` from the concurrent reader."""
        n = 0
        sums = {}
        for ln in open(path, encoding="latin-1"):
            ws, _, got = ln.rstrip("\n").partition("\t")
            if not got:
                continue
            n += 1
            keys = ws.split()
            if ws not in sums:
                sums[ws] = set()
                for s in self.st.values():
                    for h in s["hist"].values():
                        sums[ws].add(sum(h.get(k, 0) or 0 for k in keys))
            if int(got) not in sums[ws]:
                raise Violation("DRPC words %s answered %s: the sum after "
                                "no commit" % (ws, got))
        return n


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    data = open(argv[2], "rb").read()
    c = Checker(data)
    n = 0
    try:
        for ln in open(argv[1], encoding="latin-1"):
            n += 1
            c.line(ln)
        reads = c.check_reads_file(argv[3]) if len(argv) > 3 else 0
    except Violation as e:
        print("trace_check: violation at event %d: %s" % (n, e))
        return 1
    ev = c.events
    print("trace_check: %d events (%d meta, %d partition writes, %d commits,"
          " %d restart passes, %d state reads, %d crash points), %d DRPC "
          "answers checked, 0 violations" % (
              n, ev["meta"], ev["write"] - ev["recover"], ev["commit"],
              ev["recover"], ev["read"], ev["crash"], reads))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
