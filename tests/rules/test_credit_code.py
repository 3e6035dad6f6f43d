"""The unified social credit code's check character (GB 32100-2015 §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.credit_code import ALPHABET, CreditCodeError, check_character, validate

# GB 32100-2015's worked example: Σ C_i x W_i = 1640, 1640 mod 31 = 28, 31 - 28 = 3.
EXAMPLE = "91350100M000100Y43"


def test_the_standards_worked_example_validates() -> None:
    assert check_character(EXAMPLE[:17]) == "3"
    assert validate(EXAMPLE.lower()) == EXAMPLE


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100M000100Y44", "check character is '4'"),
        ("91350100M000100Y4", "has 17"),
        ("91350100M00010OY43", "not in the code's alphabet"),
        ("91A50100M000100Y43", "region code"),
    ],
)
def test_a_wrong_code_is_refused_saying_why(code: str, words: str) -> None:
    with pytest.raises(CreditCodeError, match=words):
        validate(code)


@given(
    st.text(alphabet=ALPHABET[:10], min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=11, max_size=11),
)
def test_any_single_character_change_is_caught(region: str, rest: str) -> None:
    first17 = rest[:2] + region + rest[2:]
    code = first17 + check_character(first17)
    assert validate(code) == code
    for i in range(17):
        for other in ALPHABET[:3]:
            if other != code[i] and (not 2 <= i < 8 or other.isdigit()):
                changed = code[:i] + other + code[i + 1 :]
                with pytest.raises(CreditCodeError):
                    validate(changed)
