#!/usr/bin/env python3
"""Generate the expected stdout (NAME.out) of the golden TL programs with CPython.

A TL program that uses only scalars, strings, lists, tuples and dicts is also a valid Python 3
program with the same output (LANGUAGE.md), so for every tests/programs/NAME.tl that

  * does not start with `_` (those are modules imported by other tests),
  * has no NAME.err (error tests have hand-written expectations), and
  * does not start with the line `# tl-only` (hand-written NAME.out, see LANGUAGE.md),

this runs `python3 NAME.tl` with cwd=tests/programs and PYTHONPATH=tests/programs/modules and
writes its stdout to NAME.out. Python is made to import `.tl` files as modules (TL's `import m`
finds `m.tl` in the importing file's directory, then in $TVM_PATH), and writes no bytecode.

A program that exits non-zero or writes anything to stderr is a failure: nothing is written for
it and the script exits 1. Finally every NAME.tl must have a NAME.out or a NAME.err.

usage: python3 tests/gen_expected.py [NAME ...]     (default: all programs)
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
MODULES = os.path.join(PROGRAMS, "modules")

# Runs one .tl file as __main__, with `.tl` added to the suffixes the path finder imports.
BOOTSTRAP = r"""
import os, runpy, sys
from importlib.machinery import (FileFinder, SourceFileLoader, SourcelessFileLoader,
                                 ExtensionFileLoader, SOURCE_SUFFIXES, BYTECODE_SUFFIXES,
                                 EXTENSION_SUFFIXES)
sys.dont_write_bytecode = True
sys.path_hooks.insert(0, FileFinder.path_hook(
    (ExtensionFileLoader, EXTENSION_SUFFIXES),
    (SourceFileLoader, SOURCE_SUFFIXES + ['.tl']),
    (SourcelessFileLoader, BYTECODE_SUFFIXES)))
sys.path_importer_cache.clear()
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name='__main__')
"""


def first_line(path):
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def main(argv):
    names = sorted(f[:-3] for f in os.listdir(PROGRAMS)
                   if f.endswith(".tl") and not f.startswith("_"))
    if argv:
        unknown = [a for a in argv if a not in names]
        if unknown:
            print("gen_expected: no such program: " + ", ".join(unknown), file=sys.stderr)
            return 2
        selected = argv
    else:
        selected = names

    env = dict(os.environ)
    env.update(PYTHONPATH=MODULES, PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8",
               PYTHONHASHSEED="0")
    env.pop("PYTHONSTARTUP", None)

    failed, written, unchanged, skipped = [], 0, 0, 0
    for name in selected:
        tl = os.path.join(PROGRAMS, name + ".tl")
        if os.path.exists(os.path.join(PROGRAMS, name + ".err")) or \
                first_line(tl) == "# tl-only":
            skipped += 1
            continue
        proc = subprocess.run([sys.executable, "-X", "utf8", "-c", BOOTSTRAP, name + ".tl"],
                              cwd=PROGRAMS, env=env, capture_output=True, timeout=120)
        if proc.returncode != 0 or proc.stderr:
            failed.append(name)
            print(f"FAIL {name}: python3 exited {proc.returncode}", file=sys.stderr)
            sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
            continue
        out = os.path.join(PROGRAMS, name + ".out")
        old = None
        if os.path.exists(out):
            with open(out, "rb") as f:
                old = f.read()
        if old == proc.stdout:
            unchanged += 1
        else:
            with open(out, "wb") as f:
                f.write(proc.stdout)
            written += 1
            print(f"wrote {name}.out")

    missing = [n for n in names
               if not os.path.exists(os.path.join(PROGRAMS, n + ".out"))
               and not os.path.exists(os.path.join(PROGRAMS, n + ".err"))]
    for n in missing:
        print(f"MISSING {n}: neither {n}.out nor {n}.err", file=sys.stderr)
    for n in names:
        errf = os.path.join(PROGRAMS, n + ".err")
        if os.path.exists(errf):
            with open(errf, encoding="utf-8") as f:
                lines = f.read().split("\n")
            if len(lines) != 3 or lines[2] != "" or not lines[0].isdigit() or not lines[1]:
                missing.append(n)
                print(f"BAD {n}.err: must be exactly two lines (exit code, first stderr line)",
                      file=sys.stderr)

    print(f"{len(names)} programs: {written} .out written, {unchanged} unchanged, "
          f"{skipped} skipped (.err or tl-only), {len(failed)} failed")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
