"""Point-in-time training sets: each lead's stored features, as computed for its delivery day,
with the label the CRM gave it by a cutoff day.

* **Features** are the rows of ``features.lead_features`` for one feature-set version. Each
  was computed from data delivered by the lead's own delivery day (core/features.py), so a
  training set never holds a value that arrived after the lead, whatever the cutoff.
* **Label:** won = an opportunity of the lead's person reached Closed Won on a close day
  within ``window`` days of the lead's submit day, and that Closed Won was delivered by the
  cutoff. A person's opportunity is found through its CRM contact (identity.person_records).
* **Maturity:** a lead is labelled only once its whole window has passed by the cutoff;
  younger leads are left out (their "not won yet" is not a "lost").
* Disqualified leads (test, student, spam, competitor) are never scored by the model, so they
  are left out too.

Nothing here reads a row delivered after the cutoff: that is what the leakage test checks.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from leadgen_assets.core.features import FEATURES

# The lead features the model reads: every catalogued feature, and the lead's channel.
MODEL_FEATURES = tuple(f.name for f in FEATURES) + ("channel",)

LABELS_SQL = """
WITH leads AS (
    SELECT lead_id, person_id, delivery_date, scored_at FROM features.lead_features
    WHERE feature_set_version = $version AND delivery_date <= $cutoff
      AND CAST(scored_at AS DATE) + $window <= $cutoff
),
won AS (  -- each opportunity's Closed Won, as delivered by the cutoff
    SELECT opportunity_id, contact_id, min(coalesce(close_date, CAST(modified_at AS DATE))) AS won_on
    FROM signals.crm_opportunities
    WHERE is_won AND delivery_date <= $cutoff AND contact_id IS NOT NULL
    GROUP BY ALL
),
won_by_person AS (
    SELECT pr.person_id, w.won_on, w.opportunity_id
    FROM won w JOIN identity.person_records pr ON pr.record_key = 'crm_contacts:' || w.contact_id
)
SELECT l.lead_id,
       coalesce(bool_or(w.won_on IS NOT NULL), false) AS won,
       min(w.won_on) AS won_on,
       arg_min(w.opportunity_id, w.won_on) AS opportunity_id
FROM leads l
LEFT JOIN won_by_person w
  ON w.person_id = l.person_id AND w.won_on >= CAST(l.scored_at AS DATE)
 AND w.won_on <= CAST(l.scored_at AS DATE) + $window
GROUP BY l.lead_id
"""

TRAINING_ROWS_SQL = f"""
SELECT f.*, lab.won, lab.won_on, lab.opportunity_id, CAST($cutoff AS DATE) AS label_cutoff, 'pipeline' AS source
FROM ({LABELS_SQL}) lab
JOIN features.lead_features f ON f.lead_id = lab.lead_id AND f.feature_set_version = $version
"""
TRAINING_SET_SQL = f"SELECT * FROM ({TRAINING_ROWS_SQL}) ORDER BY delivery_date, lead_id"


def training_set_sql(history_select: str | None = None) -> str:
    """The training set's query; with ``history_select`` (core/history.py), the imported
    historical leads are added to the pipeline's own (their missing features empty)."""
    if not history_select:
        return TRAINING_SET_SQL
    return f"SELECT * FROM ({TRAINING_ROWS_SQL} UNION ALL BY NAME {history_select}) ORDER BY delivery_date, lead_id"


def training_set_hash(frame: pl.DataFrame) -> str:
    """A digest of the rows (sorted by lead), independent of row order: the model's record
    names the exact data it learned from."""
    rows = frame.sort("lead_id").hash_rows(seed=0).to_numpy()
    head = ",".join(f"{c}:{t}" for c, t in frame.schema.items()).encode()
    return hashlib.sha256(head + np.ascontiguousarray(rows).tobytes()).hexdigest()[:16]


def time_split(frame: pl.DataFrame, holdout_share: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The latest whole delivery days holding about ``holdout_share`` of the leads are the
    holdout: models are judged on leads that came after everything they learned from. Counting
    leads, not days, keeps the holdout its size when days differ in volume, as when a long,
    thin imported history precedes the pipeline's own leads."""
    per_day = frame.group_by("delivery_date").len().sort("delivery_date")
    if per_day.height < 2:
        raise ValueError("a time split needs leads from at least two delivery days")
    from_end = per_day["len"].reverse().cum_sum().reverse().to_numpy()  # leads on or after each day
    target = holdout_share * frame.height
    # the latest day whose leads from it on reach the target; never the first day
    start = max(1, int(np.flatnonzero(from_end >= target)[-1]) if (from_end >= target).any() else per_day.height - 1)
    first_holdout = per_day["delivery_date"][start]
    return (frame.filter(pl.col("delivery_date") < first_holdout), frame.filter(pl.col("delivery_date") >= first_holdout))
