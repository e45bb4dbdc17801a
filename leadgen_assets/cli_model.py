"""``leadgen model ...``: train, list, promote, roll back and backtest the learned model.

    leadgen model train                       # the train_challenger job, then its comparison
    leadgen model list                        # registered versions; the champion is marked
    leadgen model promote VERSION --by NAME --why TEXT
    leadgen model rollback VERSION|rules --by NAME --why TEXT
    leadgen model history                     # every promotion and rollback
    leadgen model features [VERSION]          # the feature catalogue with drift baselines
    leadgen model backtest HISTORY.csv --label won [--folds 5] [--ignore COLUMN ...]
    leadgen model import HISTORY.csv --label won --created created_at [--map COLUMN=FEATURE ...]
    leadgen model imports [--remove ID]       # imported histories

Promotion needs the version's promotion gates passed and an approval (who and why); both
decisions go to ``models.lifecycle``. The same decision can be made in the Dagster UI with the
``model_decision`` job. Messages hold column names, counts and versions, never values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadgen_assets import settings
from leadgen_assets.cli_resolve import UsageProblem, _fail, _reader

app = typer.Typer(help="Train, compare, promote and roll back the learned lead model; backtest it on your history.",
                  no_args_is_help=True)
console = Console()

LABEL_TRUE = {"1", "1.0", "true", "t", "yes", "y", "won", "closed won"}
LABEL_FALSE = {"0", "0.0", "false", "f", "no", "n", "lost", "closed lost"}
BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False}


def _store():
    from leadgen_assets.storage.warehouse import Warehouse

    path = settings.warehouse_path()
    if not path.exists():
        raise _fail(f"no warehouse at {path}; run `leadgen run` (or `leadgen demo`) first")
    return Warehouse(path)


@app.command()
def train(
    cutoff: Annotated[str | None, typer.Option(help="Label leads as the CRM knew them on this day (YYYY-MM-DD); default the latest.")] = None,
) -> None:
    """Build the point-in-time training set and train a challenger (the train_challenger job)."""
    from leadgen_assets.cli import execute_job

    if cutoff:
        try:
            dt.date.fromisoformat(cutoff)
        except ValueError:
            raise _fail(f"--cutoff must be a day as YYYY-MM-DD, got {cutoff!r}") from None
    ops = {"models__training_set": {"config": {"cutoff": cutoff}}, "models__challenger": {"config": {"cutoff": cutoff}}}
    execute_job("train_challenger", {}, {"ops": ops, "loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    with _store().reader() as con:
        latest = con.sql("SELECT model_version FROM models.evaluations ORDER BY evaluated_at DESC LIMIT 1").fetchall() \
            if _has(con, "models.evaluations") else []
        if not latest:
            console.print("No challenger was trained: too few conversions in mature leads (see the models/challenger "
                          "materialisation in the UI). Scoring stays on the rule model.")
            return
        _comparison(con, latest[0][0])


def _has(con, table: str) -> bool:  # noqa: ANN001
    schema, name = table.split(".")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, name]).fetchall()[0][0])


def _comparison(con, version: str) -> None:  # noqa: ANN001
    import json

    rows = con.execute(
        """SELECT scorer, scorer_version, leads, conversions, auc, pr_auc, brier, ece, lift_top_decile, interval_coverage,
                  parity_gap, parity_segment, gates
           FROM models.evaluations WHERE model_version = ?
           QUALIFY evaluated_at = max(evaluated_at) OVER () ORDER BY scorer""", [version]).fetchall()
    table = Table(title=f"{version} on the holdout")
    for col in ("scorer", "version", "leads", "conv.", "AUC", "PR-AUC", "Brier", "ECE", "lift@10%", "coverage", "parity gap"):
        table.add_column(col)
    gates = None
    for r in rows:
        gates = json.loads(r[12]) if r[12] else gates
        table.add_row(r[0], r[1], f"{r[2]:,}", f"{r[3]:,}", *(f"{v:.4f}" if v is not None else "" for v in r[4:10]),
                      f"{r[10]:.3f} ({r[11] or '-'})")
    console.print(table)
    if gates:
        for name, ok in gates.items():
            console.print(f"  {'[green]pass[/]' if ok else '[red]fail[/]'}  {name}")
        if all(gates.values()):
            console.print(f"Promote it with: leadgen model promote {version} --by NAME --why TEXT")


@app.command("list")
def list_models() -> None:
    """Registered model versions, newest first, with their holdout figures; the champion is marked."""
    from leadgen_assets.core import registry

    with _store().writer() as w:
        registry.ensure_tables(w.con)
        champion = registry.champion_version(w.con)
        rows = w.con.execute(
            """SELECT r.model_version, r.registered_at, r.cutoff, r.rows, r.conversions, r.weight, e.auc, e.ece
               FROM models.registry r LEFT JOIN (
                   SELECT * FROM models.evaluations WHERE scorer = 'challenger'
                   QUALIFY row_number() OVER (PARTITION BY model_version ORDER BY evaluated_at DESC) = 1) e USING (model_version)
               ORDER BY r.registered_at DESC""").fetchall()
    table = Table(title=f"champion: {champion or 'the rule model'}")
    for col in ("", "version", "registered", "cutoff", "leads", "conversions", "prior weight", "AUC", "ECE"):
        table.add_column(col)
    for v, at, cutoff, n, conv, weight, auc, ece in rows:
        table.add_row("*" if v == champion else "", v, f"{at:%Y-%m-%d %H:%M}", str(cutoff), f"{n:,}", f"{conv:,}", f"{weight:.2f}",
                      f"{auc:.4f}" if auc is not None else "", f"{ece:.4f}" if ece is not None else "")
    console.print(table if rows else "No model is registered yet; `leadgen model train` trains one.")


def _decide(action: str, version: str, by: str, why: str) -> None:
    from leadgen_assets.core import registry

    with _store().writer() as w:
        try:
            event = registry.decide(w.con, action, version, by, why)
        except registry.LifecycleError as exc:
            raise _fail(str(exc)) from None
    console.print(f"{action}: {event['previous_version']} -> {event['model_version']}, approved by {event['approved_by']} "
                  f"at {event['decided_at']:%Y-%m-%d %H:%M} UTC. The next scoring run uses it; "
                  "re-score past days with `leadgen run --from DAY --to DAY`.")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="The model version to promote (see `leadgen model list`).")],
    by: Annotated[str, typer.Option("--by", help="Who approves the promotion.")],
    why: Annotated[str, typer.Option("--why", help="Why, in a sentence.")],
) -> None:
    """Make VERSION the champion: its promotion gates must have passed; the approval is recorded."""
    _decide("promote", version, by, why)


@app.command()
def rollback(
    version: Annotated[str, typer.Argument(help="An earlier champion, or `rules` for the rule model.")],
    by: Annotated[str, typer.Option("--by", help="Who decides the rollback.")],
    why: Annotated[str, typer.Option("--why", help="Why, in a sentence.")],
) -> None:
    """Go back to an earlier champion (or the rule model) in one step; the decision is recorded."""
    _decide("rollback", version, by, why)


@app.command()
def history() -> None:
    """Every promotion and rollback: when, what, from what, who and why."""
    from leadgen_assets.core import registry

    with _store().writer() as w:
        registry.ensure_tables(w.con)
        rows = w.con.execute("SELECT decided_at, action, model_version, previous_version, approved_by, reason "
                             "FROM models.lifecycle ORDER BY decided_at").fetchall()
    table = Table(title="model decisions")
    for col in ("when (UTC)", "action", "to", "from", "approved by", "why"):
        table.add_column(col)
    for at, *rest in rows:
        table.add_row(f"{at:%Y-%m-%d %H:%M}", *[str(x) for x in rest])
    console.print(table if rows else "No promotion or rollback yet: leads are scored by the rule model.")


@app.command()
def features(
    version: Annotated[str | None, typer.Argument(help="A model version; default the champion, else the latest.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the markdown here instead of printing it.")] = None,
) -> None:
    """Every feature with its version, description and drift baseline (the spread of its values
    in the model's training set), as markdown."""
    import json

    from leadgen_assets.core import features as feature_logic
    from leadgen_assets.core import registry

    with _store().writer() as w:
        registry.ensure_tables(w.con)
        chosen = version or registry.champion_version(w.con) or next(iter(w.con.execute(
            "SELECT model_version FROM models.registry ORDER BY registered_at DESC LIMIT 1").fetchall()), (None,))[0]
        if chosen is None:
            raise _fail("no model is registered yet, so there is no training set to take baselines from; "
                        "`leadgen model train` trains one (or see docs/features.md)")
        rows = w.con.execute("SELECT feature_baselines, feature_set_version FROM models.registry WHERE model_version = ?",
                             [chosen]).fetchall()
    if not rows:
        raise _fail(f"model {chosen} is not in the registry; `leadgen model list` shows the versions")
    stored, trained_on = rows[0]
    if not stored:
        raise _fail(f"model {chosen} was registered without feature baselines; train a new one")
    text = feature_logic.catalogue_markdown(json.loads(stored), f"the training set of model {chosen} (features {trained_on})")
    if out:
        out.write_text(text)
        console.print(f"Wrote {out}.")
    else:
        typer.echo(text)


# --------------------------------------------------------------------------- backtest
def _typed(frame):  # noqa: ANN001, ANN202
    """CSV cells arrive as text: columns whose every value is a number become numbers, and
    true/false or yes/no columns become yes/no flags."""
    import polars as pl

    out = []
    for name in frame.columns:
        s = frame[name]
        if s.dtype != pl.Utf8:
            out.append(s)
            continue
        text = s.str.strip_chars().replace("", None)
        low = text.str.to_lowercase()
        if text.null_count() < text.len() and low.drop_nulls().is_in(list(BOOL_WORDS)).all():
            out.append(low.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean).alias(name))
            continue
        number = text.cast(pl.Float64, strict=False)
        if text.null_count() < text.len() and number.null_count() == text.null_count():
            out.append(number.alias(name))
        else:
            out.append(text.alias(name))
    return pl.DataFrame(out)


def _label(frame, column: str):  # noqa: ANN001, ANN202
    import numpy as np
    import polars as pl

    text = frame[column].cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    missing = int(text.is_null().sum() + (text == "").sum())
    if missing:
        raise UsageProblem(f"label column {column!r} is empty on {missing} row(s); every lead needs an outcome "
                           "(1/0, true/false, yes/no or won/lost)")
    unknown = text.filter(~text.is_in(list(LABEL_TRUE | LABEL_FALSE)))
    if unknown.len():
        raise UsageProblem(f"label column {column!r} has {unknown.len()} value(s) that are not an outcome "
                           f"({unknown.n_unique()} distinct); use 1/0, true/false, yes/no or won/lost")
    y = text.is_in(list(LABEL_TRUE)).to_numpy().astype(np.int8)
    if y.min() == y.max():
        raise UsageProblem(f"label column {column!r} has only {'wins' if y[0] else 'losses'} ({y.size} rows); "
                           "a backtest needs both outcomes")
    return y


def backtest_frame(frame, y, *, folds: int = 5, seed: int = 7, config_path: Path | None = None, rule_model_path: Path | None = None):  # noqa: ANN001, ANN201
    """Cross-validated figures of leadgen's approach and of plain baselines on the same folds:
    a polars frame, one row per (method, metric) with the mean and spread over folds."""
    import numpy as np
    import polars as pl
    from sklearn.model_selection import StratifiedKFold

    from leadgen_assets.core import evaluation, rules
    from leadgen_assets.core import model as learned

    cfg = learned.load_config(config_path or learned.DEFAULT_CONFIG, seed=seed)
    columns = list(frame.columns)
    rule_model = rules.load(rule_model_path or rules.DEFAULT_CONFIG)
    try:
        prior_all = rules.prior_logit(rules.score(frame, rule_model), rule_model).to_numpy()
        prior_name = rule_model.version
    except rules.RuleConfigError:
        prior_all, prior_name = None, "base rate"
    min_class = int(min(y.sum(), y.size - y.sum()))
    folds = max(2, min(folds, min_class))
    results: dict[str, list[dict]] = {}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(y.size), y):
        tr, te = frame[train_idx.tolist()], frame[test_idx.tolist()]
        base = learned.logit(np.array([y[train_idx].mean()]))[0]
        prior_tr = prior_all[train_idx] if prior_all is not None else np.full(train_idx.size, base)
        prior_te = prior_all[test_idx] if prior_all is not None else np.full(test_idx.size, base)
        model = learned.train(tr, y[train_idx], prior_tr, columns, cfg, prior=prior_name)
        s = model.score(te, prior_te)
        X_tr, X_te = model.encoder.matrix(tr), model.encoder.matrix(te)
        methods = {
            "leadgen": (s.probability, s.low, s.high),
            "plain XGBoost": (learned.plain_xgboost(X_tr, y[train_idx], X_te, seed), None, None),
            "logistic regression": (learned.plain_logistic(X_tr, y[train_idx], X_te), None, None),
        }
        if prior_all is not None:
            methods["rule model"] = (learned.sigmoid(prior_te), None, None)
        for name, (p, lo, hi) in methods.items():
            results.setdefault(name, []).append(evaluation.summary(y[test_idx], p, lo, hi))
    rows = []
    for name, per_fold in results.items():
        for metric in ("auc", "pr_auc", "brier", "ece", "lift_top_decile", "interval_coverage"):
            values = [f[metric] for f in per_fold if f.get(metric) is not None]
            if values:
                rows.append({"method": name, "metric": metric, "mean": float(np.mean(values)), "sd": float(np.std(values))})
    return pl.DataFrame(rows), {"folds": folds, "prior": prior_name, "rows": int(y.size), "conversions": int(y.sum())}


@app.command()
def backtest(
    history: Annotated[Path, typer.Argument(help="Historical leads with outcomes: CSV with a header row, or Parquet.")],
    label: Annotated[str, typer.Option(help="The outcome column: 1/0, true/false, yes/no or won/lost.")],
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    ignore: Annotated[list[str] | None, typer.Option(help="A column not to use (repeatable): ids, free text, anything known only after the outcome.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the model.")] = 7,
) -> None:
    """What leadgen would have done on your own history: cross-validated AUC, PR-AUC, Brier, ECE,
    lift at the top decile and interval coverage, beside plain logistic regression and plain
    XGBoost on the same folds (and the rule model, when your columns carry its features)."""
    from leadgen_assets.core import model as learned

    try:
        kind, header, read = _reader(history)
        if label not in header:
            raise UsageProblem(f"{str(history)!r} has no column {label!r}; its columns are: {', '.join(header)}")
        unknown_ignored = [c for c in ignore or [] if c not in header]
        if unknown_ignored:
            raise UsageProblem(f"--ignore {unknown_ignored[0]!r} is not a column of {str(history)!r}")
        frame = _typed(read(header))
        y = _label(frame, label)
        candidates = [c for c in header if c != label and c not in (ignore or [])]
        usable, unusable = learned.check_columns(frame, candidates)
        if unusable:
            lines = "; ".join(f"{u.column!r}: {u.reason}" for u in unusable)
            hint = " ".join(f"--ignore {u.column!r}" for u in unusable)
            raise UsageProblem(f"{len(unusable)} column(s) cannot be used: {lines}. Leave them out with {hint}")
        if not usable:
            raise UsageProblem("no usable column is left besides the label")
    except UsageProblem as exc:
        raise _fail(str(exc)) from None
    console.print(f"{kind} {history.name}: {frame.height:,} leads, {int(y.sum()):,} conversions, {len(usable)} columns")
    table, info = backtest_frame(frame.select(usable), y, folds=folds, seed=seed)
    out = Table(title=f"{info['folds']}-fold cross-validation (prior: {info['prior']})")
    out.add_column("metric")
    methods = table["method"].unique(maintain_order=True).to_list()
    for m in methods:
        out.add_column(m)
    for metric in ("auc", "pr_auc", "brier", "ece", "lift_top_decile", "interval_coverage"):
        cells = []
        for m in methods:
            hit = table.filter((table["method"] == m) & (table["metric"] == metric))
            cells.append(f"{hit['mean'][0]:.4f} ± {hit['sd'][0]:.4f}" if hit.height else "")
        out.add_row(metric, *cells)
    console.print(out)
    console.print("interval_coverage: the share of held-out leads whose score bin's observed conversion rate lies "
                  "inside their 90% interval.")


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="model")


# --------------------------------------------------------------------------- imported history
def _mapping(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise UsageProblem(f"--map takes FILE_COLUMN=FEATURE, got {pair!r}")
        out[source.strip()] = target.strip()
    return out


@app.command("import")
def import_history(
    history: Annotated[Path, typer.Argument(help="Past leads with outcomes: CSV with a header row, or Parquet.")],
    label: Annotated[str, typer.Option(help="The outcome column: 1/0, true/false, yes/no or won/lost.")],
    created: Annotated[str, typer.Option(help="The column with the day each lead came in (YYYY-MM-DD, optionally with a time).")],
    map_: Annotated[list[str] | None, typer.Option("--map", help="FILE_COLUMN=FEATURE for a column whose name is not the feature's (repeatable).")] = None,
) -> None:
    """Import historical leads with known outcomes so the learned model can start from them.

    Columns named like leadgen features (or mapped with --map) are imported; the others, such
    as names and emails, are left out and never stored. Rows with an unreadable outcome, day or
    value are kept apart with their line and reason. The next `leadgen model train` learns from
    the imported leads beside the pipeline's own."""
    import polars as pl

    from leadgen_assets.core import history as hist
    from leadgen_assets.storage.warehouse import Warehouse

    try:
        kind, header, read = _reader(history)
        imported = hist.read(read(header).with_columns(pl.all().cast(pl.Utf8)), raw=history.read_bytes(),
                             file=history.name, label=label, created=created, mapping=_mapping(map_),
                             first_line=2 if kind == "CSV" else 1)  # a CSV's header is line 1; Parquet counts rows
    except (UsageProblem, hist.HistoryError) as exc:
        raise _fail(str(exc)) from None
    if not imported.leads.height:
        raise _fail(f"no row of {history.name} could be imported ({imported.rejects.height} rejected); "
                    f"the first: line {imported.rejects['line'][0]}, {imported.rejects['reason'][0]}"
                    if imported.rejects.height else f"{history.name} has no rows")
    info = hist.describe(imported)
    store = Warehouse(settings.warehouse_path())
    with store.writer() as w:
        with w.transaction():
            if w.table_exists(hist.IMPORTS):
                seen = w.con.execute(f"SELECT imported_at, removed_at FROM {hist.IMPORTS} WHERE import_id = ?",
                                     [imported.import_id]).fetchall()
                if seen and seen[0][1] is None:
                    raise _fail(f"{history.name} was already imported on {seen[0][0]:%Y-%m-%d %H:%M} as import "
                                f"{imported.import_id}; nothing changed. `leadgen model imports` lists imports")
                w.con.execute(f"DELETE FROM {hist.IMPORTS} WHERE import_id = ?", [imported.import_id])
            leads = imported.leads
            if w.table_exists(hist.HISTORY):  # a feature since removed from the catalogue stays, empty for this import
                leads = pl.concat([w.con.sql(f"SELECT * FROM {hist.HISTORY} LIMIT 0").pl(), leads], how="diagonal_relaxed")
            w.append(hist.HISTORY, leads)
            if imported.rejects.height:
                w.append(hist.REJECTS, imported.rejects)
            w.append(hist.IMPORTS, pl.DataFrame([{
                "import_id": imported.import_id, "file": history.name, "format": kind,
                "imported_at": info["imported_at"], "removed_at": None,
                "accepted": info["accepted"], "rejected": info["rejected"], "conversions": info["conversions"],
                "first_day": imported.leads["delivery_date"].min(), "last_day": imported.leads["delivery_date"].max(),
                "features": ", ".join(imported.features), "label_column": label, "created_column": created,
            }], schema_overrides={"removed_at": pl.Datetime("us")}))
    console.print(f"Imported {history.name} as import {imported.import_id}: {info['accepted']:,} leads "
                  f"({info['conversions']:,} won) from {info['first_day']} to {info['last_day']}; "
                  f"{info['rejected']:,} rejected.")
    console.print(f"Features: {', '.join(imported.features) or 'none (the model will learn from the rule prior and the outcome rate only)'}.")
    if imported.left_out:
        console.print(f"Left out, not stored: {', '.join(imported.left_out)}. Map one to a feature with --map COLUMN=FEATURE.")
    if imported.rejects.height:
        counts = imported.rejects.group_by("reason").agg(pl.len().alias("rows"), pl.col("line").min().alias("first_line")).sort("first_line")
        for r in counts.iter_rows(named=True):
            console.print(f"  rejected {r['rows']:,} row(s), first at line {r['first_line']}: {r['reason']}")
        console.print(f"Every rejected row is in {hist.REJECTS} with its line and reason. To bring them in, fix those "
                      f"cells (or leave the column out), run `leadgen model imports --remove {imported.import_id}` and import again.")
    for note in imported.notes:
        console.print(f"Note: {note}.")
    console.print("Next: `leadgen model train` learns from these leads beside the pipeline's own.")


@app.command()
def imports(
    remove: Annotated[str | None, typer.Option(help="Take this import back out, whole (its leads and rejected rows).")] = None,
) -> None:
    """List imported histories, or remove one."""
    from leadgen_assets.core import history as hist

    store = _store()
    with store.writer() as w:
        if not w.table_exists(hist.IMPORTS):
            console.print("Nothing has been imported; `leadgen model import HISTORY.csv --label COL --created COL` imports a history.")
            return
        if remove:
            with w.transaction():
                found = w.con.execute(f"SELECT count(*) FROM {hist.IMPORTS} WHERE import_id = ? AND removed_at IS NULL",
                                      [remove]).fetchall()[0][0]
                if not found:
                    raise _fail(f"no import {remove!r} is in use; `leadgen model imports` lists them")
                w.delete_in(hist.HISTORY, {"import_id": [remove]})
                w.delete_in(hist.REJECTS, {"import_id": [remove]})
                w.con.execute(f"UPDATE {hist.IMPORTS} SET removed_at = ? WHERE import_id = ?",
                              [dt.datetime.now(dt.UTC).replace(tzinfo=None), remove])
            console.print(f"Removed import {remove}; the next `leadgen model train` learns without it.")
            return
        rows = w.con.sql(f"SELECT * FROM {hist.IMPORTS} ORDER BY imported_at").pl()
    out = Table(title="imported histories")
    shown = ("import_id", "file", "imported_at", "accepted", "rejected", "conversions", "first_day", "last_day", "removed_at")
    for c in shown:
        out.add_column(c, no_wrap=c == "import_id", overflow="fold")
    for r in rows.iter_rows(named=True):
        out.add_row(*(f"{r[c]:%Y-%m-%d %H:%M}" if c.endswith("_at") and r[c] is not None
                      else str(r[c]) if r[c] is not None else "" for c in shown))
    console.print(out)
