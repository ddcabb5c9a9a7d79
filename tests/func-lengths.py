#!/usr/bin/env python3
"""func-lengths.py [--max N] [FILE...] - lists the C functions longer than N
lines (default 120; issue 18: "no function over ~120 lines") and exits 1 if
there is any that is not in EXCEPTIONS below. It also lists the *.c files
longer than 700 lines whose first comment does not say why ("Longer than
700 lines: REASON" in the file's first 40 lines), and fails on them.

Without FILE arguments it scans every tracked *.c file (`git ls-files`).
A function's length counts the lines from the one holding its name to its
closing brace. The scan counts braces after removing comments, string and
character literals and preprocessor lines: good enough for this code base
(clang-format's Linux brace style), not a C parser.
"""
import os
import re
import subprocess
import sys

# "path:function": why it may stay longer. Keep it short: each entry is a
# debt with its reason, not a permission.
EXCEPTIONS = {}

LIMIT = 120
FILE_LIMIT = 700
FILE_REASON = "Longer than 700 lines:"


def strip(text):
    """Blanks comments, literals and preprocessor lines; keeps newlines."""
    out = []
    i, n = 0, len(text)
    bol = True  # at the beginning of a line (only blanks so far)
    while i < n:
        c = text[i]
        if bol and c == "#":
            # a preprocessor line, with its backslash continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n - 1) - i - 1) + c)
            i = j + 1
            continue
        if c == "\n":
            bol = True
        elif not c.isspace():
            bol = False
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    """Yields (name, first line, last line) of each function in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip(f.read())
    depth = 0
    head = []  # the text at depth 0 since the last ';', '}' or '{'
    head_line = None
    line = 1
    start = None
    for c in text:
        if c == "\n":
            line += 1
        if depth == 0:
            if c == "{":
                h = "".join(head).strip()
                m = re.search(r"([A-Za-z_]\w*)\s*\(", h)
                if m and h.endswith(")") and "=" not in h.split("(")[0]:
                    start = (m.group(1), head_line + h[: m.start(1)].count("\n"))
                else:
                    start = None
                depth = 1
                head, head_line = [], None
            elif c == ";" or c == "}":
                head, head_line = [], None
            else:
                if head_line is None and not c.isspace():
                    head_line = line
                if head_line is not None:
                    head.append(c)
        else:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    if start:
                        yield start[0], start[1], line
                    start = None


def tracked_sources():
    """The *.c files git tracks; outside a git checkout, those on disk."""
    try:
        return subprocess.run(
            ["git", "ls-files", "*.c"], capture_output=True, text=True,
            check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        found = []
        for top, dirs, names in os.walk("."):
            dirs[:] = [d for d in dirs
                       if not d.startswith(".") and d != "build"]
            found += [os.path.join(top, n)[2:] for n in names
                      if n.endswith(".c")]
        return found


def main(argv):
    limit = LIMIT
    if argv[:1] == ["--max"]:
        limit = int(argv[1])
        argv = argv[2:]
    files = argv
    if not files:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        os.chdir(root)
        files = tracked_sources()
    bad = 0
    for path in sorted(files):
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        nlines = len(lines) - (lines[-1] == "")
        if nlines > FILE_LIMIT and FILE_REASON not in "\n".join(lines[:40]):
            print("%s: %d lines, and no \"%s\" reason at its top"
                  % (path, nlines, FILE_REASON))
            bad += 1
        for name, first, last in functions(path):
            n = last - first + 1
            if n <= limit:
                continue
            key = "%s:%s" % (path, name)
            if key in EXCEPTIONS:
                print("%s:%d: %s is %d lines (allowed: %s)"
                      % (path, first, name, n, EXCEPTIONS[key]))
            else:
                print("%s:%d: %s is %d lines (over %d)"
                      % (path, first, name, n, limit))
                bad += 1
    if bad:
        print("func-lengths: %d function(s) over %d lines or file(s) over "
              "%d lines without a reason: split them (issue 18)"
              % (bad, limit, FILE_LIMIT), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
