"""One style for every figure of the paper (issue 27).

The notebooks call :func:`use` before drawing and size their figures with :func:`size`; the
paper includes each figure at its natural size (``\\includegraphics`` without a width), so a
font of ``n`` pt in a figure prints at ``n`` pt on the page. :func:`check`, which
:func:`cftrain.pipeline.reporting.figures.save` runs on every figure, refuses text below
:data:`MIN_FONT_PT` and a figure wider than the text or taller than a page leaves room for.

Colours, markers and line styles are fixed per objective, so CT looks the same in every figure.
"""

from __future__ import annotations

from collections.abc import Iterable

# the paper's text block: A4 with 2.5 cm margins (paper/paper.tex, geometry)
TEXT_WIDTH_IN = 16.0 / 2.54
TEXT_HEIGHT_IN = 24.7 / 2.54
MAX_FIGURE_HEIGHT_IN = TEXT_HEIGHT_IN - 1.2  # room for a three-line caption
MIN_FONT_PT = 7.0

FONT_SIZES: dict[str, float] = {
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.title_fontsize": 7.5,
    "figure.titlesize": 9.0,
}
RC: dict[str, object] = {
    **FONT_SIZES,
    "axes.titleweight": "normal",
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.6,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "errorbar.capsize": 2.0,
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "savefig.dpi": 200,
}

# objective (paper label) → colour, marker, line style; CT strongest, drawn last
COLORS = {"CT": "#c0392b", "CD": "#e69f00", "AR": "#0072b2", "BL": "#555555"}
MARKERS = {"CT": "o", "CD": "s", "AR": "^", "BL": "x"}
LINESTYLES = {"CT": "-", "CD": "--", "AR": "-.", "BL": ":"}
ORDER = ("BL", "AR", "CD", "CT")  # drawing order: CT on top
BAR_COLOR = "#4c72b0"
PUBLISHED_COLOR = "#999999"


def published(ax, x, y, marker: str, size: float, label: str | None = "published") -> None:
    """The published values beside ours: grey markers with a thin black edge, above the bars."""
    ax.scatter(x, y, marker=marker, s=size, c=PUBLISHED_COLOR, edgecolors="k", linewidths=0.4,
               label=label, zorder=4)  # fmt: skip


def use() -> None:
    """Apply the paper's style to matplotlib (and seaborn, where imported)."""
    import matplotlib as mpl

    try:
        import seaborn as sns

        sns.set_theme(style="whitegrid", context="paper")
    except ImportError:
        pass
    mpl.rcParams.update(RC)


def size(width: float = 1.0, height: float = 2.4) -> tuple[float, float]:
    """``figsize`` for a figure ``width`` × the text width wide and ``height`` inches tall."""
    return (TEXT_WIDTH_IN * width, height)


def font_sizes(fig) -> Iterable[tuple[str, float]]:
    """(text, size in pt) of every visible, non-empty text of ``fig``."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            yield text.get_text(), float(text.get_fontsize())


def check(fig, name: str = "figure") -> None:
    """Raise ValueError if ``fig`` has text below :data:`MIN_FONT_PT` or is larger than the
    text block leaves room for (it would be scaled down, and its fonts with it)."""
    small = sorted({f"{t!r} ({s:g} pt)" for t, s in font_sizes(fig) if s < MIN_FONT_PT - 1e-6})
    if small:
        raise ValueError(
            f"{name}: text below the paper's minimum of {MIN_FONT_PT:g} pt: " + ", ".join(small[:8])
        )
    width, height = fig.get_size_inches()
    if width > TEXT_WIDTH_IN + 0.01 or height > MAX_FIGURE_HEIGHT_IN + 0.01:
        raise ValueError(
            f"{name}: {width:.2f} × {height:.2f} in; at most {TEXT_WIDTH_IN:.2f} × "
            f"{MAX_FIGURE_HEIGHT_IN:.2f} in fit the page at full size"
        )
