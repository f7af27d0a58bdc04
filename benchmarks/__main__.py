"""``python -m benchmarks`` (``make bench``): run every benchmark module in this folder."""

from __future__ import annotations

import pkgutil
import runpy
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    failed = []
    for name in names:
        module = f"benchmarks.{name}"
        print(f"\n=== python -m {module} ===", flush=True)
        saved = sys.argv
        sys.argv = [module]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                failed.append(name)
        except Exception as exc:  # report and go on with the next benchmark
            print(f"{module} failed: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
        finally:
            sys.argv = saved
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
