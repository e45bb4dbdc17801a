"""Benchmark: the normalisers on synthetic rows shaped like the large world's form leads.

``python -m benchmarks.normalize [--rows 2000000] [--repeat 3]`` builds phones in the sample
world's NANP and UK formats (2 % junk and placeholders), emails with case, spaces, plus-tags
and 2 % invalid ones (about one distinct value per 1.7 rows), company names, first names,
countries and regions, and prints the median and minimum seconds of each normaliser. The
libraries (phonenumbers, email-validator) only see the distinct values the polars fast
paths leave undecided, so these times are what changes when a fast path is narrowed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import polars as pl

from leadgen_assets.core import normalize as norm


def synthetic(rows: int, seed: int = 1) -> pl.DataFrame:
    people = rows // 2
    rng = np.random.default_rng(seed)
    who = rng.integers(0, people, rows)
    uk = (rng.random(people) < 0.12)[who]
    df = pl.DataFrame({
        "f": rng.integers(0, 8, rows), "r": rng.random(rows), "uk": uk,
        "a": rng.integers(200, 999, people)[who].astype(str), "e": rng.integers(200, 999, people)[who].astype(str),
        "l": np.char.zfill(rng.integers(0, 9999, people)[who].astype(str), 4),
        "n": rng.integers(1_000_000_000, 9_999_999_999, people)[who].astype(str),
        "first": np.char.add("first", (who % 5000).astype(str)), "last": np.char.add("last", who.astype(str)),
        "dom": np.array(["gmail.com", "yahoo.com", "acme.com", "firm.co.uk"])[who % 4],
    })
    a, e, ln, n, f, r = (pl.col(c) for c in ("a", "e", "l", "n", "f", "r"))
    nanp = (pl.when(f == 0).then("+1" + a + e + ln).when(f == 1).then("(" + a + ") " + e + "-" + ln)
            .when(f == 2).then(a + "." + e + "." + ln).when(f == 3).then("+1 " + a + " " + e + " " + ln)
            .when(f == 4).then(a + e + ln).when(f == 5).then(a + "-" + e + "-" + ln)
            .when(f == 6).then("1-" + a + "-" + e + "-" + ln).otherwise("+1 (" + a + ") " + e + "-" + ln))
    grouped = n.str.slice(0, 2) + " " + n.str.slice(2, 4) + " " + n.str.slice(6, 4)
    ukp = (pl.when(f == 0).then("+44" + n).when(f.is_in([1, 5])).then("+44 " + grouped)
           .when(f.is_in([2, 6])).then("0" + grouped).when(f == 3).then("+44 (0)" + grouped).otherwise("0" + n))
    junk = pl.when(r < 0.01).then(pl.lit("555-555-5555")).when(r < 0.02).then((r * 1e12).cast(pl.Int64).cast(pl.Utf8))
    base = pl.col("first") + "." + pl.col("last") + "@" + pl.col("dom").str.replace("acme", pl.lit("acme") + (pl.col("last").str.len_chars() % 97).cast(pl.Utf8))
    return df.select(
        pl.coalesce(junk, pl.when(pl.col("uk")).then(ukp).otherwise(nanp)).alias("phone"),
        pl.when(pl.col("uk")).then(pl.lit("GB")).when(r < 0.5).then(pl.lit("US")).alias("country"),
        pl.when(r < 0.01).then(pl.lit("not an email")).when(r < 0.015).then(base.str.replace("@", "@@"))
        .when(r < 0.10).then(base.str.to_uppercase()).when(r < 0.13).then(base + " ")
        .when(r < 0.2).then(base.str.replace("@", "+promo@")).otherwise(base).alias("email"),
        (pl.lit("Acme ") + (pl.col("last").str.len_chars() * 7919 % 200_000).cast(pl.Utf8)
         + pl.when(r < 0.5).then(pl.lit(", Inc.")).otherwise(pl.lit(" GmbH & Co. KG"))).alias("company"),
        pl.col("first"),
        pl.when(r < 0.3).then(pl.lit("United States")).when(r < 0.6).then(pl.lit("US")).when(r < 0.8)
        .then(pl.lit("uk")).otherwise(pl.lit("Canada")).alias("country_name"),
        pl.when(r < 0.5).then(pl.lit("CA")).otherwise(pl.lit("New York")).alias("region"),
    )


CASES = {
    "phone_e164": lambda: norm.phone_e164(pl.col("phone"), pl.col("country")),
    "email": lambda: norm.email(pl.col("email")),
    "email_key(email)": lambda: norm.email_key(norm.email(pl.col("email"))),
    "company_key": lambda: norm.company_key(pl.col("company")),
    "name_key": lambda: norm.name_key(pl.col("first")),
    "clean_text": lambda: norm.clean_text(pl.col("company")),
    "country_iso2": lambda: norm.country_iso2(pl.col("country_name")),
    "region_iso": lambda: norm.region_iso(pl.col("region"), pl.col("country")),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    frame = synthetic(args.rows)
    print(f"{frame.height:,} rows; distinct phones {frame['phone'].n_unique():,}, emails {frame['email'].n_unique():,}")
    for name, expr in CASES.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            frame.select(expr().alias("out"))
            times.append(time.perf_counter() - started)
        print(f"{name:18s} median {statistics.median(times):6.2f} s   min {min(times):6.2f} s")


if __name__ == "__main__":
    main()
