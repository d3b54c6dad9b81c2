#!/usr/bin/env python3
"""Time a command: run it once to warm up, then RUNS times; print the median wall time in
seconds on the first line, then the command's stdout (which must be the same every run).

    measure.py RUNS COMMAND [ARG...]

Exit status 1, with the reason on stderr, when the command fails or its output changes."""
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        first = done.stderr.decode(errors='replace').strip().splitlines()[:1]
        sys.exit(f'{" ".join(cmd)}: exit status {done.returncode}'
                 + (f': {first[0]}' if first else ''))
    return elapsed, done.stdout


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs, cmd = int(sys.argv[1]), sys.argv[2:]
    _, expected = run_once(cmd)
    times = []
    for _ in range(runs):
        elapsed, output = run_once(cmd)
        if output != expected:
            sys.exit(f'{" ".join(cmd)}: output differs between runs')
        times.append(elapsed)
    sys.stdout.write(f'{statistics.median(times):.6f}\n')
    sys.stdout.buffer.write(expected)


if __name__ == '__main__':
    main()
