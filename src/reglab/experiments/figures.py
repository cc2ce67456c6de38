"""A matplotlib figure as PNG bytes, with the size and caption a page needs to show it."""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.figure import Figure

#: Dots per inch of every saved figure (a 9 × 3.6 inch figure is 900 × 360 pixels).
DPI = 100


def figure_png(fig: Figure) -> bytes:
    """The PNG bytes of a figure (matplotlib's Agg canvas; no pyplot, no global state)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


@dataclass(frozen=True)
class Image:
    """A rendered figure: PNG bytes, size in pixels and caption (the figure's suptitle)."""

    png: bytes
    width: int
    height: int
    caption: str

    @classmethod
    def of(cls, fig: Figure) -> Image:
        width, height = (round(v) for v in fig.get_size_inches() * DPI)
        return cls(figure_png(fig), width, height, fig.get_suptitle())
