"""A rule's condition written once, as a Django Q, and answered either by the database or in Python.

The rules in agreements.rules are conditions on a record: "the sub-licence starts before its parent", "the
partner's ICO registration has expired". Written as a Q, the database can select every record that breaks one
(`queryset.filter(condition)`, in a constant number of queries however many records there are), and `holds` below
answers the same Q for one record already in memory, including an unsaved one such as an amendment's proposed
version. So a rule has one definition, read two ways.

`holds` knows only what the rules use: the lookups in LOOKUPS, `__` across foreign keys, F() on the right-hand
side, and &, | and ~. Anything else is refused (ValueError) rather than guessed at. A comparison with a missing
value (None) is false, as in SQL; under ~ it is refused too, because SQL (unknown) and Django (which adds IS NOT
NULL to some negations) do not agree there: a rule guards such a field with `__isnull` first.
tests/agreements/test_conditions.py checks, on random records, that the database and `holds` agree on every rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from django.db.models import F, Q

LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda value, choices: value in choices,
}


def _name(reference: F) -> str:
    """The field an F() names (not in the type stubs)."""
    return str(cast(Any, reference).name)


def _value(record: Any, path: str) -> Any:
    value = record
    for name in path.split("__"):
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _leaf(record: Any, key: str, wanted: Any, negated: bool) -> bool:
    path, _, lookup = key.rpartition("__")
    if lookup == "isnull":
        return (_value(record, path) is None) == bool(wanted)
    if lookup not in LOOKUPS:
        path, lookup = key, "exact"
    if isinstance(wanted, F):
        wanted = _value(record, _name(wanted))
    elif hasattr(wanted, "resolve_expression"):
        raise ValueError(f"A condition answered in Python cannot use {wanted!r}")
    value = _value(record, path)
    if value is None or wanted is None:
        if negated:
            raise ValueError(f"{key} meets a missing value under ~: guard it with {path}__isnull first")
        return False
    return LOOKUPS[lookup](value, wanted)


def _child(child: Any, record: Any, negated: bool) -> bool:
    if isinstance(child, Q):
        return holds(child, record, negated=negated)
    if not isinstance(child, tuple):
        raise ValueError(f"A condition answered in Python cannot use {child!r}")
    key, wanted = child
    return _leaf(record, key, wanted, negated)


def holds(condition: Q, record: Any, *, negated: bool = False) -> bool:
    """Whether the record meets the condition, as `filter(condition)` would select it."""
    if condition.connector not in (Q.AND, Q.OR):
        raise ValueError(f"A condition answered in Python cannot use {condition.connector}")
    negated = negated != condition.negated
    # Evaluated lazily, left to right: a guard such as parent__isnull=False stops the comparisons after it.
    results = (_child(child, record, negated) for child in condition.children)
    answer = all(results) if condition.connector == Q.AND else any(results)
    return not answer if condition.negated else answer


def across(relation: str, condition: Q) -> Q:
    """The condition on a related record, for a queryset of the records that point to it: across("organisation",
    Q(dspt_status="met")) is Q(organisation__dspt_status="met") on parties. The database then reads the related
    record by its key, row by row, rather than matching against a list of all the records that meet it."""
    moved = Q()
    moved.connector, moved.negated = condition.connector, condition.negated
    children: list[Any] = list(condition.children)
    for child in children:
        if isinstance(child, Q):
            moved.children.append(across(relation, child))
        else:
            key, value = child
            moved.children.append(
                (f"{relation}__{key}", F(f"{relation}__{_name(value)}") if isinstance(value, F) else value)
            )
    return moved
