"""Coupon codes: the shape the phone-friendly alphabet promises."""

from __future__ import annotations

from collections import Counter

from shopops.promotions.service import coupons


def test_codes_use_the_readable_alphabet_and_length() -> None:
    codes = [coupons._new_code() for _ in range(2_000)]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == coupons._CODE_LENGTH
        assert code[0] == "C"
        assert set(code[1:]) <= set(coupons._ALPHABET)
    # Every letter turns up (22,000 draws over 32 letters: each ~690 times).
    seen = Counter(ch for code in codes for ch in code[1:])
    assert set(seen) == set(coupons._ALPHABET)
    assert min(seen.values()) > 450
