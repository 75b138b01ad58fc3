"""Server-sent events read from raw bytes, however the network cut them.

The SDKs' own readers decode every event into typed objects, which costs far more than the
relay around them; the gateway and the providers read the bytes themselves and parse (with
pydantic-core's Rust JSON) only the `data` of each event.
"""

from __future__ import annotations


class EventReader:
    """Feed bytes as they arrive; get back the `data` of every event completed by them.

    Follows the SSE rules that matter to model servers: events end at a blank line; lines end
    in LF, CRLF or CR; several `data:` lines of one event join with LF; one space after the
    colon is dropped; comments (`:`) and the `event`, `id` and `retry` fields carry no data.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:
            # A CR at the very end may be the first half of a CRLF: decided by the next read.
            held = b"\r" if buffer.endswith(b"\r") else b""
            buffer = buffer[: len(buffer) - len(held)].replace(b"\r\n", b"\n")
            buffer = buffer.replace(b"\r", b"\n") + held
        if b"\n\n" not in buffer:
            self._pending = buffer
            return []
        *events, self._pending = buffer.split(b"\n\n")
        found: list[bytes] = []
        for event in events:
            # The common case, one `data: …` line, without splitting into lines.
            if event.startswith(b"data: ") and b"\n" not in event:
                found.append(event[6:])
                continue
            lines = [
                line[5:].removeprefix(b" ") for line in event.split(b"\n") if line[:5] == b"data:"
            ]
            if lines:
                found.append(b"\n".join(lines))
        return found
