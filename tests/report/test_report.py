"""The settlement report as HTML (``render_html``) and the policy comparison: what the page
holds, that it needs nothing from the network, that episode text is escaped, and the
``report`` / ``compare`` commands. What Chromium shows of the page is in
``test_browser.py``."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from daycare_settle import InvalidEpisode, parse_episode, settle
from daycare_settle.cli import main
from daycare_settle.models import Settlement
from daycare_settle.report import (
    ReportError,
    compare,
    compare_html,
    compare_text,
    limit_bands,
    merge_bands,
    outcome_sentence,
    render_html,
    write_pdf,
)
from tests.builders import at, charge, episode, example_episodes

ALL = example_episodes()


def _settled(path: Path) -> tuple[Settlement, str]:
    text = path.read_text(encoding="utf-8")
    return settle(text, policy=path.parent.name), text


class _Tables(HTMLParser):
    """The cells of every ``<table class=...>`` on a page, by class, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("class") or ""
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_charge_is_in_the_charges_table_once_with_reason_and_clause(path: Path) -> None:
    result, text = _settled(path)
    rows = tables(render_html(result, text))["charges"][1:]
    assert [row[0] for row in rows] == [line.charge_id for line in result.lines]
    for row, line in zip(rows, result.lines, strict=True):
        assert row[5] == line.disposition.value
        assert row[4] == str(line.amount)
        assert row[6] == str(line.allowed_amount)
        assert row[7] == line.reason
        assert line.citation is not None
        assert line.citation.clause in row[8]


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_totals_table_reconciles_to_the_input(path: Path) -> None:
    result, text = _settled(path)
    page = render_html(result, text)
    totals = {row[0]: row[1] for row in tables(page)["totals"]}
    t = result.totals
    assert totals["included"] == str(t.included)
    assert totals["not_merged"] == str(t.not_merged)
    assert totals["disallowed"] == str(t.disallowed)
    assert totals["input"] == str(t.input)
    assert totals["included + not_merged + disallowed"] == str(t.input)
    assert "reconciles" in page
    assert "DOES NOT RECONCILE" not in page


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_decision_shows_its_clause_quote_and_parameters(path: Path) -> None:
    result, text = _settled(path)
    page = render_html(result, text)
    decisions = re.findall(r'<div class="decision">(.*?)</div>(?=<div class="decision">|\n)', page)
    assert len(decisions) == len(result.trace)
    for block, step in zip(decisions, result.trace, strict=True):
        if step.citation is not None:
            assert step.citation.clause.replace("'", "&#x27;") in block
        if step.quote:
            assert '<blockquote lang="zh-CN">' in block
        for parameter in step.parameters:
            shown = (
                "text (explicit)" if parameter.provenance == "explicit" else parameter.provenance
            )
            assert shown in block or parameter.provenance == "episode"


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_page_needs_nothing_from_outside(path: Path) -> None:
    result, text = _settled(path)
    page = render_html(result, text).lower()
    for banned in ("<script", "<link", "<iframe", "<img", "@import", "@font-face", "url(http"):
        assert banned not in page
    assert re.findall(r"https?://[^\s\"'<]+", page) == ["http://www.w3.org/2000/svg"]
    assert "<svg" in page
    assert "noto sans cjk sc" in page


def test_episode_text_is_escaped() -> None:
    body = episode(
        episode_id="<script>alert(1)</script>",
        charges=[
            charge('<img src=x onerror="alert(2)">', at(2)),
            charge("c&amp;", at(3), category="western_drug"),
        ],
        extension_reason="</style><u>x",
    )
    page = render_html(settle(body, policy="panzhihua"), body)
    assert "<script>" not in page
    assert "<img" not in page
    assert "<u>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "c&amp;amp;" in page
    assert "&lt;/style&gt;&lt;u&gt;x" in page
    ids = [row[0] for row in tables(page)["charges"][1:]]
    assert ids == ['<img src=x onerror="alert(2)">', "c&amp;"]


def test_the_outcome_sentence_opens_the_page() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-hernia-26h-rejected")
    result, text = _settled(path)
    sentence = outcome_sentence(result)
    assert "was rejected" in sentence
    assert result.rejection_reasons[0].code in sentence
    page = render_html(result, text)
    body = page[page.index("<body>") :]
    assert body.index('id="outcome"') < body.index("<svg")


def test_a_report_of_another_episode_is_refused() -> None:
    result = settle(episode(), policy="panzhihua")
    with pytest.raises(ReportError, match="EP-1"):
        render_html(result, episode(episode_id="EP-2"))


def test_day_windows_are_drawn_from_the_calendar_days_in_the_trace() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-cholecystectomy-preop-exams")
    result, _ = _settled(path)
    bands, _ = merge_bands(result)
    pre, post = bands
    assert pre.start.isoformat() == "2025-03-05T00:00:00+08:00"
    assert post.end.isoformat() == "2025-03-21T00:00:00+08:00"  # through 2025-03-20
    assert pre.kind == post.kind == "merge"


def test_a_window_not_applied_after_conversion_is_drawn_as_not_applied() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-converted-to-ward")
    result, _ = _settled(path)
    bands, _ = merge_bands(result)
    assert [b.kind for b in bands] == ["merge", "merge-dropped"]


def test_an_open_window_is_named_under_the_timeline() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-cataract-no-first-visit")
    result, _ = _settled(path)
    bands, notes = merge_bands(result)
    assert result.windows is not None
    assert result.windows.pre_admission is not None
    assert result.windows.pre_admission.start is None
    assert bands[0].open_start
    assert any("has no start" in note for note in notes)


def test_the_bands_come_from_the_recorded_windows_not_the_trace_text() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-cholecystectomy-preop-exams")
    result, _ = _settled(path)
    reworded = tuple(
        s.model_copy(update={"outcome": "reworded"}) if s.step == "merge" else s
        for s in result.trace
    )
    assert merge_bands(result.model_copy(update={"trace": reworded})) == merge_bands(result)
    no_windows = result.model_copy(update={"windows": None})
    bands, notes = merge_bands(no_windows)
    assert bands == []
    assert any("No merge windows" in note for note in notes)


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_bands_equal_the_recorded_bounds_for_every_example(path: Path) -> None:
    result, _ = _settled(path)
    bands, notes = merge_bands(result)
    assert result.windows is not None
    drawn = {b.label.split(" window")[0]: b for b in bands}
    for side in ("pre_admission", "post_discharge"):
        bounds = getattr(result.windows, side)
        name = side.replace("_", "-")
        if bounds is None:
            assert name not in drawn
            assert f"No {name} merge window: no {name} costs merge." in notes
            continue
        band = drawn[name]
        assert band.end.isoformat() == bounds.end
        assert band.open_start == (bounds.start is None)
        if bounds.start is not None:
            assert band.start.isoformat() == bounds.start
        assert band.kind == ("merge" if bounds.applied else "merge-dropped")


def test_the_time_limit_is_drawn_from_admission() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-hernia-extended-30h")
    result, text = _settled(path)
    parsed = parse_episode(text)
    ordinary, extended = limit_bands(result, parsed)[0]
    assert (ordinary.end - parsed.admitted_at).total_seconds() == 24 * 3600
    assert (extended.end - parsed.admitted_at).total_seconds() == 48 * 3600
    tcm = next(p for p in ALL if p.stem == "tcm-day-care-lumbar-disc-5-days")
    result, text = _settled(tcm)
    bands, notes = limit_bands(result, parse_episode(text))
    assert bands == []
    assert "no stay-length limit" in notes[0]


# --- compare -------------------------------------------------------------------------------

POLICIES = ["panzhihua", "qingyuan", "jining", "tcm-pilot-2025"]


def test_compare_sets_the_policies_side_by_side_and_names_those_not_in_force() -> None:
    path = next(p for p in ALL if p.stem == "day-surgery-cholecystectomy-preop-exams")
    text = path.read_text(encoding="utf-8")
    rows = compare(text, POLICIES)
    assert [r.policy for r in rows] == POLICIES
    settled = {r.policy: r.settlement for r in rows if r.settlement is not None}
    assert set(settled) == {"panzhihua", "qingyuan"}
    assert settled["panzhihua"] == settle(text, policy="panzhihua")
    missing = {r.policy: r.error for r in rows if r.settlement is None}
    assert "policy_not_in_force" in (missing["jining"] or "")
    table = compare_text(rows)
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    assert "drg" in lines["agency method"]
    assert "dip_score" in lines["agency method"]
    assert "461.50" in lines["merged pre-admission"]
    assert "not in force" in lines["status"]
    assert "policy_not_in_force" in lines["rejections"]
    page = compare_html(rows, text)
    assert "<script" not in page
    assert "dip_score" in page


def test_compare_of_a_bad_episode_raises() -> None:
    with pytest.raises(InvalidEpisode):
        compare("{not json", POLICIES)


# --- the commands ----------------------------------------------------------------------------


def _write(tmp_path: Path, body: object) -> str:
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_report_command_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path, episode())
    assert main(["report", source, "--policy", "panzhihua"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>")
    assert "c-stay" in out
    target = tmp_path / "out.html"
    assert main(["report", source, "--policy", "panzhihua", "--html", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "atlantis"], "no policy with id 'atlantis'"),
        (["--policy", "panzhihua", "--html", "/nonexistent/dir/x.html"], "cannot write"),
    ],
)
def test_report_command_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["report", _write(tmp_path, episode()), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_compare_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cmp.html"
    source = _write(tmp_path, episode())
    assert main(["compare", source, "--policies", ",".join(POLICIES), "--html", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == POLICIES
    assert "EP-1" in target.read_text(encoding="utf-8")
    assert main(["compare", source, "--policies", " , "]) == 2


def test_a_long_charge_id_is_shortened_on_the_timeline_and_whole_in_the_table() -> None:
    long_id = "C-" + "x" * 150
    body = episode(charges=[charge(long_id, at(2))])
    page = render_html(settle(body, policy="panzhihua"), body)
    svg = page[page.index("<svg") : page.index("</svg>")]
    labels = re.findall(r'class="cid"[^>]*>([^<]*)</text>', svg)
    assert labels == [long_id[:23] + "…"]
    assert f"<title>{long_id}: included" in svg  # the whole id on hover
    assert [row[0] for row in tables(page)["charges"][1:]] == [long_id]


def test_a_pdf_without_a_working_chromium_is_a_report_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAYCARE_SETTLE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    body = episode()
    with pytest.raises(ReportError, match="cannot run Chromium"):
        write_pdf(settle(body, policy="panzhihua"), body, tmp_path / "out.pdf")
    pdf = str(tmp_path / "out.pdf")
    assert main(["report", _write(tmp_path, body), "--policy", "panzhihua", "--pdf", pdf]) == 2
    assert "[report_error] cannot run Chromium" in capsys.readouterr().err
