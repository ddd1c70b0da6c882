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


def test_delayed_grants_and_the_most_generous_wins() -> None:
    ent = entitlements(("EUR*",), (("XAU*", 900), ("*", 1800), ("EURUSD", 60), ("XAUUSD", 300)))
    assert ent.delay_of("EURUSD") == 0  # real time beats any delay
    assert ent.delay_of("XAUUSD") == 300 and ent.delay_of("XAUEUR") == 900  # the shortest delay wins
    assert ent.delay_of("GBPUSD") == 1800
    assert ent.delays == (60, 300, 900, 1800)
    grant = ent.grant("XAUEUR")
    assert grant is not None and grant.delayed and grant.delay_s == 900 and grant.symbol == "XAUEUR"
    assert grant.as_of(10_000_000_000) == 10_000_000_000 - 900_000_000
    assert grant.may_see(10_000_000_000 - 900_000_000, 10_000_000_000)
    assert not grant.may_see(10_000_000_000 - 899_999_999, 10_000_000_000)
    assert not ent.everything


def test_allows_means_real_time_so_code_unaware_of_delays_refuses_delayed_identities() -> None:
    ent = entitlements(("EUR*",), (("XAU*", 900),))
    assert ent.allows("EURUSD") and not ent.allows("XAUUSD")
    assert ent.sees("XAUUSD") and not ent.sees("GBPUSD")
    assert ent.grant("GBPUSD") is None and ent.delay_of("GBPUSD") is None
    assert ent.split(["EURUSD", "XAUUSD"]) == (["EURUSD"], ["XAUUSD"])
    assert entitlements((), (("*", 900),)).delay_of("ANYTHING") == 900


def test_delays_round_up_to_those_offered() -> None:
    from ticker.security.entitlements import round_up_delay

    assert round_up_delay(600, (60, 900, 1800)) == 900
    assert round_up_delay(900, (60, 900)) == 900
    assert round_up_delay(60, (900,)) == 900  # longer than licensed is fine
    assert round_up_delay(3600, (60, 900)) is None  # shorter never
    assert round_up_delay(1, ()) is None
