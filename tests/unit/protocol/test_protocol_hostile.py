"""Property tests: whatever a client sends, the parser and the session answer
with a well-formed error (or a valid request) and never raise anything else."""

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.session_world import World, drain
from ticker.protocol.codes import ErrorCode
from ticker.protocol.errors import ProtocolError
from ticker.protocol.requests import PARSERS, Auth, Ping, Subscribe, Unsubscribe, parse_request

CODES = {v for k, v in vars(ErrorCode).items() if k.isupper()}
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every code point, lone surrogates included (st.text() leaves them out by default).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()  # NaN and ±Infinity become non-standard JSON tokens via json.dumps
    | st.text(ANY_CHAR, max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(ANY_CHAR, max_size=10), inner, max_size=5),
    max_leaves=30,
)
SYMBOLS = st.sampled_from(["EURUSD", "GBPUSD", "AUDUSD", "NZDUSD", "XXXYYY"])
request_like = st.fixed_dictionaries(
    {"op": st.sampled_from(sorted(PARSERS)) | json_values},
    optional={
        "id": json_values,
        "symbols": st.lists(SYMBOLS | st.text(ANY_CHAR, max_size=40), max_size=8) | json_values,
        "throttle_ms": json_values,
        "token": json_values,
    },
)


def to_json(value: object) -> bytes | str:
    try:
        return json.dumps(value)  # allows NaN, big ints and lone surrogates (escaped)
    except (ValueError, RecursionError):
        return repr(value)


def well_formed(exc: ProtocolError) -> None:
    reply = orjson.loads(exc.encode())
    assert reply["type"] == "error"
    assert reply["code"] in CODES
    assert isinstance(reply["message"], str) and reply["message"]
    if "id" in reply:
        assert isinstance(reply["id"], (int, str)) and not isinstance(reply["id"], bool)
    if "field" in reply:
        assert isinstance(reply["field"], str)


def parse(data: bytes | str) -> object:
    try:
        request = parse_request(data)
    except ProtocolError as exc:
        well_formed(exc)
        return None
    assert isinstance(request, (Subscribe, Unsubscribe, Ping, Auth))
    return request


@FAST
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data: bytes) -> None:
    parse(data)


@FAST
@given(st.text(ANY_CHAR, max_size=3000))
def test_arbitrary_text_with_odd_unicode(text: str) -> None:
    parse(text)


@FAST
@given(json_values)
def test_arbitrary_json(value: object) -> None:
    parse(to_json(value))


@FAST
@given(request_like)
def test_request_shaped_json(value: dict) -> None:
    request = parse(to_json(value))
    if isinstance(request, Subscribe):
        assert request.symbols and all(0 < len(s) <= 32 for s in request.symbols)
        assert 0 <= request.throttle_ms <= 60_000


@pytest.mark.parametrize("depth", [10, 1000, 1025, 100_000])
def test_deep_nesting(depth: int) -> None:
    for doc in (
        "[" * depth + "]" * depth,
        '{"op":"ping","id":1,"x":' + '{"a":' * depth + "1" + "}" * depth + "}",
        '{"op":"subscribe","symbols":' + "[" * depth + '"EURUSD"' + "]" * depth + "}",
    ):
        parse(doc)


@pytest.mark.parametrize(
    "number", ["1" * 5000, "-" + "9" * 400, "1e400", "-1e400", "1e-400", "123456789012345678901234567890"]
)
def test_huge_numbers(number: str) -> None:
    for doc in (
        '{"op":"ping","id":' + number + "}",
        '{"op":"subscribe","symbols":["EURUSD"],"throttle_ms":' + number + "}",
        number,
    ):
        parse(doc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(request_like | json_values | st.binary(max_size=200), min_size=1, max_size=20))
def test_session_survives_any_sequence_and_still_answers(frames: list) -> None:
    world = World(max_symbols=3)
    s = world.session()
    for f in frames:
        s.receive(f if isinstance(f, bytes) else to_json(f), now=0)
    world.tick("EURUSD", 1.1, 1.2)
    for m in drain(s):  # every frame the server queued is valid JSON of a known shape
        assert m["type"] in {"subscribed", "unsubscribed", "snapshot", "update", "status", "pong", "error"}
        if m["type"] == "error":
            assert m["code"] in CODES and m["message"]
    s.receive('{"op":"ping","id":"alive"}', now=0)
    assert drain(s)[-1] == {"type": "pong", "id": "alive", "ts": 42}


def test_no_float_leaks_into_ids() -> None:
    # Integers beyond 64 bits arrive as floats from orjson; they must not pass as ids.
    with pytest.raises(ProtocolError) as info:
        parse_request('{"op":"ping","id":' + "1" * 30 + "}")
    assert info.value.field == "id"
