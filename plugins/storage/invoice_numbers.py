"""Invoice numbers: each billing account numbers its invoices 1, 2, 3 … in its own
``invoice_counter`` row, one at a time (``InvoiceRepo.add``) or a batch per account at
once (``take_numbers``, the renewals' sweep)."""

from __future__ import annotations

from .plain_sql import Sql, fetch
from .tables import InvoiceCounter as CounterRow

__all__ = ["NEXT_NUMBER", "take_numbers"]


# The account's next invoice number, in one statement: the upsert locks the counter row
# until the transaction ends (another invoice of the account waits here; on SQLite the
# write unit of work holds the database's lock already), and a rollback gives it back.
NEXT_NUMBER = Sql(
    "INSERT INTO invoice_counter (subscription_id, last_number) VALUES ({}, 1)"
    " ON CONFLICT (subscription_id) DO UPDATE SET last_number = invoice_counter.last_number + 1"
    " RETURNING last_number"
)


async def take_numbers(counts: dict[str, int]) -> dict[str, int]:
    """Take ``counts[account]`` numbers for each account; the last number taken, by account.

    One statement per thousand accounts, in account order (two sweeps lock counters in
    the same order, so they cannot deadlock on them). The caller gives the account's
    invoices ``last − count + 1 … last`` in order.
    """
    last: dict[str, int] = {}
    accounts = sorted(account for account, count in counts.items() if count > 0)
    for start in range(0, len(accounts), 1000):
        chunk = accounts[start : start + 1000]
        values = ", ".join(["({}, {})"] * len(chunk))
        sql = Sql(
            f"INSERT INTO invoice_counter (subscription_id, last_number) VALUES {values}"
            " ON CONFLICT (subscription_id) DO UPDATE"
            " SET last_number = invoice_counter.last_number + excluded.last_number"
            " RETURNING subscription_id, last_number"
        )
        args = [value for account in chunk for value in (account, counts[account])]
        for row in await fetch(CounterRow, sql, *args):
            last[row["subscription_id"]] = int(row["last_number"])
    return last
