"""``stint activation issue|verify|clock``: offline activation files (on-premises) and
whether this server's clock is believed."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from plugins.settings import load_settings

from .running import run_with_stint

if TYPE_CHECKING:
    from datetime import datetime

    from core.services.trusted_time import ClockReport
    from plugins.bootstrap import Stint


def cmd_activation_issue(args: argparse.Namespace) -> int:
    from plugins.activation import issue_command

    # No database: the issuing side needs only the signing key (or the dev key in the data dir).
    settings = load_settings()
    print(issue_command(
        args.tenant, args.server_id, args.plan, args.seats, args.expires, args.out,
        settings.activation_signing_key, settings.data_dir, period_start=args.period_start,
    ))
    return 0


def cmd_activation_verify(args: argparse.Namespace) -> int:
    from plugins.activation import verify_command

    settings = load_settings()
    ok, message = verify_command(
        args.file, args.server_id, settings.activation_public_keys,
        trust_dev_key=settings.activation_trust_dev_key, data_dir=settings.data_dir,
    )
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_activation_clock(args: argparse.Namespace) -> int:
    from core.services.trusted_time import clock_report

    async def work(stint: Stint) -> int:
        report = await clock_report(stint.uow, stint.clock, tolerance=stint.settings.clock_tolerance)
        print(_clock_text(report))
        return 1 if report.refused else 0

    return run_with_stint(work)


def _stamp(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _clock_text(report: ClockReport) -> str:
    minutes = int(report.tolerance.total_seconds() // 60)
    lines = [f"server clock: {_stamp(report.now)} (trusted unless more than {minutes} minutes behind)"]
    if not report.tenants:
        lines.append("no on-premises tenants: the clock is not checked")
    for one in report.tenants:
        verdict = "ok" if one.set_back is None else "REFUSED clock_set_back"
        lines.append(
            f"{one.tenant.slug}: {verdict}; latest trusted time {_stamp(one.trusted.latest)}, "
            f"newest activation file issued {_stamp(one.trusted.newest_issued_at)}"
        )
        if one.set_back is not None:
            lines.append(f"  {one.set_back.message}")
    return "\n".join(lines)
