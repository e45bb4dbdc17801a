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


def reliability(curves: dict[str, pl.DataFrame], title: str) -> str | None:
    """A reliability diagram: per score decile, the mean score (x) against the observed
    conversion rate (y), one line per scorer; a scorer's 90% interval, where it has one, is
    the shaded band of its deciles' mean low and high. Each frame has columns ``predicted``,
    ``observed`` and optionally ``low``/``high`` (aggregates of a holdout, never a lead)."""
    curves = {k: v for k, v in curves.items() if v.height}
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    top = max(float(max(c["predicted"].max(), c["observed"].max())) for c in curves.values())
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--", label="perfectly calibrated")
    for name, c in curves.items():
        (line,) = ax.plot(c["predicted"], c["observed"], marker="o", ms=3, lw=1.2, label=name)
        if "low" in c.columns and c["low"].null_count() < c.height:
            ax.fill_between(c["predicted"], c["low"], c["high"], color=line.get_color(), alpha=0.15,
                            label=f"{name}: 90% interval")
    ax.set_xlabel("mean score of the decile")
    ax.set_ylabel("observed conversion rate")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return markdown_image(fig)
