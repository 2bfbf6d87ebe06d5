"""The settlement report: one self-contained HTML page an auditor reads without code or JSON.

``render_html(settlement, episode)`` returns the page: the outcome in one sentence; the
episode as a timeline (inline SVG: outpatient visits, admission, sessions, conversion,
discharge, post-discharge care, every charge placed on it and coloured by disposition, the
merge windows and the time limit drawn as bands); every decision beside its clause, the
quoted original text and the parameter values it read (text or reading); the charges table
(every charge once) and the totals, reconciled to the input to the fen. ``write_pdf``
prints that page to PDF with headless Chromium.

The report draws what the settlement records and decides nothing itself. The merge windows
are the bounds the engine recorded in the result's ``windows`` block (instants with
offset); a side that merges nothing has no band, and the page says so under the timeline.

The page needs no network: inline CSS, inline SVG, no script, no external font (the CSS
names the system CJK fonts ``Noto Sans CJK SC`` / ``Noto Sans SC``). Every string that comes
from the episode or the rule files is HTML-escaped.

``compare(episode, policies)`` settles one episode under several policies, side by side;
``compare_text`` and ``compare_html`` render it.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .engine import parse_episode, settle
from .engine.settle import EpisodeInput
from .errors import DaycareSettleError
from .models.common import SHANGHAI
from .models.episode import Episode
from .models.settlement import (
    Citation,
    Disposition,
    Line,
    MergeWindowBounds,
    Settlement,
    TraceStep,
)

__all__ = [
    "ComparisonRow",
    "ReportError",
    "compare",
    "compare_html",
    "compare_text",
    "render_html",
    "write_pdf",
]

FONTS = '"Noto Sans CJK SC", "Noto Sans SC", sans-serif'
COLOURS = {
    Disposition.INCLUDED: "#2e7d32",
    Disposition.NOT_MERGED: "#1f5fbf",
    Disposition.DISALLOWED: "#c62828",
}
"""Disposition colours; the marker shape differs too (circle, square, cross) for print."""
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ENV = "DAYCARE_SETTLE_CHROMIUM"
"""An environment variable naming the Chromium executable, if not on ``PATH``."""


class ReportError(DaycareSettleError, RuntimeError):
    """The report could not be produced: no Chromium to print the PDF, or it failed."""

    code = "report_error"


def _e(text: object) -> str:
    """Every string that reaches the page goes through here."""
    return html.escape(str(text), quote=True)


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _clause(citation: Citation | None) -> str:
    return "no citation" if citation is None else f"{citation.document} {citation.clause}"


def _value(item: object) -> str:
    return str(getattr(item, "value", item))


# --- the outcome -----------------------------------------------------------------------------


def outcome_sentence(settlement: Settlement) -> str:
    """The result in one sentence (plain text; escape it before putting it on a page)."""
    totals = settlement.totals
    head = (
        f"Episode {settlement.episode_id} ({settlement.programme.value}) under "
        f"{settlement.policy.document} ({settlement.policy.id} {settlement.policy.version})"
    )
    if settlement.status == "rejected":
        codes = ", ".join(r.code for r in settlement.rejection_reasons)
        return (
            f"{head} was rejected ({codes}): of ¥{totals.input} charged, ¥{totals.disallowed} "
            f"is disallowed and ¥{totals.not_merged} not merged."
        )
    how = (settlement.settled_as or "day_care").replace("_", " ")
    agency = settlement.payment.agency if settlement.payment is not None else "no method"
    return (
        f"{head} settled as {how}: of ¥{totals.input} charged, ¥{totals.included} is included, "
        f"¥{totals.not_merged} not merged and ¥{totals.disallowed} disallowed; "
        f"the agency pays by {agency}."
    )


# --- the timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A merge window or a time limit as drawn: its span, and whether an end is open."""

    label: str
    start: dt.datetime
    end: dt.datetime
    kind: str  # "merge", "merge-dropped", "limit", "extended"
    open_start: bool = False


def merge_bands(settlement: Settlement) -> tuple[list[Band], list[str]]:
    """The merge windows the settlement records (``windows``), and a note for each side
    that has none."""
    bands: list[Band] = []
    notes: list[str] = []
    windows = settlement.windows
    if windows is None:
        return bands, ["No merge windows: the policy does not cover the programme."]
    for side in ("pre_admission", "post_discharge"):
        name = side.replace("_", "-")
        bounds: MergeWindowBounds | None = getattr(windows, side)
        if bounds is None:
            notes.append(f"No {name} merge window: no {name} costs merge.")
            continue
        kind = "merge" if bounds.applied else "merge-dropped"
        label = f"{name} window" + ("" if bounds.applied else " (not applied)")
        end = dt.datetime.fromisoformat(bounds.end)
        if bounds.start is None:
            bands.append(Band(label, end, end, kind, open_start=True))
            notes.append(
                f"The {name} window has no start (any time before admission: no "
                "clinical_pathway.first_visit_at); it is drawn from the left edge of the "
                "timeline."
            )
        else:
            bands.append(Band(label, dt.datetime.fromisoformat(bounds.start), end, kind))
    return bands, notes


def limit_bands(settlement: Settlement, episode: Episode) -> tuple[list[Band], list[str]]:
    limit = settlement.time_limit
    if limit.limit_hours is None:
        return [], [
            "No time-limit band: the programme has no stay-length limit "
            f"({limit.status.value}; stay {limit.duration_hours} h)."
        ]
    start = episode.admitted_at
    ordinary = start + dt.timedelta(hours=limit.limit_hours)
    bands = [Band(f"{limit.limit_hours} h limit", start, ordinary, "limit")]
    if limit.extended_limit_hours is not None:
        extended = start + dt.timedelta(hours=limit.extended_limit_hours)
        bands.append(
            Band(f"extended to {limit.extended_limit_hours} h", ordinary, extended, "extended")
        )
    return bands, []


LANES = (
    ("outpatient", "outpatient visits"),
    ("day_care", "day-care stay"),
    ("inpatient", "ward (after conversion)"),
    ("post_discharge", "post-discharge care"),
)
LEFT = 150
WIDTH = 1000
RIGHT = 14


class _Scale:
    """Piecewise-linear time axis: before admission, the stay, after discharge. The stay
    gets a fixed share of the width so a 24-hour stay is not a hairline beside weeks of
    outpatient visits; the page says the axis is piecewise."""

    def __init__(
        self, start: dt.datetime, admitted: dt.datetime, stay_end: dt.datetime, end: dt.datetime
    ) -> None:
        inner = WIDTH - LEFT - RIGHT
        before = (admitted - start).total_seconds() > 0
        after = (end - stay_end).total_seconds() > 0
        shares = [0.3 if before else 0.0, 0.0, 0.3 if after else 0.0]
        shares[1] = 1.0 - shares[0] - shares[2]
        self.points = [start, admitted, stay_end, end]
        self.piecewise = before or after
        self.xs = [float(LEFT)]
        for share in shares:
            self.xs.append(self.xs[-1] + share * inner)

    def x(self, moment: dt.datetime) -> float:
        points, xs = self.points, self.xs
        if moment <= points[0]:
            return xs[0]
        for i in range(3):
            lo, hi = points[i], points[i + 1]
            if moment <= hi:
                span = (hi - lo).total_seconds()
                if span <= 0:
                    return xs[i + 1]
                part = (moment - lo).total_seconds() / span
                return xs[i] + part * (xs[i + 1] - xs[i])
        return xs[3]


def _anchor(x: float) -> str:
    if x < LEFT + 60:
        return "start"
    if x > WIDTH - RIGHT - 60:
        return "end"
    return "middle"


def _marker(disposition: Disposition, x: float, y: float) -> str:
    colour = COLOURS[disposition]
    if disposition is Disposition.INCLUDED:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
    if disposition is Disposition.NOT_MERGED:
        return f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="{colour}"/>'
    return (
        f'<path d="M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} M{x - 5:.1f},{y + 5:.1f} '
        f'L{x + 5:.1f},{y - 5:.1f}" stroke="{colour}" stroke-width="3"/>'
    )


def _rows(placed: Iterable[tuple[str, float, float, float]]) -> tuple[dict[str, int], list[int]]:
    """Stack labelled markers so no two labels in a lane overlap: the row of each."""
    lanes: dict[str, list[list[tuple[float, float]]]] = {}
    rows: list[int] = []
    for lane, _x, lo, hi in placed:
        taken = lanes.setdefault(lane, [])
        free = [i for i, row in enumerate(taken) if all(lo > b + 4 or hi < a - 4 for a, b in row)]
        if free:
            taken[free[0]].append((lo, hi))
            rows.append(free[0])
        else:
            taken.append([(lo, hi)])
            rows.append(len(taken) - 1)
    return {lane: len(taken) for lane, taken in lanes.items()}, rows


LABEL_CHARS = 24
"""A charge id longer than this is shortened on the timeline (the table shows it whole)."""


def _label(charge_id: str) -> str:
    return charge_id if len(charge_id) <= LABEL_CHARS else charge_id[: LABEL_CHARS - 1] + "…"


def _label_width(text: str) -> float:
    return 14 + 6.5 * len(_label(text))


class _Timeline:
    """The SVG of one episode: lanes of charges, events, sessions, bands and a legend."""

    top = 44

    def __init__(self, settlement: Settlement, episode: Episode) -> None:
        self.settlement, self.episode = settlement, episode
        self.windows, self.notes = merge_bands(settlement)
        self.limits, limit_notes = limit_bands(settlement, episode)
        self.notes.extend(limit_notes)
        moments = [episode.admitted_at, episode.discharged_at, *(c.at for c in episode.charges)]
        moments += [b.start for b in self.windows if not b.open_start]
        moments += [b.end for b in self.windows]
        stay_end = max([episode.discharged_at, *(b.end for b in self.limits)])
        self.start, self.end = min(moments), max([*moments, stay_end])
        self.scale = _Scale(self.start, episode.admitted_at, stay_end, self.end)
        self.charges = sorted(episode.charges, key=lambda c: (c.at, c.id))
        spans = []
        for charge in self.charges:
            x, width = self.scale.x(charge.at), _label_width(charge.id)
            lo, hi = (x - 6, x + width) if x + width < WIDTH - 2 else (x - width, x + 6)
            spans.append((_value(charge.setting), x, lo, hi))
        counts, self.rows = _rows(spans)
        self.lane_y: dict[str, tuple[float, float]] = {}
        y = float(self.top)
        for key, _ in LANES:
            height = 16 + 18 * max(1, counts.get(key, 0)) + (18 if key == "day_care" else 0)
            self.lane_y[key] = (y, y + height)
            y += height
        self.bottom = y
        self.height = y + 6 + 26 * (len(self.windows) + len(self.limits)) + 36
        self.parts: list[str] = []

    def svg(self) -> str:
        self._window_shading()
        self._lanes()
        self._axis()
        self._events()
        self._sessions()
        self._charges()
        self._band_bars()
        self._legend()
        if self.scale.piecewise:
            self.notes.append(
                "The time axis is piecewise: the stay (to the end of any time limit) takes the "
                "middle of the width, the days before admission and after discharge the sides."
            )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {self.height:.0f}" '
            'width="100%" role="img" aria-label="timeline of the episode">'
            '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="8" height="8" fill="#eee"/>'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#999" stroke-width="3"/></pattern></defs>'
            + "".join(self.parts)
            + "</svg>"
        )

    def _span(self, band: Band) -> tuple[float, float]:
        x0 = float(LEFT) if band.open_start else self.scale.x(band.start)
        return x0, max(self.scale.x(band.end), x0 + 2)

    def _window_shading(self) -> None:
        for band in self.windows:
            x0, x1 = self._span(band)
            fill = "#e3f2fd" if band.kind == "merge" else "url(#hatch)"
            self.parts.append(
                f'<rect class="band {band.kind}" x="{x0:.1f}" y="{self.top}" '
                f'width="{x1 - x0:.1f}" height="{self.bottom - self.top:.1f}" fill="{fill}"/>'
            )

    def _lanes(self) -> None:
        for key, label in LANES:
            y0, y1 = self.lane_y[key]
            self.parts.append(
                f'<line x1="{LEFT}" y1="{y1:.1f}" x2="{WIDTH - RIGHT}" y2="{y1:.1f}" '
                'stroke="#ccc"/>'
                f'<text x="6" y="{y0 + 18:.1f}" class="lane">{_e(label)}</text>'
            )

    def _axis(self) -> None:
        top, episode = self.top, self.episode
        self.parts.append(
            f'<line x1="{LEFT}" y1="{top}" x2="{WIDTH - RIGHT}" y2="{top}" stroke="#555"/>'
        )
        # admission and discharge first, then the ends, then the rest, where there is room
        ticks = [episode.admitted_at, episode.discharged_at, self.start, self.end]
        if episode.conversion is not None:
            ticks.append(episode.conversion.at)
        ticks += [session.start for session in episode.sessions]
        shown: list[float] = []
        for moment in ticks:
            x = self.scale.x(moment)
            if any(abs(x - s) < 70 for s in shown):
                continue
            shown.append(x)
            self.parts.append(
                f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top}" stroke="#555"/>'
                f'<text x="{x:.1f}" y="{top - 8}" class="tick" text-anchor="{_anchor(x)}">'
                f"{_e(_local(moment))}</text>"
            )

    def _events(self) -> None:
        episode = self.episode
        events = [
            (episode.admitted_at, "admission", "#333"),
            (episode.discharged_at, "discharge", "#333"),
        ]
        if episode.conversion is not None:
            events.append((episode.conversion.at, "conversion", "#8e24aa"))
        placed: list[float] = []
        for moment, name, colour in sorted(events, key=lambda e: e[0]):
            x = self.scale.x(moment)
            right = x > WIDTH - RIGHT - 80
            # a label close to an earlier one goes one line lower
            level = sum(1 for px in placed if abs(px - x) < 80)
            placed.append(x)
            dash = "4 3" if name == "conversion" else "none"
            self.parts.append(
                f'<line x1="{x:.1f}" y1="{self.top}" x2="{x:.1f}" y2="{self.bottom:.1f}" '
                f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>'
                f'<text x="{x - 3 if right else x + 3:.1f}" y="{self.top + 12 + 12 * level}" '
                f'class="event" fill="{colour}" text-anchor="{"end" if right else "start"}">'
                f"{_e(name)}</text>"
            )

    def _sessions(self) -> None:
        _, y1 = self.lane_y["day_care"]
        for number, session in enumerate(self.episode.sessions, start=1):
            x0, x1 = self.scale.x(session.start), self.scale.x(session.end)
            self.parts.append(
                f'<rect x="{x0:.1f}" y="{y1 - 16:.1f}" width="{max(x1 - x0, 3):.1f}" '
                f'height="12" fill="#ffcc80" stroke="#e65100"><title>session {number}: '
                f"{_e(_value(session.kind))} {_e(_local(session.start))} to "
                f"{_e(_local(session.end))}</title></rect>"
            )
        if self.episode.sessions:
            self.parts.append(f'<text x="6" y="{y1 - 6:.1f}" class="lane small">sessions</text>')

    def _charges(self) -> None:
        lines = {line.charge_id: line for line in self.settlement.lines}
        for charge, row in zip(self.charges, self.rows, strict=True):
            x = self.scale.x(charge.at)
            y0, _ = self.lane_y.get(_value(charge.setting), self.lane_y["day_care"])
            cy = y0 + 18 + 18 * row
            left = x + _label_width(charge.id) >= WIDTH - 2
            label = (
                f'<text x="{x - 8 if left else x + 8:.1f}" y="{cy + 4:.1f}" class="cid" '
                f'text-anchor="{"end" if left else "start"}">{_e(_label(charge.id))}</text>'
            )
            line = lines.get(charge.id)
            if line is None:  # not from an engine result; shown rather than hidden
                self.parts.append(label.replace(">", ">? ", 1))
                continue
            capped = line.disposition is Disposition.INCLUDED and line.allowed_amount < line.amount
            self.parts.append(
                f'<g class="charge {line.disposition.value}"><title>{_e(charge.id)}: '
                f"{_e(line.disposition.value)} {_e(line.reason)}</title>"
                f"{_marker(line.disposition, x, cy)}{_ring(x, cy) if capped else ''}{label}</g>"
            )

    def _band_bars(self) -> None:
        fills = {
            "merge": "#90caf9",
            "merge-dropped": "url(#hatch)",
            "limit": "#a5d6a7",
            "extended": "#ffe082",
        }
        y = self.bottom + 6
        for band in [*self.windows, *self.limits]:
            x0, x1 = self._span(band)
            after = x1 < WIDTH - 200
            start = "open" if band.open_start else _local(band.start)
            self.parts.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{x1 - x0:.1f}" height="16" '
                f'fill="{fills[band.kind]}" stroke="#777"/>'
                f'<text x="6" y="{y + 12:.1f}" class="lane small">{_e(band.label)}</text>'
                f'<text x="{x1 + 4 if after else x0 - 4:.1f}" y="{y + 12:.1f}" class="tick" '
                f'text-anchor="{"start" if after else "end"}">'
                f"{_e(start)} → {_e(_local(band.end))}</text>"
            )
            y += 26

    def _legend(self) -> None:
        y = self.height - 14
        x = float(LEFT)
        for disposition in Disposition:
            self.parts.append(
                f'{_marker(disposition, x, y - 4)}<text x="{x + 10:.1f}" y="{y:.1f}" '
                f'class="tick">{disposition.value}</text>'
            )
            x += 110
        self.parts.append(
            f"{_marker(Disposition.INCLUDED, x, y - 4)}{_ring(x, y - 4)}"
            f'<text x="{x + 12:.1f}" y="{y:.1f}" class="tick">included, capped (the rest '
            "disallowed)</text>"
        )


def _ring(x: float, y: float) -> str:
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7.5" fill="none" '
        f'stroke="{COLOURS[Disposition.DISALLOWED]}" stroke-width="2"/>'
    )


def timeline_svg(settlement: Settlement, episode: Episode) -> tuple[str, list[str]]:
    """The timeline as inline SVG, and the notes on what it could not draw."""
    timeline = _Timeline(settlement, episode)
    svg = timeline.svg()
    return svg, timeline.notes


# --- the page --------------------------------------------------------------------------------

CSS = f"""
@page {{ size: A4; margin: 14mm 12mm; }}
* {{ box-sizing: border-box; }}
body {{ font-family: {FONTS}; font-size: 10.5pt; color: #111; margin: 0 auto; max-width: 1180px;
  padding: 16px; line-height: 1.4; }}
h1 {{ font-size: 17pt; margin: 0 0 6px; }}
h2 {{ font-size: 13pt; margin: 22px 0 8px; border-bottom: 2px solid #333; padding-bottom: 2px; }}
p.outcome {{ font-size: 12pt; font-weight: bold; padding: 8px 10px; background: #f3f3f3;
  border-left: 5px solid #333; }}
p.outcome.rejected {{ border-left-color: #c62828; }}
table {{ border-collapse: collapse; width: 100%; margin: 6px 0; }}
th, td {{ border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.id {{ font-family: monospace, {FONTS}; white-space: nowrap; }}
td.id.long {{ white-space: normal; overflow-wrap: anywhere; }}
td.time, td.code, td.clause {{ white-space: nowrap; }}
table.charges {{ font-size: 9.5pt; }}
tr.included td.disp {{ color: #2e7d32; font-weight: bold; }}
tr.not_merged td.disp {{ color: #1f5fbf; font-weight: bold; }}
tr.disallowed td.disp {{ color: #c62828; font-weight: bold; }}
blockquote {{ margin: 4px 0; padding: 4px 8px; background: #fafafa; border-left: 3px solid #999; }}
.decision {{ border: 1px solid #ccc; padding: 6px 8px; margin: 6px 0; break-inside: avoid; }}
.decision .head {{ font-weight: bold; }}
.clause {{ color: #444; }}
.text {{ color: #2e7d32; font-weight: bold; }}
.reading {{ color: #b45309; font-weight: bold; }}
.notes li {{ color: #444; }}
svg text {{ font-family: {FONTS}; }}
svg .lane {{ font-size: 12px; fill: #222; }}
svg .small {{ font-size: 11px; }}
svg .tick {{ font-size: 11px; fill: #333; }}
svg .event {{ font-size: 11px; font-weight: bold; }}
svg .cid {{ font-size: 11px; fill: #111; }}
thead {{ display: table-header-group; }}
tr, .decision, svg {{ break-inside: avoid; }}
@media print {{ body {{ max-width: none; padding: 0; font-size: 9pt; }}
  table.charges {{ font-size: 7.5pt; }}
  h2 {{ break-after: avoid; }} }}
"""


def render_html(settlement: Settlement, episode: EpisodeInput) -> str:
    """The report of ``settlement`` (the result of settling ``episode``) as one HTML page."""
    parsed = parse_episode(episode)
    if parsed.episode_id != settlement.episode_id:
        raise ReportError(
            f"the settlement is of episode {settlement.episode_id!r}, not of {parsed.episode_id!r}"
        )
    svg, notes = timeline_svg(settlement, parsed)
    status = settlement.status
    policy = settlement.policy
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>Settlement report — {_e(settlement.episode_id)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Settlement report: {_e(settlement.episode_id)}</h1>",
        f'<p class="outcome {status}" id="outcome">{_e(outcome_sentence(settlement))}</p>',
        _facts(settlement, parsed),
        "<h2>Timeline</h2>",
        svg,
        '<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>",
        _rejections(settlement),
        "<h2>Decisions</h2>",
        *(_decision(number, item) for number, item in enumerate(settlement.trace, start=1)),
        _flags(settlement),
        '<h2 id="charges">Charges table</h2>',
        _charges(settlement, parsed),
        '<h2 id="totals">Totals table</h2>',
        _totals(settlement),
        f'<p class="clause">Rules: {_e(policy.id)} {_e(policy.document)} version '
        f"{_e(policy.version)}, sha256 {_e(policy.sha256)}; daycare_settle "
        f"{_e(settlement.library_version)}.</p>",
        "</body></html>",
    ]
    return "\n".join(part for part in out if part) + "\n"


def _facts(settlement: Settlement, episode: Episode) -> str:
    limit = settlement.time_limit
    rows = [
        ("Programme", settlement.programme.value),
        ("Institution", f"{episode.institution.id} (tier {episode.institution.tier})"),
        (
            "Admitted / discharged",
            f"{_local(episode.admitted_at)} / {_local(episode.discharged_at)}",
        ),
        (
            "Stay",
            f"{limit.duration_hours} h; time limit {limit.status.value}"
            + (
                f" ({limit.limit_hours} h"
                + (
                    f", extended {limit.extended_limit_hours} h)"
                    if limit.extended_limit_hours is not None
                    else ")"
                )
                if limit.limit_hours is not None
                else ""
            )
            + f" [{_clause(limit.citation)}]",
        ),
        ("Diagnoses", ", ".join(f"{c.code} ({c.system})" for c in episode.diagnoses)),
        ("Procedures", ", ".join(f"{c.code} ({c.system})" for c in episode.procedures) or "none"),
    ]
    if settlement.conversion is not None:
        conv = settlement.conversion
        rows.append(
            ("Conversion", f"{conv.at} to {conv.ward}, mode {conv.mode} [{_clause(conv.citation)}]")
        )
    payment = settlement.payment
    if payment is not None:
        text = (
            f"patient: {payment.patient} [{_clause(payment.patient_citation)}]; agency: "
            f"{payment.agency} [{_clause(payment.agency_citation)}]"
        )
        if payment.agency_amount is not None:
            text += f"; agency amount ¥{payment.agency_amount}"
        rows.append(("Payment", text))
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    calc = ""
    if payment is not None and payment.calculation:
        calc = (
            "<table><thead><tr><th>Agency calculation</th><th class=num>Amount</th>"
            "<th>Note</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>{_e(s.label)}</td><td class=num>{_e(s.amount)}</td>"
                f"<td>{_e(s.note or '')}</td></tr>"
                for s in payment.calculation
            )
            + "</tbody></table>"
        )
    return f'<table class="facts">{body}</table>{calc}'


def _rejections(settlement: Settlement) -> str:
    if not settlement.rejection_reasons:
        return ""
    items = "".join(
        f"<li><b>{_e(r.code)}</b>: {_e(r.message)} <span class=clause>[{_e(_clause(r.citation))}]"
        "</span></li>"
        for r in settlement.rejection_reasons
    )
    return f"<h2>Rejection</h2><ul>{items}</ul>"


def _provenance(provenance: str) -> str:
    if provenance == "explicit":
        return '<span class="text">text (explicit)</span>'
    if provenance == "episode":
        return "from the episode"
    return f'<span class="reading">reading ({_e(provenance)})</span>'


def _decision(number: int, item: TraceStep) -> str:
    quote = (
        f'<blockquote lang="zh-CN">{_e(item.quote)}</blockquote>'
        if item.quote
        else "<p class=clause>(no quoted text)</p>"
    )
    params = ""
    if item.parameters:
        params = (
            "<table><thead><tr><th>Parameter read</th><th>Value</th><th>Source</th></tr>"
            "</thead><tbody>"
            + "".join(
                f"<tr><td>{_e(p.name)}</td><td>{_e(p.value)}</td>"
                f"<td>{_provenance(p.provenance)}</td></tr>"
                for p in item.parameters
            )
            + "</tbody></table>"
        )
    return (
        f'<div class="decision"><div class="head">{number}. {_e(item.step)} / {_e(item.rule)}'
        f' <span class="clause">[{_e(_clause(item.citation))}]</span></div>'
        f"<div>{_e(item.outcome)}</div>{quote}{params}</div>"
    )


def _flags(settlement: Settlement) -> str:
    if not settlement.flags:
        return ""
    rows = "".join(
        f"<tr><td>{_e(f.severity)}</td><td>{_e(f.code)}</td><td>{_e(f.message)}</td>"
        f"<td>{_e(', '.join(f.charge_ids))}</td><td>{_e(_clause(f.citation))}</td></tr>"
        for f in settlement.flags
    )
    return (
        "<h2>Flags</h2><table><thead><tr><th>Severity</th><th>Code</th><th>Message</th>"
        f"<th>Charges</th><th>Clause</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _charges(settlement: Settlement, episode: Episode) -> str:
    charges = {c.id: c for c in episode.charges}
    document = settlement.policy.document
    others: list[str] = []  # documents other than the policy's, numbered as cited
    for line in settlement.lines:
        cited = line.citation.document if line.citation is not None else document
        if cited != document and cited not in others:
            others.append(cited)
    rows = []
    for line in settlement.lines:
        charge = charges.get(line.charge_id)
        when = _local(charge.at) if charge else "?"
        setting = _value(charge.setting) if charge else "?"
        category = _value(charge.category) if charge else "?"
        rows.append(
            f'<tr class="{line.disposition.value}"><td class="{_id_class(line.charge_id)}">'
            f"{_e(line.charge_id)}</td>"
            f'<td class="time">{_e(when)}</td><td>{_e(setting)}</td><td>{_e(category)}</td>'
            f'<td class="num">{_e(line.amount)}</td><td class="disp">'
            f"{_e(line.disposition.value)}</td><td class=num>{_e(line.allowed_amount)}</td>"
            f'<td class="code">{_e(line.reason)}</td>'
            f'<td class="clause">{_e(_line_clause(line, document, others))}</td></tr>'
        )
    named = "".join(f"<li>[{n}] {_e(doc)}</li>" for n, doc in enumerate(others, start=1))
    return (
        f"<p>Every input charge once. Clauses are of {_e(document)}"
        + (", or of the document numbered:</p><ul>" + named + "</ul>" if others else ".</p>")
        + '<table class="charges"><thead><tr><th>Charge</th><th>Time</th><th>Setting</th>'
        "<th>Category</th><th class=num>Amount</th><th>Disposition</th>"
        "<th class=num>Allowed</th><th>Reason</th><th>Clause</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _id_class(charge_id: str) -> str:
    """Ids print on one line; a long one may wrap anywhere rather than squeeze the table."""
    return "id" if len(charge_id) <= 24 else "id long"


def _line_clause(line: Line, document: str, others: list[str]) -> str:
    citation = line.citation
    if citation is None:
        return "no citation"
    if citation.document == document:
        return citation.clause
    return f"{citation.clause} [{others.index(citation.document) + 1}]"


def _totals(settlement: Settlement) -> str:
    t = settlement.totals
    total = t.included + t.not_merged + t.disallowed
    check = "reconciles" if total == t.input else "DOES NOT RECONCILE"
    rows = [
        ("included", t.included),
        ("not_merged", t.not_merged),
        ("disallowed", t.disallowed),
        ("included + not_merged + disallowed", total),
        ("input", t.input),
        ("of included: merged pre-admission", t.merged_pre_admission),
        ("of included: merged post-discharge", t.merged_post_discharge),
    ]
    capped = sum(
        (
            line.amount - line.allowed_amount
            for line in settlement.lines
            if line.disposition is Disposition.INCLUDED
        ),
        Decimal(0),
    )
    if capped:
        rows.insert(3, ("of disallowed: the capped part of included charges", capped))
    body = "".join(f"<tr><th>{_e(k)}</th><td class=num>{_e(v)}</td></tr>" for k, v in rows)
    return (
        f'<table class="totals" style="width:auto"><tbody>{body}</tbody></table>'
        f"<p>Sum against input: <b>{check}</b> to the fen (¥{total} = ¥{t.input}).</p>"
    )


# --- PDF -------------------------------------------------------------------------------------


def find_chromium() -> str:
    """The Chromium executable: ``$DAYCARE_SETTLE_CHROMIUM``, else the first on ``PATH``."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ReportError(
        "no Chromium to print the PDF: install Debian's 'chromium' "
        f"(or set {CHROMIUM_ENV} to its path)"
    )


def chromium_command(chromium: str, profile: str, *extra: str) -> list[str]:
    """Headless Chromium with no network side-traffic and a throw-away profile."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *extra,
    ]


def html_to_pdf(page: str, pdf: str | os.PathLike[str], *, timeout: float = 60) -> None:
    """Print an HTML page to ``pdf`` (A4, as its ``@page`` rule says) with headless Chromium."""
    chromium = find_chromium()
    target = Path(pdf).resolve()
    with tempfile.TemporaryDirectory(prefix="daycare-report-") as work:
        source = Path(work) / "report.html"
        source.write_text(page, encoding="utf-8")
        command = chromium_command(
            chromium,
            str(Path(work) / "profile"),
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        )
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not print the PDF within {timeout} s") from None
        except OSError as exc:
            raise ReportError(f"cannot run Chromium ({chromium}): {exc.strerror or exc}") from None
        if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise ReportError(
                f"Chromium failed to print {target} (exit {done.returncode}): " + " | ".join(tail)
            )


def write_pdf(
    settlement: Settlement,
    episode: EpisodeInput,
    pdf: str | os.PathLike[str],
    *,
    timeout: float = 60,
) -> None:
    """Print the report of ``settlement`` to ``pdf`` with headless Chromium."""
    html_to_pdf(render_html(settlement, episode), pdf, timeout=timeout)


# --- compare ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One policy's result for the episode, or why there is none (``error``)."""

    policy: str
    settlement: Settlement | None
    error: str | None = None
    error_code: str | None = None


def compare(episode: EpisodeInput, policies: Iterable[str]) -> tuple[ComparisonRow, ...]:
    """Settle ``episode`` under each policy. A policy not in force on the episode's date (or
    unknown) gives a row with its error, not an exception; a bad episode raises."""
    parsed = parse_episode(episode)
    rows = []
    for policy in policies:
        try:
            rows.append(ComparisonRow(policy, settle(parsed, policy=policy)))
        except DaycareSettleError as exc:
            if exc.code == "invalid_episode":
                raise
            rows.append(ComparisonRow(policy, None, str(exc), exc.code))
    return tuple(rows)


COMPARED = (
    "status",
    "document",
    "settled_as",
    "included",
    "merged pre-admission",
    "merged post-discharge",
    "not merged",
    "disallowed",
    "input",
    "time limit",
    "patient pays as",
    "agency method",
    "agency amount",
    "rejections",
)


def _compared(row: ComparisonRow) -> dict[str, str]:
    result = row.settlement
    if result is None:
        status = "not in force" if row.error_code == "policy_not_in_force" else "not settled"
        return {"status": status, "rejections": row.error or ""}
    t, limit, payment = result.totals, result.time_limit, result.payment
    hours = (
        "no limit"
        if limit.limit_hours is None
        else f"{limit.limit_hours} h"
        + (f" (ext. {limit.extended_limit_hours} h)" if limit.extended_limit_hours else "")
    )
    return {
        "status": result.status,
        "document": f"{result.policy.document} v{result.policy.version}",
        "settled_as": result.settled_as or "-",
        "included": str(t.included),
        "merged pre-admission": str(t.merged_pre_admission),
        "merged post-discharge": str(t.merged_post_discharge),
        "not merged": str(t.not_merged),
        "disallowed": str(t.disallowed),
        "input": str(t.input),
        "time limit": f"{limit.status.value}, {limit.duration_hours} h of {hours}",
        "patient pays as": payment.patient if payment else "-",
        "agency method": payment.agency if payment else "-",
        "agency amount": str(payment.agency_amount) if payment and payment.agency_amount else "-",
        "rejections": ", ".join(r.code for r in result.rejection_reasons) or "-",
    }


def compare_text(rows: Sequence[ComparisonRow]) -> str:
    """A plain-text table: one column per policy, one line per field."""
    cells = [_compared(row) for row in rows]
    head = ["", *(row.policy for row in rows)]
    body = [[field, *(c.get(field, "-") for c in cells)] for field in COMPARED]
    widths = [max(_columns(line[i]) for line in [head, *body]) for i in range(len(head))]
    text = []
    for line in [head, *body]:
        text.append("  ".join(_pad(v, w) for v, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(text) + "\n"


def _columns(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _columns(text))


def compare_html(rows: Sequence[ComparisonRow], episode: EpisodeInput) -> str:
    """The comparison as one self-contained HTML page."""
    parsed = parse_episode(episode)
    cells = [_compared(row) for row in rows]
    head = "".join(f"<th>{_e(row.policy)}</th>" for row in rows)
    body = "".join(
        f"<tr><th>{_e(field)}</th>"
        + "".join(f"<td>{_e(c.get(field, '-'))}</td>" for c in cells)
        + "</tr>"
        for field in COMPARED
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>Policies compared — {_e(parsed.episode_id)}</title><style>{CSS}</style>"
        f"</head><body><h1>Episode {_e(parsed.episode_id)} under {len(rows)} policies</h1>"
        f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )


def write_text(page: str, path: str | os.PathLike[str]) -> None:
    """Write a page as UTF-8; a file that cannot be written is a :class:`ReportError`."""
    try:
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None
