"""The credit balance: an append-only ledger of credit added and credit used.

Negative proration lines become credit here. Credit is applied to the next
invoices until used and is never paid out (SPEC §4), so the balance can never
go below zero and a payout request is always refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn

from core.errors import Conflict, PayoutRefused, ValidationFailed

__all__ = ["PAYOUT_REFUSED", "CreditEntry", "CreditLedger"]

PAYOUT_REFUSED = "Credit is never paid out; it is applied to your next invoices."


@dataclass(frozen=True, slots=True)
class CreditEntry:
    """One movement of credit: positive adds credit, negative uses it."""

    amount: int
    reason: str
    reference: str
    on: date

    def __post_init__(self) -> None:
        if type(self.amount) is not int or self.amount == 0:
            # A zero entry records nothing and would only blur the audit trail.
            raise ValidationFailed(
                f"a credit entry moves a non-zero whole amount: {self.amount!r}", field="amount"
            )


@dataclass(frozen=True, slots=True)
class CreditLedger:
    """A tenant's credit: the entries so far and their sum, which is never negative."""

    entries: tuple[CreditEntry, ...] = ()
    currency: str = "USD"
    balance: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Checked on every prefix, not just the end: credit cannot be used
        # before it exists, even if it is added back later.
        running = 0
        for entry in self.entries:
            running += entry.amount
            if running < 0:
                raise Conflict(f"credit would go negative ({running}) at {entry.reference or entry.reason}")
        object.__setattr__(self, "balance", running)

    def append(self, entry: CreditEntry) -> CreditLedger:
        """This ledger with ``entry`` added; refused if the balance would go negative."""
        if self.balance + entry.amount < 0:
            raise Conflict(f"only {self.balance} of credit is available, cannot use {-entry.amount}")
        return CreditLedger((*self.entries, entry), self.currency)

    def add_credit(self, amount: int, reason: str, reference: str, on: date) -> CreditLedger:
        """This ledger with ``amount`` (> 0) of credit added."""
        if type(amount) is not int or amount <= 0:
            raise ValidationFailed(f"credit added must be positive: {amount!r}", field="amount")
        return self.append(CreditEntry(amount, reason, reference, on))

    def apply_to(
        self, amount_due: int, *, reference: str, on: date, reason: str = "applied to invoice"
    ) -> tuple[int, CreditLedger]:
        """Use as much credit as covers ``amount_due``: (credit applied, the new ledger)."""
        applied = min(self.balance, max(amount_due, 0))
        if applied == 0:
            return 0, self
        return applied, self.append(CreditEntry(-applied, reason, reference, on))

    def request_payout(self) -> NoReturn:
        """Always refused: credit only ever pays for later invoices."""
        raise PayoutRefused(PAYOUT_REFUSED, balance=self.balance, currency=self.currency)
