import orjson
import pytest

from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats
from ticker.protocol.codes import ErrorCode
from ticker.protocol.errors import ProtocolError
from ticker.protocol.replies import encode_error
from ticker.protocol.requests import Ping, Subscribe, Unsubscribe, parse_request


def test_parses_the_three_ops() -> None:
    assert parse_request(b'{"op":"subscribe","symbols":["EURUSD","GBPUSD"],"id":1}') == Subscribe(
        ("EURUSD", "GBPUSD"), 1
    )
    assert parse_request('{"op":"unsubscribe","symbols":["GBPUSD"],"id":"x"}') == Unsubscribe(
        ("GBPUSD",), "x"
    )
    assert parse_request('{"op":"ping"}') == Ping(None)


def test_throttle_and_duplicates() -> None:
    req = parse_request('{"op":"subscribe","symbols":["A","B","A"],"throttle_ms":250}')
    assert req == Subscribe(("A", "B"), None, 250)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    assert parse_request('{"op":"ping","id":3,"future":{"x":1}}') == Ping(3)


@pytest.mark.parametrize(
    ("raw", "code", "field", "id"),
    [
        ("{not json", ErrorCode.BAD_JSON, None, None),
        (b"\xff\xfe", ErrorCode.BAD_JSON, None, None),
        ("[1,2]", ErrorCode.BAD_REQUEST, "", None),
        ('"hello"', ErrorCode.BAD_REQUEST, "", None),
        ('{"id":4}', ErrorCode.BAD_REQUEST, "op", 4),
        ('{"op":5,"id":4}', ErrorCode.BAD_REQUEST, "op", 4),
        ('{"op":"fly","id":4}', ErrorCode.UNKNOWN_OP, "op", 4),
        ('{"op":"subscribe","id":4}', ErrorCode.BAD_REQUEST, "symbols", 4),
        ('{"op":"subscribe","symbols":"EURUSD","id":4}', ErrorCode.BAD_REQUEST, "symbols", 4),
        ('{"op":"subscribe","symbols":[],"id":4}', ErrorCode.BAD_REQUEST, "symbols", 4),
        ('{"op":"subscribe","symbols":[1],"id":4}', ErrorCode.BAD_REQUEST, "symbols", 4),
        ('{"op":"subscribe","symbols":["' + "A" * 33 + '"]}', ErrorCode.BAD_REQUEST, "symbols", None),
        ('{"op":"subscribe","symbols":["A"],"throttle_ms":-1}', ErrorCode.BAD_REQUEST, "throttle_ms", None),
        ('{"op":"subscribe","symbols":["A"],"throttle_ms":true}', ErrorCode.BAD_REQUEST, "throttle_ms", None),
        ('{"op":"ping","id":[1]}', ErrorCode.BAD_REQUEST, "id", None),
        ('{"op":"ping","id":1e400}', ErrorCode.BAD_JSON, None, None),
        ('{"op":"ping","id":9007199254740993}', ErrorCode.BAD_REQUEST, "id", None),
    ],
)
def test_errors_name_code_and_field(raw: str | bytes, code: str, field: str | None, id: object) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_request(raw)
    err = info.value
    assert err.code == code
    assert err.field == field
    assert err.id == id
    reply = orjson.loads(err.encode())
    assert reply["type"] == "error"
    assert reply["code"] == code
    assert reply["message"]
    assert reply.get("id") == id


def test_error_encoding_carries_symbols() -> None:
    reply = orjson.loads(encode_error("unknown_symbol", "m", id=1, symbols=["XXXYYY"]))
    assert reply == {
        "type": "error",
        "id": 1,
        "code": "unknown_symbol",
        "message": "m",
        "symbols": ["XXXYYY"],
    }


def join_frame(messages: list[bytes]) -> bytes | None:
    """What the writer sends for these pending messages (Outbox.take_frame joins them)."""
    box = Outbox(lambda sid, mask: b"", FanoutStats())
    for m in messages:
        box.push(m, 0.0)
    return box.take_frame()


def test_join_frame() -> None:
    assert join_frame([b'{"a":1}']) == b'{"a":1}'
    assert orjson.loads(join_frame([b'{"a":1}', b'{"b":2}'])) == [{"a": 1}, {"b": 2}]
