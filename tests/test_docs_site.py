"""The documentation site builds with ``mkdocs build --strict``: every page in the nav, no
broken link or anchor, the API reference rendered from the docstrings. MkDocs comes with the
``test`` extra; without it this test fails (CI installs it), it does not skip."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT = 300
"""Seconds: a build takes about ten on a shared core; a hang fails instead of blocking CI."""


def test_docs_site_builds_strictly(tmp_path: Path) -> None:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        assert importlib.util.find_spec(module.split(".")[0]) is not None, (
            f"{module} is not installed: python3 -m pip install '.[test]' (or '.[docs]')"
        )
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    source = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in (
        "engine.settle.settle",
        "load_policy",
        "Episode",
        "Settlement",
        "errors.DaycareSettleError",
        "errors.InvalidEpisode",
    ):
        assert f'id="daycare_settle.{name}"' in api, f"{name} is missing from the API reference"
    assert (site / "schemas" / "episode.schema.json").is_file()
