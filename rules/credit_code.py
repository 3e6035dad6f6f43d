"""The unified social credit code (统一社会信用代码, GB 32100-2015): an enterprise's
stable identity (docs/quarterly.md §1).

18 characters from the 31 of the code's alphabet (digits and capitals without I, O, Z,
S, V): 1 registration authority, 1 organisation type, 6 the GB/T 2260 region code, 9 the
organisation code, 1 check character. The check character is GB 32100-2015 §5: with
weights W_i = 3^(i-1) mod 31 over the first 17 characters' values C_i,
C_18 = 31 - (Σ C_i x W_i mod 31), where 31 stands for 0.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


class CreditCodeError(ValueError):
    """A unified social credit code that is not one, with the reason in words."""


def check_character(first17: str) -> str:
    """The 18th character of a code whose first 17 are ``first17`` (GB 32100-2015 §5)."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str:
    """``code`` upper-cased and checked; :raises CreditCodeError: saying what is wrong."""
    text = code.strip().upper()
    if len(text) != 18:
        raise CreditCodeError(f"a credit code has 18 characters, {text!r} has {len(text)}")
    bad = sorted({ch for ch in text if ch not in _VALUE})
    if bad:
        raise CreditCodeError(
            f"{text!r}: {''.join(bad)!r} not in the code's alphabet (no I, O, Z, S, V)"
        )
    if not text[2:8].isdigit():
        raise CreditCodeError(f"{text!r}: characters 3-8 must be the 6-digit region code")
    expected = check_character(text[:17])
    if text[17] != expected:
        raise CreditCodeError(
            f"{text!r}: check character is {text[17]!r}, GB 32100-2015 gives {expected!r}"
        )
    return text
