"""The signals contracts: a write gate that quarantines breaking rows and never leaks values."""

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgen_assets import settings
from leadgen_assets.core import contracts

DAY = dt.date(2026, 6, 1)
FILE = "crm_users/2026-06-01/users-2026-06-01.csv"


def users(**overrides) -> pl.DataFrame:
    base = {
        "delivery_date": [DAY] * 3, "source_file": [FILE] * 3, "source_line": [2, 3, 4],
        "user_id": ["u1", "u2", "u3"], "territory": ["UK"] * 3, "segment": ["SMB", "SMB", "Mid-Market"],
        "daily_capacity": [5, 3, 9], "is_active": [True, True, False],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def test_valid_rows_pass_untouched() -> None:
    kept, rejects, report = contracts.enforce("crm_users", users())
    assert report.passed and kept.equals(users()) and rejects.is_empty()


def test_breaking_rows_are_quarantined_with_file_line_column_and_check() -> None:
    frame = users(segment=["SMB", "Enterprise Secret Co", "SMB"], daily_capacity=[5, 3, -4])
    kept, rejects, report = contracts.enforce("crm_users", frame)
    assert kept["user_id"].to_list() == ["u1"]
    assert rejects.select("source_file", "source_line", "field").rows() == [(FILE, 3, "segment"), (FILE, 4, "daily_capacity")]
    assert all(r.startswith("contract: ") for r in rejects["reason"])
    assert not report.passed and report.failures["rows"].sum() == 2
    # no value of a breaking row appears in what leaves the contract
    everything = str(rejects.rows()) + str(report.failures.rows()) + report.describe()
    assert "Enterprise Secret Co" not in everything and "-4" not in everything


def test_a_table_that_breaks_its_contract_is_refused_whole() -> None:
    with pytest.raises(contracts.ContractViolation, match="column_in_dataframe territory.*Nothing was written"):
        contracts.enforce("crm_users", users().drop("territory"))
    with pytest.raises(contracts.ContractViolation, match="Nothing was written"):
        contracts.enforce("crm_users", users().with_columns(pl.lit("x").alias("surprise")))


def test_duplicates_and_unreachable_leads_break_the_lead_contract() -> None:
    from leadgen_assets.core.signals import LEAD_COLUMNS

    row = {c: None for c in LEAD_COLUMNS} | {
        "delivery_date": DAY, "source_file": "form_leads/x.csv", "source_line": 2, "lead_id": "web:1",
        "channel": "website", "source_record_id": "1", "submitted_at": dt.datetime(2026, 6, 1, 9),
        "email": "a@b.com", "email_key": "a@b.com", "is_free_mail": False, "is_role_address": False,
    }
    frame = pl.DataFrame([row, row | {"source_line": 3}, row | {"source_line": 4, "lead_id": "web:2", "email": None, "email_key": None}],
                         schema=LEAD_COLUMNS)
    kept, rejects, _ = contracts.enforce("form_leads", frame)
    assert kept.height == 0
    assert sorted(rejects["source_line"].to_list()) == [2, 3, 4]


@given(st.lists(st.integers(min_value=-5, max_value=50), min_size=1, max_size=30))
def test_kept_plus_quarantined_is_everything(capacities: list[int]) -> None:
    n = len(capacities)
    frame = pl.DataFrame({
        "delivery_date": [DAY] * n, "source_file": [FILE] * n, "source_line": list(range(2, n + 2)),
        "user_id": [f"u{i}" for i in range(n)], "territory": ["UK"] * n, "segment": ["SMB"] * n,
        "daily_capacity": capacities, "is_active": [True] * n,
    })
    kept, rejects, _ = contracts.enforce("crm_users", frame)
    assert kept.height + rejects.height == n
    assert kept["daily_capacity"].min() is None or kept["daily_capacity"].min() >= 0
    assert rejects.height == sum(c < 0 for c in capacities)


def test_contract_docs_are_current() -> None:
    doc = settings.repo_root() / "docs" / "contracts.md"
    assert doc.read_text() == contracts.contracts_markdown(), "docs/contracts.md is stale: run `leadgen docs`"
