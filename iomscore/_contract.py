"""The JSON Schemas of what iomscore reads and writes, generated from its models.

Four documents, each a JSON Schema (draft 2020-12) with ``$schema``, ``$id``, ``title`` and
``version`` (the format name and number the JSON carries, or would carry):

``referral``
    One referral (a JSON Lines record, or the body :func:`iomscore.score_json` takes):
    :class:`iomscore.Referral`.
``score``
    One score: :class:`iomscore.ScoreResult` JSON, :func:`iomscore.score_json`'s output and
    each record of ``iomscore score -o scores.jsonl`` (``"format": "iomscore.score/1"``).
``selection``
    The selection JSON ``iomscore select`` writes (:meth:`CohortSelection.to_json`), with its
    ``summary`` and ``sha256``.
``decision``
    One line of a decision log (``"format": "iomscore.decision-log/1"``).

The schemas are built from the pydantic models each time, so a field added to a model is in
its schema; closed vocabularies are enums (from :mod:`iomscore.schema._vocabulary` through the
models' literals, and the offence taxonomy's codes for offence groups), and docstring
examples are left out of descriptions.

Examples
--------
>>> doc = contract_schema("score")
>>> doc["$id"], doc["version"], doc["properties"]["format"]["const"]
('urn:iomscore:schema:score:1', 'iomscore.score/1', 'iomscore.score/1')
>>> import json
>>> "Examples" in json.dumps(contract_schema("referral"))
False
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from pydantic import BaseModel

__all__ = ["SCHEMAS", "SCHEMA_DIALECT", "contract_schema"]

SchemaName = Literal["referral", "score", "selection", "decision"]
#: The JSON Schema dialect of every document.
SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
#: Name -> the format (name/version) it describes.
SCHEMAS: Final = {
    "referral": "iomscore.referral/1",
    "score": "iomscore.score/1",
    "selection": "iomscore.selection/1",
    "decision": "iomscore.decision-log/1",
}
_UNKNOWN: Final = "no schema {name!r}: choose from {names}"
#: Properties holding a code of the offence taxonomy.
_OFFENCE_GROUP_FIELDS: Final = ("offence_group", "current_offence_group")
#: A numpydoc section heading: a description ends before the first.
_SECTION: Final = re.compile(r"\n\s*(Examples|Parameters|Attributes|Returns|Notes|See Also)\n\s*-{3,}\n.*", re.DOTALL)


def _model(name: str) -> tuple[type[BaseModel], Literal["validation", "serialization"]]:
    if name == "referral":
        from .schema._referral import Referral

        return Referral, "validation"
    if name == "score":
        from .scoring._result import ScoreResult

        return ScoreResult, "serialization"
    if name == "selection":
        from .cohort._select import CohortSelection

        return CohortSelection, "serialization"
    from .cohort._decisions import LogEntry

    return LogEntry, "serialization"


def _tidy(node: Any, offence_groups: list[str]) -> None:
    """Descriptions without docstring sections; offence groups as the taxonomy's enum."""
    if isinstance(node, dict):
        text = node.get("description")
        if isinstance(text, str):
            text = _SECTION.sub("", text).strip()
            text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith((">>>", "...")))
            node["description"] = text
        props = node.get("properties")
        if isinstance(props, dict):
            for field in _OFFENCE_GROUP_FIELDS:
                if isinstance(props.get(field), dict):
                    props[field] = {**props[field], "type": "string", "enum": offence_groups}
        for value in node.values():
            _tidy(value, offence_groups)
    elif isinstance(node, list):
        for value in node:
            _tidy(value, offence_groups)


def contract_schema(name: SchemaName | str) -> dict[str, Any]:
    """The JSON Schema called ``name``: ``referral``, ``score``, ``selection`` or ``decision``.

    Raises ``ValueError`` naming the choices for any other name.

    Examples
    --------
    >>> contract_schema("decision")["properties"]["decision"]["enum"]
    ['include', 'exclude', 'defer']
    """
    if name not in SCHEMAS:
        raise ValueError(_UNKNOWN.format(name=name, names=", ".join(SCHEMAS)))
    from .schema._taxonomy import offence_taxonomy

    model, mode = _model(name)
    body = model.model_json_schema(mode=mode)
    _tidy(body, list(offence_taxonomy().codes))
    if name == "selection":
        body["properties"]["summary"] = {
            "type": "object", "additionalProperties": {"type": "integer"},
            "description": "Counts of the decisions (CohortSelection.summary())",
        }
        body["properties"]["sha256"] = {
            "type": "string", "pattern": "^[0-9a-f]{64}$",
            "description": "sha256 of the canonical JSON of the selection (without summary and sha256)",
        }
    if name == "score":  # every field is always written, though saved results without some still load
        body["required"] = list(body["properties"])
    version = SCHEMAS[name]
    head = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:iomscore:schema:{name}:{version.rsplit('/', 1)[1]}",
        "title": body.pop("title", name),
        "version": version,
    }
    return {**head, **body}
