"""``stint keys list|rotate|reseal|remove``: the secret keys that sign tokens, and their rotation."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from plugins.settings import Settings, load_settings

from .running import run_with_stint

if TYPE_CHECKING:
    from plugins.bootstrap import Stint
    from plugins.identity.keys import SigningKey


def _key_ring(settings: Settings) -> tuple[SigningKey, ...]:
    from plugins.identity.keys import SigningKey

    return tuple(SigningKey(kid, secret) for kid, secret in settings.secret_keys)


def cmd_keys_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    print(f"secret keys from {settings.secret_keys_source} (the first signs; all are accepted):")
    for n, (kid, _) in enumerate(settings.secret_keys):
        print(f"  {kid:<24} {'current' if n == 0 else 'previous'}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from plugins.identity.keys import new_key, rotate_key_file

    settings = load_settings()
    ring = _key_ring(settings)
    if settings.secret_keys_file is None:
        # The environment is the deployment's to change, not this command's.
        fresh = new_key()
        print(
            f"stint keys rotate: the keys come from {settings.secret_keys_source}, which only your "
            "deployment can change. A new key, to list FIRST, keeping the current ones after it:\n"
            f"  STINT_SECRET_KEYS={fresh.kid}:{fresh.secret},"
            + ",".join(f"{key.kid}:…" for key in ring)
            + "\nTo rotate without signing anyone out on a rolling restart, first add it LAST on every "
            "process, then move it first.",
            file=sys.stderr,
        )
        return 2
    fresh = rotate_key_file(settings.secret_keys_file, ring)
    print(f"new current key {fresh.kid} in {settings.secret_keys_file}; still accepted: "
          + ", ".join(key.kid for key in ring))
    print("Processes that read the old file sign with the previous key until restarted (it stays "
          "accepted) and pick the new one up when they meet a token signed with it.")
    return 0


def cmd_keys_reseal(args: argparse.Namespace) -> int:
    async def work(stint: Stint) -> int:
        done = await stint.devops.reseal()
        print(f"DevOps tokens sealed again with key {stint.keys.current.kid}: {done.resealed} "
              f"(already with it: {done.current})")
        if done.unreadable:
            print("no key opens the DevOps token of these tenants (an administrator must enter it "
                  "again): " + ", ".join(done.unreadable), file=sys.stderr)
        return 0

    return run_with_stint(work)


def cmd_keys_remove(args: argparse.Namespace) -> int:
    from plugins.identity.keys import KeyRingError, check_removable, remove_from_key_file

    settings = load_settings()
    ring = _key_ring(settings)
    if settings.secret_keys_file is None:
        print(f"stint keys remove: the keys come from {settings.secret_keys_source}: remove {args.kid} there "
              "(run `stint keys reseal` first).", file=sys.stderr)
        return 2
    try:
        check_removable(ring, args.kid)
    except KeyRingError as exc:
        print(f"stint keys remove: {exc}", file=sys.stderr)
        return 2
    # What the key sealed must open without it before it goes.
    cmd_keys_reseal(args)
    kept = remove_from_key_file(settings.secret_keys_file, ring, args.kid)
    print(f"removed key {args.kid}; keys now: {', '.join(key.kid for key in kept)}. Restart Stint's "
          "processes: until then they may still accept tokens signed with it.")
    return 0
