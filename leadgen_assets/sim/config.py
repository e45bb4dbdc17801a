"""Configuration of the sample world: sizes, rates, drift, presets, random streams."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

CHANNELS: tuple[str, ...] = (
    "google_ads", "meta_lead_ads", "linkedin", "website", "webinar", "referral",
)
PAID_CHANNELS: tuple[str, ...] = ("google_ads", "meta_lead_ads", "linkedin", "webinar")

# Landing-zone sources written by generate_world (review_decisions is owned too: it is
# wiped because old verdicts refer to leads of the previous world).
WORLD_SOURCES: tuple[str, ...] = (
    "web_events", "form_leads", "crm_accounts", "crm_contacts", "crm_opportunities",
    "crm_users", "enrichment", "ad_spend", "consent_events",
)
OWNED_SOURCES: tuple[str, ...] = WORLD_SOURCES + ("review_decisions",)
TRUTH_FILES: tuple[str, ...] = (
    "accounts.parquet", "persons.parquet", "records.parquet", "visitors.parquet",
    "leads.parquet", "world.json",
)

DRIFT_KINDS = ("channel_quality", "form_layout")
DEFAULT_DRIFT_CHANNEL = {"channel_quality": "meta_lead_ads", "form_layout": "google_ads"}


@dataclass(frozen=True)
class Drift:
    """A change in the world from day index ``start_day`` (0-based) on.

    - ``channel_quality``: the channel's junk rate triples (capped at 60 %) and the
      conversion propensity of its non-junk leads drops sharply (logit - 2.5).
    - ``form_layout``: the channel's CSV header changes (see ``layouts.DRIFTED_HEADERS``).
    """

    kind: Literal["channel_quality", "form_layout"]
    start_day: int
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DRIFT_KINDS:
            raise ValueError(f"unknown drift kind {self.kind!r}; expected one of {DRIFT_KINDS}")
        if self.channel is None:
            object.__setattr__(self, "channel", DEFAULT_DRIFT_CHANNEL[self.kind])
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNELS}")
        if self.start_day < 0:
            raise ValueError("start_day must be >= 0")

    def active(self, kind: str, channel: str, day: int) -> bool:
        return self.kind == kind and self.channel == channel and day >= self.start_day


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines a sample world. Same config -> byte-identical files."""

    name: str = "small"
    seed: int = 42
    start: dt.date = dt.date(2026, 6, 1)
    days: int = 30
    n_persons: int = 2_000
    # Volume ratios (averaged over all persons, junk included).
    form_rows_per_person: float = 2.0
    web_events_per_person: float = 20.0
    noise_event_share: float = 0.30      # share of web events from never-a-person visitors
    late_event_share: float = 0.03       # share of web sessions delivered 1-3 days late
    # Population.
    persons_per_account: float = 2.5
    junk_row_share: float = 0.10         # target share of junk form rows (no drift)
    crm_account_share: float = 0.20      # accounts already in the CRM on day 1
    mover_share: float = 0.02            # persons who change job during the world
    consent_share: float = 0.025         # persons who send a consent event
    enrichment_coverage: float = 0.70    # domains the provider ever knows
    # Conversion: mean p over non-junk lead persons (the intercept is calibrated to it).
    target_conversion: float = 0.08
    rep_leads_per_day: float = 150.0     # one rep per this many daily leads
    max_lines_per_file: int = 1_000_000  # web_events file split
    drift: Drift | None = None

    def __post_init__(self) -> None:
        if self.days < 1 or self.n_persons < 50:
            raise ValueError("a world needs days >= 1 and n_persons >= 50")
        if self.drift is not None and self.drift.start_day >= self.days:
            raise ValueError("drift.start_day must fall inside the world")

    @classmethod
    def preset(cls, name: str, seed: int | None = None, **overrides: Any) -> WorldConfig:
        """A named preset (``small``, ``medium``, ``large``), optionally with overrides."""
        if name not in PRESETS:
            raise KeyError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
        cfg = PRESETS[name]
        if seed is not None:
            overrides["seed"] = seed
        return dataclasses.replace(cfg, **overrides) if overrides else cfg

    def day(self, i: int) -> dt.date:
        return self.start + dt.timedelta(days=i)

    def day_str(self, i: int) -> str:
        return self.day(i).isoformat()

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorldConfig:
        d = dict(d)
        d["start"] = dt.date.fromisoformat(d["start"])
        if d.get("drift") is not None:
            d["drift"] = Drift(**d["drift"])
        return cls(**d)


PRESETS: dict[str, WorldConfig] = {
    "small": WorldConfig(name="small", days=30, n_persons=2_000),
    "medium": WorldConfig(name="medium", days=60, n_persons=100_000),
    "large": WorldConfig(name="large", days=90, n_persons=1_000_000),
}


@dataclass
class Streams:
    """Independent, named random streams derived from the seed.

    Each stage draws from its own stream, so changing how much one stage draws does not
    shift the numbers of the others. Names are hashed with crc32 (stable across runs,
    unlike ``hash(str)``).
    """

    seed: int
    _cache: dict[tuple, np.random.Generator] = field(default_factory=dict)

    def __call__(self, name: str, *extra: int) -> np.random.Generator:
        key = (name, *extra)
        if key not in self._cache:
            ss = np.random.SeedSequence([self.seed, zlib.crc32(name.encode()), *extra])
            self._cache[key] = np.random.Generator(np.random.PCG64(ss))
        return self._cache[key]


def mix64(x: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 finaliser: a bijection on uint64 used to make unique random-looking ids."""
    with np.errstate(over="ignore"):
        z = np.asarray(x).astype(np.uint64) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z
