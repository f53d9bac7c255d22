"""The OpenAPI schema lints clean with Redocly's CLI and Stint's rules (tests/openapi/redocly.yaml).

The CLI comes from npm, installed once into a cache directory (``STINT_TOOLS_CACHE``, default
``~/.cache/stint``). Without npm or the registry the tests are skipped with the reason, except
under ``STINT_REQUIRE_SERVICES=1`` (CI), where that fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from tests.conftest import make_settings

REDOCLY = "@redocly/cli@2.77.0"
RULES = Path(__file__).resolve().parents[1] / "openapi"
#: No telemetry or update checks from a test run.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


def _unavailable(why: str) -> None:
    if os.environ.get("STINT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"STINT_REQUIRE_SERVICES=1 but the OpenAPI linter is unavailable: {why}")
    pytest.skip(f"OpenAPI linter unavailable ({why}); install node and npm, or reach the npm registry")


@pytest.fixture(scope="module")
def redocly() -> Path:
    cache = Path(os.environ.get("STINT_TOOLS_CACHE", Path.home() / ".cache" / "stint")) / "redocly"
    binary = cache / "node_modules" / ".bin" / "redocly"
    version = cache / "node_modules" / "@redocly" / "cli" / "package.json"
    wanted = REDOCLY.rsplit("@", 1)[1]
    if binary.exists() and json.loads(version.read_text()).get("version") == wanted:
        return binary
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(cache), REDOCLY],
            capture_output=True, text=True, timeout=600, check=False,
        )
    except subprocess.TimeoutExpired:
        _unavailable("npm install took over 10 minutes")
    if done.returncode != 0 or not binary.exists():
        _unavailable(f"npm install {REDOCLY} failed: {done.stderr.strip()[-500:]}")
    return binary


def _schema(tmp_path: Path) -> dict[str, Any]:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path))
    return dict(app.openapi_schema.to_schema())


def _lint(redocly: Path, tmp_path: Path, schema: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Lint ``schema`` with the repository's rules and its file of deliberate exceptions."""
    work = tmp_path / "lint"
    work.mkdir()
    (work / "openapi.json").write_text(json.dumps(schema, indent=1))
    for name in ("redocly.yaml", ".redocly.lint-ignore.yaml"):
        shutil.copy(RULES / name, work / name)
    return subprocess.run(
        [str(redocly), "lint", "openapi.json", "--config", "redocly.yaml", "--format", "stylish"],
        cwd=work, capture_output=True, text=True, timeout=300, check=False, env={**os.environ, **QUIET},
    )


def test_the_openapi_schema_lints_clean(redocly: Path, tmp_path: Path) -> None:
    """Every operation has a camelCase id, a description, security, problem+json errors and
    examples valid against their schemas: Redocly finds nothing."""
    done = _lint(redocly, tmp_path, _schema(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout + done.stderr


def test_the_rules_catch_an_undocumented_operation(redocly: Path, tmp_path: Path) -> None:
    """The rules bite: an operation stripped of its id style, description, example, 401 and
    problem body is reported under each rule."""
    schema = _schema(tmp_path)
    op = schema["paths"]["/api/v1/worklogs"]["post"]
    op["operationId"] = "create_worklog"
    del op["description"]
    del op["requestBody"]["content"]["application/json"]["examples"]
    del op["responses"]["401"]
    op["responses"]["423"]["content"] = {"application/json": op["responses"]["423"]["content"][
        "application/problem+json"]}
    done = _lint(redocly, tmp_path, schema)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    for rule in ("rule/operation-id-camel-case", "operation-description", "rule/json-bodies-have-examples",
                 "rule/secured-operations-answer-401", "rule/errors-are-problems"):
        assert rule in out, (rule, out[-3000:])
