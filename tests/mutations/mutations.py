# mutations.py - the exactly-once rules broken on purpose, one at a time
# (docs/testing.md, "Mutation testing"). Each mutation replaces one exact
# snippet of the engine with a broken one; the snippet is looked up in the
# files named (globs), so the list survives code moving between files as
# long as the lines themselves stay. ALTERNATES gives other (snippet,
# replacement) pairs of the same mutation for other versions of the code
# (the first that applies is used). Rules follow
# shared/models/opaque_check.py and docs/design.md.
T = "\t"

MUTATIONS = [
    ("M1", "opaque apply: a replay of the same txid starts from prev",
     ["state/*.c"],
     "case SL_SEM_OPAQUE:\n\t\t\t/* a replay, perhaps with other tuples: from prev */\n"
     "\t\t\trc = comb->combine(\n\t\t\t    comb->user, &base_prev, delta, &out);",
     "case SL_SEM_OPAQUE:\n\t\t\t/* a replay, perhaps with other tuples: from prev */\n"
     "\t\t\trc = comb->combine(\n\t\t\t    comb->user, &base_curr, delta, &out);"),
    ("M2", "opaque apply: a new txid moves curr into prev",
     ["state/*.c"],
     "\tr->prev = r->curr;\n\tr->curr = out;\n\tr->txid = txid;",
     "\tr->curr = out;\n\tr->txid = txid;"),
    ("M3", "transactional apply: the txid already stored is skipped",
     ["state/*.c"],
     "\t\tcase SL_SEM_TRANSACTIONAL:\n\t\t\t*skip = 1;\n\t\t\treturn SL_OK;\n",
     "\t\tcase SL_SEM_TRANSACTIONAL:\n\t\t\trc = comb->combine(\n"
     "\t\t\t    comb->user, &base_curr, delta, &out);\n\t\t\tbreak;\n"),
    ("M4", "read rule: curr when its txid <= committed, else prev",
     ["state/*.c"],
     "*out = r.txid <= committed ? r.curr : r.prev;",
     "*out = r.curr;"),
    ("M5", "rollback on replay: keys an earlier attempt wrote and the replay does not touch get prev back",
     ["state/*.c"],
     "if (!rc && opaque && p->touched_txid == txid && p->touched.len) {",
     "if (0 && !rc && opaque && p->touched_txid == txid && p->touched.len) {"),
    ("M6", "restart pass: keys of the uncommitted txid's records get prev back",
     ["state/*.c"],
     "\t\tif (rr.txid != r.undo)\n\t\t\tcontinue;\n\t\tnroll++;",
     "\t\tif (rr.txid != r.undo || 1)\n\t\t\tcontinue;\n\t\tnroll++;"),
    ("M7", "restart pass: a transactional record forgets the undone txid (so the replay applies again)",
     ["state/*.c"],
     "\t\tif (s->o.semantics != SL_SEM_OPAQUE)\n\t\t\trr.txid = 0;",
     "\t\t(void)0;"),
    ("M8", "commit record only after every state partition wrote the batch",
     ["trident/*.c"],
     "if (f->phase == 1 && f->written == t->npersist_tasks) {",
     "if (f->phase == 1 && f->written + 1 >= t->npersist_tasks) {"),
    ("M9", "coordinator: the oldest batch commits first (txid order)",
     ["trident/*.c"],
     "\t\tinflight *f = &c->f[0];\n\t\tif (f->phase == 0 && f->done == t->ntasks) {",
     "\t\tinflight *f = &c->f[c->nf - 1];\n\t\tif (f->phase == 0 && f->done == t->ntasks) {"),
    ("M10", "restart: the spout resumes from the committed metadata",
     ["trident/*.c"],
     "committed ? meta.data : NULL, meta.len);",
     "NULL, 0);"),
    ("M11", "restart: resume after the lowest committed txid of the states",
     ["trident/*.c"],
     "if (!i || have < *committed) {",
     "if (!i || have > *committed) {"),
    ("M12", "replay: a transactional spout gets the replayed txid's metadata",
     ["trident/*.c"],
     "\tctx.replay = meta_find(k, txid);\n\tif (!ctx.replay && t->store",
     "\tctx.replay = NULL;\n\tif (0 && t->store"),
    ("M13", "a batch's spout metadata is durable before any state write of it",
     ["trident/*.c"],
     "\t\tif (!rc && t->store)\n\t\t\trc = sli_state_put_meta(t->store, \"spout\", txid,",
     "\t\tif (0 && t->store)\n\t\t\trc = sli_state_put_meta(t->store, \"spout\", txid,"),
    ("M14", "apply: a txid older than the stored one is already folded in",
     ["state/*.c"],
     "if (found && r->txid > txid && sem != SL_SEM_NONE) {",
     "if (0) {"),
    ("M15", "plain acker: a tree completes only after its init arrived",
     ["plain/*.c"],
     "if (t->inited && t->ackval == 0) {",
     "if (t->ackval == 0) {"),
]

# The same mutations in the code after the state/ split of issue 18
# (state/apply.c cites the rules: [replay], [tx-skip], [restart]).
ALTERNATES = {
    "M1": [("case SL_SEM_OPAQUE:\n\t\t\t/* [replay], perhaps with other tuples: from prev */\n"
            "\t\t\trc = comb->combine(\n\t\t\t    comb->user, &base_prev, delta, &out);",
            "case SL_SEM_OPAQUE:\n\t\t\t/* [replay], perhaps with other tuples: from prev */\n"
            "\t\t\trc = comb->combine(\n\t\t\t    comb->user, &base_curr, delta, &out);")],
    "M3": [("\t\tcase SL_SEM_TRANSACTIONAL: /* [tx-skip] */\n\t\t\t*skip = 1;\n\t\t\treturn SL_OK;\n",
            "\t\tcase SL_SEM_TRANSACTIONAL: /* [tx-skip] */\n\t\t\trc = comb->combine(\n"
            "\t\t\t    comb->user, &base_curr, delta, &out);\n\t\t\tbreak;\n")],
    "M5": [("if (!rc && s->o.semantics == SL_SEM_OPAQUE && p->touched_txid == txid",
            "if (0 && !rc && s->o.semantics == SL_SEM_OPAQUE && p->touched_txid == txid")],
    "M6": [("\t\tif (rr.txid != r->undo)\n\t\t\tcontinue;\n\t\t(*nroll)++;",
            "\t\tif (rr.txid != r->undo || 1)\n\t\t\tcontinue;\n\t\t(*nroll)++;")],
}
