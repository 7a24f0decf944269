"""The report's chart: new leads per day (stacked by rep or source) and the pipeline by status, as PNG.

Drawn server-side with matplotlib's Agg canvas (no pyplot, so reports drawn at once on several
threads do not share state). The picture is a light, opaque card with rounded, transparent corners:
it reads the same in Slack's light and dark themes. Labels are the workspace's own status labels and
money is written with the currency's sign (``₹1,20,000``). A PNG over :data:`MAX_BYTES` is drawn
again smaller; Slack shows it at most about 360 pixels high anyway.

matplotlib is imported on first use, and warmed up on a thread when the bot starts (:func:`warm_up`),
so neither the command line nor the first report pays for it.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from kit.format import format_money
from kit.pipeline.numbers import PipelineNumbers
from kit.pipeline.period import Period
from telecrm.schema import StatusDef

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

MAX_BYTES = 200 * 1024
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.0, 110

CARD = "#FFFFFF"
EDGE = "#D6D6D6"
INK = "#1D1C1D"
MUTED = "#616061"
GRID = "#E8E8E8"
SERIES = ("#1264A3", "#2BAC76", "#E8912D", "#A0A0A5")  # top groups, then "Other" in grey
STAGE_SHADES = {
    "OPEN": ("#0B4C8C", "#1264A3", "#2F7CC0", "#4F95D1", "#6FA9DB", "#8DBCE3"),
    "WON": ("#00704F", "#2BAC76", "#4CBF8D"),
    "LOST": ("#A4153F", "#D72B5A", "#E35C80"),
}


def warm_up() -> None:
    """Import matplotlib and draw a small chart ahead of the first report: the imports, the font cache
    and the PNG writer cost about a second on a small machine the first time, and nothing after."""
    try:
        period = Period(date(2026, 1, 1), date(2026, 1, 2), "UTC")
        numbers = PipelineNumbers(period=period, today=period.last, buckets=period.buckets())
        numbers.per_bucket, numbers.new_total = [1, 2], 3
        numbers.statuses = [(StatusDef("Fresh"), 3)]
        render_chart(numbers, title="warm-up ₹")
    except Exception:
        log.exception("matplotlib could not draw a chart; reports will have none")


def has_chart(numbers: PipelineNumbers) -> bool:
    """Whether there is anything to draw (never an empty chart)."""
    new = bool(numbers.new_total) and bool(numbers.per_bucket)
    pipeline = bool(numbers.statuses) and any(n for _, n in numbers.statuses or [])
    return new or pipeline


def render_chart(numbers: PipelineNumbers, *, title: str) -> bytes:
    """The PNG (at most :data:`MAX_BYTES`)."""
    for dpi in (DPI, 90, 72):
        png = _draw(numbers, title=title, dpi=dpi)
        if len(png) <= MAX_BYTES:
            return png
    return png


def _draw(numbers: PipelineNumbers, *, title: str, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=dpi)
    FigureCanvasAgg(fig)
    fig.patch.set_alpha(0)
    fig.patches.append(
        FancyBboxPatch(
            (0.004, 0.006),
            0.992,
            0.988,
            boxstyle="round,pad=0,rounding_size=0.02",
            transform=fig.transFigure,
            facecolor=CARD,
            edgecolor=EDGE,
            linewidth=1,
            zorder=-10,
        )
    )
    fig.text(0.03, 0.92, title, fontsize=15, fontweight="bold", color=INK, ha="left", va="baseline")
    footer = _footer(numbers)
    if footer:
        fig.text(0.03, 0.045, footer, fontsize=10, color=MUTED, ha="left", va="baseline")
    grid = fig.add_gridspec(
        1, 2, width_ratios=(1.3, 1), left=0.06, right=0.97, top=0.8, bottom=0.2, wspace=0.12
    )
    _new_leads(fig.add_subplot(grid[0, 0]), numbers)
    _funnel(fig.add_subplot(grid[0, 1]), numbers)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, transparent=True, pil_kwargs={"optimize": False})
    return out.getvalue()


def _style(ax: Axes, heading: str) -> None:
    ax.set_title(heading, loc="left", fontsize=11.5, color=INK, fontweight="bold", pad=10)
    ax.set_facecolor(CARD)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(EDGE)
    # labels are drawn as plain text: matplotlib's tick machinery costs more than the rest of a chart
    ax.set_xticks([])
    ax.set_yticks([])


def _note(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        fontsize=10.5,
        color=MUTED,
        transform=ax.transAxes,
        wrap=True,
    )


def _new_leads(ax: Any, numbers: PipelineNumbers) -> None:
    step = numbers.period.step
    heading = {"day": "New leads per day", "week": "New leads per week", "month": "New leads per month"}[step]
    if len(numbers.buckets) == 1:
        heading = "New leads"
    if numbers.group_kind and (numbers.stacked or len(numbers.buckets) == 1):
        heading += f", by {numbers.group_kind.lower()}"
    _style(ax, heading)
    if numbers.per_bucket is None:
        _note(ax, "Not counted: TeleCRM could not be reached")
        return
    if not numbers.new_total:
        _note(ax, "No new leads in this period")
        return
    if len(numbers.buckets) == 1 and numbers.groups:
        _bars_by_group(ax, numbers.groups)
        return
    labels = [b.label for b in numbers.buckets]
    positions = list(range(len(labels)))
    series = numbers.stacked or [("", numbers.per_bucket)]
    bottom = [0] * len(labels)
    for i, (label, values) in enumerate(series):
        colour = (
            SERIES[-1]
            if i == len(series) - 1 and i >= 1 and label.startswith(("Other", "Unassigned"))
            else SERIES[i % 3]
        )
        _bars(ax, positions, values, colour, base=bottom, label=label or None)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in zip(positions, bottom, strict=True):
        if total:
            ax.text(x, total, f"{total:,}", ha="center", va="bottom", fontsize=8.5, color=INK)
    many = len(labels) > 8
    for x, label in zip(positions, labels, strict=True):
        if len(labels) > 16 and x % 2:
            continue
        ax.text(
            x,
            -0.03,
            label,
            transform=ax.get_xaxis_transform(),
            ha="right" if many else "center",
            va="top",
            rotation=60 if many else 0,
            rotation_mode="anchor",
            fontsize=9,
            color=MUTED,
        )
    ax.spines["left"].set_visible(False)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, max(bottom) * 1.15 or 1)
    if numbers.stacked:
        ax.legend(
            handles=ax.legend_handles_extra,
            loc="upper left",
            bbox_to_anchor=(0, -0.12 if len(labels) <= 8 else -0.3),
            ncol=min(4, len(series)),
            frameon=False,
            fontsize=8.5,
            labelcolor=INK,
            handlelength=1,
        )


def _bars_by_group(ax: Any, groups: list[tuple[str, int]]) -> None:
    shown = groups[:8]
    labels = [_short(label, 20) for label, _ in shown][::-1]
    values = [n for _, n in shown][::-1]
    _bars(ax, range(len(values)), values, SERIES[0], horizontal=True, thickness=0.6)
    _row_labels(ax, labels, values)


def _funnel(ax: Any, numbers: PipelineNumbers) -> None:
    heading = "Pipeline now, by status" + (f" ({numbers.rep.name})" if numbers.rep else "")
    _style(ax, heading)
    if numbers.statuses is None:
        _note(ax, "Not counted: TeleCRM could not be reached")
        return
    rows = [(s, n) for s, n in numbers.statuses]
    if not any(n for _, n in rows):
        _note(ax, "No leads yet")
        return
    shade_index: dict[str, int] = {}
    colours = []
    for status, _ in rows:
        shades = STAGE_SHADES.get(status.stage_type.upper(), STAGE_SHADES["OPEN"])
        i = shade_index.get(status.stage_type.upper(), 0)
        shade_index[status.stage_type.upper()] = i + 1
        colours.append(shades[min(i, len(shades) - 1)])
    labels = [_short(s.label, 22) for s, _ in rows][::-1]
    values = [n for _, n in rows][::-1]
    _bars(ax, range(len(values)), values, colours[::-1], horizontal=True, thickness=0.65)
    _row_labels(ax, labels, values)


def _row_labels(ax: Any, labels: list[str], values: list[int]) -> None:
    """Horizontal bars' labels at their left (inside the axes: the left ~40% is kept for them) and
    their numbers at their end."""
    top = max(values) or 1
    ax.set_xlim(-0.7 * top, 1.25 * top)
    ax.set_ylim(-0.6, len(values) - 0.4)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.axvline(0, color=EDGE, linewidth=1, zorder=1)
    for y, (label, n) in enumerate(zip(labels, values, strict=True)):
        ax.text(-0.03 * top, y, label, ha="right", va="center", fontsize=9, color=MUTED)
        ax.text(n, y, f" {n:,}", va="center", fontsize=9, color=INK)


def _bars(
    ax: Any,
    positions: Any,
    values: list[int],
    colour: str | list[str],
    *,
    base: list[int] | None = None,
    horizontal: bool = False,
    thickness: float = 0.7,
    label: str | None = None,
) -> None:
    """Bars as one collection: much cheaper to draw than one patch per bar (Axes.bar)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    polygons = []
    for i, (at, value) in enumerate(zip(positions, values, strict=True)):
        low = (base or [0] * len(values))[i]
        a, b, c, d = at - thickness / 2, at + thickness / 2, low, low + value
        polygons.append([(c, a), (d, a), (d, b), (c, b)] if horizontal else [(a, c), (b, c), (b, d), (a, d)])
    ax.add_collection(PolyCollection(polygons, facecolors=colour, edgecolors="none", zorder=2))
    if label and isinstance(colour, str):
        ax.legend_handles_extra = [
            *getattr(ax, "legend_handles_extra", []),
            Patch(facecolor=colour, label=label),
        ]


def _footer(numbers: PipelineNumbers) -> str:
    parts = []
    recorded = " + ".join(format_money(t.amount, t.currency) for t in numbers.payments.recorded[:3])
    completed = " + ".join(format_money(t.amount, t.currency) for t in numbers.payments.completed[:3])
    if recorded:
        parts.append(f"Payments recorded {recorded}")
    if completed:
        parts.append(f"completed {completed}")
    if numbers.followups_today is not None:
        parts.append(f"Follow-ups due today: {numbers.followups_today:,}")
    return "   ·   ".join(parts)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
