"""Reading referral lists and writing scores: JSON Lines, two-table CSV and Parquet.

Every input row ends up either in the :class:`~iomscore.ReferralTable` of a
:class:`ReadResult` or in its ``rejects``, with the file, row, person and field path
(``sanctions[2].offence_date``) and a plain-English reason; ``counts.referral_rows ==
counts.valid + counts.rejected`` always.

Input forms
-----------
JSON Lines (``.jsonl``)
    One :class:`~iomscore.Referral` per line, as nested JSON (``iomscore schema`` prints the
    JSON Schema). ``row`` in a reject is the line number.

Two-table CSV (``.csv``), as case-management exports have it
    ``referrals.csv``, one row per referral:

    ============================  ====================================================
    ``person_id``                 required; pseudonymous identifier, unique in the file
    ``assessment_date``           required, ``YYYY-MM-DD``
    ``date_of_birth``             required, ``YYYY-MM-DD``
    ``sex``                       ``male``, ``female`` or empty (not recorded)
    ``need_<pathway>``            one per pathway (``need_accommodation``,
                                  ``need_education_training_employment``, ``need_health``,
                                  ``need_drugs_alcohol``, ``need_finance_benefit_debt``,
                                  ``need_children_families``,
                                  ``need_attitudes_thinking_behaviour``): ``no_need``,
                                  ``some_need``, ``significant_need``, or empty / 
                                  ``not_assessed``
    ``rosh_level``                ``low``, ``medium``, ``high``, ``very_high`` or empty
    ``mappa_category``            ``1``, ``2``, ``3`` or empty
    ``mappa_level``               ``1``, ``2``, ``3`` or empty
    protected characteristics     ``ethnicity``, ``religion``, ``disability``,
                                  ``sexual_orientation``, ``gender_reassignment``,
                                  ``marriage_civil_partnership``, ``pregnancy_maternity``:
                                  free text, empty = not recorded (audits only)
    summary (all or none)         ``previous_sanctions`` (whole number),
                                  ``first_sanction_date``, ``current_conviction_date``,
                                  ``current_offence_group`` (taxonomy code),
                                  ``caution_only`` (true/false, optional)
    ``supervision_status``        ``licence``, ``post_sentence_supervision``,
                                  ``community_order``, ``suspended_sentence_order``,
                                  ``none`` (no statutory supervision) or empty (not
                                  recorded); ``supervision.status`` in JSON
    ``supervision_start_date``,   ``YYYY-MM-DD`` or empty; only with a statutory status,
    ``supervision_end_date``      the end not before the start
    ``release_date``              ``YYYY-MM-DD`` or empty: expected or actual release from
                                  the custody for the current offence (not before it)
    ``agreed_to_engage``          true/false or empty (not recorded)
    ============================  ====================================================

    The last five are the referral facts for eligibility and planning: policies read them
    (features ``statutory_supervision``, ``supervision_months_remaining``,
    ``weeks_until_release``, ``agreed_to_engage``); no shipped reoffending scorer does.

    ``sanctions.csv``, one row per proven offence: ``person_id``, ``offence_date``,
    ``sanction_date``, ``offence_group`` (a code of :func:`iomscore.offence_taxonomy`),
    ``disposal`` (one of :data:`iomscore._referral.DISPOSALS`) required; ``custody_days``
    (whole number, custody only), ``occasion_id`` (offences dealt with together),
    ``current`` (true/false) optional. The ``i`` in ``sanctions[i]`` is the position of the
    row among that person's rows, in file order.

    ``custody.csv`` (optional), one row per custody period: ``person_id``, ``start``,
    ``end`` (empty while still in custody).

    Only the first three columns of each file are required; unknown columns are ignored with
    a logged warning. Booleans accept ``true``/``false``, ``1``/``0``, ``yes``/``no``.
    ``row`` in a reject is the physical line on which the record starts (the header is line
    1; blank lines count, as in a text editor). A sanction or custody row whose ``person_id``
    matches no referral row is rejected on its own (an orphan); a referral with a bad
    sanction or custody row is rejected as a whole, naming that row.

    Malformed CSV is never dropped: the physical lines of each file are counted apart from
    the parser, and every line is part of one record that is read or rejected. A quote that
    is opened and not closed (the record would run on over following lines, or a line break
    would land in a column that is not free text) rejects the line where it starts, naming
    it, and reading resumes on the next line. Only the protected characteristics and
    ``occasion_id`` may hold a quoted line break.

Rules for every form
--------------------
Whitespace
    Leading and trailing whitespace is removed from every value, in every form (JSON,
    CSV and Parquet), as :class:`~iomscore.Referral` does; a value of only whitespace is
    empty. So ``" P1 "`` and ``"P1"`` are the same person whichever form the list has.
Encoding
    UTF-8, with or without a byte-order mark (every command accepts both). A UTF-16 file is
    refused by name. A byte that is not UTF-8 (a Latin-1 export) rejects only the record
    holding it, naming the file, line and column (and the field, for CSV).
JSON
    Strict: a repeated key in an object, ``NaN``/``Infinity``, a record nested more deeply
    than Python's parser allows, a date given as a number and a ``true``/``false`` given for
    a count each reject the record, never the file. Counts and days are at most
    999,999,999, as in CSV.

Two-table Parquet (``.parquet``)
    The same columns, typed or as text (needs ``pyarrow``).

Output
------
:func:`write_scores` writes one row per scored person, in input order: ``person_id``,
``score``, ``band``, ``prob_<horizon>`` (e.g. ``prob_1y``, ``prob_2y``), ``reason_1`` ..
``reason_3``, ``model_name``, ``model_version``, ``model_sha256``, ``warnings`` (CSV and
Parquet). JSON Lines records are the score output contract instead (``"format":
"iomscore.score/1"``, the shape of :class:`iomscore.ScoreResult` JSON; ``iomscore schema
--what score``), with at most ``--top`` reasons.
:func:`write_rejects` writes ``person_id, referral_row, source, row, field, reason``.

Every CSV iomscore writes for people to open (scores, rejects, ``select --format csv``, the
panel's ranked list) neutralises text cells that a spreadsheet would run as a formula: a
cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
``'`` (the OWASP rule, :func:`iomscore.io._text.neutralise`). Numeric columns are written
from numbers and left as they are. The referral tables :func:`write_referrals_csv` writes
are input for iomscore and are written as they are, so that they read back the same.
Every file is written atomically (a temporary file beside it, fsynced, then renamed), so
a reader never sees half a file; see ``docs/promises.md``.

Examples
--------
>>> import tempfile, pathlib, iomscore
>>> from iomscore import io
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> from iomscore import synth
>>> table = synth.generate(100, seed=7)
>>> io.write_referrals_csv(table, d / "r.csv", d / "s.csv", d / "c.csv")
>>> result = io.read_csv(d / "r.csv", d / "s.csv", d / "c.csv")
>>> result.counts.referral_rows == result.counts.valid + result.counts.rejected
True
"""

from __future__ import annotations

from .._public import set_module
from ._common import (
    CUSTODY_COLUMNS,
    REFERRAL_COLUMNS,
    SANCTION_COLUMNS,
    ReadCounts,
    ReadResult,
    Reject,
    referral_field_path,
)
from ._csv import read_csv
from ._frames import FrameRejectsError, read_frames
from ._jsonl import read_jsonl
from ._parquet import read_parquet
from ._score import ScoreRun, read_referrals, score_files, score_read, sibling_tables
from ._tables import MissingColumnsError
from ._write import (
    REJECT_COLUMNS,
    format_from_suffix,
    score_columns,
    score_records,
    top_reasons,
    write_referrals_csv,
    write_referrals_jsonl,
    write_rejects,
    write_scores,
)

__all__ = [
    "CUSTODY_COLUMNS",
    "REFERRAL_COLUMNS",
    "REJECT_COLUMNS",
    "SANCTION_COLUMNS",
    "FrameRejectsError",
    "MissingColumnsError",
    "ReadCounts",
    "ReadResult",
    "Reject",
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
    "write_scores",
]

set_module(globals(), __all__, __name__)
