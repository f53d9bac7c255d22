"""The core stays pure: no framework and no outer layer is imported anywhere under core/."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"

#: Frameworks and outer layers the domain must never see (ARCHITECTURE.md).
FORBIDDEN = {
    "litestar",
    "piccolo",
    "celery",
    "kombu",
    "redis",
    "stripe",
    "jinja2",
    "httpx",
    "asyncpg",
    "aiosqlite",
    "msgspec",
    "jwt",
    "argon2",
    "openpyxl",
    "uvicorn",
    "cryptography",
    "plugins",
    "web",
    "admin",
    "server",
}


def impure_imports(root: Path, forbidden: set[str] = FORBIDDEN) -> list[str]:
    """Every ``import X`` / ``from X import`` under ``root`` whose top package is forbidden."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in forbidden:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} imports {name}")
    return found


def test_core_imports_no_framework_and_no_outer_layer() -> None:
    """Nothing under core/ imports a framework, a driver, or plugins/web/admin/server."""
    assert impure_imports(CORE) == []


def test_the_purity_check_catches_a_core_module_that_imports_litestar(tmp_path: Path) -> None:
    """The check is not vacuous: a core module importing litestar (even lazily) is reported."""
    fake_core = tmp_path / "core"
    (fake_core / "licensing").mkdir(parents=True)
    (fake_core / "licensing" / "leaky.py").write_text(
        "def handler():\n    from litestar import get\n    return get\n", encoding="utf-8"
    )
    (fake_core / "fine.py").write_text("import fractions\n", encoding="utf-8")
    assert impure_imports(fake_core) == ["core/licensing/leaky.py:2 imports litestar"]
