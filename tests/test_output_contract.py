"""The output contract: every JSON iomscore reads or writes validates against its schema.

``iomscore schema --what referral|score|selection|decision`` prints the schemas; they are built
from the models, so a field added to a model must appear in its schema (checked here for every
model reachable from each document).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

import iomscore
from iomscore import cli, synth
from iomscore._contract import SCHEMA_DIALECT, SCHEMAS, _model, contract_schema
from iomscore.schema._taxonomy import offence_taxonomy
from iomscore.schema._vocabulary import DISPOSALS, SUPERVISION_STATUSES

WHEN = "2025-06-03T10:20:00+01:00"


def _validator(name: str) -> Any:
    schema = contract_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _valid(name: str, document: Any) -> None:
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Referrals, JSON Lines scores, a selection and a decision log, all from the command line."""
    d = tmp_path_factory.mktemp("contract")
    refs = d / "refs.jsonl"
    synth.write_jsonl(synth.generate(60, seed=5), refs)
    assert cli.main(["score", str(refs), "-o", str(d / "scores.jsonl"), "--top", "99"]) == 0
    assert cli.main(["score", str(refs), "--scorer", "ogrs3", "-o", str(d / "ogrs3.jsonl")]) == 0
    assert cli.main(["select", str(refs), "--capacity", "5", "--format", "json", "--out", str(d / "sel.json")]) == 0
    person = iomscore.cohort.CohortSelection.load(d / "sel.json").decisions[0].person_id
    for decision in ("include", "defer"):
        assert cli.main(["decide", str(d / "log.jsonl"), "--selection", str(d / "sel.json"), "--person", person,
                         "--decision", decision, "--reason", "Panel view", "--by", "chair", "--at", WHEN]) == 0
    return {"refs": refs, "scores": d / "scores.jsonl", "ogrs3": d / "ogrs3.jsonl", "selection": d / "sel.json",
            "log": d / "log.jsonl"}


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_schema_is_a_versioned_2020_12_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema", "--what", name]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == SCHEMA_DIALECT and doc["version"] == SCHEMAS[name]
    assert doc["$id"] == f"urn:iomscore:schema:{name}:1"
    text = json.dumps(doc)
    assert ">>>" not in text and "Examples" not in text and "--------" not in text


def _models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every pydantic model reachable from ``model``'s fields, by name."""
    seen: dict[str, type[BaseModel]] = {}

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel) and tp.__name__ not in seen:
            seen[tp.__name__] = tp
            for field in tp.model_fields.values():
                visit(field.annotation)
        for arg in getattr(tp, "__args__", ()) or ():
            visit(arg)

    visit(model)
    return seen


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_schemas_cover_every_model_field(name: str) -> None:
    """A field added to a model (or a sub-model) is in the schema, under its own name."""
    doc = contract_schema(name)
    root, _ = _model(name)
    models = _models(root)
    assert len(models) > (0 if name == "decision" else 1)  # the walk reaches the sub-models
    for model_name, model in models.items():
        props = doc["properties"] if model is root else doc["$defs"][model_name]["properties"]
        assert set(model.model_fields) <= set(props), model_name


def test_closed_vocabularies_are_enums() -> None:
    referral = contract_schema("referral")
    sanction = referral["$defs"]["Sanction"]["properties"]
    assert sanction["offence_group"]["enum"] == list(offence_taxonomy().codes)
    assert sanction["disposal"]["enum"] == list(DISPOSALS)
    summary = referral["$defs"]["SanctionSummary"]["properties"]
    assert summary["current_offence_group"]["enum"] == list(offence_taxonomy().codes)
    status = json.dumps(referral["$defs"]["Supervision"]["properties"]["status"])
    assert all(f'"{s}"' in status for s in SUPERVISION_STATUSES)
    bad = {"person_id": "X", "assessment_date": "2025-01-01", "date_of_birth": "1990-01-01",
           "sanctions": [{"offence_date": "2024-01-01", "sanction_date": "2024-02-01",
                          "offence_group": "not_a_group", "disposal": "fine"}]}
    assert not _validator("referral").is_valid(bad)


def test_referrals_from_synth_validate(run: dict[str, Path]) -> None:
    records = _lines(run["refs"])
    assert len(records) == 60
    for record in records:
        _valid("referral", record)


def test_scores_validate_from_every_entry_point(run: dict[str, Path]) -> None:
    jsonl = _lines(run["scores"]) + _lines(run["ogrs3"])
    assert jsonl and {r["format"] for r in jsonl} == {"iomscore.score/1"}
    for record in jsonl:
        _valid("score", record)
    first = json.loads(run["refs"].read_text(encoding="utf-8").splitlines()[0])
    one = json.loads(iomscore.score_json(json.dumps(first)))
    many = json.loads(iomscore.score_json(json.dumps([first, first]), scorer="ogrs3"))
    result = iomscore.score(iomscore.Referral.model_validate(first))
    for doc in (one, *many, json.loads(result.model_dump_json()), json.loads(result.explain("json"))):
        _valid("score", doc)
    # The JSON Lines record is the ScoreResult JSON (all reasons were asked for with --top 99).
    assert jsonl[0] == json.loads(result.model_dump_json())


def test_a_score_without_its_contract_fields_does_not_validate(run: dict[str, Path]) -> None:
    record = _lines(run["scores"])[0]
    for field in ("format", "assessment_date", "breakdown"):
        assert not _validator("score").is_valid({k: v for k, v in record.items() if k != field}), field
    assert not _validator("score").is_valid({**record, "format": "iomscore.score/2"})


def test_selection_and_decision_log_validate(run: dict[str, Path]) -> None:
    selection = json.loads(run["selection"].read_text(encoding="utf-8"))
    _valid("selection", selection)
    assert not _validator("selection").is_valid({**selection, "sha256": "x"})
    entries = _lines(run["log"])
    assert [e["decision"] for e in entries] == ["include", "defer"]
    for entry in entries:
        _valid("decision", entry)
    assert not _validator("decision").is_valid({**entries[0], "decision": "maybe"})


# --- entry points: what each validates and how it fails --------------------------------------

REFERRAL = {"person_id": "P1", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01",
            "sanctions": [{"offence_date": "2025-01-01", "sanction_date": "2025-02-01",
                           "offence_group": "shop_theft", "disposal": "fine"}]}


def test_every_cross_field_violation_is_reported() -> None:
    bad = {**REFERRAL, "date_of_birth": "2030-01-01",
           "sanctions": [{"offence_date": "2026-01-01", "sanction_date": "2025-12-01",
                          "offence_group": "shop_theft", "disposal": "fine"}]}
    with pytest.raises(iomscore.ReferralError) as info:
        iomscore.parse_referral(bad)
    fields = [f for f, _ in info.value.problems]
    assert "date_of_birth" in fields and "sanctions[0].offence_date" in fields and "sanctions[0].sanction_date" in fields
    with pytest.raises(iomscore.ReferralError) as many:
        iomscore.score_json(json.dumps([REFERRAL, bad]))
    assert {f for f, _ in many.value.problems} >= {"[1].date_of_birth", "[1].sanctions[0].offence_date"}


def test_a_mapping_given_to_score_gets_a_clear_message() -> None:
    with pytest.raises(TypeError, match=r"not a dict: validate a mapping with iomscore.parse_referral"):
        iomscore.score(REFERRAL)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="score_json"):
        iomscore.score(json.dumps(REFERRAL))  # type: ignore[call-overload]


def test_an_unknown_scorer_names_the_scorers_there_are() -> None:
    with pytest.raises(iomscore.IomscoreError) as info:
        iomscore.score(iomscore.parse_referral(REFERRAL), scorer="no-such-scorer")
    assert isinstance(info.value, KeyError)
    assert str(info.value).startswith("unknown scorer 'no-such-scorer'") and "iom-priority" in str(info.value)
    assert "ogrs3" in str(info.value)


# --- DataFrames in ------------------------------------------------------------------------------


def test_from_frames_gives_the_csv_readers_table_and_rejects(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    from iomscore import io

    paths = [tmp_path / "r.csv", tmp_path / "s.csv", tmp_path / "c.csv"]
    synth.write_csv(synth.generate(80, seed=9), *paths, bad_fraction=0.1)
    from_csv = io.read_csv(*paths)
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths]
    from_frames = io.read_frames(*frames)
    arrow = io.read_frames(*(pa.Table.from_pandas(f, preserve_index=False) for f in frames))
    for result in (from_frames, arrow):
        assert result.table.n == from_csv.table.n
        # The same rejects for the same reasons; rows are record numbers here (CSV: +1, the header).
        assert [(r.person_id, r.source[:1], r.field, re.sub(r"\d+", "#", r.reason)) for r in result.rejects] == \
               [(r.person_id, Path(r.source).name[:1], r.field, re.sub(r"\d+", "#", r.reason)) for r in from_csv.rejects]
        assert [r.row for r in result.rejects] == [r.row - 1 for r in from_csv.rejects]
        a = iomscore.score_batch(result.table)
        b = iomscore.score_batch(from_csv.table)
        assert a.score.tolist() == b.score.tolist()
    valid = iomscore.ReferralTable.from_frames(*frames, on_reject="drop")
    assert valid.n == from_csv.table.n
    assert from_csv.rejects  # bad_fraction made some
    with pytest.raises(io.FrameRejectsError) as info:
        iomscore.ReferralTable.from_frames(*frames)
    assert info.value.result.counts.rejected == from_csv.counts.rejected > 0


def test_from_frames_rejects_a_bad_row_with_the_csv_reason() -> None:
    pd = pytest.importorskip("pandas")
    people = pd.DataFrame({"person_id": ["A", "B"], "assessment_date": ["2025-06-01", "2025-06-01"],
                           "date_of_birth": [pd.Timestamp("1990-01-01"), pd.Timestamp("2030-01-01")]})
    sanctions = pd.DataFrame({"person_id": ["A", "A"], "offence_date": ["2025-01-01", "2025-03-01"],
                              "sanction_date": ["2025-02-01", "2025-04-01"],
                              "offence_group": ["shop_theft", "not_a_group"], "disposal": ["fine", "fine"]})
    from iomscore import io

    result = io.read_frames(people, sanctions)
    assert result.table.n == 0
    assert {(r.person_id, r.source) for r in result.rejects} == {("A", "sanctions"), ("B", "referrals")}
    with pytest.raises(TypeError, match="expected a pandas DataFrame or an Arrow table"):
        io.read_frames([REFERRAL])


@pytest.mark.parametrize("scorer", ["iom-priority", "ogrs3"])
def test_json_lines_records_are_the_score_result_json(scorer: str) -> None:
    """Byte for byte, for awkward person ids too (quotes, backslashes, '","', NUL, non-ASCII)."""
    import numpy as np

    from iomscore.io import score_records

    batch = iomscore.score_batch(synth.generate(40, seed=11), scorer)
    odd = np.array(['a","b', "x\\", '"', "é\u2028", "\x00", '","', "=1+1", *[f"P{i}" for i in range(33)]], dtype=object)
    batch = batch.with_person_id(odd, batch.assessment_day)
    rows = np.flatnonzero(batch.ok)
    records = score_records(batch)
    assert len(records) == rows.size > 30
    assert records == [batch.result(int(i)).model_dump_json() for i in rows]
    top = score_records(batch, top=2)
    assert all(len(json.loads(t)["reasons"]) <= 2 for t in top)
    assert [json.loads(t)["reasons"] for t in top] == [list(batch.result(int(i)).reasons[:2]) for i in rows]
