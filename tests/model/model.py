"""Step functions of sluice's commit protocol (docs/state-format.md), shared
by the exhaustive checker (opaque_check.py) and the trace checker
(trace_check.py). A state is a dict key -> (txid, prev, curr); records of
touched keys a dict (txid, partition) -> frozenset(keys). Rules can be
switched to the old (unfixed) ones to show their counterexamples.
"""


class Rules:
    """Which rules the C follows; defaults are the fixed ones."""

    def __init__(self, **kw):
        self.rollback = True          # in-run rollback of untouched keys
        self.per_partition = False    # old: records per partition number
        self.restart_pass = True      # new: one pass at restart
        self.lowest_meta = True       # new: resume from the lowest commit + its meta
        self.uncommit = True          # new: a state ahead gives its commit back
        self.pipe_drop = True         # new: stored ranges with no bytes are dropped
        self.refuse_tx_pipe = True    # new: transactional state on a pipe refused
        self.snapshot_reads = True    # new: one pinned txid per request
        self.__dict__.update(kw)


def read(state, committed, key):
    """The read rule: curr when txid <= committed, else prev."""
    rec = state.get(key)
    if rec is None:
        return 0
    txid, prev, curr = rec
    v = curr if txid <= committed else prev
    return v or 0


def apply(state, touched, part, txid, delta, sem, rules):
    """One atomic write of partition part for batch txid: the keys of delta
    (already routed to part) under semantics sem, plus the in-run rollback
    of the keys part's record of txid names that the call leaves out.
    Returns (state, touched), new dicts."""
    state = dict(state)
    touched = dict(touched)
    for k, d in delta.items():
        old = state.get(k)
        if old is None:
            state[k] = (txid, None, d)
        elif old[0] == txid:
            if sem == "transactional":
                continue
            state[k] = (txid, old[1], (old[1] or 0) + d)
        elif old[0] > txid:
            continue
        else:
            state[k] = (txid, old[2], (old[2] or 0) + d)
    if rules.rollback and sem == "opaque":
        for k in touched.get((txid, part), ()):
            if k not in delta and k in state and state[k][0] == txid:
                t, p, _ = state[k]
                if p is None:
                    del state[k]
                else:
                    state[k] = (t, p, p)
    if rules.per_partition:
        touched = {tk: v for tk, v in touched.items() if tk[1] != part}
    else:
        touched = {tk: v for tk, v in touched.items()
                   if tk[1] != part or tk[0] == txid}
    touched[(txid, part)] = frozenset(delta)
    return state, touched


def restart_pass(state, touched, committed, target, sem, rules):
    """The restart pass of one state (sli_state_recover): roll back every
    key a record of target+1 names that still carries it, drop every
    record. Returns (state, touched, committed)."""
    if not rules.restart_pass:
        return state, touched, committed
    undo = target + 1
    state = dict(state)
    for (t, _p), keys in touched.items():
        if t != undo:
            continue
        for k in keys:
            rec = state.get(k)
            if rec is None or rec[0] != undo:
                continue
            if rec[1] is None:
                del state[k]
            else:
                state[k] = (0 if sem == "transactional" else undo,
                            rec[1], rec[1])
    return state, {}, target
