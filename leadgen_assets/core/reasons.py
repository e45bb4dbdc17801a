"""Reason codes in words a sales rep reads: the features that pushed a lead's score up the
most, and the ones that held it down, from the model's per-feature contributions.

Vectorised: the top features of every lead are picked with numpy, and each chosen
(lead, feature) pair is worded by one polars expression per feature, so a million leads take
seconds, not minutes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# feature -> (wording when it helped, wording when it hurt); {value} is the lead's value.
WORDING: dict[str, tuple[str, str]] = {
    "pageviews_30d": ("{value} page views in the last 30 days", "Only {value} page views in the last 30 days"),
    "active_days_30d": ("On the website on {value} days this month", "On the website on only {value} days this month"),
    "pricing_views_30d": ("Viewed pricing {value}x in 30 days", "Has not looked at pricing"),
    "service_page_views_30d": ("Read {value} service pages", "Read few service pages"),
    "case_study_views_30d": ("Read {value} case studies", "Has not read a case study"),
    "engagement_decayed": ("Active on the website this week", "Little recent website activity"),
    "days_since_last_visit": ("Last visit {value} days before enquiring", "Last visit {value} days before enquiring"),
    "prior_leads_90d": ("Came back: {value} earlier enquiries in 90 days", "First enquiry in 90 days"),
    "prior_channels_90d": ("Reached us through {value} channels", "Reached us through one channel"),
    "account_engaged_people_30d": ("{value} colleagues also engaging", "No colleagues engaging"),
    "account_events_30d": ("The account is active on the website ({value} events)", "The account is quiet on the website"),
    "buying_committee_size_30d": ("Buying committee of {value} people", "No buying committee yet"),
    "employees": ("Company size {value}", "Company size {value}"),
    "industry": ("Industry: {value}", "Industry: {value}"),
    "region": ("Region: {value}", "Region: {value}"),
    "country": ("Country: {value}", "Country: {value}"),
    "service_needed": ("Asked for {value}", "Asked for {value}"),
    "budget": ("Budget {value}", "Budget {value}"),
    "timeline": ("Timeline: {value}", "Timeline: {value}"),
    "channel": ("Came in through {value}", "Came in through {value}"),
}
# yes/no features: (wording when true, wording when false)
FLAGS: dict[str, tuple[str, str]] = {
    "is_free_mail": ("Used a free-mail address", "Used a work email address"),
    "is_role_address": ("Used a shared inbox (info@, sales@)", "Used a personal work address"),
    "is_senior_title": ("Senior decision maker", "Not a senior title"),
    "is_existing_account": ("The account is already in the CRM", "A new account"),
    "demo_requested": ("Requested a demo", "No demo request"),
    "is_test": ("Looks like a test entry", "Not a test entry"),
    "is_student": ("Looks like a student", "Not a student"),
    "is_gibberish": ("Name looks like keyboard mashing", "Real-looking name"),
    "is_spam_like": ("Throwaway domain, never visited", "Not spam-like"),
    "phone_is_placeholder": ("Dummy phone number", "Real phone number"),
}


def _wording(feature: str, values: pl.Series, helped: pl.Series) -> pl.Series:
    """One sentence per (lead, feature) pair."""
    frame = pl.DataFrame({"v": values, "helped": helped})
    if feature in FLAGS:
        yes, no = FLAGS[feature]
        expr = pl.when(pl.col("v").cast(pl.Boolean)).then(pl.lit(yes)).otherwise(pl.lit(no))
    else:
        up, down = WORDING.get(feature, (feature.replace("_", " ").capitalize() + ": {value}",) * 2)
        v = pl.col("v")
        shown = (v.round(1) if values.dtype.is_float() else v).cast(pl.Utf8).fill_null("unknown")

        def fill(template: str) -> pl.Expr:
            before, _, after = template.partition("{value}")
            return pl.concat_str([pl.lit(before), shown, pl.lit(after)]) if "{value}" in template else pl.lit(template)

        expr = pl.when(pl.col("helped")).then(fill(up)).otherwise(fill(down))
    return frame.select(expr.alias("text"))["text"]


def candidates(
    frame: pl.DataFrame, contributions: np.ndarray, sources: list[str], *, up: int = 3, down: int = 2, min_effect: float = 0.05
) -> pl.DataFrame:
    """The ``up`` features that raised each lead's score most and the ``down`` that lowered it
    most, worded: one row per (row, direction, effect, text). Contributions are on the
    log-odds scale; an effect smaller than ``min_effect`` is not a reason."""
    n = contributions.shape[0]
    order = np.argsort(-contributions, axis=1, kind="stable")
    picks = []
    for direction, cols in (("up", order[:, :up]), ("down", order[:, ::-1][:, :down])):
        rows = np.repeat(np.arange(n), cols.shape[1])
        flat = cols.reshape(-1)
        effect = contributions[rows, flat].astype(np.float64)
        keep = effect >= min_effect if direction == "up" else effect <= -min_effect
        picks.append(pl.DataFrame({"row": rows[keep], "src": flat[keep], "direction": direction, "effect": effect[keep]},
                                  schema_overrides={"row": pl.Int64, "src": pl.Int64}))
    long = pl.concat(picks)
    worded = []
    for j in long["src"].unique().sort().to_list():
        part = long.filter(pl.col("src") == j)
        feature = sources[int(j)]
        values = frame[feature].gather(part["row"])
        known = values.is_not_null()  # "company size unknown" is not a reason a rep can use
        part, values = part.filter(known), values.filter(known)
        worded.append(part.with_columns(_wording(feature, values, part["direction"] == "up").alias("text"),
                                        pl.lit(feature).alias("feature")))
    schema = {"row": pl.Int64, "direction": pl.Utf8, "effect": pl.Float64, "feature": pl.Utf8, "text": pl.Utf8}
    return pl.concat(worded).select(list(schema)) if worded else pl.DataFrame(schema=schema)


def collapse(long: pl.DataFrame, n: int, direction: str, k: int) -> pl.Series:
    """Per row, the ``k`` texts of ``direction`` with the largest effect, strongest first."""
    part = long.filter(pl.col("direction") == direction).with_columns(pl.col("effect").abs().alias("_size"))
    lists = part.sort(["row", "_size", "text"], descending=[False, True, False]).group_by("row").agg(pl.col("text").head(k))
    full = pl.DataFrame({"row": np.arange(n, dtype=np.int64)}).join(lists, on="row", how="left").sort("row")
    return full["text"].fill_null(pl.lit([], dtype=pl.List(pl.Utf8)))
