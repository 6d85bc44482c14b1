import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.identity import (
    child_id_from,
    is_valid_child_id,
    mint_child_id,
    normalise_child_id,
)


def test_format_prefix_body_and_check() -> None:
    cid = child_id_from("primero:abc")
    assert cid.startswith("KH-") and len(cid) == 3 + 10 + 1
    assert is_valid_child_id(cid)


def test_same_founder_same_id_and_salt_changes_it() -> None:
    assert child_id_from("oscar:X") == child_id_from("oscar:X")
    assert child_id_from("oscar:X", 1) != child_id_from("oscar:X")


def test_mint_never_reuses_a_taken_id() -> None:
    taken = {child_id_from("k"), child_id_from("k", 1)}
    assert mint_child_id("k", taken.__contains__) == child_id_from("k", 2)


@pytest.mark.parametrize("position", range(3, 14))
def test_a_single_mistyped_character_is_caught(position: int) -> None:
    cid = child_id_from("primero:typo")
    replacement = "0" if cid[position] != "0" else "1"
    typo = cid[:position] + replacement + cid[position + 1 :]
    assert not is_valid_child_id(typo)


def test_typed_forms_are_read_like_crockford() -> None:
    cid = child_id_from("primero:read")
    assert normalise_child_id(cid.lower()) == cid
    assert normalise_child_id(cid[3:]) == cid
    assert is_valid_child_id(" " + cid.lower() + " ")


@given(st.text())
def test_validation_never_raises(text: str) -> None:
    assert is_valid_child_id(text) in (True, False)
