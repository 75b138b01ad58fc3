"""Server-sent events read from raw bytes, wherever the network cut them."""

from __future__ import annotations

from everything_app.ai.providers.sse import EventReader

STREAM = (
    b'data: {"a":"first"}\n\n'
    b": a comment, no data\n\n"
    b'event: message\nid: 7\ndata: {"b":\ndata: "two lines"}\n\n'
    b"data:no-space\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [b'{"a":"first"}', b'{"b":\n"two lines"}', b"no-space", b"[DONE]"]


def read(pieces: list[bytes]) -> list[bytes]:
    reader = EventReader()
    return [data for piece in pieces for data in reader.feed(piece)]


def test_an_event_cut_at_any_byte_is_read_whole_once() -> None:
    for cut in range(1, len(STREAM)):
        assert read([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_one_byte_at_a_time() -> None:
    assert read([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_crlf_and_cr_line_ends_even_when_a_crlf_is_cut_in_two() -> None:
    crlf = STREAM.replace(b"\n", b"\r\n")
    for cut in range(1, len(crlf)):
        assert read([crlf[:cut], crlf[cut:]]) == EXPECTED, cut
    # A CR that ends a read may be half a CRLF, so it counts once the next byte arrives.
    assert read([STREAM.replace(b"\n", b"\r"), b": end\r"]) == EXPECTED


def test_an_unfinished_event_is_held_back() -> None:
    reader = EventReader()
    assert reader.feed(b'data: {"partial"') == []
    assert reader.feed(b":1}\n") == []
    assert reader.feed(b"\n") == [b'{"partial":1}']
