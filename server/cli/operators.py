"""``stint operator create|code``: operator (vendor staff) accounts and their second factor."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .running import run_with_stint

if TYPE_CHECKING:
    from plugins.bootstrap import Stint


def cmd_operator_create(args: argparse.Namespace) -> int:
    from core.services.identity import create_operator
    from core.services.second_factor import enrol_operator_now

    async def work(stint: Stint) -> int:
        operator = await create_operator(
            stint.uow, stint.hasher, stint.clock, email=args.email, password=args.password,
            name=args.name or "",
        )
        print(f"operator {operator.email} created")
        if args.no_second_factor:
            print("no second factor: the operator sets one up at the first sign-in"
                  + (" (required before anything else)" if stint.settings.operator_2fa_required else ""))
            return 0
        enrolment, recovery = await enrol_operator_now(stint.uow, stint.codes, stint.clock, operator=operator)
        print("second factor (TOTP): add this to the operator's authenticator app; shown only now")
        print(f"  secret: {enrolment.secret}")
        print(f"  uri:    {enrolment.uri}")
        print("recovery codes (each signs in once):")
        for code in recovery:
            print(f"  {code}")
        return 0

    return run_with_stint(work)


def cmd_operator_code(args: argparse.Namespace) -> int:
    from core.services.second_factor import current_operator_code

    async def work(stint: Stint) -> int:
        print(await current_operator_code(stint.uow, stint.codes, stint.clock, email=args.email))
        return 0

    return run_with_stint(work)
