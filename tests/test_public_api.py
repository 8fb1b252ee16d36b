"""The public surface, pinned: a name added, removed or moved shows up here first.

Changing a list below is a deliberate act: say what moved in CHANGELOG.md. Every public class
and function reports as its ``__module__`` the shallowest package that exports it, so what a
user sees in ``repr`` and tracebacks (``iomscore.Referral``) does not depend on private files.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC = {
    "iomscore": [
        "BreakdownPart",
        "CustodyPeriod",
        "DEFAULT_SCORER",
        "FEATURES",
        "FeatureFrame",
        "IomscoreError",
        "ModelIdentity",
        "OASysAssessment",
        "OGRS3",
        "OffenceTaxonomy",
        "PATHWAYS",
        "PathwayNeeds",
        "PointsScorer",
        "PointsSpec",
        "ProtectedCharacteristics",
        "Referral",
        "ReferralBatch",
        "ReferralError",
        "ReferralTable",
        "Sanction",
        "SanctionSummary",
        "ScoreBatch",
        "ScoreResult",
        "Scorer",
        "ScoringError",
        "SeriousHarm",
        "SpecError",
        "Supervision",
        "__version__",
        "available_scorers",
        "explain",
        "get_scorer",
        "load_spec",
        "offence_taxonomy",
        "parse_referral",
        "register_scorer",
        "score",
        "score_batch",
        "score_json"
    ],
    "iomscore.schema": [
        "CAUTION_DISPOSALS",
        "CustodyPeriod",
        "DISPOSALS",
        "DISPOSAL_LABELS",
        "MIN_AGE",
        "MISSING_DAY",
        "NEED_LABELS",
        "NEED_LEVELS",
        "NOT_RECORDED",
        "OASysAssessment",
        "ONGOING_DAY",
        "OffenceTaxonomy",
        "PATHWAYS",
        "PATHWAY_LABELS",
        "PROTECTED_FIELDS",
        "PathwayNeeds",
        "ProtectedCharacteristics",
        "ROSH_LEVELS",
        "Referral",
        "ReferralBatch",
        "ReferralError",
        "ReferralTable",
        "Sanction",
        "SanctionSummary",
        "SeriousHarm",
        "SeriousHarmColumns",
        "Supervision",
        "Violations",
        "check_batch",
        "date_to_day",
        "day_to_date",
        "offence_taxonomy",
        "parse_referral"
    ],
    "iomscore.scoring": [
        "BreakdownPart",
        "DEFAULT_SCORER",
        "ModelIdentity",
        "OGRS3",
        "PointsScorer",
        "PointsSpec",
        "ScoreBatch",
        "ScoreResult",
        "Scorer",
        "ScoringError",
        "SpecError",
        "available_scorers",
        "explain",
        "get_scorer",
        "load_spec",
        "register_scorer",
        "score",
        "score_batch"
    ],
    "iomscore.features": [
        "FEATURES",
        "FeatureDef",
        "FeatureFrame",
        "OFFENCE_FREE_CAP_MONTHS",
        "SENSITIVE_FEATURES",
        "WINDOW_DAYS",
        "at_risk_days_since",
        "compute_features",
        "feature_table"
    ],
    "iomscore.io": [
        "CUSTODY_COLUMNS",
        "FrameRejectsError",
        "MissingColumnsError",
        "REFERRAL_COLUMNS",
        "REJECT_COLUMNS",
        "ReadCounts",
        "ReadResult",
        "Reject",
        "SANCTION_COLUMNS",
        "ScoreRun",
        "format_from_suffix",
        "read_csv",
        "read_frames",
        "read_jsonl",
        "read_parquet",
        "read_referrals",
        "referral_field_path",
        "score_columns",
        "score_files",
        "score_read",
        "score_records",
        "sibling_tables",
        "top_reasons",
        "write_referrals_csv",
        "write_referrals_jsonl",
        "write_rejects",
        "write_scores"
    ],
    "iomscore.dask": ["DaskScores", "score"],
    "iomscore.cohort": [
        "Cohort",
        "CohortInfo",
        "CohortPlaces",
        "CohortSelection",
        "DECISIONS",
        "DEFAULT_POLICY",
        "Decision",
        "DecisionLog",
        "DecisionLogError",
        "GroupOverrides",
        "GroupSelection",
        "Leaver",
        "LeavesAfter",
        "LogEntry",
        "NOT_RECORDED",
        "Occupancy",
        "OccupancyError",
        "OverrideReport",
        "PartChange",
        "PathwayCount",
        "PathwayDemand",
        "PersonChange",
        "Placement",
        "PlacesForecast",
        "PolicyError",
        "RECOMMENDED_ACTION",
        "RunDiff",
        "SelectionError",
        "SelectionPolicy",
        "SelectionRates",
        "diff_runs",
        "forecast_places",
        "leaves_after",
        "load_policy",
        "override_rates",
        "pathway_demand",
        "read_occupancy",
        "select_cohort",
        "selection_rates"
    ],
    "iomscore.panel": [
        "CARD_MODES",
        "breakdown_chart",
        "ranked_csv_path",
        "render_panel",
        "write_panel"
    ],
    "iomscore.fairness": [
        "AuditResult",
        "Comparison",
        "DEFAULT_AUC_THRESHOLD",
        "DEFAULT_NMI_THRESHOLD",
        "GroupMetrics",
        "GroupRate",
        "GroupRates",
        "METRICS",
        "NOT_RECORDED",
        "ProxyResult",
        "ProxyRow",
        "audit",
        "format_rate",
        "group_rates",
        "proxy_check"
    ],
    "iomscore.monitoring": [
        "BLANK",
        "DriftReport",
        "DriftRow",
        "MODERATE",
        "ModelCard",
        "RUN_LOG_FORMAT",
        "RunLog",
        "RunLogError",
        "RunRecord",
        "SIGNIFICANT",
        "drift",
        "drift_referrals",
        "file_sha256",
        "model_card",
        "psi",
        "psi_level"
    ],
    "iomscore.testing": [
        "ASSESSMENT_RANGE",
        "CheckReport",
        "EDGE_CASES",
        "OFFENCE_MONOTONE_FEATURES",
        "PROPERTIES",
        "PropertyResult",
        "REFERRAL_FACT_FEATURES",
        "ScorerCheckError",
        "add_offence",
        "assessment_dates",
        "check_scorer",
        "custody_periods",
        "declares_offence_monotone",
        "edge_case_referrals",
        "oasys_assessments",
        "offence_groups",
        "pathway_needs",
        "points_specs",
        "protected_characteristics",
        "referral_facts",
        "referrals",
        "sanction_summaries",
        "sanctions",
        "serious_harm",
        "tenth_birthday"
    ],
    "iomscore.learn": [
        "DEFAULT_FEATURES",
        "EstimatorScorer",
        "Explanation",
        "FEATURE_LABELS",
        "LearnError",
        "LearnedModel",
        "PointsClassifier",
        "Scorecard",
        "feature_frame",
        "learn",
        "ordinal_key",
        "outcome_target",
        "read_outcomes"
    ],
    "iomscore.evaluation": [
        "COMPAS_FEATURES",
        "CVResult",
        "ColumnScore",
        "CompasData",
        "ReferralReport",
        "at_risk_mask",
        "calibration_svg",
        "cross_validate",
        "expected_calibration_error",
        "learned_report",
        "load_compas",
        "model_size",
        "survival_outcomes",
        "to_markdown",
        "window_outcome"
    ],
    "iomscore.synth": [
        "OUTCOME_MODEL",
        "default_paths",
        "generate",
        "generate_outcomes",
        "outcome_probability",
        "write_csv",
        "write_jsonl",
        "write_outcomes_csv"
    ],
    "iomscore.cli": [
        "ProgressBar",
        "build_parser",
        "main"
    ]
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_pinned(module: str) -> None:
    assert sorted(importlib.import_module(module).__all__) == PUBLIC[module]


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_name_resolves(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in PUBLIC[module] if not hasattr(mod, name)]
    assert not missing


def _exporters(name: str, obj: object) -> list[str]:
    return [m for m, names in PUBLIC.items() if name in names and getattr(importlib.import_module(m), name) is obj]


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_report_the_package_that_exports_them(module: str) -> None:
    mod = importlib.import_module(module)
    wrong = {}
    for name in PUBLIC[module]:
        obj = getattr(mod, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        expected = min(_exporters(name, obj), key=lambda m: (m.count("."), m))
        if module in ("iomscore.evaluation", "iomscore.synth") and expected == module:
            continue  # public modules that are files, not packages: their names live there already
        if obj.__module__ != expected:
            wrong[name] = obj.__module__
    assert not wrong, f"public names reporting a private module: {wrong}"


def test_no_private_module_in_a_public_repr() -> None:
    import iomscore
    import iomscore.cohort

    assert repr(iomscore.Referral) == "<class 'iomscore.Referral'>"
    assert iomscore.cohort.select_cohort.__module__ == "iomscore.cohort"
