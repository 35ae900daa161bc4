"""Small, fast SVG charts for the dashboard's live views.

Matplotlib takes about 300 ms here to draw one four-panel figure, too slow to redraw every simulated
day while Play runs. These charts are plain SVG text built from NumPy arrays in about a
millisecond; the browser draws them, sharp at any projector size, with no script from the network.
The phase diagrams are SVG heat maps too, in the same cividis colours as ``sim.plots``.

Every function returns an SVG document as a string; ``sim.dashboard.app`` shows it with
``solara.HTML``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from ..palette import OUTCOME_COLORS, PARTNER_COLORS

__all__ = [
    "CIVIDIS_STOPS",
    "OUTCOME_COLORS",
    "PARTNER_COLORS",
    "Series",
    "bifurcation_chart",
    "contrast",
    "heatmap",
    "histogram",
    "line_chart",
    "nice_ticks",
    "stacked_bars",
    "text_on",
    "tile_grid",
]


_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif"
_TEXT = "#222222"
_GRID = "#DDDDDD"


@dataclass(frozen=True)
class Series:
    """One line of a :func:`line_chart`.

    Attributes
    ----------
    label : str
        Name shown in the legend.
    x, y : sequence of float
        The points; NaN values in ``y`` break the line.
    color : str
        Any SVG colour.
    dashed : bool
        Draw a dashed line (used for the second quantity of a partner).
    markers : bool
        Draw a dot at each point (for sparse data such as episodes).

    """

    label: str
    x: Sequence[float]
    y: Sequence[float]
    color: str
    dashed: bool = False
    markers: bool = False


def _channel(value: float) -> float:
    value /= 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    """Relative luminance (WCAG 2) of ``#rrggbb`` or ``rgb(r,g,b)``."""
    if color.startswith("#"):
        red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    else:
        red, green, blue = (int(part) for part in color[color.index("(") + 1 : -1].split(","))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21; text needs 4.5, large text 3)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background``."""
    white, black = contrast("#FFFFFF", background), contrast("#111111", background)
    return "#FFFFFF" if white >= black else "#111111"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return about ``count`` round tick values covering ``[low, high]`` (1, 2 or 5 times 10^k)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else [0.0]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width * 1.6:.0f}px;{_FONT}" role="img" '
        f'aria-label="{escape(title)}">'
        f'<text x="8" y="22" font-size="18" font-weight="600" fill="{_TEXT}">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


class _Frame:
    """Plot area and the mapping from data to pixels."""

    def __init__(self, width, height, x_range, y_range, left=66, right=14, top=58, bottom=46):
        self.x0, self.x1 = left, width - right
        self.y0, self.y1 = top, height - bottom
        self.x_range, self.y_range = x_range, y_range

    def px(self, x):
        lo, hi = self.x_range
        return self.x0 + (np.asarray(x, dtype=float) - lo) / (hi - lo) * (self.x1 - self.x0)

    def py(self, y):
        lo, hi = self.y_range
        return self.y1 - (np.asarray(y, dtype=float) - lo) / (hi - lo) * (self.y1 - self.y0)

    def beside(self, px: float, gap: float) -> tuple[float, str]:
        """Where a label beside a mark at ``px`` goes, on the side of the middle: x, text-anchor."""
        if px > (self.x0 + self.x1) / 2:
            return px - gap, "end"
        return px + gap, "start"

    def axes(self, x_label: str, y_label: str, x_ticks=None, y_ticks=None) -> list[str]:
        out = []
        for tick in nice_ticks(*self.y_range) if y_ticks is None else y_ticks:
            y = float(self.py(tick))
            out.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="{_GRID}" stroke-width="1"/>')  # fmt: skip
            out.append(f'<text x="{self.x0 - 6}" y="{y + 5:.1f}" font-size="15" '
                       f'text-anchor="end" fill="{_TEXT}">{_fmt(tick)}</text>')  # fmt: skip
        if x_ticks is None:
            x_ticks = nice_ticks(*self.x_range, count=6)
        for tick in x_ticks:
            x = float(self.px(tick))
            out.append(f'<text x="{x:.1f}" y="{self.y1 + 19}" font-size="15" text-anchor="middle" '
                       f'fill="{_TEXT}">{_fmt(tick)}</text>')  # fmt: skip
        out.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{self.y1}" y2="{self.y1}" '
                   f'stroke="#888" stroke-width="1.5"/>')  # fmt: skip
        out.append(f'<text x="{(self.x0 + self.x1) / 2:.1f}" y="{self.y1 + 40}" font-size="15" '
                   f'text-anchor="middle" fill="{_TEXT}">{escape(x_label)}</text>')  # fmt: skip
        mid = (self.y0 + self.y1) / 2
        out.append(
            f'<text x="14" y="{mid:.1f}" font-size="15" text-anchor="middle" '
            f'transform="rotate(-90 14 {mid:.1f})" fill="{_TEXT}">{escape(y_label)}</text>'
        )
        return out


def _legend_width(label: str) -> float:
    """Width of one legend entry: the sample line, a gap, and about 8.6 units per character."""
    return 8.6 * len(label) + 34


def _legend_rows(items: Sequence[tuple[str, str, bool]], room: float) -> int:
    """How many rows the legend needs in ``room`` units (1 or 2)."""
    return 1 if sum(_legend_width(label) for label, _, _ in items) <= room else 2


def _below_legend(items: Sequence[tuple[str, str, bool]], width: int) -> int:
    """The top of what is drawn below the legend of a chart ``width`` wide (one or two rows)."""
    return 58 + 19 * (_legend_rows(items, width - 20) - 1)


def _halo_label(x: float, y: float, anchor: str, label: str) -> str:
    """A bold label with a white halo, readable over lines and shading."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="15" font-weight="700" '
            f'text-anchor="{anchor}" fill="#111" stroke="white" stroke-width="4" '
            f'paint-order="stroke">{escape(label)}</text>')  # fmt: skip


def _legend(items: Sequence[tuple[str, str, bool]], x_right: float, y: float,
            room: float) -> list[str]:  # fmt: skip
    """Draw legend entries ``(label, colour, dashed)`` right-aligned at ``x_right``.

    One row, or two (split in the middle) when one row would not fit in ``room`` units.
    """
    rows = [list(items)]
    if _legend_rows(items, room) == 2:
        half = (len(items) + 1) // 2
        rows = [list(items[:half]), list(items[half:])]
    out = []
    for number, row in enumerate(rows):
        x = x_right
        baseline = y + 19 * number
        for label, color, dashed in reversed(row):
            x -= _legend_width(label)
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            out.append(
                f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{baseline - 5:.1f}" '
                f'y2="{baseline - 5:.1f}" stroke="{color}" stroke-width="3.5"{dash}/>'
            )
            out.append(f'<text x="{x + 29:.1f}" y="{baseline:.1f}" font-size="15" '
                       f'fill="{_TEXT}">{escape(label)}</text>')  # fmt: skip
    return out


def _polyline(frame: _Frame, xs, ys, color: str, dashed: bool) -> list[str]:
    """One polyline per run of finite values (NaN breaks the line)."""
    px, py = frame.px(xs), frame.py(ys)
    finite = np.isfinite(py)
    out = []
    dash = ' stroke-dasharray="7 5"' if dashed else ""
    start = None
    for index in range(len(py) + 1):
        ok = index < len(py) and finite[index]
        if ok and start is None:
            start = index
        elif not ok and start is not None:
            # One %-format for the whole run of points: several times faster than one f-string
            # per point, which matters for a 730-day line redrawn on every frame.
            pairs = np.column_stack([px[start:index], py[start:index]]).ravel()
            points = ("%.1f,%.1f " * (index - start) % tuple(pairs.tolist())).rstrip()
            out.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                       f'stroke-width="3" stroke-linejoin="round"{dash}/>')  # fmt: skip
            start = None
    return out


def line_chart(series: Sequence[Series], *, title: str, x_label: str, y_label: str,
               x_range: tuple[float, float], y_range: tuple[float, float] | None = None,
               width: int = 460, height: int = 235, note: str = "",
               events: Sequence[tuple[float, str]] = ()) -> str:  # fmt: skip
    """Draw a line chart with a legend; return the SVG text.

    Parameters
    ----------
    series : sequence of Series
        The lines.
    title, x_label, y_label : str
        Plain-words texts.
    x_range : (float, float)
        Fixed horizontal extent (the whole run), so that lines grow to the right as days pass.
    y_range : (float, float), optional
        Vertical extent; by default from 0 to a round number above the largest value.
    width, height : int
        Size of the drawing in SVG units (it scales to its container).
    note : str
        A line of text drawn in the middle of an empty chart (e.g. "no episodes yet").
    events : sequence of (float, str)
        Vertical markers ``(x, label)``, e.g. the day an intervention starts.

    """
    if y_range is None:
        top = max((float(np.nanmax(s.y)) for s in series if np.any(np.isfinite(s.y))),
                  default=1.0)  # fmt: skip
        ticks = nice_ticks(0.0, max(top, 1e-9) * 1.05)
        y_range = (0.0, max(ticks[-1], top, 1.0))
    x_lo, x_hi = x_range
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    legend = [(s.label, s.color, s.dashed) for s in series]
    frame = _Frame(width, height, (x_lo, x_hi), y_range, top=_below_legend(legend, width))
    body = frame.axes(x_label, y_label)
    for number, (x, label) in enumerate(events):
        if not x_lo <= x <= x_hi:
            continue
        px = float(frame.px(x))
        body.append(f'<line class="relsim-event" x1="{px:.1f}" x2="{px:.1f}" y1="{frame.y0}" '
                    f'y2="{frame.y1}" stroke="#444" stroke-width="1.5" stroke-dasharray="2 3">'
                    f"<title>{escape(label)}</title></line>")  # fmt: skip
        tx, anchor = frame.beside(px, 4)
        body.append(
            f'<text x="{tx:.1f}" y="{frame.y0 + 14 + 15 * number}" '
            f'font-size="15" text-anchor="{anchor}" fill="#333">{escape(label)}</text>'
        )
    for s in series:
        if len(s.x):
            body += _polyline(frame, s.x, s.y, s.color, s.dashed)
            if s.markers:
                for a, b in zip(frame.px(s.x), frame.py(s.y), strict=True):
                    if np.isfinite(b):
                        body.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" '
                                    f'fill="{s.color}"/>')  # fmt: skip
    if note:
        body.append(
            f'<text x="{(frame.x0 + frame.x1) / 2:.1f}" y="{(frame.y0 + frame.y1) / 2:.1f}"'
            f' font-size="15" text-anchor="middle" fill="#666">{escape(note)}</text>'
        )
    body += _legend(legend, width - 10, 46, width - 20)
    return _svg(width, height, body, title)


def stacked_bars(categories: Sequence[str], shares: dict[str, Sequence[float]],
                 colors: dict[str, str], *, title: str, counts: Sequence[int] = (),
                 width: int = 460, height: int | None = None) -> str:  # fmt: skip
    """Draw horizontal 100% bars, one per category, split by the keys of ``shares``.

    Parameters
    ----------
    categories : sequence of str
        One bar each (e.g. pairings of styles), drawn top to bottom.
    shares : dict of str to sequence of float
        For each part (e.g. an outcome), its share in each category; shares of a bar sum to 1.
    colors : dict of str to str
        Colour of each part.
    title : str
        Chart title.
    counts : sequence of int, optional
        Number of couples behind each bar, printed at its end.
    width, height : int, optional
        Size of the drawing in SVG units; the height grows with the number of bars by default.

    """
    bar, gap = 30, 12
    rows = max(len(categories), 1)
    height = height or 34 + 36 + rows * (bar + gap)
    left, right = 168, 62
    body = []
    for row, name in enumerate(categories):
        y = 34 + 34 + row * (bar + gap)
        x = float(left)
        body.append(f'<text x="{left - 8}" y="{y + bar / 2 + 5:.1f}" font-size="15" '
                    f'text-anchor="end" fill="{_TEXT}">{escape(name)}</text>')  # fmt: skip
        for part, values in shares.items():
            share = float(values[row])
            w = share * (width - left - right)
            if w <= 0:
                continue
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                f'fill="{colors[part]}"><title>{escape(part)}: {share:.0%}</title></rect>'
            )
            if w > 38:
                ink = text_on(colors[part])
                body.append(f'<text x="{x + w / 2:.1f}" y="{y + bar / 2 + 5:.1f}" font-size="15" '
                            f'text-anchor="middle" fill="{ink}">{share:.0%}</text>')  # fmt: skip
            x += w
        if counts:
            body.append(f'<text x="{width - right + 6}" y="{y + bar / 2 + 5:.1f}" font-size="15" '
                        f'fill="#555">n={int(counts[row])}</text>')  # fmt: skip
    body += _legend([(part, colors[part], False) for part in shares], width - 10, 52, width - 20)
    return _svg(width, height, body, title)


def histogram(values: Sequence[float], *, title: str, x_label: str, bins: Sequence[float],
              color: str = "#0072B2", width: int = 460, height: int = 260,
              marker: float | None = None, marker_label: str = "") -> str:  # fmt: skip
    """Draw a histogram of ``values`` (couples per bin); return the SVG text.

    ``marker`` draws a dashed vertical line at a threshold, labelled ``marker_label``.
    """
    edges = np.asarray(bins, dtype=float)
    data = np.asarray(values, dtype=float)
    counts, _ = np.histogram(np.clip(data[np.isfinite(data)], edges[0], edges[-1]), bins=edges)
    # Headroom: the axis ends on a round number at least 15% above the tallest bar, so that the
    # bar never reaches the title or the marker's label above the plot area.
    wanted = max(int(counts.max()) if counts.size else 1, 1) * 1.15
    ticks = nice_ticks(0.0, wanted)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    top = math.ceil(wanted / step - 1e-9) * step
    frame = _Frame(width, height, (edges[0], edges[-1]), (0.0, max(top, 1.0)))
    count_ticks = [t for t in nice_ticks(0.0, frame.y_range[1]) if float(t).is_integer()]
    body = frame.axes(x_label, "couples", y_ticks=count_ticks)
    for count, lo, hi in zip(counts, edges[:-1], edges[1:], strict=True):
        if count:
            x0, x1 = float(frame.px(lo)) + 1, float(frame.px(hi)) - 1
            y = float(frame.py(count))
            body.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 1):.1f}" '
                f'height="{frame.y1 - y:.1f}" fill="{color}"><title>{count}</title></rect>'
            )
    if marker is not None:
        x = float(frame.px(marker))
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.y0}" y2="{frame.y1}" '
                    f'stroke="#C0392B" stroke-width="2.5" stroke-dasharray="6 4"/>')  # fmt: skip
        body.append(
            f'<text x="{x + 6:.1f}" y="{frame.y0 + 16}" font-size="15" fill="#C0392B">'
            f"{escape(marker_label)}</text>"
        )
    return _svg(width, height, body, title)


def tile_grid(colors: Sequence[str], tooltips: Sequence[str], *, title: str,
              legend: dict[str, str], outlined: int | None = None, per_row: int = 25,
              width: int = 460) -> str:  # fmt: skip
    """Draw one small square per item, in rows, each in its colour; return the SVG text.

    Parameters
    ----------
    colors, tooltips : sequence of str
        Colour and hover text of each tile, in order (left to right, top to bottom).
    title : str
        Chart title.
    legend : dict of str to str
        Legend entries: label to colour.
    outlined : int, optional
        Index of a tile drawn with a thick black outline (the followed couple).
    per_row : int
        Tiles per row.
    width : int
        Width of the drawing in SVG units.

    """
    gap = 3
    size = min(16.0, (width - 16) / per_row - gap)
    legend_items = [(label, color, False) for label, color in legend.items()]
    top = _below_legend(legend_items, width) + 8
    rows = max(-(-len(colors) // per_row), 1)
    height = int(top + rows * (size + gap) + 10)
    body = []
    for index, (color, tip) in enumerate(zip(colors, tooltips, strict=True)):
        x = 8 + (index % per_row) * (size + gap)
        y = top + (index // per_row) * (size + gap)
        ring = ' stroke="#111111" stroke-width="3"' if index == outlined else ""
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{size:.1f}" height="{size:.1f}" '
                    f'fill="{color}"{ring}><title>{escape(tip)}</title></rect>')  # fmt: skip
    body += _legend(legend_items, width - 10, 46, width - 20)
    return _svg(width, height, body, title)


#: Stops of Matplotlib's "cividis" map (dark blue at 0, yellow at 1), the colour scale of the
#: phase diagrams in ``sim.plots``; readable with any colour vision and in black and white.
CIVIDIS_STOPS: tuple[tuple[int, int, int], ...] = (
    (0, 34, 78), (26, 56, 111), (67, 78, 108), (97, 101, 111), (125, 124, 120),
    (155, 148, 118), (188, 174, 108), (222, 201, 88), (254, 232, 56),
)  # fmt: skip


def _share_color(share: float) -> str:
    """Cividis colour of a share in [0, 1]: dark blue (none) to yellow (all), interpolated."""
    share = min(max(float(share), 0.0), 1.0) if math.isfinite(share) else 0.0
    position = share * (len(CIVIDIS_STOPS) - 1)
    low = min(int(position), len(CIVIDIS_STOPS) - 2)
    weight = position - low
    start, end = np.array(CIVIDIS_STOPS[low]), np.array(CIVIDIS_STOPS[low + 1])
    red, green, blue = (start + (end - start) * weight).round().astype(int)
    return f"rgb({red},{green},{blue})"


def heatmap(share: np.ndarray, x_values: Sequence[float], y_values: Sequence[float], *,
            title: str, x_label: str, y_label: str, marker: tuple[float, float] | None = None,
            marker_label: str = "you", share_label: str = "share of couples spiraling or dissolved",
            width: int = 460, height: int = 390) -> str:  # fmt: skip
    """Draw a grid of shares in [0, 1] (cividis: dark to yellow) with a colour key; return SVG.

    Parameters
    ----------
    share : numpy.ndarray, shape (len(x_values), len(y_values))
        The share at each grid point (first index along x).
    x_values, y_values : sequence of float
        Grid values, increasing; each cell is centred on its value.
    title, x_label, y_label : str
        Plain-words texts.
    marker : (float, float), optional
        A point to mark (the current couple), drawn as a ringed dot with ``marker_label``.
    marker_label : str
        Text next to the marker.
    share_label : str
        What the share counts, written along the colour key and in each cell's tooltip.
    width, height : int
        Size of the drawing in SVG units.

    """
    xs, ys = np.asarray(x_values, dtype=float), np.asarray(y_values, dtype=float)
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1) or 1.0
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1) or 1.0
    frame = _Frame(width, height, (xs[0] - dx / 2, xs[-1] + dx / 2),
                   (ys[0] - dy / 2, ys[-1] + dy / 2), right=112)  # fmt: skip
    body = []
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            x0, x1 = float(frame.px(x - dx / 2)), float(frame.px(x + dx / 2))
            y0, y1 = float(frame.py(y + dy / 2)), float(frame.py(y - dy / 2))
            value = float(share[i, j])
            body.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0 + 0.5:.1f}" '
                        f'height="{y1 - y0 + 0.5:.1f}" fill="{_share_color(value)}">'
                        f"<title>{value:.0%}: {escape(share_label)}</title></rect>")  # fmt: skip
    body += frame.axes(x_label, y_label, x_ticks=nice_ticks(xs[0], xs[-1], 6),
                       y_ticks=[])  # fmt: skip
    for tick in nice_ticks(ys[0], ys[-1], 6):
        y = float(frame.py(tick))
        body.append(f'<text x="{frame.x0 - 6}" y="{y + 5:.1f}" font-size="15" '
                    f'text-anchor="end" fill="{_TEXT}">{_fmt(tick)}</text>')  # fmt: skip
    # Colour key on the right: 0% at the bottom, 100% at the top.
    key_x = frame.x1 + 16
    steps = 20
    span = frame.y1 - frame.y0
    for s in range(steps):
        y = frame.y1 - (s + 1) * span / steps
        body.append(f'<rect x="{key_x}" y="{y:.1f}" width="16" height="{span / steps + 0.5:.1f}" '
                    f'fill="{_share_color((s + 0.5) / steps)}"/>')  # fmt: skip
    for share_tick in (0.0, 0.5, 1.0):
        y = frame.y1 - share_tick * span
        body.append(
            f'<text x="{key_x + 21}" y="{y + 5:.1f}" font-size="15" fill="{_TEXT}">'
            f"{share_tick:.0%}</text>"
        )
    body.append(f'<rect x="{key_x}" y="{frame.y0}" width="16" height="{span}" fill="none" '
                f'stroke="#888"/>')  # fmt: skip
    label_x, label_y = key_x + 80, (frame.y0 + frame.y1) / 2
    body.append(f'<text x="{label_x}" y="{label_y:.1f}" font-size="15" text-anchor="middle" '
                f'transform="rotate(-90 {label_x} {label_y:.1f})" fill="{_TEXT}" '
                f'class="relsim-share-label">{escape(share_label)}</text>')  # fmt: skip
    if marker is not None:
        mx = float(frame.px(min(max(marker[0], xs[0]), xs[-1])))
        my = float(frame.py(min(max(marker[1], ys[0]), ys[-1])))
        body.append(f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="9" fill="#111" stroke="white" '
                    f'stroke-width="3"/>')  # fmt: skip
        tx, anchor = frame.beside(mx, 14)
        body.append(_halo_label(tx, my + 5, anchor, marker_label))
    return _svg(width, height, body, title)


def bifurcation_chart(values: Sequence[float], calm: Sequence[float], spiral: Sequence[float],
                      unstable: Sequence[tuple[float, float]], bistable: Sequence[bool], *,
                      title: str, x_label: str, y_label: str, setting: float,
                      threshold: float | None = None,
                      points: Sequence[tuple[float, float, str, str]] = (),
                      width: int = 460, height: int = 330) -> str:  # fmt: skip
    """Draw a bifurcation diagram: stable branches, the unstable threshold, where you are.

    Parameters
    ----------
    values : sequence of float
        The parameter's values (increasing).
    calm, spiral : sequence of float
        Height of the calm and the spiral stable equilibrium at each value (NaN: none), drawn
        as solid lines in the outcome colours.
    unstable : sequence of (float, float)
        Unstable equilibria, drawn as open circles on a dashed line: the tipping threshold.
    bistable : sequence of bool
        Values where two stable states coexist, shaded grey.
    title, x_label, y_label : str
        Plain-words texts.
    setting : float
        The parameter's current value: a vertical line.
    threshold : float, optional
        A horizontal dotted line (e.g. the spiral rule's requests a day).
    points : sequence of (x, y, label, colour)
        Positions to mark (your couples, the couple followed), as ringed dots.
    width, height : int
        Size of the drawing in SVG units.

    """
    xs = np.asarray(values, dtype=float)
    calm, spiral = np.asarray(calm, dtype=float), np.asarray(spiral, dtype=float)
    heights = [*calm[np.isfinite(calm)], *spiral[np.isfinite(spiral)], *(y for _, y in unstable),
               *(y for _, y, _, _ in points if math.isfinite(y)), threshold or 0.0]  # fmt: skip
    y_top = max(max(heights, default=1.0) * 1.08, 1.0)
    legend = [("calm", OUTCOME_COLORS["stable"], False),
              ("spiral", OUTCOME_COLORS["spiraling"], False),
              ("tipping threshold", "#333333", True)]  # fmt: skip
    frame = _Frame(width, height, (float(xs[0]), float(xs[-1])), (0.0, y_top),
                   top=_below_legend(legend, width))  # fmt: skip
    body = []
    half = (xs[-1] - xs[0]) / max(len(xs) - 1, 1) / 2
    for x, both in zip(xs, bistable, strict=True):
        if both:
            x0 = float(frame.px(max(x - half, xs[0])))
            x1 = float(frame.px(min(x + half, xs[-1])))
            body.append(
                f'<rect class="relsim-bistable" x="{x0:.1f}" y="{frame.y0}" '
                f'width="{x1 - x0 + 0.5:.1f}" height="{frame.y1 - frame.y0}" '
                f'fill="#E4E4E4"><title>two stable states here</title></rect>'
            )
    body += frame.axes(x_label, y_label, x_ticks=nice_ticks(xs[0], xs[-1], 6))
    if threshold is not None:
        y = float(frame.py(threshold))
        body.append(f'<line x1="{frame.x0}" x2="{frame.x1}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="#666" stroke-width="1.5" stroke-dasharray="2 4"/>')  # fmt: skip
    body += _polyline(frame, xs, calm, OUTCOME_COLORS["stable"], False)
    body += _polyline(frame, xs, spiral, OUTCOME_COLORS["spiraling"], False)
    if unstable:
        ux = np.array([x for x, _ in unstable])
        uy = np.array([y for _, y in unstable])
        order = np.argsort(ux, kind="stable")
        body += _polyline(frame, ux[order], uy[order], "#333333", True)
        for x, y in zip(frame.px(ux), frame.py(uy), strict=True):
            body.append(f'<circle class="relsim-unstable" cx="{x:.1f}" cy="{y:.1f}" r="5" '
                        f'fill="white" stroke="#333333" stroke-width="2"/>')  # fmt: skip
    sx = float(frame.px(min(max(setting, xs[0]), xs[-1])))
    body.append(f'<line class="relsim-setting" x1="{sx:.1f}" x2="{sx:.1f}" y1="{frame.y0}" '
                f'y2="{frame.y1}" stroke="#111" stroke-width="2"><title>your setting: '
                f"{_fmt(setting)}</title></line>")  # fmt: skip
    for number, (x, y, label, color) in enumerate(points):
        if not math.isfinite(y):
            continue
        px = float(frame.px(min(max(x, xs[0]), xs[-1])))
        py = float(frame.py(min(max(y, 0.0), y_top)))
        body.append(f'<circle class="relsim-position" cx="{px:.1f}" cy="{py:.1f}" r="8" '
                    f'fill="{color}" stroke="white" stroke-width="3"><title>{escape(label)}'
                    f"</title></circle>")  # fmt: skip
        tx, anchor = frame.beside(px, 13)
        body.append(_halo_label(tx, py + 5 + 17 * number, anchor, label))
    body += _legend(legend, width - 10, 46, width - 20)
    return _svg(width, height, body, title)
