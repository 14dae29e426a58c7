"""``python -m benchmarks [--list] [NAME ...]``: run the benchmarks, each in its own process.

A fresh interpreter per benchmark keeps one benchmark's leftovers (the commands
benchmark's million rows, a configured Django) out of the next one's figures and
set-up.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import benchmarks

#: Modules of this package that are not benchmarks (private ones start with "_").
SUPPORT_MODULES = {"support", "load"}


def available() -> dict[str, str]:
    """Benchmark name -> the first line of its docstring."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if not info.name.startswith("_") and info.name not in SUPPORT_MODULES
    )
    found = {}
    for name in names:  # read, not imported: listing needs neither Django nor a database
        source = Path(benchmarks.__path__[0], f"{name}.py").read_text(encoding="utf-8")
        doc = (ast.get_docstring(ast.parse(source)) or "").strip()
        found[name] = doc.splitlines()[0] if doc else ""
    return found


def parser(names: list[str]) -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Performance goals, as ratios against a floor measured in the same run. "
        "DATABASE_URL picks PostgreSQL (SQLite in memory without it); BENCH_SIZES sets the "
        "row counts of the commands benchmark (default 10000,1000000).",
    )
    result.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {names})"
    )
    result.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    result.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    return result


def main(argv: list[str]) -> int:
    found = available()
    args = parser(sorted(found)).parse_args(argv)
    if args.list:
        for name, summary in found.items():
            print(f"{name:<14} {summary}")
        return 0
    unknown = [name for name in args.names if name not in found]
    if unknown:
        parser(sorted(found)).error(f"unknown benchmark(s) {unknown}; --list shows them")
    if args.in_process:
        for name in args.names:
            importlib.import_module(f"benchmarks.{name}").run()
        return 0
    failed = []
    for name in args.names or sorted(found):
        print(f"== {name} ==", flush=True)
        child = [sys.executable, "-m", "benchmarks", "--in-process", name]
        if subprocess.run(child, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
