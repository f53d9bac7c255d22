"""The outer layers import only downwards: server → admin → web → plugins → core.

The app is assembled in ``server/``; ``admin/`` (the operator console) builds on ``web/``;
neither ``web/`` nor ``plugins/`` may reach up, not even from inside a function, where a
cycle hides from the interpreter until the wrong module is imported first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_core_purity import impure_imports

ROOT = Path(__file__).resolve().parents[2]

#: Each layer and the layers above it, which it must never import.
ABOVE = {
    "plugins": {"web", "admin", "server"},
    "web": {"admin", "server"},
    "admin": {"server"},
}


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_a_layer_imports_nothing_from_the_layers_above_it(layer: str) -> None:
    """No module of the layer imports a layer above it, at module level or in a function."""
    assert impure_imports(ROOT / layer, ABOVE[layer]) == []


def test_the_layer_check_catches_web_importing_the_console_inside_a_function(tmp_path: Path) -> None:
    """The check is not vacuous: web importing admin lazily, as the old app factory did, is reported."""
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "app.py").write_text(
        "def create_app():\n    from admin import console_router\n    return console_router\n",
        encoding="utf-8",
    )
    (tmp_path / "web" / "fine.py").write_text("from plugins.settings import Settings\n", encoding="utf-8")
    assert impure_imports(tmp_path / "web", ABOVE["web"]) == ["web/app.py:2 imports admin"]
