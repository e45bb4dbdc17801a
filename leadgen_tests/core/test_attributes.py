"""Custom lead attributes (core/attributes.py): declarations are checked, a layout carries
the attributes whose form column it has (matched like any header), and each type reads its
raw text the way a business writes it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from leadgen_assets.core import attributes


def declare(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lead_attributes.toml"
    path.write_text(body)
    return path


def test_the_shipped_declarations_load_and_are_features() -> None:
    from leadgen_assets.core import features, training

    names = {a.name for a in attributes.load()}
    assert {"webinar_attended", "webinar_minutes"} <= names
    assert names <= {f.name for f in features.FEATURES} and names <= set(training.MODEL_FEATURES)
    assert "webinar_minutes" in features.catalogue_markdown()
    # every feature says who answers for it: the data team for leadgen's own, sales ops (by
    # default) for a business's form attributes
    owners = {f.name: f.owner for f in features.FEATURES}
    assert owners["pageviews_30d"] == "team:data" and owners["webinar_minutes"] == "team:sales-ops"
    assert "| `webinar_minutes` | fit | team:sales-ops |" in features.catalogue_markdown()


def test_an_attribute_can_name_its_owner(tmp_path: Path) -> None:
    (a,) = attributes.load(declare(tmp_path, '[[attribute]]\nname = "budget_band"\nfield = "Budget"\ntype = "category"\n'
                                              'owner = "team:marketing"\n'))
    assert a.owner == "team:marketing"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[attribute]]\nname = "Bad Name"\nfield = "x"\ntype = "number"\n', "name must be"),
        ('[[attribute]]\nname = "pageviews_30d"\nfield = "x"\ntype = "number"\n', "already a feature"),
        ('[[attribute]]\nname = "ok_name"\nfield = "x"\ntype = "text"\n', "type must be one of"),
        ('[[attribute]]\nname = "ok_name"\ntype = "flag"\n', "field must name"),
        ('[[attribute]\n', "lead_attributes.toml"),
        ('[[attribute]]\nname = "ok_name"\nfield = "x"\ntype = "flag"\nowner = ""\n', "owner names who answers"),
    ],
)
def test_a_bad_declaration_is_refused_with_where_and_why(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(attributes.AttributeConfigError, match=message):
        attributes.load(declare(tmp_path, body), reserved=frozenset({"pageviews_30d"}))


def test_a_layout_carries_the_attributes_whose_column_it_has(tmp_path: Path) -> None:
    declared = attributes.load(declare(tmp_path, """
[[attribute]]
name = "minutes"
field = "Minutes Attended"
type = "number"
[[attribute]]
name = "referral_code"
field = "Referral Code"
type = "category"
"""))
    assert attributes.extract(["Email", "minutes_attended", "Notes"], declared) == {"minutes": "minutes_attended"}
    assert attributes.extract(["Email"], declared) == {}


def test_each_type_reads_the_raw_text() -> None:
    con = duckdb.connect()
    minutes = attributes.Attribute("minutes", "Minutes", "number", "")
    went = attributes.Attribute("went", "Attended", "flag", "")
    plan = attributes.Attribute("plan", "Plan", "category", "")
    rows = con.execute(
        f"SELECT {attributes.feature_sql(minutes, 'j')}, {attributes.feature_sql(went, 'j')}, {attributes.feature_sql(plan, 'j')} "
        "FROM (VALUES ('{\"minutes\": \"45\", \"went\": \"Yes\", \"plan\": \"Gold\"}'), "
        "('{\"minutes\": \"n/a\", \"went\": \"no\", \"plan\": \" \"}'), ('{}'), (NULL)) t(j)"
    ).fetchall()
    assert rows == [(45.0, True, "Gold"), (None, False, None), (None, None, None), (None, None, None)]
