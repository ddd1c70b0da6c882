"""Symbol patterns: what an identity may see."""

import pytest

from ticker.security.entitlements import EVERYTHING, entitlements


@pytest.mark.parametrize(
    ("patterns", "allowed", "denied"),
    [
        (("EURUSD",), ["EURUSD"], ["EURUSDX", "eurusd", "GBPUSD", "XEURUSD"]),
        (("EUR*",), ["EURUSD", "EURJPY", "EUR"], ["GBPEUR", "eurusd"]),
        (("*USD",), ["EURUSD", "XAUUSD"], ["USDJPY"]),
        (("XA?USD",), ["XAUUSD", "XAGUSD"], ["XAUUSDX", "XUSD"]),
        (("[EG]BPUSD", "USDJPY"), ["GBPUSD", "EBPUSD", "USDJPY"], ["ABPUSD", "USDCHF"]),
        (("*",), ["EURUSD", "ANYTHING"], []),
    ],
)
def test_glob_patterns(patterns: tuple[str, ...], allowed: list[str], denied: list[str]) -> None:
    ent = entitlements(patterns)
    for s in allowed:
        assert ent.allows(s), s
    for s in denied:
        assert not ent.allows(s), s
    assert ent.split(allowed + denied) == (allowed, denied)


def test_regex_metacharacters_in_symbols_are_literal() -> None:
    ent = entitlements(("BTC.USD", "A+B"))
    assert ent.allows("BTC.USD") and ent.allows("A+B")
    assert not ent.allows("BTCXUSD") and not ent.allows("AAB")


def test_compiled_once_per_pattern_set() -> None:
    assert entitlements(("EUR*", "GBP*")) is entitlements(("EUR*", "GBP*"))
    assert EVERYTHING.everything and not entitlements(("EUR*",)).everything
    assert entitlements(("EUR*", "*")).everything


def test_no_patterns_allow_nothing() -> None:
    assert not entitlements(()).allows("EURUSD")
