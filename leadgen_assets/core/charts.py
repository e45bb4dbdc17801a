"""Charts for asset metadata: small PNGs embedded in Markdown, which the Dagster UI shows.

Only counts and category labels are ever plotted, never a row's values.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402

MAX_SERIES = 6  # more categories than this are summed into "other"


def reason_label(reason: pl.Expr) -> pl.Expr:
    """A reject reason as a chart category: numbers (line numbers, field counts) become N,
    so "wrong number of fields: 5, the header has 4" is one category whatever the counts."""
    return reason.str.replace_all(r"\d+", "N")


def markdown_image(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f"![chart](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def stacked_bars(counts: pl.DataFrame, x: str, series: str, value: str, title: str, ylabel: str) -> str | None:
    """Stacked bars of ``value`` per ``x``, one colour per ``series`` (the largest
    ``MAX_SERIES``, the rest as "other"), as a Markdown image; None when there is nothing."""
    if counts.is_empty() or counts[value].sum() == 0:
        return None
    top = counts.group_by(series).agg(pl.col(value).sum()).sort(value, series, descending=[True, False])
    keep = top[series].head(MAX_SERIES).to_list()
    counts = counts.with_columns(
        pl.when(pl.col(series).is_in(keep)).then(pl.col(series)).otherwise(pl.lit("other")).alias(series)
    )
    wide = (
        counts.group_by(x, series).agg(pl.col(value).sum())
        .pivot(on=series, index=x, values=value)
        .fill_null(0)
        .sort(x)
    )
    order = [s for s in [*keep, "other"] if s in wide.columns]
    labels = [str(v) for v in wide[x]]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    bottom = [0] * wide.height
    for name in order:
        heights = wide[name].to_list()
        ax.bar(labels, heights, bottom=bottom, label=name, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    step = max(1, len(labels) // 15)
    ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)], rotation=45, ha="right", fontsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return markdown_image(fig)
