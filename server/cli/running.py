"""Running a command's work with Stint's adapters started (and always stopped again)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from plugins.settings import load_settings

if TYPE_CHECKING:
    from plugins.bootstrap import Stint


def run_with_stint(work: Callable[[Stint], Awaitable[int]], *, migrate: bool = True) -> int:
    """Start the adapters (schema brought up to date), run ``work``, and always close them."""
    from plugins import bootstrap

    async def go() -> int:
        stint = await bootstrap.start(load_settings(), migrate=migrate)
        try:
            return await work(stint)
        finally:
            await bootstrap.stop(stint)

    return asyncio.run(go())
