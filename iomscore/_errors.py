"""The base class of every error iomscore raises on purpose."""

from __future__ import annotations

__all__ = ["IomscoreError"]


class IomscoreError(Exception):
    """Base class of iomscore's own errors: bad input, bad models or policies, broken logs.

    Each subclass is also a :class:`ValueError` (or :class:`AssertionError` for a scorer
    failing the property suite), so code that caught those before still does.

    Examples
    --------
    >>> import iomscore
    >>> try:
    ...     iomscore.parse_referral({"person_id": "P1"})
    ... except iomscore.IomscoreError as exc:
    ...     print(type(exc).__name__)
    ReferralError
    """
