"""``docs/settings.md`` and ``.env.example``, generated from :mod:`plugins.settings`.

The one source is the settings module: each field's ``#:`` comment, its default, and the
``STINT_…`` variable ``load_settings`` reads for it. ``stint settings docs`` writes both
files; ``stint settings docs --check`` (and ``tests/unit/test_settings_docs.py``) fails
when they drift from the code.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

from . import settings as settings_module
from .settings import Settings

__all__ = ["ENV_EXAMPLE", "SETTINGS_MD", "Documented", "documented", "env_example", "settings_markdown"]

SETTINGS_MD = Path("docs/settings.md")
ENV_EXAMPLE = Path(".env.example")

#: Variables whose field has another name.
_FIELD_OF = {"STINT_LICENCE_SERVICE": "licence_service_enabled"}

#: Groups, in the order the documents list them: (title, variable prefixes or names).
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Storage and processes", ("STINT_DATABASE_URL", "STINT_REDIS", "STINT_DATA_DIR", "STINT_JOBS")),
    ("Keys and sign-in", ("STINT_SECRET", "STINT_ACCESS_TOKEN", "STINT_OPERATOR_2FA", "STINT_RATE_LIMIT")),
    ("The web: address, proxies, browsers, metrics", ("STINT_BASE_URL", "STINT_TRUSTED_PROXIES", "STINT_CORS",
                                                      "STINT_FRAME", "STINT_METRICS")),
    ("Billing and mail", ("STINT_STRIPE", "STINT_SMTP", "STINT_SELLER")),
    ("Licensing and activation", ("STINT_TRIAL", "STINT_GRACE", "STINT_RETENTION", "STINT_ACTIVATION",
                                  "STINT_LICENCE", "STINT_CLOCK")),
    ("DevOps and work items", ("STINT_DEVOPS", "STINT_WORK_ITEM")),
    ("Tests only", ("STINT_FAKE_CLOCK",)),
)


@dataclass(frozen=True, slots=True)
class Documented:
    variable: str
    field: str
    default: str
    text: str
    secret: bool


def _comments(source: str | None = None) -> dict[str, str]:
    """Each field's ``#:`` comment, joined into one paragraph. Fields declared right under
    another (no blank line) without a comment of their own share the one above them
    (``seller_name`` … ``seller_email``)."""
    found: dict[str, str] = {}
    pending: list[str] = []
    shared = ""
    for line in (source if source is not None else inspect.getsource(Settings)).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = re.match(r"(\w+): [^=]+=", stripped)
        if match and pending:
            shared = found[match[1]] = " ".join(pending)
        elif match and shared:
            found[match[1]] = shared
        else:
            shared = ""
        pending = []
    return found


def _variables() -> list[str]:
    source = inspect.getsource(settings_module.load_settings) + inspect.getsource(settings_module)
    return sorted(set(re.findall(r'"(STINT_[A-Z0-9_]+)"', source)))


def _default(name: str) -> str:
    for field in fields(Settings):
        if field.name != name:
            continue
        value = field.default if field.default is not MISSING else (
            field.default_factory() if field.default_factory is not MISSING else None
        )
        if value is None or value == () or value == "":
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)
    raise KeyError(name)


def documented() -> list[Documented]:
    """Every ``STINT_…`` setting, grouped; raises when one has no ``#:`` comment."""
    comments = _comments()
    items: list[Documented] = []
    for variable in _variables():
        field = _FIELD_OF.get(variable, variable.removeprefix("STINT_").lower())
        text = comments.get(field)
        if text is None:
            raise LookupError(f"{variable}: the field {field!r} of plugins/settings.py has no #: comment")
        # STINT_SECRET_KEY's field holds whichever key signs; its own default is "generated".
        default = "" if variable.startswith("STINT_SECRET_KEY") else _default(field)
        secret = bool(re.search(r"SECRET|_KEY\b|_KEYS\b|TOKEN$|PASSWORD", variable)) and not re.search(
            "PUBLIC|TRUST", variable
        )
        items.append(Documented(variable, field, default, text, secret))
    return items


def _grouped() -> list[tuple[str, list[Documented]]]:
    remaining = documented()
    groups: list[tuple[str, list[Documented]]] = []
    for title, prefixes in _GROUPS:
        chosen = [d for d in remaining if d.variable.startswith(prefixes)]
        remaining = [d for d in remaining if d not in chosen]
        groups.append((title, chosen))
    if remaining:
        groups.append(("Other", remaining))
    return [(title, items) for title, items in groups if items]


def _plain(text: str) -> str:
    return text.replace("``", "`")


def settings_markdown() -> str:
    lines = [
        "# Settings",
        "",
        "<!-- Generated from plugins/settings.py by `stint settings docs`; do not edit by hand. -->",
        "",
        "Every setting is an environment variable (a `.env` file in the working directory is",
        "read too; the environment wins). With none set, `stint serve` runs on an embedded",
        "SQLite file with the jobs in-process, manual invoicing and no mail server.",
        "`.env.example` lists the same settings, commented out at their defaults.",
        "",
    ]
    for title, items in _grouped():
        lines += [f"## {title}", "", "| variable | default | meaning |", "|---|---|---|"]
        for item in items:
            default = f"`{item.default}`" if item.default else "—"
            meaning = _plain(item.text).replace("|", "\\|")
            lines.append(f"| `{item.variable}` | {default} | {meaning} |")
        lines.append("")
    lines += [
        "## Outside Stint's settings",
        "",
        "- `PROMETHEUS_MULTIPROC_DIR`: set by `stint serve --workers N` when unset (`docs/deploy.md`).",
        "- `STINT_FAST_PASSWORD_HASHING=1`: cheap password hashing, for the test suite only.",
        "",
    ]
    return "\n".join(lines)


def env_example() -> str:
    lines = [
        "# Stint's settings, generated from plugins/settings.py by `stint settings docs`.",
        "# Every line is commented out at its default; docs/settings.md explains each one.",
        "# Copy to .env (never commit the copy: it holds secrets).",
        "",
    ]
    for title, items in _grouped():
        lines += [f"# --- {title} " + "-" * max(3, 84 - len(title)), ""]
        for item in items:
            for chunk in _wrap(_plain(item.text), 88):
                lines.append(f"# {chunk}")
            value = "" if item.secret else item.default
            lines += [f"# {item.variable}={value}", ""]
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out
