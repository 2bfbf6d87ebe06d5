"""The report the way a person sees it: headless Chromium prints it to PDF and takes a
screenshot; ``pdftotext`` reads back what is on the page. Every charge is in the charges
table once, on one line with its disposition, reason and clause; the totals equal the
engine's; an episode id that is markup shows as text.

Needs Debian's ``chromium``, ``fonts-noto-cjk`` and ``poppler-utils`` (``.ci/run`` installs
them). Without them these tests skip, unless ``DAYCARE_SETTLE_REQUIRE_CHROMIUM=1`` (set by
``.ci/run``), when they fail. Every Chromium run has a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from daycare_settle import settle
from daycare_settle.models import Settlement
from daycare_settle.report import (
    ReportError,
    chromium_command,
    find_chromium,
    render_html,
    write_pdf,
)
from tests.builders import EXAMPLES, at, charge, episode

TIMEOUT = 60
RENDERED = [
    "panzhihua/day-surgery-cholecystectomy-preop-exams",
    "panzhihua/day-surgery-converted-to-ward",
    "qingyuan/day-surgery-cholecystectomy-pathway-merge",
    "jining/converted-to-ordinary-inpatient",
    "tcm-pilot-2025/cervical-spondylosis-tcd-coded-below-floor-exception",
]
"""One or more examples of each policy: merge windows by day and by pathway, a conversion
in each mode, capped fees, a disease table."""
INJECTED = "<script>document.title='x'</script>"


def _tools() -> str:
    missing = [tool for tool in ("pdftotext",) if shutil.which(tool) is None]
    try:
        chromium = find_chromium()
    except ReportError:
        missing.append("chromium")
        chromium = ""
    if missing:
        why = f"not installed: {', '.join(missing)} (apt-get install chromium poppler-utils)"
        if os.environ.get("DAYCARE_SETTLE_REQUIRE_CHROMIUM") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return chromium


def _pdf_text(pdf: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    return done.stdout.decode("utf-8")


def _example(name: str) -> tuple[Settlement, str]:
    text = (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
    return settle(text, policy=name.split("/", maxsplit=1)[0]), text


def _injected() -> tuple[Settlement, dict[str, object]]:
    body = episode(episode_id=INJECTED, charges=[charge("<b>c-1</b>", at(2))])
    return settle(body, policy="panzhihua"), body


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every report of ``RENDERED`` (and the injected episode) printed by Chromium, as
    the text pdftotext reads from it; printed two at a time."""
    _tools()
    folder = tmp_path_factory.mktemp("printed")
    jobs: dict[str, tuple[Settlement, object]] = {name: _example(name) for name in RENDERED}
    jobs["injected"] = _injected()

    def run(name: str) -> tuple[str, str]:
        result, source = jobs[name]
        pdf = folder / (name.replace("/", "--") + ".pdf")
        write_pdf(result, source, pdf, timeout=TIMEOUT)  # type: ignore[arg-type]
        return name, _pdf_text(pdf)

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield dict(pool.map(run, jobs))


def _section(text: str, start: str, end: str | None) -> list[str]:
    body = text[text.index(start) + len(start) :]
    if end is not None:
        body = body[: body.index(end)]
    return body.splitlines()


@pytest.mark.parametrize("name", RENDERED)
def test_printed_charges_table_has_every_charge_once_with_reason_and_clause(
    printed: dict[str, str], name: str
) -> None:
    result, _ = _example(name)
    rows = _section(printed[name], "Charges table", "Totals table")
    for line in result.lines:
        found = [row for row in rows if re.search(rf"(^|\s){re.escape(line.charge_id)}\s", row)]
        assert len(found) == 1, (line.charge_id, found)
        row = found[0]
        assert line.disposition.value in row, row
        assert line.reason in row, row
        assert line.citation is not None
        assert line.citation.clause in row, row
        assert f" {line.amount} " in f" {row} "
        assert f" {line.allowed_amount} " in f" {row} "


@pytest.mark.parametrize("name", RENDERED)
def test_printed_totals_equal_the_engines(printed: dict[str, str], name: str) -> None:
    result, _ = _example(name)
    rows = _section(printed[name], "Totals table", "Rules:")
    shown = {}
    for row in rows:
        match = re.fullmatch(r"\s*(.+?)\s+([0-9]+\.[0-9]{2})\s*", row)
        if match:
            shown[match.group(1)] = match.group(2)
    totals = result.totals
    assert shown["included"] == str(totals.included)
    assert shown["not_merged"] == str(totals.not_merged)
    assert shown["disallowed"] == str(totals.disallowed)
    assert shown["input"] == str(totals.input)
    assert shown["included + not_merged + disallowed"] == str(totals.input)


@pytest.mark.parametrize("name", RENDERED)
def test_printed_page_opens_with_the_outcome_and_shows_chinese(
    printed: dict[str, str], name: str
) -> None:
    result, _ = _example(name)
    text = printed[name]
    first = " ".join(text[: text.index("Programme")].split())
    assert first.startswith(f"Settlement report: {result.episode_id}")
    assert ("settled as" if result.status == "settled" else "was rejected") in first
    assert result.policy.document in " ".join(text.split())  # CJK text reads back


def test_markup_in_the_episode_prints_as_text(printed: dict[str, str]) -> None:
    text = " ".join(printed["injected"].split())
    assert f"Settlement report: {INJECTED}" in text
    assert "<b>c-1</b>" in text


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshot_of_a_report(tmp_path: Path) -> None:
    chromium = _tools()
    result, text = _example(RENDERED[0])
    page = tmp_path / "report.html"
    page.write_text(render_html(result, text), encoding="utf-8")
    shot = tmp_path / "report.png"
    command = chromium_command(
        chromium,
        str(tmp_path / "profile"),
        "--hide-scrollbars",
        f"--screenshot={shot}",
        "--window-size=1280,4000",
        page.as_uri(),
    )
    subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=True)
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 4000)
    assert len(data) > 50_000  # a page of text and a timeline, not a blank window
