"""The layering rules are import-linter contracts in ``pyproject.toml``; these tests show each
one holds on the code as it is and bites on a planted violation.

The contracts run over a copy of the six top packages, so a planted import never touches
the real tree; imports inside functions count, which is where a cycle hides from the
interpreter until the wrong module is imported first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "plugins", "web", "admin", "server", "tracker")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
_NOT_CODE = (".html", ".css", ".js", ".png", ".pem")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages' Python files and the contracts."""
    root = tmp_path_factory.mktemp("layering")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package,
            ignore=lambda _, names: [n for n in names if n == "__pycache__" or n.endswith(_NOT_CODE)],
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def _planted(tree: Path, module: str, line: str, tmp_path: Path) -> Path:
    """A copy of ``tree`` where ``module`` (a path under it) ends with ``line``."""
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    return copy


def test_every_layering_contract_is_kept_by_the_code_as_it_is(tree: Path) -> None:
    """The real tree keeps every contract (CI runs the same check through ``make lint``)."""
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/money.py", "import litestar", "The core is pure"),
        ("core/tracking/timer.py", "def _f():\n    from plugins import bootstrap", "The core is pure"),
        ("plugins/demo.py", "def _f():\n    from web import routes", "Layers import only downwards"),
        ("web/routes.py", "def _f():\n    import admin", "Layers import only downwards"),
        ("web/api/me.py", "from plugins.storage.uow import PiccoloUnitOfWorkFactory",
         "The web and the console reach adapters only through the composition root"),
        ("core/tracking/timer.py", "from core.licensing.seats import keep_most_recent",
         "Contexts in core reach each other through their public faces"),
        ("tracker/cli.py", "def _f():\n    from core.tracking import timer",
         "The terminal tracker is a client"),
    ],
    ids=["framework-in-core", "outer-layer-in-core", "plugins-to-web", "web-to-admin", "web-to-storage",
         "context-internals", "tracker-to-core"],
)
def test_a_planted_violation_breaks_its_contract(
    tree: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """Each contract bites: a planted import, even inside a function, fails the check by name."""
    result = _lint(_planted(tree, module, line, tmp_path))
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken.replace("\n", " ")


def test_every_folder_of_code_is_a_package_so_the_contracts_see_it() -> None:
    """A folder without ``__init__.py`` is a namespace package, which import-linter skips:
    ``web/api`` was one, and no contract looked at the API's imports."""
    missing = [
        str(folder.relative_to(ROOT))
        for package in PACKAGES
        for folder in [ROOT / package, *(ROOT / package).rglob("*")]
        if folder.is_dir() and any(folder.glob("*.py")) and not (folder / "__init__.py").exists()
    ]
    assert missing == []
