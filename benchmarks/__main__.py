import importlib
import pkgutil
import sys

import benchmarks

#: Modules of this package that are not benchmarks (private ones start with "_").
SUPPORT_MODULES = {"support"}


def main(argv: list[str]) -> None:
    names = argv or sorted(
        info.name
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if not info.name.startswith("_") and info.name not in SUPPORT_MODULES
    )
    for name in names:
        print(f"== {name} ==", flush=True)
        importlib.import_module(f"benchmarks.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
