"""The run config `leadgen run` builds is one the lead_funnel job accepts."""

import dagster as dg
import pytest

from leadgen_assets.cli import run_config
from leadgen_assets.definitions import defs


@pytest.mark.parametrize("ingest", [None, {"reread": True, "allow_empty": False}, {"reread": False, "allow_empty": True}])
def test_cli_run_config_is_valid_for_the_job(ingest) -> None:
    job = defs.resolve_job_def("lead_funnel")
    resolved = dg.validate_run_config(job, run_config(ingest))
    if ingest:
        assert resolved["ops"]["sources__form_leads"]["config"] == ingest
        assert resolved["ops"]["sources__crm_users"]["config"] == ingest


def test_an_unknown_ingest_option_is_refused() -> None:
    with pytest.raises(dg.DagsterInvalidConfigError, match="reload"):
        dg.validate_run_config(defs.resolve_job_def("lead_funnel"), run_config({"reload": True}))
