#!/usr/bin/env python3
"""layering.py [BUILDDIR] - the include graph of sluice against its layering.

Reads layers.conf (the table the build uses too), scans every #include of
the modules' sources, prints the graph (module -> module it includes, with
how many includes), and fails on an edge the table does not allow:
  - an internal header of a module that is not below the includer;
  - a public part (sluice/NAME.h, sluice.h) the includer may not use;
  - a third-party library header outside the modules named for it;
  - an include by relative path ("../x/y.h"), which would bypass the
    build's include paths.
With BUILDDIR (e.g. build), it also checks that the build enforces the
table: for each module, a probe that includes a header of a module above
it must fail to compile with the module's include directory
(BUILDDIR/inc/MODULE), and a probe of an allowed header must compile.
Run by tests/run-all.sh.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBS = {  # library -> how its headers are named
    'sodium': ('sodium.h', 'sodium/'),
    'nanomsg': ('nanomsg/',),
    'leveldb': ('leveldb/',),
    'jansson': ('jansson.h',),
    'microhttpd': ('microhttpd.h',),
}


def read_layers():
    layers, waivers = {}, {}
    with open(os.path.join(ROOT, 'layers.conf')) as f:
        for line in f:
            w = line.split('#')[0].split()
            if not w:
                continue
            if w[0] == 'waiver':
                waivers[w[1]] = w[2].split(',')
                continue
            below, public, libs = ([] if x == '-' else x.split(',')
                                   for x in w[1:4])
            layers[w[0]] = {'below': below, 'public': public, 'libs': libs}
    return layers, waivers


def lower(layers, m):
    out = set()
    for d in layers[m]['below']:
        out |= {d} | lower(layers, d)
    return out


def sources(m):
    out = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, m)):
        out += [os.path.join(dirpath, f) for f in sorted(files)
                if f.endswith(('.c', '.h'))]
    return sorted(out)


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def check(layers, waivers):
    """Returns (edges {(from, to): n}, errors [str], waived [str])."""
    edges, errors, waived = {}, [], []
    modules = set(layers)
    for m in layers:
        allowed = {m} | lower(layers, m)
        public = layers[m]['public']
        for path in sources(m):
            rel = os.path.relpath(path, ROOT)
            extra = set(waivers.get(rel, ()))
            for e in list(extra):
                extra |= lower(layers, e)
            text = open(path, encoding='utf-8', errors='replace').read()
            for kind, inc in INCLUDE.findall(text):
                where = '%s: #include %s%s%s' % (
                    rel, kind, inc, '"' if kind == '"' else '>')
                if inc.startswith('../') or '/../' in inc:
                    errors.append(where + ': relative path across folders')
                    continue
                if inc == 'sluice.h' or inc.startswith('sluice/'):
                    part = 'sluice' if inc == 'sluice.h' else inc[7:-2]
                    ok = 'all' in public or part in public
                    edges[(m, 'public:' + part)] = edges.get(
                        (m, 'public:' + part), 0) + 1
                    if not ok:
                        errors.append(where + ': public part not allowed '
                                      'in %s (layers.conf)' % m)
                    continue
                lib = [l for l, names in LIBS.items()
                       if any(inc == n or (n.endswith('/')
                                           and inc.startswith(n))
                              for n in names)]
                if lib:
                    if lib[0] not in layers[m]['libs']:
                        errors.append(where + ': library %s not allowed '
                                      'in %s' % (lib[0], m))
                    continue
                if kind == '<':
                    continue  # the C library and the system
                top = inc.split('/')[0] if '/' in inc else None
                if top is None:  # a file of the includer's own folder
                    if not os.path.exists(os.path.join(
                            os.path.dirname(path), inc)):
                        errors.append(where + ': no such file beside it')
                    continue
                if top not in modules:
                    errors.append(where + ': not a module')
                    continue
                if top != m:
                    edges[(m, top)] = edges.get((m, top), 0) + 1
                if top in allowed:
                    continue
                if top in extra:
                    waived.append(where)
                    continue
                errors.append(where + ': %s is not below %s (layers.conf)'
                              % (top, m))
    return edges, errors, waived


def probe(builddir, layers):
    """Compiles probes against BUILDDIR/inc/MODULE: what the table forbids
    must fail, what it allows must compile."""
    errors = []
    order = list(layers)
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'probe.c')
        for m in order:
            inc = os.path.join(ROOT, builddir, 'inc', m)
            if not os.path.isdir(inc):
                errors.append('%s: no include directory %s (build first)'
                              % (m, inc))
                continue
            allowed = {m} | lower(layers, m)
            above = [o for o in order if o not in allowed
                     and os.path.isdir(os.path.join(ROOT, o))
                     and any(p.endswith('.h') for p in sources(o))]
            cases = []
            for o in above[:2]:
                h = [p for p in sources(o) if p.endswith('.h')][0]
                cases.append((os.path.relpath(h, ROOT), False))
            mine = [p for p in sources(m) if p.endswith('.h')
                    and os.path.dirname(p) == os.path.join(ROOT, m)]
            if mine:
                cases.append((os.path.relpath(mine[0], ROOT), True))
            for header, should in cases:
                with open(src, 'w') as f:
                    f.write('#include "%s"\n' % header)
                r = subprocess.run(
                    ['cc', '-std=c11', '-fsyntax-only',
                     '-D_POSIX_C_SOURCE=200809L', '-D_DEFAULT_SOURCE=1',
                     '-I' + inc, src], capture_output=True, text=True)
                if (r.returncode == 0) != should:
                    errors.append('build: %s with %s/inc/%s: %s' % (
                        header, builddir, m,
                        'refused but allowed: ' + r.stderr.strip()[:300]
                        if should else 'compiles but crosses a layer'))
    return errors


def main():
    layers, waivers = read_layers()
    edges, errors, waived = check(layers, waivers)
    print('include graph (module -> what it includes: count):')
    for m in layers:
        out = sorted((t, n) for (f, t), n in edges.items() if f == m)
        print('  %-9s -> %s' % (m, ', '.join('%s %d' % (t, n)
                                              for t, n in out) or '-'))
    for w in waived:
        print('  WAIVED (layers.conf): ' + w)
    if len(sys.argv) > 1:
        errors += probe(sys.argv[1], layers)
    if errors:
        print('layering: %d forbidden include(s):' % len(errors),
              file=sys.stderr)
        for e in errors:
            print('  ' + e, file=sys.stderr)
        return 1
    print('layering: every include follows layers.conf')
    return 0


if __name__ == '__main__':
    sys.exit(main())
