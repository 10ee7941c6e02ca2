"""The one number policy and the one date policy of datasets, as SQL over text columns.

Every number and date of a dataset is read through these expressions, whatever the
engine (DuckDB or Spark) and wherever the file came from (CSV, Parquet, an import):

- a **number** is decimal text (`12`, `-3.5`, `1e3`), without thousands separators or
  currency; it must be finite (`nan`, `inf`, `1e309` are refused) and of a plausible
  size for its column;
- a **date** is ISO 8601: `2026-10-03`, `2026-10-03T14:05:00`, `2026-10-03 14:05:00.123`,
  with an optional `Z`, `UTC` or offset (`+02:00`), converted to UTC; its year must lie in
  1970-2100, always (not only when some other value of the column fails to parse).

Dates are parsed on a fast path: a plain date or a date-time without offset by a cast,
only values that carry an offset through the time-zone conversion. Each expression is
evaluated once per row (validate keeps the parsed value in a column) and written in
DuckDB's dialect (see engine.aggregation.backend).
"""
from __future__ import annotations

from ..aggregation.backend import quote_ident, trimmed

MIN_YEAR, MAX_YEAR = 1970, 2100
DATE_SHAPE_RE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*"
PERIOD_RE = r"[0-9]{4}-(0[1-9]|1[0-2])"
PLAIN_DATE_LIKE = "____-__-__"      # ten characters, hyphens after the year and the month
NUMBER_EXPECTED = "a number such as 12000 or 12.5"
DATE_EXPECTED = "an ISO 8601 date such as 2026-10-03 or 2026-10-03T14:05:00"
MAX_VALUE = 1e12            # amounts and targets beyond this are typing errors, not deals
NONFINITE_WORDS = ("nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity")


def col(name: str) -> str:
    return quote_ident(name)


def timestamp(c: str) -> str:
    """The TIMESTAMP (UTC) of text `c`, NULL where it is not an ISO 8601 date.

    A value with an offset (after the date: `+hh:mm`, `-hh:mm`, `Z`, `UTC`) goes through
    the time-zone conversion; any other through a plain cast (a cast alone would ignore
    the offset). Words a cast accepts (`epoch`, `infinity`) fail the shape test first (a
    hyphen after four characters); what is not a date after all, the cast refuses.
    """
    return (f"(CASE WHEN {c} LIKE '{PLAIN_DATE_LIKE}' "
            f"THEN CAST(TRY_CAST({c} AS DATE) AS TIMESTAMP) "                    # a plain date: fast
            f"WHEN substr({c}, 5, 1) != '-' THEN NULL "
            f"WHEN length({c}) > 10 AND (contains(substr({c}, 11), '+') OR contains(substr({c}, 11), '-') "
            f"OR ends_with({c}, 'Z') OR ends_with({c}, 'UTC')) "
            f"THEN timezone('UTC', TRY_CAST({c} AS TIMESTAMPTZ)) "
            f"ELSE TRY_CAST({c} AS TIMESTAMP) END)")


def days(c: str, relation: str, untrimmed: bool = False) -> str:
    """SELECT *, `__day` FROM `relation`: the DATE (UTC) of text column `c`, the date of
    `timestamp(c)`, a plain date by a cast alone; NULL where it is not a date or its year
    lies outside MIN_YEAR..MAX_YEAR. Each step is a projection of its own: no expression
    is evaluated twice. `untrimmed`: `c` may still have surrounding spaces (trimmed here,
    only where it is not a plain date)."""
    rest = trimmed(c) if untrimmed else c
    return (f"SELECT *, CASE WHEN __d BETWEEN DATE '{MIN_YEAR}-01-01' "
            f"AND DATE '{MAX_YEAR}-12-31' THEN __d END AS __day FROM ("
            f"SELECT *, coalesce(__fast, CAST({timestamp('__rest')} AS DATE)) AS __d FROM ("
            f"SELECT *, CASE WHEN {c} LIKE '{PLAIN_DATE_LIKE}' THEN TRY_CAST({c} AS DATE) END AS __fast, "
            f"CASE WHEN {c} NOT LIKE '{PLAIN_DATE_LIKE}' THEN {rest} END AS __rest FROM {relation} AS r))")


def plausible(t: str) -> str:
    """`t` (a parsed timestamp) where its year lies in MIN_YEAR..MAX_YEAR, else NULL."""
    return f"(CASE WHEN year({t}) BETWEEN {MIN_YEAR} AND {MAX_YEAR} THEN {t} END)"


def bad_date_message(c: str) -> str:
    """Why the text `c` is not a date: shaped like one but impossible, or not a date at all."""
    return (f"(CASE WHEN regexp_full_match({c}, '{DATE_SHAPE_RE}') THEN 'impossible date' "
            f"ELSE 'not a date' END)")


def number(c: str) -> str:
    """The DOUBLE of text `c` (NaN and infinities included: `finite` tells them apart)."""
    return f"TRY_CAST({c} AS DOUBLE)"


def bad_number_message(c: str) -> str:
    words = ", ".join(f"'{w}'" for w in NONFINITE_WORDS)
    return f"(CASE WHEN lower({c}) IN ({words}) THEN 'not a finite number' ELSE 'not a number' END)"


TRUE_WORDS = ("1", "true", "t", "yes", "y")
FALSE_WORDS = ("0", "false", "f", "no", "n")


def flag(c: str) -> str:
    """A yes/no text as BOOLEAN (NULL where empty or not a yes/no word)."""
    words_t = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    words_f = ", ".join(f"'{w}'" for w in FALSE_WORDS)
    return f"(CASE WHEN lower({c}) IN ({words_t}) THEN true WHEN lower({c}) IN ({words_f}) THEN false END)"


def not_a_period(c: str) -> str:
    return f"({c} IS NOT NULL AND NOT regexp_full_match({c}, '{PERIOD_RE}'))"


# a byte order mark (U+FEFF: files joined together, each with its own), a zero-width space, or a
# space that is not the plain one (no-break U+00A0, pasted from a web page or a spreadsheet; the
# other widths of space): invisible or unseen in every message, and never trimmed like a plain
# space, so an id with one matches no reference to it
INVISIBLE_RE = "[\\x{FEFF}\\x{200B}-\\x{200D}\\x{2060}\\x{00A0}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}]"


def invisible(c: str) -> str:
    """Whether text `c` holds an invisible character (INVISIBLE_RE)."""
    return f"coalesce(regexp_matches({c}, '{INVISIBLE_RE}'), false)"
