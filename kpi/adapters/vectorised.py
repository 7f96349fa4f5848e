"""Column helpers of the vectorised readers (issue 18: the ingest at DuckDB's speed).

The state tables (`kpi.adapters.tables`) and the survey exports (`kpi.ingest.surveys`) used to
parse every cell in Python. Their readers now work column by column: the scalar parsers
(``parse_cell``, ``parse_answer``, ``parse_timestamp``, ...) stay the single source of truth of what
a text means, and are called once per *distinct* text of a column (`per_distinct`); the results
are joined back onto the rows by polars. Trimming as Python's ``str.strip()`` does is
`python_strip` (tested equal to it on every Unicode blank).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from kpi.adapters.textio import PYTHON_WHITESPACE


def python_strip(expr: pl.Expr) -> pl.Expr:
    """``str.strip()`` of a String expression (Unicode blanks and the separators U+001C..U+001F)."""
    return expr.str.strip_chars(PYTHON_WHITESPACE)


def per_distinct(values: pl.Series, fn: Callable[[Any], Sequence[Any]],
                 dtypes: Sequence[pl.DataType]) -> list[pl.Series]:
    """``fn(value)`` -- a tuple of ``len(dtypes)`` results -- called once per distinct value of
    ``values`` (in the order of first appearance, so that a value that makes ``fn`` raise raises as
    it did row by row), returned as one Series per result, aligned with ``values``. A null value
    gives null results (``fn`` is not called for it)."""
    distinct = values.drop_nulls().unique(maintain_order=True)
    results = [fn(value) for value in distinct.to_list()]
    out = []
    for k, dtype in enumerate(dtypes):
        new = pl.Series([r[k] for r in results], dtype=dtype)
        if distinct.is_empty():
            out.append(pl.repeat(None, values.len(), dtype=dtype, eager=True).alias(values.name))
        else:
            out.append(values.replace_strict(distinct, new, default=None, return_dtype=dtype))
    return out
