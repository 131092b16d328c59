"""Named checks for the interop drivers.

Each check prints `PASS name` or `FAIL name: reason` and appends a line to
the results file named by $INTEROP_RESULTS, which run.sh tallies.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Callable


class CheckFailed(Exception):
    pass


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def expect_eq(actual, expected, what: str) -> None:
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


class Checks:
    def __init__(self, prefix: str, on_failure: Callable[[], None] | None = None,
                 on_start: Callable[[], None] | None = None) -> None:
        self.prefix = prefix
        self.on_failure = on_failure
        self.on_start = on_start
        self.passed = 0
        self.failed = 0
        self._results = os.environ.get("INTEROP_RESULTS")

    def _record(self, status: str, name: str) -> None:
        if self._results:
            with open(self._results, "a", encoding="utf-8") as fh:
                fh.write(f"{status}\t{name}\n")

    def run(self, name: str, fn: Callable[[], object]) -> object | None:
        full = f"{self.prefix}: {name}"
        if self.on_start is not None:
            self.on_start()
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            self.failed += 1
            self._record("FAIL", full)
            detail = str(exc) or exc.__class__.__name__
            if not isinstance(exc, CheckFailed):
                detail = f"{exc.__class__.__name__}: {detail}"
            print(f"FAIL {full}\n    {detail}", flush=True)
            if not isinstance(exc, CheckFailed) and os.environ.get("INTEROP_TRACEBACK"):
                traceback.print_exc()
            if self.on_failure is not None:
                try:
                    self.on_failure()
                except Exception as hook_exc:  # noqa: BLE001
                    print(f"    (could not show diagnostics: {hook_exc})")
            sys.stdout.flush()
            return None
        self.passed += 1
        self._record("PASS", full)
        print(f"PASS {full}", flush=True)
        return result if result is not None else True

    def exit_code(self) -> int:
        return 0 if self.failed == 0 else 1


class LogWatch:
    """Remembers where log files end so that a failure shows only the lines
    written while the failing check ran."""

    def __init__(self, *paths: str) -> None:
        self.paths = paths
        self.offsets: dict[str, int] = {}

    def mark(self) -> None:
        for path in self.paths:
            try:
                self.offsets[path] = os.path.getsize(path)
            except OSError:
                self.offsets[path] = 0

    def new_lines(self, path: str) -> list[str]:
        try:
            with open(path, "rb") as fh:
                fh.seek(self.offsets.get(path, 0))
                data = fh.read()
        except OSError:
            return []
        return data.decode("utf-8", errors="replace").splitlines()
