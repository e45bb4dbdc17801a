"""leadgen's learned lead model: a bounded XGBoost on the rule prior, calibrated, with
intervals and reason codes. Pure numpy/polars/xgboost; no Dagster, no warehouse.

How a lead is scored:

1. **Prior.** The rule model's log-odds (core/rules.py), or the base rate when there is no
   rule model (a business's own history with other columns).
2. **Correction.** A gradient-boosted correction learned on top of the prior (the prior is the
   booster's base margin), with monotone constraints where the direction is known
   (config/model.toml ``[monotone]``): the bound on what the model may learn.
3. **Shrinkage.** While conversions are few the correction is shrunk toward the prior:
   ``logit = prior + weight * correction`` with ``weight = min(1, conversions / full_weight)``.
   This is the cold start: with no labels the score is the rule prior.
4. **Calibration.** Platt scaling fitted on a held-out calibration split maps the logit to a
   probability (one slope and one intercept; it keeps the ranking). With few positives in
   the split, the fit is shrunk toward the identity, that is toward the prior's probabilities.
5. **Interval.** Members trained on subsamples of the training leads, each calibrated on a
   resample of the calibration split, spread around the point score; their spread, scaled
   back to the full sample size, plus the calibration error measured over time, is the
   standard error on the log-odds scale. Its multiplier is split-conformal: calibrated on the
   earlier half of the calibration split and applied to the later half, the interval must
   hold the observed conversion rate of each lead's score decile for ``intervals.level`` of
   the leads. The promise is about the conversion rate of leads scored like this one ("of
   leads like this, 4-7% convert"); one lead's own chance is not observable from one outcome.
   It is wide where the training data had few leads like it.
6. **Reasons.** XGBoost's approximate contributions (Saabas), summed per source feature and
   scaled by the weight, beside the rule points that fired. Exact TreeSHAP ran at about
   500 rows/s on this machine and the approximate path at 40-100k rows/s; reasons for every
   lead need the approximate one, and its per-feature ranking is what reasons use.

The model is stored as canonical JSON (XGBoost's own JSON for the boosters), never a pickle;
its version is a hash of those bytes, so the same data and seed give the same version.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

from leadgen_assets import settings

DEFAULT_CONFIG = settings.CONFIG_DIR / "model.toml"
FORMAT = "leadgen-model/1"

MAX_LEVELS = 40        # most frequent levels of a text column kept as indicator columns
MIN_LEVEL_COUNT = 10   # a level seen fewer times in training has no column of its own
EPS = 1e-6


class ModelError(ValueError):
    """A model cannot be trained or used as asked; the message says what to change."""


# --------------------------------------------------------------------------- config
@dataclass(frozen=True)
class ModelConfig:
    label_window_days: int
    seed: int
    rounds: int
    early_stopping_rounds: int
    calibration_share: float
    full_weight_conversions: int
    params: dict[str, Any]
    interval_level: float
    members: int
    member_fraction: float
    member_rounds_share: float
    monotone: dict[str, int]
    gates: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def load_config(path: Path | str = DEFAULT_CONFIG, **overrides: Any) -> ModelConfig:
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path}: {exc}") from exc
    iv = raw.get("intervals", {})
    monotone = {str(k): int(v) for k, v in raw.get("monotone", {}).items()}
    bad = {k: v for k, v in monotone.items() if v not in (-1, 0, 1)}
    if bad:
        raise ModelError(f"{path} [monotone]: directions must be -1, 0 or 1 (got {bad})")
    cfg = dict(
        label_window_days=int(raw.get("label_window_days", 60)),
        seed=int(raw.get("seed", 7)),
        rounds=int(raw.get("rounds", 400)),
        early_stopping_rounds=int(raw.get("early_stopping_rounds", 30)),
        calibration_share=float(raw.get("calibration_share", 0.25)),
        full_weight_conversions=int(raw.get("full_weight_conversions", 300)),
        params=dict(raw.get("params", {})),
        interval_level=float(iv.get("level", 0.9)),
        members=int(iv.get("members", 6)),
        member_fraction=float(iv.get("member_fraction", 0.25)),
        member_rounds_share=float(iv.get("member_rounds_share", 1.0)),
        monotone=monotone,
        gates={
            "min_conversions_to_train": 30, "holdout_share": 0.2, "auc_margin": 0.005, "max_ece": 0.03,
            "max_parity_gap": 0.05, **{k: float(v) for k, v in raw.get("gates", {}).items()},
        },
    )
    cfg.update(overrides)
    if not 0 < cfg["calibration_share"] < 1 or not 0 < cfg["member_fraction"] <= 1 or not 0 < cfg["interval_level"] < 1 \
            or not 0 < cfg["member_rounds_share"] <= 1:
        raise ModelError(f"{path}: calibration_share, member_fraction, member_rounds_share and intervals.level "
                         "must be between 0 and 1")
    return ModelConfig(**cfg)


# --------------------------------------------------------------------------- encoding
@dataclass(frozen=True)
class Column:
    """One input column of the model: a number, a yes/no, or a category with its levels."""

    name: str
    kind: str  # "number", "flag" or "category"
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unusable:
    column: str
    reason: str


def _kind(s: pl.Series) -> str | None:
    if s.dtype == pl.Boolean:
        return "flag"
    if s.dtype.is_numeric():
        return "number"
    if s.dtype in (pl.Utf8, pl.Categorical, pl.Enum):
        return "category"
    return None


def check_columns(frame: pl.DataFrame, columns: list[str]) -> tuple[list[str], list[Unusable]]:
    """Split ``columns`` into usable ones and unusable ones with the reason (all empty, one
    value only, free text or an identifier, or a type the model cannot read)."""
    usable, unusable = [], []
    n = frame.height
    for name in columns:
        s = frame[name]
        kind = _kind(s)
        non_null = n - s.null_count()
        if kind is None:
            unusable.append(Unusable(name, f"its type {s.dtype} is neither a number, a yes/no nor text"))
        elif non_null == 0:
            unusable.append(Unusable(name, "every value is empty"))
        elif s.drop_nulls().n_unique() == 1:
            unusable.append(Unusable(name, "it has a single value, so it tells leads nothing apart"))
        elif kind == "category":
            distinct = s.drop_nulls().n_unique()
            if distinct > MAX_LEVELS and distinct > 0.5 * non_null:
                unusable.append(Unusable(name, f"free text or an identifier ({distinct} distinct values in {non_null} rows)"))
            else:
                usable.append(name)
        else:
            usable.append(name)
    return usable, unusable


@dataclass(frozen=True)
class Encoder:
    columns: tuple[Column, ...]

    @classmethod
    def fit(cls, frame: pl.DataFrame, columns: list[str]) -> Encoder:
        out = []
        for name in columns:
            s = frame[name]
            kind = _kind(s)
            if kind == "category":
                counts = s.cast(pl.Utf8).drop_nulls().value_counts(sort=True, name="n")
                counts = counts.filter(pl.col("n") >= MIN_LEVEL_COUNT).sort(["n", name], descending=[True, False]).head(MAX_LEVELS)
                out.append(Column(name, kind, tuple(sorted(counts[name].to_list()))))
            elif kind is not None:
                out.append(Column(name, kind))
        return cls(tuple(out))

    def _encoded(self) -> list[tuple[str, str]]:
        """(encoded column, source column): a category has one indicator column per level."""
        out = []
        for c in self.columns:
            out += [(f"{c.name}={lv}", c.name) for lv in c.levels] if c.kind == "category" else [(c.name, c.name)]
        return out

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self._encoded()]

    @property
    def sources(self) -> list[str]:
        """The source column of each encoded column."""
        return [s for _, s in self._encoded()]

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        missing = [c.name for c in self.columns if c.name not in frame.columns]
        if missing:
            raise ModelError(f"the model needs column(s) the input lacks: {', '.join(missing)}")
        exprs = []
        for c in self.columns:
            col = pl.col(c.name)
            if c.kind == "category":
                text = col.cast(pl.Utf8)
                exprs += [(text == lv).fill_null(False).cast(pl.Float32).alias(f"{c.name}={lv}") for lv in c.levels]
            else:
                exprs.append(col.cast(pl.Float32).alias(c.name))
        if not exprs:
            return np.zeros((frame.height, 0), dtype=np.float32)
        return frame.select(exprs).to_numpy().astype(np.float32, copy=False)

    def to_dict(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "kind": c.kind, "levels": list(c.levels)} for c in self.columns]

    @classmethod
    def from_dict(cls, raw: list[dict[str, Any]]) -> Encoder:
        return cls(tuple(Column(r["name"], r["kind"], tuple(r["levels"])) for r in raw))


# --------------------------------------------------------------------------- helpers
def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def _platt(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept that map a log-odds score to a calibrated probability."""
    if y.min() == y.max():
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    lr.fit(score.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


PLATT_PRIOR_POSITIVES = 50


def _shrunk_platt(fitted: tuple[float, float], positives: int) -> tuple[float, float]:
    """With few positives in the calibration split a fitted slope and intercept are noise:
    shrink them toward the identity (1, 0), that is toward the prior's own probabilities, with
    weight positives / (positives + 50)."""
    w = positives / (positives + PLATT_PRIOR_POSITIVES)
    return w * fitted[0] + (1 - w), w * fitted[1]


def _split(y: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: ``share`` of the positives and of the negatives go to the second part."""
    first, second = [], []
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        idx = idx[rng.permutation(idx.size)]
        k = int(round(idx.size * share))
        second.append(idx[:k])
        first.append(idx[k:])
    return np.sort(np.concatenate(first)), np.sort(np.concatenate(second))


def _booster_bytes(b: xgb.Booster) -> bytes:
    return bytes(b.save_raw("json"))


def _booster(raw: bytes) -> xgb.Booster:
    b = xgb.Booster()
    b.load_model(bytearray(raw))
    return b


# --------------------------------------------------------------------------- model
@dataclass
class Scores:
    probability: np.ndarray
    low: np.ndarray
    high: np.ndarray
    logit: np.ndarray
    contributions: np.ndarray | None = None  # per source column, log-odds, weight applied
    sources: list[str] = field(default_factory=list)


@dataclass
class Model:
    encoder: Encoder
    booster: bytes
    members: list[bytes]
    platt: tuple[float, float]
    member_platts: list[tuple[float, float]]
    weight: float
    interval_scale: float
    calibration_sd: float
    z: float
    prior: str
    config: dict[str, Any]
    training: dict[str, Any]
    _loaded: list[xgb.Booster] = field(default_factory=list, repr=False, compare=False)

    def _boosters(self) -> list[xgb.Booster]:
        """The main booster then the members, read from their JSON once per model."""
        if not self._loaded:
            self._loaded.extend(_booster(raw) for raw in [self.booster, *self.members])
        return self._loaded

    # ----- storage
    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT,
            "encoder": self.encoder.to_dict(),
            "booster": base64.b64encode(self.booster).decode(),
            "members": [base64.b64encode(m).decode() for m in self.members],
            "platt": list(self.platt),
            "member_platts": [list(p) for p in self.member_platts],
            "weight": self.weight,
            "interval_scale": self.interval_scale,
            "calibration_sd": self.calibration_sd,
            "z": self.z,
            "prior": self.prior,
            "config": self.config,
            "training": self.training,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Model:
        doc = json.loads(raw)
        if doc.get("format") != FORMAT:
            raise ModelError(f"not a leadgen model ({doc.get('format')!r}); expected {FORMAT}")
        return cls(
            encoder=Encoder.from_dict(doc["encoder"]),
            booster=base64.b64decode(doc["booster"]),
            members=[base64.b64decode(m) for m in doc["members"]],
            platt=tuple(doc["platt"]),
            member_platts=[tuple(p) for p in doc["member_platts"]],
            weight=doc["weight"],
            interval_scale=doc["interval_scale"],
            calibration_sd=doc["calibration_sd"],
            z=doc["z"],
            prior=doc["prior"],
            config=doc["config"],
            training=doc["training"],
        )

    @property
    def version(self) -> str:
        return "xgb-" + hashlib.sha256(self.to_bytes()).hexdigest()[:12]

    # ----- scoring
    def score(self, frame: pl.DataFrame, prior_logit: np.ndarray, *, contributions: bool = False) -> Scores:
        X = self.encoder.matrix(frame)
        prior_logit = np.asarray(prior_logit, dtype=np.float64)
        zero = np.zeros(X.shape[0], dtype=np.float32)
        dm = xgb.DMatrix(X, base_margin=zero, feature_names=None)
        main, *members = self._boosters()
        correction = main.predict(dm, output_margin=True).astype(np.float64)
        a, b = self.platt
        point = a * (prior_logit + self.weight * correction) + b
        low, high = point, point
        if members:
            spread = np.stack([
                pa * (prior_logit + self.weight * m.predict(dm, output_margin=True)) + pb
                for m, (pa, pb) in zip(members, self.member_platts, strict=True)
            ])
            sd = spread.std(axis=0, ddof=1) * self.interval_scale if len(members) > 1 else np.zeros_like(point)
            sd = np.sqrt(sd**2 + self.calibration_sd**2)
            low, high = point - self.z * sd, point + self.z * sd
        out = Scores(probability=sigmoid(point), low=sigmoid(low), high=sigmoid(high), logit=point)
        if contributions:
            raw = main.predict(dm, pred_contribs=True, approx_contribs=True)[:, :-1]
            sources = [c.name for c in self.encoder.columns]
            index = {s: i for i, s in enumerate(sources)}
            fold = np.zeros((raw.shape[1], len(sources)), dtype=np.float32)
            for j, s in enumerate(self.encoder.sources):
                fold[j, index[s]] = 1.0
            out.contributions = (raw @ fold) * np.float32(self.weight * a)
            out.sources = sources
        return out


def train(
    frame: pl.DataFrame,
    label: np.ndarray,
    prior_logit: np.ndarray,
    columns: list[str],
    cfg: ModelConfig,
    *,
    prior: str,
    training: dict[str, Any] | None = None,
    order: np.ndarray | None = None,
) -> Model:
    """Train the bounded, calibrated model on ``frame[columns]`` with 0/1 ``label``, starting
    from ``prior_logit`` (the rule model's log-odds per lead, or the base rate).

    ``order`` (a time per lead, e.g. its submit time): the latest leads are the calibration
    split, so the calibration and its error are measured on the period nearest the leads the
    model will score. Without it the split is random, stratified by label."""
    y = np.asarray(label, dtype=np.float64)
    if y.size != frame.height:
        raise ModelError("label and frame differ in length")
    positives = int(y.sum())
    if positives < 2 or positives > y.size - 2:
        raise ModelError(f"training needs at least two conversions and two non-conversions (got {positives} of {y.size})")
    encoder = Encoder.fit(frame, columns)
    X = encoder.matrix(frame)
    prior_logit = np.asarray(prior_logit, dtype=np.float64)
    rng = np.random.default_rng(cfg.seed)
    if order is not None:
        by_time = np.argsort(np.asarray(order), kind="stable")
        k = int(round(y.size * cfg.calibration_share))
        fit_idx, cal_idx = np.sort(by_time[: y.size - k]), np.sort(by_time[y.size - k:])
        if y[cal_idx].min() == y[cal_idx].max() or y[fit_idx].min() == y[fit_idx].max():
            fit_idx, cal_idx = _split(y, cfg.calibration_share, rng)  # too few of one outcome late on
    else:
        fit_idx, cal_idx = _split(y, cfg.calibration_share, rng)
    kinds = {c.name: c.kind for c in encoder.columns}
    monotone = [cfg.monotone.get(src, 0) if kinds[src] != "category" else 0 for src in encoder.sources]
    params = {
        "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "base_score": 0.5,
        "seed": cfg.seed, "monotone_constraints": "(" + ",".join(str(m) for m in monotone) + ")", **cfg.params,
    }

    def matrix(idx: np.ndarray, with_label: bool = True) -> xgb.DMatrix:
        return xgb.DMatrix(X[idx], label=y[idx] if with_label else None, base_margin=prior_logit[idx])

    d_fit, d_cal = matrix(fit_idx), matrix(cal_idx)
    booster = xgb.train(params, d_fit, cfg.rounds, evals=[(d_cal, "calibration")],
                        early_stopping_rounds=cfg.early_stopping_rounds, verbose_eval=False)
    rounds = booster.best_iteration + 1
    booster = booster[:rounds]
    weight = min(1.0, positives / max(cfg.full_weight_conversions, 1))
    zero_cal = xgb.DMatrix(X[cal_idx], base_margin=np.zeros(cal_idx.size, dtype=np.float32))

    def shrunk(b: xgb.Booster) -> np.ndarray:
        return prior_logit[cal_idx] + weight * b.predict(zero_cal, output_margin=True)

    platt = _shrunk_platt(_platt(shrunk(booster), y[cal_idx]), int(y[cal_idx].sum()))
    cal_order = None if order is None else np.asarray(order)[cal_idx]
    calibration_sd = _calibration_sd(shrunk(booster), y[cal_idx], rng, cal_order)
    members, member_platts = [], []
    size = max(int(round(cfg.member_fraction * fit_idx.size)), 2)
    for m in range(cfg.members if cfg.members > 1 else 0):
        member_rng = np.random.default_rng([cfg.seed, m + 1])
        idx = np.sort(member_rng.choice(fit_idx, size=size, replace=False))
        # a member needs the spread, not the last bit of fit: fewer rounds at a higher rate score faster
        member_rounds = max(1, int(round(rounds * cfg.member_rounds_share)))
        member_eta = float(params.get("eta", 0.3)) / cfg.member_rounds_share
        mb = xgb.train({**params, "seed": cfg.seed + m + 1, "eta": min(member_eta, 1.0)}, matrix(idx), member_rounds,
                       verbose_eval=False)
        resample = member_rng.integers(0, cal_idx.size, cal_idx.size)
        members.append(_booster_bytes(mb))
        member_platts.append(_shrunk_platt(_platt(shrunk(mb)[resample], y[cal_idx][resample]), int(y[cal_idx][resample].sum())))
    z_normal = float(_normal_quantile(0.5 + cfg.interval_level / 2))
    model = Model(
        encoder=encoder,
        booster=_booster_bytes(booster),
        members=members,
        platt=platt,
        member_platts=member_platts,
        weight=weight,
        # a member saw member_fraction of the leads: its spread is that much wider than the model's
        interval_scale=math.sqrt(cfg.member_fraction),
        calibration_sd=calibration_sd,
        z=z_normal,
        prior=prior,
        config=cfg.to_dict(),
        training={},
    )
    # Conformal width: calibrated on the earlier half of the calibration split and applied to
    # the later half (as the model will be applied to leads after its training), how many
    # standard errors does it take for the interval to hold the conversion rate of the leads
    # scored alike, for interval_level of them? Never narrower than the normal interval.
    if order is not None:
        by_time = cal_idx[np.argsort(np.asarray(order)[cal_idx], kind="stable")]
        early, late = by_time[: cal_idx.size // 2], by_time[cal_idx.size // 2:]
    else:
        early, late = _split(y[cal_idx], 0.5, rng)
        early, late = cal_idx[early], cal_idx[late]
    late = np.sort(late)  # the quantile is over the set: row order does not matter
    z_conformal = z_normal
    if members and y[early].min() != y[early].max():
        cal_score = shrunk(booster)  # in cal_idx order, and cal_idx is sorted
        a1, b1 = _platt(cal_score[np.searchsorted(cal_idx, early)], y[early])
        point = a1 * cal_score[np.searchsorted(cal_idx, late)] + b1
        s = model.score(frame[late], prior_logit[late])
        sd = (s.logit - logit(s.low)) / model.z
        z_conformal = _conformal_z(point, sd, y[late], cfg.interval_level)
    model.z = max(z_normal, z_conformal)
    model.training = {
        **(training or {}), "rows": int(y.size), "conversions": positives, "fit_rows": int(fit_idx.size),
        "calibration_rows": int(cal_idx.size), "rounds": int(rounds), "weight": weight,
        "interval_z_normal": round(z_normal, 4), "interval_z_conformal": round(z_conformal, 4),
    }
    return model


def _conformal_z(point: np.ndarray, sd: np.ndarray, y: np.ndarray, level: float) -> float:
    """The split-conformal multiplier of the interval's standard error: the ``level`` quantile
    (finite-sample corrected) over leads of |logit(observed rate of the lead's score decile) -
    point| / standard error, with ``point`` and ``sd`` on the log-odds scale. A decile with no
    conversion (or no miss) counts half of one."""
    b = np.searchsorted(np.quantile(point, np.linspace(0.1, 0.9, 9)), point, side="right")
    n = np.bincount(b, minlength=10).astype(float)
    k = np.bincount(b, weights=y, minlength=10)
    rate = np.clip(k, 0.5, np.maximum(n - 0.5, 0.5)) / np.maximum(n, 1.0)
    need = np.abs(logit(rate[b]) - point) / np.maximum(sd, 1e-9)
    q = min(1.0, math.ceil((need.size + 1) * level) / need.size)
    return float(np.quantile(need, q))


def _calibration_sd(score: np.ndarray, y: np.ndarray, rng: np.random.Generator, order: np.ndarray | None = None) -> float:
    """How far, on the log-odds scale, the calibrated score of a group of leads scored alike
    still is from their observed conversion rate, beyond what sampling noise explains.

    Cross-fitted on the calibration split (each half calibrated by the other; with ``order``,
    the earlier and the later half), binned by score;
    per bin, (observed - predicted)^2 - p(1-p)/n estimates the squared calibration error, which
    the members' spread does not see. Its mean over bins, in log-odds, widens every interval."""
    if order is not None:  # earlier and later halves: calibration moves with time, and that counts
        by_time = np.argsort(order, kind="stable")
        first, second = np.sort(by_time[: y.size // 2]), np.sort(by_time[y.size // 2:])
    else:
        first, second = _split(y, 0.5, rng)
    out = np.empty(y.size)
    for fit, apply in ((first, second), (second, first)):
        a, b = _platt(score[fit], y[fit])
        out[apply] = sigmoid(a * score[apply] + b)
    bins = int(np.clip(y.sum() // 25, 3, 20))
    order = np.argsort(out, kind="stable")
    total, weight = 0.0, 0
    for part in np.array_split(order, bins):
        p = out[part].mean()
        if not 0 < p < 1:
            continue
        gap2 = (y[part].mean() - p) ** 2 - p * (1 - p) / part.size
        total += part.size * max(gap2, 0.0) / (p * (1 - p)) ** 2
        weight += part.size
    return float(math.sqrt(total / weight)) if weight else 0.0


def _normal_quantile(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)


# --------------------------------------------------------------------------- plain baselines
def plain_xgboost(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, seed: int) -> np.ndarray:
    """XGBoost with its defaults: no prior, no constraints, no calibration."""
    b = xgb.train({"objective": "binary:logistic", "seed": seed, "tree_method": "hist"},
                  xgb.DMatrix(X_train, label=y_train), 100)
    return b.predict(xgb.DMatrix(X_test))


def plain_logistic(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Logistic regression on standardised columns, missing values at the training mean."""
    mean = np.nanmean(X_train, axis=0)
    mean = np.where(np.isnan(mean), 0.0, mean)
    fill = lambda a: np.where(np.isnan(a), mean, a)  # noqa: E731
    a, b = fill(X_train), fill(X_test)
    sd = a.std(axis=0)
    sd[sd == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=2000)
    lr.fit((a - a.mean(axis=0)) / sd, y_train)
    return lr.predict_proba((b - a.mean(axis=0)) / sd)[:, 1]
