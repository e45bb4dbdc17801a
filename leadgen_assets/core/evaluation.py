"""How leadgen judges a score: ranking, calibration, lift, interval coverage and parity.

All functions take numpy arrays: ``y`` is 0/1, ``p`` a probability per lead.

* AUC and PR-AUC (average precision) from scikit-learn;
* Brier score;
* ECE: expected calibration error over ten equal-count bins of the score (equal-width bins
  would put nearly every lead in the first bin at a 10% conversion rate);
* lift at the top decile: the conversion rate of the 10% best-scored leads over the base rate;
* interval coverage: the share of leads whose target lies inside [low, high]. On a business's
  own history the target is the observed conversion rate of leads scored alike (bins of the
  score); on the simulator it can also be the true probability;
* segment parity: the largest gap, across segments, between the mean score and the observed
  rate (a model that over-scores one region or company size fails it).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

BINS = 10


def _bins(p: np.ndarray, bins: int = BINS) -> np.ndarray:
    order = np.argsort(p, kind="stable")
    out = np.empty(p.size, dtype=np.int64)
    out[order] = np.arange(p.size) * bins // max(p.size, 1)
    return out


def ece(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    b = _bins(p, bins)
    total = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            total += m.sum() / p.size * abs(p[m].mean() - y[m].mean())
    return float(total)


def ece_noise(p: np.ndarray, bins: int = BINS) -> float:
    """The ECE a perfectly calibrated score would still show on this many leads: each bin's
    observed rate is a sample mean, off from the truth by sqrt(p(1-p)/n) * sqrt(2/pi) on average."""
    b = _bins(p, bins)
    total = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            q = p[m].mean()
            total += m.sum() / p.size * np.sqrt(q * (1 - q) / m.sum()) * np.sqrt(2 / np.pi)
    return float(total)


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    base = y.mean()
    if base == 0:
        return float("nan")
    top = np.argsort(-p, kind="stable")[: max(1, p.size // 10)]
    return float(y[top].mean() / base)


def binned_rate(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each lead's bin's observed conversion rate (bins of equal count by score)."""
    b = _bins(p, bins)
    rates = np.array([y[b == k].mean() if (b == k).any() else np.nan for k in range(bins)])
    return rates[b]


def coverage(target: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    return float(np.mean((target >= low) & (target <= high)))


def parity_gap(y: np.ndarray, p: np.ndarray, segments: np.ndarray, min_leads: int = 200) -> tuple[float, str | None]:
    """The largest |mean score - observed rate| over segments with at least ``min_leads``
    leads, and the segment it is in."""
    worst, name = 0.0, None
    labels = segments.astype(str)
    for seg in np.unique(labels):
        m = labels == seg
        if m.sum() >= min_leads:
            gap = abs(p[m].mean() - y[m].mean())
            if gap > worst:
                worst, name = float(gap), seg
    return worst, name


def summary(y: np.ndarray, p: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None) -> dict[str, float]:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    two_classes = 0 < y.sum() < y.size
    out = {
        "leads": int(y.size),
        "conversions": int(y.sum()),
        "auc": float(roc_auc_score(y, p)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two_classes else float("nan"),
        "brier": float(np.mean((p - y) ** 2)),
        "ece": ece(y, p),
        "ece_noise": ece_noise(p),
        "lift_top_decile": lift_top_decile(y, p),
    }
    if low is not None and high is not None:
        out["interval_coverage"] = coverage(binned_rate(y, p), low, high)
        out["interval_width_median"] = float(np.median(high - low))
    return out


def reliability_table(y: np.ndarray, p: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None,
                      bins: int = BINS) -> list[dict[str, float]]:
    """Per score decile: leads, mean score, observed rate and (with an interval) the mean low
    and high; the points of a reliability diagram."""
    b = _bins(p, bins)
    rows = []
    for k in range(bins):
        m = b == k
        if not m.any():
            continue
        row = {"decile": k + 1, "leads": int(m.sum()), "predicted": float(p[m].mean()), "observed": float(y[m].mean())}
        if low is not None and high is not None:
            row |= {"low": float(low[m].mean()), "high": float(high[m].mean())}
        rows.append(row)
    return rows
