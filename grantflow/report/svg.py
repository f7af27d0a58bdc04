"""Inline SVG for the audit report, generated here: no script, no font, no network.

:func:`money_chart` draws commitments and payments over time; :func:`lifecycle_path` draws
the lifecycle's states (:data:`grantflow.domain.lifecycle.LIFECYCLE`) with the states one
grant passed through highlighted. Both return markup that is safe to put into the page as it
is (every text in it is escaped), with a ``<title>`` for screen readers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

import pendulum
from markupsafe import Markup, escape

from grantflow.domain.dates import format_date_de
from grantflow.domain.lifecycle import LIFECYCLE, NEW
from grantflow.domain.model import State

COMMITTED_COLOUR = "#1f4e8c"
"""Dark blue: 8.6:1 against white."""
DISBURSED_COLOUR = "#b34700"
"""Dark orange: 5.1:1 against white; also dashed, so the lines differ without colour."""


def _millions(amount: Decimal) -> str:
    """``12,5 Mio. EUR``: the axis labels."""
    value = (amount / Decimal(1_000_000)).quantize(Decimal("0.1"))
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".") + " Mio. EUR"


def money_chart(
    points: Sequence[tuple[pendulum.Date, Decimal, Decimal]],
    *,
    budget: Decimal | None = None,
    width: int = 760,
    height: int = 300,
) -> Markup:
    """A line chart of ``(day, committed, disbursed)`` points (in date order), with the budget
    as a dotted line when given. Empty markup for fewer than two points."""
    if len(points) < 2:
        return Markup("")
    left, right, top, bottom = 96, 16, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = points[0][0], points[-1][0]
    span = max(1, last.toordinal() - first.toordinal())
    top_value = max([*(c for _, c, _ in points), *(d for _, _, d in points), budget or Decimal(0)])
    top_value = max(top_value, Decimal(1))

    def x(day: pendulum.Date) -> float:
        return left + plot_w * (day.toordinal() - first.toordinal()) / span

    def y(amount: Decimal) -> float:
        return top + plot_h * (1 - float(amount / top_value))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="chart-title">',
        '<title id="chart-title">Commitments and payments from '
        f"{format_date_de(first)} to {format_date_de(last)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#767676"/>',
    ]
    for i in range(5):  # horizontal grid lines and their labels
        value = top_value * Decimal(i) / Decimal(4)
        gy = y(value)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(_millions(value))}</text>"
        )
    for year in range(first.year + 1, last.year + 1):  # one tick per year
        tx = x(pendulum.Date(year, 1, 1))
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{tx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{year}</text>'
        )
    if budget is not None:
        by = y(budget)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{by:.1f}" y2="{by:.1f}" '
            'stroke="#333" stroke-dasharray="2 3"/>'
        )
        out.append(f'<text x="{left + 4}" y="{by - 4:.1f}" font-size="11">budget</text>')
    for index, colour, dash in ((1, COMMITTED_COLOUR, ""), (2, DISBURSED_COLOUR, "6 4")):
        coords = " ".join(
            f"{x(day):.1f},{y(committed if index == 1 else paid):.1f}"
            for day, committed, paid in points
        )
        style = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5"{style} points="{coords}"/>'
        )
    ly = height - 10
    out.append(
        f'<line x1="{left}" x2="{left + 28}" y1="{ly - 4}" y2="{ly - 4}" '
        f'stroke="{COMMITTED_COLOUR}" stroke-width="2.5"/>'
        f'<text x="{left + 34}" y="{ly}" font-size="12">committed</text>'
        f'<line x1="{left + 130}" x2="{left + 158}" y1="{ly - 4}" y2="{ly - 4}" '
        f'stroke="{DISBURSED_COLOUR}" stroke-width="2.5" stroke-dasharray="6 4"/>'
        f'<text x="{left + 164}" y="{ly}" font-size="12">disbursed</text>'
    )
    out.append("</svg>")
    return Markup("".join(out))


# where each state sits: the way most grants go in the top row, the ends below it
_PLACES: dict[State, tuple[int, int]] = {
    State.PROPOSED: (0, 0),
    State.APPROVED: (1, 0),
    State.RUNNING: (2, 0),
    State.EXTENDED: (3, 0),
    State.CLOSED: (4, 0),
    State.REJECTED: (0, 1),
    State.WITHDRAWN: (1, 1),
    State.REVOKED: (3, 1),
}
_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 104, 30, 40, 44


def _centre(state: State) -> tuple[float, float]:
    col, row = _PLACES[state]
    return (8 + col * (_BOX_W + _GAP_X) + _BOX_W / 2, 8 + row * (_BOX_H + _GAP_Y) + _BOX_H / 2)


def _edge(a: State, b: State) -> tuple[float, float, float, float]:
    """From the border of ``a``'s box towards ``b``'s."""
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    if ay == by:
        sign = 1 if bx > ax else -1
        return ax + sign * _BOX_W / 2, ay, bx - sign * _BOX_W / 2, by
    sign = 1 if by > ay else -1
    return ax, ay + sign * _BOX_H / 2, bx, by - sign * _BOX_H / 2


def lifecycle_path(path: Sequence[State], *, label: str) -> Markup:
    """The lifecycle's states and moves, with the states of ``path`` (in the order the grant
    went through them) filled and the moves between them drawn thick."""
    visited = set(path)
    moves = {(a, b) for a, b in itertools.pairwise(path) if a != b}
    width = 8 + 5 * _BOX_W + 4 * _GAP_X + 8
    height = 8 + 2 * _BOX_H + _GAP_Y + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(label)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#333"/></marker></defs>',
    ]
    drawn: set[tuple[State, State]] = set()
    for step in LIFECYCLE:
        for source in step.sources:
            if source == NEW or step.dest is None or step.dest == source:
                continue
            a, b = State(source), step.dest
            if (a, b) in drawn:
                continue
            drawn.add((a, b))
            x1, y1, x2, y2 = _edge(a, b)
            taken = (a, b) in moves
            out.append(
                f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                f'stroke="{"#111" if taken else "#bbb"}" '
                f'stroke-width="{3 if taken else 1}" marker-end="url(#arrow)"/>'
            )
    for state, (col, row) in _PLACES.items():
        bx = 8 + col * (_BOX_W + _GAP_X)
        by = 8 + row * (_BOX_H + _GAP_Y)
        on = state in visited
        bold = ' font-weight="bold"' if on else ""
        out.append(
            f'<rect x="{bx}" y="{by}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
            f'fill="{"#1f4e8c" if on else "#fff"}" stroke="{"#1f4e8c" if on else "#767676"}"/>'
            f'<text x="{bx + _BOX_W / 2:.0f}" y="{by + 20}" text-anchor="middle" '
            f'font-size="13" fill="{"#fff" if on else "#333"}"'
            f"{bold}>{escape(state.value)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
