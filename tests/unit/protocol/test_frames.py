import pytest

from ticker.protocol.frames import masked_text_frame, split_frames, text_frame


@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_text_frame_lengths_round_trip(n: int) -> None:
    payload = bytes(i % 251 for i in range(n))
    frame = text_frame(payload)
    assert frame[0] == 0x81  # FIN + text
    assert not frame[1] & 0x80  # servers never mask
    buf = bytearray(frame + text_frame(b"next"))
    assert split_frames(buf) == [(1, payload), (1, b"next")]
    assert not buf


def test_split_frames_keeps_partial_frames() -> None:
    frame = text_frame(b"x" * 300)
    buf = bytearray(frame[:100])
    assert split_frames(buf) == []
    assert len(buf) == 100
    buf += frame[100:]
    assert split_frames(buf) == [(1, b"x" * 300)]


def test_masked_client_frame_unmasks_to_payload() -> None:
    frame = masked_text_frame(b'{"op":"ping"}', mask=b"\x01\x02\x03\x04")
    assert frame[1] & 0x80
    n = frame[1] & 0x7F
    key, body = frame[2:6], frame[6 : 6 + n]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(body)) == b'{"op":"ping"}'


def test_close_frame_carries_code_and_reason() -> None:
    from ticker.protocol.frames import close_frame

    frame = close_frame(1013, b"slow consumer")
    assert frame[0] == 0x88 and frame[1] == 2 + len(b"slow consumer")
    assert int.from_bytes(frame[2:4], "big") == 1013 and frame[4:] == b"slow consumer"
    with pytest.raises(ValueError, match="at most 123"):
        close_frame(1000, b"x" * 124)


def test_close_reasons_are_cut_on_a_character_boundary() -> None:
    from ticker.protocol.codes import frame_reason

    reason = frame_reason("é" * 100)  # two bytes each: a cut at 120 bytes lands between characters
    assert reason.decode() == "é" * 60
    assert len(frame_reason("e" * 500)) == 120
