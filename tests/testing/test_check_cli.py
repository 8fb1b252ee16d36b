"""``iomscore check`` on the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import iomscore
from iomscore.cli import check as _cli


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _cli.register(parser.add_subparsers())
    return parser.parse_args(["check", *argv])


def test_passes_on_a_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    status = _cli.run(_args("iom-priority", "--max-examples", "5", "--property", "determinism",
                            "--property", "feature_monotonicity"))
    out = capsys.readouterr().out
    assert status == 0
    assert "PASS  determinism" in out and "2 properties: 2 passed" in out


def _categorical_lie() -> dict[str, object]:
    return {
        "name": "categorical-lie", "version": "1", "title": "Categorical lie",
        "factors": [{"name": "drugs", "feature": "need_drugs_alcohol", "label": "Drugs need",
                     "monotone": "increasing",
                     "bins": [{"equals": 0, "points": 3, "reason": "none"},
                              {"equals": 1, "points": 1, "reason": "some"},
                              {"equals": 2, "points": 0, "reason": "significant"}]}],
        "bands": [{"name": "low", "upper": 2}, {"name": "high", "lower": 2}],
    }


def test_a_lying_spec_file_does_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lie.json"
    path.write_text(json.dumps(_categorical_lie()))
    assert _cli.run(_args(str(path))) == 2
    assert "declared increasing" in capsys.readouterr().err


def test_fails_with_counterexample_and_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    # Built around the validator (model_construct), as a buggy third-party scorer could be.
    from iomscore.scoring._registry import _registered
    from iomscore.scoring._spec import Bin, Factor, PointsSpec

    data = _categorical_lie()
    factor = Factor.model_construct(**{**data["factors"][0], "bins": tuple(  # type: ignore[dict-item]
        Bin.model_validate(b) for b in data["factors"][0]["bins"])})  # type: ignore[index]
    spec = PointsSpec.model_validate({**data, "factors": [factor.model_copy(update={"monotone": None})]})
    lying = spec.model_copy(update={"factors": (factor,)})
    iomscore.register_scorer("categorical-lie", lambda: iomscore.PointsScorer(lying))
    try:
        status = _cli.run(_args("categorical-lie", "--max-examples", "20",
                                "--property", "feature_monotonicity"))
    finally:
        _registered.pop("categorical-lie")
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL  feature_monotonicity" in out and "need_drugs_alcohol" in out
    assert "counterexample:" in out and '"person_id"' in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    status = _cli.run(_args("ogrs3", "--max-examples", "3", "--property", "offence_monotonicity", "--json"))
    data = json.loads(capsys.readouterr().out)
    assert status == 0 and data["results"][0]["status"] == "skipped"


def test_unknown_scorer(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.run(_args("no-such-scorer")) == 2
    assert "cannot load scorer" in capsys.readouterr().err


def test_module_attribute_target() -> None:
    assert _cli.resolve_scorer("iomscore:OGRS3").name == "ogrs3"


def test_main_cli_has_check(capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("iomscore.cli")
    status = cli.main(["check", "ogrs3", "--max-examples", "3", "--property", "determinism"])
    assert status == 0
    assert "PASS  determinism" in capsys.readouterr().out
