"""Benchmark: proration quotes per second, in process, against the bare arithmetic.

Run: ``python bench/proration.py``. It prints the rate of a realistic quote (a
seat change on Team annual, through ``quote_change``), the rate of the bare
exact arithmetic it cannot beat (one Fraction multiply-divide-round), and the
ratio between them: the ratio is what to compare across machines.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

# Runnable from a checkout by any Python 3.11+, installed or not: the core is stdlib only.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.money import round_half_even
from core.periods import Interval, first_period
from core.proration import Change, Terms, quote_change

SECONDS = 0.5  # per round; three rounds per measurement, about 1.5 s each
ROUNDS = 3
BATCH = 2_000

PRICES = {("team", Interval.ANNUAL): 14_400, ("team", Interval.MONTHLY): 1_500}


def price_of(plan_id: str, interval: Interval) -> int:
    return PRICES[(plan_id, interval)]


def is_free(plan_id: str) -> bool:
    return plan_id == "free"


def rate(batch: Callable[[], object]) -> float:
    """Calls per second of ``batch`` (which does BATCH calls): the best of ROUNDS rounds.

    The best round, not the mean, because other processes only ever slow a
    round down; the best is the closest to what the code itself costs.
    """
    batch()  # warm caches and the specialising interpreter before timing
    best = 0.0
    for _ in range(ROUNDS):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < SECONDS:
            batch()
            calls += BATCH
        best = max(best, calls / elapsed)
    return best


def main() -> None:
    period = first_period(date(2026, 1, 1), Interval.ANNUAL)
    current = Terms("team", Interval.ANNUAL, 10, 14_400)
    # Requests spread over the period and over seat counts, so no single
    # answer is repeated; the Change is built per request, as a service would.
    requests = [(period.start + timedelta(days=i % period.days), 11 + i % 200) for i in range(BATCH)]

    def quotes() -> None:
        for on, seats in requests:
            quote_change(current, period, on, Change(seats=seats), price_of, is_free)

    operands = [(40 + i % 200, 14_400, 1 + i % 365, 365) for i in range(BATCH)]

    def bare() -> None:
        for seats, price, left, days in operands:
            round_half_even(Fraction(seats * price * left, days))

    def receipts() -> None:
        for on, seats in requests:
            quote = quote_change(current, period, on, Change(seats=seats), price_of, is_free)
            _ = quote.lines[0].description

    quote_rate, receipt_rate, bare_rate = rate(quotes), rate(receipts), rate(bare)
    sample = quote_change(current, period, date(2026, 1, 22), Change(seats=50), price_of, is_free)
    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"sample   {sample.lines[0].description} = {sample.lines[0].amount_text}")
    print(f"quotes   {quote_rate:>12,.0f} /s  (quote_change, seat change on Team annual)")
    print(f"receipts {receipt_rate:>12,.0f} /s  (the same, plus rendering the line's description)")
    print(f"bare     {bare_rate:>12,.0f} /s  (one Fraction multiply-divide-round)")
    print(f"ratio    {bare_rate / quote_rate:>12.1f} × (bare arithmetic per quote)")


if __name__ == "__main__":
    main()
