"""Child processes of the concurrency and crash tests (run as ``python -m``).

``hold-lock ROOT SECONDS``: hold the workspace lock, print "locked", sleep.
``flip-views ROOT ID_A ID_B``: re-register fleet_info/routes/segments alternately on two
dataset outputs forever, printing each completed registration.
"""

from __future__ import annotations

import sys
import time

from evfleet.storage import Workspace

VIEWS = ("fleet_info", "routes", "segments")


def hold_lock(root: str, seconds: float) -> None:
    with Workspace(root).lock("evfleet run"):
        print("locked", flush=True)
        time.sleep(seconds)


def flip_views(root: str, a: str, b: str) -> None:
    ws = Workspace(root)
    n = 0
    while True:
        sid = (a, b)[n % 2]
        folder = ws.stage_dir("datasets", sid)
        tables = {"fleet_info": folder / "fleet_info.parquet", "routes": folder / "routes",
                  "segments": folder / "segments"}  # fmt: skip
        ws.register("datasets", sid, tables)
        n += 1
        print(n, flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "hold-lock":
        hold_lock(args[0], float(args[1]))
    elif command == "flip-views":
        flip_views(*args)
