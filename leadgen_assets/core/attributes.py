"""Custom lead attributes: form columns a business declares in config/lead_attributes.toml,
kept with each lead and read as features without code changes.

* ``load()`` reads and checks the declarations (names are identifiers that no built-in
  feature uses; types are number, flag or category).
* ``extract(columns)`` says which declared attributes a form layout carries, by header key.
* ``feature_sql(attr)`` is the feature's SQL expression over ``custom_attributes`` (a JSON
  object of the declared attributes' raw values). Names are checked identifiers, so the SQL
  holds no text from the data.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from leadgen_assets import settings
from leadgen_assets.core import layouts

DEFAULT_CONFIG = settings.CONFIG_DIR / "lead_attributes.toml"
TYPES = ("number", "flag", "category")
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
TRUE_WORDS = ("yes", "y", "true", "t", "1", "attended", "x")
FALSE_WORDS = ("no", "n", "false", "f", "0", "not attended", "")


class AttributeConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Attribute:
    name: str
    field: str
    type: str
    description: str
    expected_range: tuple[float, float] | None = None
    owner: str = "team:sales-ops"

    @property
    def key(self) -> str:
        return layouts.header_key(self.field)


def load(path: Path | str = DEFAULT_CONFIG, reserved: frozenset[str] = frozenset()) -> tuple[Attribute, ...]:
    path = Path(path)
    if not path.exists():
        return ()
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise AttributeConfigError(f"{path}: {exc}") from exc
    out: list[Attribute] = []
    for i, item in enumerate(raw.get("attribute", []), start=1):
        where = f"{path} [[attribute]] #{i}"
        name, field, kind = item.get("name"), item.get("field"), item.get("type")
        if not isinstance(name, str) or not _NAME.match(name):
            raise AttributeConfigError(f"{where}: name must be lower case letters, digits and _ (got {name!r})")
        if name in reserved or name in {a.name for a in out}:
            raise AttributeConfigError(f"{where}: {name!r} is already a feature; choose another name")
        if not isinstance(field, str) or not field.strip():
            raise AttributeConfigError(f"{where}: field must name the form column")
        if kind not in TYPES:
            raise AttributeConfigError(f"{where}: type must be one of {', '.join(TYPES)} (got {kind!r})")
        rng = item.get("expected_range")
        if rng is not None and (not isinstance(rng, list) or len(rng) != 2):
            raise AttributeConfigError(f"{where}: expected_range is [low, high]")
        owner = item.get("owner", "team:sales-ops")
        if not isinstance(owner, str) or not owner.strip():
            raise AttributeConfigError(f"{where}: owner names who answers for the attribute, e.g. \"team:sales-ops\"")
        out.append(Attribute(name, field, kind, str(item.get("description") or f"{field} from the form."),
                             (float(rng[0]), float(rng[1])) if rng else None, owner.strip()))
    return tuple(out)


def extract(columns: list[str], attributes: tuple[Attribute, ...]) -> dict[str, str]:
    """``{attribute name: form column}`` for the declared attributes this layout carries."""
    by_key = {layouts.header_key(c): c for c in columns}
    return {a.name: by_key[a.key] for a in attributes if a.key in by_key}


def feature_sql(attr: Attribute, column: str = "f.custom_attributes") -> str:
    value = f"nullif(trim(json_extract_string({column}, '$.{attr.name}')), '')"
    if attr.type == "number":
        return f"TRY_CAST({value} AS DOUBLE)"
    if attr.type == "flag":
        trues = ", ".join(f"'{w}'" for w in TRUE_WORDS)
        falses = ", ".join(f"'{w}'" for w in FALSE_WORDS)
        return f"CASE WHEN lower({value}) IN ({trues}) THEN true WHEN lower({value}) IN ({falses}) THEN false END"
    return value
