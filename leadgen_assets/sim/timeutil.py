"""Time helpers: world clock, local business hours, time zones with DST, formatting."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import polars as pl

DAY = 86_400


def epoch(d: dt.date) -> int:
    """Seconds since 1970-01-01 UTC at midnight of ``d``."""
    return calendar.timegm(d.timetuple())


def _nth_sunday(year: int, month: int, n: int) -> dt.date:
    """n-th Sunday of a month (n = -1: the last one)."""
    if n > 0:
        d = dt.date(year, month, 1)
        d += dt.timedelta(days=(6 - d.weekday()) % 7)
        return d + dt.timedelta(weeks=n - 1)
    d = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=(d.weekday() + 1) % 7)


def utc_offset_minutes(t: np.ndarray, std_hours: np.ndarray, rule: np.ndarray) -> np.ndarray:
    """UTC offset (minutes) in force at epoch seconds ``t`` for zones given by their
    standard offset and DST rule ("us": 2nd Sun Mar - 1st Sun Nov at 02:00 local;
    "uk": last Sun Mar - last Sun Oct at 01:00 UTC; "none")."""
    t = np.asarray(t, dtype=np.int64)
    std = np.asarray(std_hours, dtype=np.int64) * 60
    dst = np.zeros(t.shape, dtype=bool)
    years = range(dt.datetime.fromtimestamp(int(t.min()), dt.UTC).year,
                  dt.datetime.fromtimestamp(int(t.max()), dt.UTC).year + 1) if t.size else []
    for y in years:
        us_on = epoch(_nth_sunday(y, 3, 2)) + 2 * 3600 - std * 60
        us_off = epoch(_nth_sunday(y, 11, 1)) + 2 * 3600 - (std + 60) * 60
        uk_on = epoch(_nth_sunday(y, 3, -1)) + 3600
        uk_off = epoch(_nth_sunday(y, 10, -1)) + 3600
        dst |= (rule == "us") & (t >= us_on) & (t < us_off)
        dst |= (rule == "uk") & (t >= uk_on) & (t < uk_off)
    return std + 60 * dst


def business_seconds(rng: np.random.Generator, n: int, spread: float = 2.6) -> np.ndarray:
    """Local seconds-of-day for human activity: mostly office hours, some evenings/nights."""
    office = np.clip(rng.normal(13.0 * 3600, spread * 3600, n), 6 * 3600, 23.5 * 3600)
    anytime = rng.uniform(0, DAY, n)
    return np.where(rng.random(n) < 0.88, office, anytime).astype(np.int64)


def place_in_day(day_epoch: np.ndarray, local_sec: np.ndarray, offset_min: np.ndarray
                 ) -> np.ndarray:
    """UTC epoch seconds inside the UTC day starting at ``day_epoch`` whose local clock
    reads roughly ``local_sec`` (wrapped so the UTC date stays the given day)."""
    return day_epoch + np.mod(local_sec - offset_min * 60, DAY)


def day_weights(start: dt.date, days: int) -> np.ndarray:
    """Relative activity per day: weekdays busy, weekends quiet."""
    wd = np.array([(start + dt.timedelta(days=i)).weekday() for i in range(days)])
    w = np.where(wd < 5, 1.0, np.where(wd == 5, 0.45, 0.35))
    return w / w.sum()


# ---------------------------------------------------------------- polars formatting

def fmt_epoch(col: str | pl.Expr, fmt: str, unit: str = "s") -> pl.Expr:
    """Format epoch (s or ms) as UTC text with a chrono format string."""
    e = pl.col(col) if isinstance(col, str) else col
    return pl.from_epoch(e, time_unit=unit).dt.strftime(fmt)


def fmt_offset(offset_min: pl.Expr) -> pl.Expr:
    """Minutes east of UTC -> '+HH:MM' / '-HH:MM'."""
    sign = pl.when(offset_min < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    a = offset_min.abs()
    return pl.concat_str([sign, (a // 60).cast(pl.String).str.zfill(2), pl.lit(":"),
                          (a % 60).cast(pl.String).str.zfill(2)])


ISO_MS_Z = "%Y-%m-%dT%H:%M:%S%.3fZ"   # CRM / web events
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
