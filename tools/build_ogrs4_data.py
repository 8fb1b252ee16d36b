"""Build iomscore's shipped OASys v4 predictor data from the reference data.

Reads ``../shared/data/ogrs4/coefficients.json`` and ``offence-categories.csv`` (or the
directory given as the first argument) and writes

* ``iomscore/_data/ogrs4_coefficients.json``: every term of the six predictors (decimal
  literals as strings, as in the Kotlin source), the offence-category values, career offsets,
  band cut-offs and provenance (repository, commit, paths, sha256 of the input files);
* ``iomscore/_data/ho_offence_codes.csv``: Home Office offence code -> actuarial category,
  mapping status, the 414ce2a category where it differs, and the violent-sanction flag.

The package never reads ``../shared`` at run time; rerun this script when the reference data
changes and commit both outputs. Usage: ``python tools/build_ogrs4_data.py [DATA_DIR]``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "iomscore" / "_data"
#: Shipped name -> key in coefficients.json.
PREDICTORS = {
    "ogrs4g": "all_static",
    "ogrs4v": "violent_static",
    "snsv": "serious_violent_static",
    "ogp2": "all_dynamic",
    "ovp2": "violent_dynamic",
    "snsv-dynamic": "serious_violent_dynamic",
}
FORMAT_VERSION = "1.0.0"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    data = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data" / "ogrs4"
    coef_path = data / "coefficients.json"
    map_path = data / "offence-categories.csv"
    doc = json.loads(coef_path.read_text("utf-8"))

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["offence_code", "actuarial_category", "mapping_status", "category_at_414ce2a",
                     "is_violent_sanction"])
    categories: set[str] = set()
    with map_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            categories.add(row["actuarial_category"])
            writer.writerow([row["offence_code"], row["actuarial_category"], row["mapping_status"],
                             row["category_at_414ce2a"], row["is_violent_sanction"]])
    ho_csv = OUT / "ho_offence_codes.csv"
    ho_csv.write_text(buf.getvalue(), encoding="utf-8")

    predictors = {}
    for name, key in PREDICTORS.items():
        p = doc["predictors"][key]
        bands = doc["bands_percent"][p["bands"]]
        predictors[name] = {
            "key": key,
            "name": p["name"],
            "description": p["description"],
            "kind": p["kind"],
            "source_path": p["source_path"],
            "formula_source": p["formula_source"],
            "career_offsets": {k: v for k, v in p["career_offsets"].items() if k != "source"},
            "bands": {"cut_offs_percent": bands["cut_offs_percent"], "source": bands["source"]},
            "terms": {t["name"]: t["value"] for t in p["terms"]},
            "terms_applies_to": {t["name"]: t["applies_to"] for t in p["terms"]},
            "offence_category_values": {
                c: v["value"] for c, v in p["offence_category_values"].items()
            },
        }
    out = {
        "format": "iomscore-ogrs4-coefficients",
        "version": FORMAT_VERSION,
        "description": doc["description"],
        "source": doc["source"],
        "cross_reference": doc["cross_reference"],
        "conventions": doc["conventions"],
        "built_by": "tools/build_ogrs4_data.py",
        "built_from": {
            "coefficients": {"path": "shared/data/ogrs4/coefficients.json", "sha256": _sha256(coef_path)},
            "offence_categories": {"path": "shared/data/ogrs4/offence-categories.csv", "sha256": _sha256(map_path)},
        },
        "offence_code_mapping": {
            "file": "ho_offence_codes.csv",
            "sha256": _sha256(ho_csv),
            "source": doc["offence_category_mapping"]["source"],
        },
        "actuarial_categories": sorted(categories),
        "predictors": predictors,
    }
    (OUT / "ogrs4_coefficients.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
