"""The polars peer of ``iomscore score``: what an analyst might write instead, doing much less.

Offences in the last 12 and 24 months, neighbourhood offences, recency and need points, one
CSV out; no validation, no time at risk, no reasons. Lazy scan and a streaming sink, so it
runs in flat memory. ``benchmarks/bench_stream.py`` runs it beside ``iomscore score`` on the
same files and reports the ratio.

Usage: ``python benchmarks/peer_polars.py REFERRALS.csv SANCTIONS.csv OUT.csv``
"""

from __future__ import annotations

import sys

NEIGHBOURHOOD = ("shop_theft", "burglary_dwelling", "burglary_other", "vehicle_theft", "theft_other",
                 "robbery", "criminal_damage")
NEEDS = ("need_accommodation", "need_education_training_employment", "need_health", "need_drugs_alcohol",
         "need_finance_benefit_debt", "need_children_families", "need_attitudes_thinking_behaviour")


def main(referrals: str, sanctions: str, out: str) -> None:
    import polars as pl

    ref = pl.scan_csv(referrals, infer_schema=False).select(
        "person_id", pl.col("assessment_date").str.to_date(strict=False), *NEEDS)
    san = pl.scan_csv(sanctions, infer_schema=False).select(
        "person_id", pl.col("offence_date").str.to_date(strict=False), "offence_group")
    joined = san.join(ref.select("person_id", "assessment_date"), on="person_id")
    days = (pl.col("assessment_date") - pl.col("offence_date")).dt.total_days()
    counts = joined.group_by("person_id").agg(
        (days.is_between(0, 365)).sum().alias("offences_12m"),
        (days.is_between(0, 730)).sum().alias("offences_24m"),
        (pl.col("offence_group").is_in(NEIGHBOURHOOD) & days.is_between(0, 730)).sum().alias("neighbourhood"),
        days.filter(days >= 0).min().alias("days_since_last"),
    )
    need_points = pl.sum_horizontal(
        [pl.col(c).replace_strict({"some": 1, "severe": 2}, default=0, return_dtype=pl.Int32) for c in NEEDS])
    recency = (pl.when(pl.col("days_since_last") <= 90).then(3)
               .when(pl.col("days_since_last") <= 365).then(2)
               .when(pl.col("days_since_last") <= 730).then(1).otherwise(0))
    score = (ref.join(counts, on="person_id", how="left")
             .with_columns(pl.col("offences_12m", "offences_24m", "neighbourhood").fill_null(0))
             .select("person_id",
                     (pl.col("offences_12m") * 2 + pl.col("offences_24m") + pl.col("neighbourhood") * 2
                      + recency + need_points).alias("score"),
                     "offences_12m", "offences_24m", "neighbourhood", recency.alias("recency_points"),
                     need_points.alias("need_points")))
    score.sink_csv(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
