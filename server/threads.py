"""How the serving process shares its interpreter between threads.

A process serves requests on one event loop while worker threads do pure-Python work that
takes seconds (an import's row checks and rows, an export's pages). Every database statement
of a request is a hop to its connection's thread and back, and each hop needs the GIL. A
thread that wants the GIL waits until the one holding it has run for the switch interval
(CPython's default: 5 ms). In a traced import, another tenant's ``POST /worklogs`` (dozens
of hops) waited up to 0.8–1.3 s while the import's rows were checked; at 0.5 ms no such
wait reached 0.2 s (docs/benchmarks.md, Imports, sixth round, with alternated runs).
Threads that do not contend never notice the setting: nothing interrupts the event loop
while no other thread wants the GIL.
"""

from __future__ import annotations

import sys

__all__ = ["SWITCH_INTERVAL_S", "switch_threads_promptly"]

SWITCH_INTERVAL_S = 0.0005


def switch_threads_promptly() -> None:
    """For ``stint serve``'s processes (and the benchmark that stands in for one)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
