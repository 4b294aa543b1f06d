"""publishing.registers.sort_bytes: the database puts an edition's rows in the order the register's sort key gives."""

from __future__ import annotations

import random

import pytest

from agreements.models import Agreement
from publishing.registers import sort_bytes


def _text(rng: random.Random) -> str:
    alphabet = ["", "a", "b", "A", " ", "\x00", "\x01", "é", "ß", "Z", "/", "ǅ", "\U0001f600", "0", "9"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 5)))


def test_the_bytes_sort_as_the_keys_do_for_strings_integers_and_tuples_of_them() -> None:
    rng = random.Random(14)
    shapes = [
        lambda: (rng.randrange(-5, 5), rng.randrange(0, 3), _text(rng)),
        lambda: (_text(rng), _text(rng)),
        lambda: _text(rng),
        lambda: rng.choice([0, 1, -1, 2**62, -(2**62), 255, 256]),
    ]
    for shape in shapes:
        keys = [shape() for _ in range(400)]
        assert sorted(keys, key=sort_bytes) == sorted(keys)
        # Equal keys, equal bytes: ties are then broken by the order the rows were written in.
        assert all((sort_bytes(a) == sort_bytes(b)) == (a == b) for a, b in zip(keys, reversed(keys), strict=True))


def test_a_string_sorts_before_a_longer_one_it_begins_and_tuples_before_longer_ones() -> None:
    assert sort_bytes("SL") < sort_bytes("SL\x00") < sort_bytes("SL\x00\x00") < sort_bytes("SL ")
    assert sort_bytes(("a",)) < sort_bytes(("a", 0)) < sort_bytes(("a", "")) < sort_bytes(("ab",))


def test_sub_licence_references_sort_by_year_then_number() -> None:
    references = ["SL/25/10", "SL/24/3", "SL/25/2", "DARS-NIC-1", "SL/25/1"]
    by_bytes = sorted(references, key=lambda reference: sort_bytes(Agreement.reference_sort_key(reference)))
    assert by_bytes == ["SL/24/3", "SL/25/1", "SL/25/2", "SL/25/10", "DARS-NIC-1"]


@pytest.mark.parametrize("key", [1.5, None, b"bytes", ["a list"], True])
def test_anything_else_is_refused(key) -> None:
    with pytest.raises(TypeError, match="A sort key is a string, an integer or a tuple of them"):
        sort_bytes(key)
