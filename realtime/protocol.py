"""The wire protocol of docs/protocol.md, once, as types: close codes, error codes, every frame
in both directions, and the parsing of client frames.

The consumer builds server frames with these types and the tests check what they receive
against them (`tests/realtime/helpers.py` derives its frame checker from `SERVER_FRAMES`), so a
key added here is a key the tests expect.
"""

from __future__ import annotations

import json
import re
from enum import IntEnum, StrEnum
from typing import Any, Literal, NotRequired, TypedDict, get_args, get_type_hints

MAX_FRAME_BYTES = 16 * 1024


class CloseCode(IntEnum):
    """Close codes the server sends after accepting (so browsers see them instead of 1006)."""

    POLICY = 1008  # the client kept flooding after a rate_limited error: reconnect with backoff
    SERVER_ERROR = 1011  # the server failed (a database error, say): reconnect with backoff
    SERVICE_RESTART = 1012  # the server is restarting: reconnect after a short jittered delay

    UNAUTHENTICATED = 4401  # not logged in, or the session ended: log in again, do not retry
    FORBIDDEN = 4403  # this login may not watch this customer: stop, do not retry
    UNKNOWN_PATH = 4404  # no WebSocket endpoint at this path: fix the URL, do not retry
    TOO_MANY_SOCKETS = 4429  # this user has too many sockets open on this server: close some tabs


class ErrorCode(StrEnum):
    """`code` of an error frame: the frame was refused and the socket stays open."""

    BAD_JSON = "bad_json"
    BAD_FRAME = "bad_frame"
    TOO_LARGE = "too_large"
    UNKNOWN_TYPE = "unknown_type"
    BAD_TOPICS = "bad_topics"
    UNKNOWN_TOPIC = "unknown_topic"
    BAD_SINCE = "bad_since"
    BAD_STATUS = "bad_status"
    BAD_TYPING = "bad_typing"
    BAD_PAGE = "bad_page"
    NOT_IN_ROOM = "not_in_room"  # typing before joining the room with presence
    RATE_LIMITED = "rate_limited"  # too many frames: slow down, or the socket is closed (1008)


Op = Literal["insert", "update", "delete"]
PresenceStatus = Literal["active", "idle", "away"]
PRESENCE_STATUSES: tuple[PresenceStatus, ...] = get_args(PresenceStatus)
Row = dict[str, Any]


# --- client to server ---------------------------------------------------------------------------


class SubscribeFrame(TypedDict):
    type: Literal["subscribe"]
    topics: list[str]
    since: NotRequired[int | None]


class UnsubscribeFrame(TypedDict):
    type: Literal["unsubscribe"]
    topics: list[str]


class PingFrame(TypedDict):
    type: Literal["ping"]


class SetPresenceFrame(TypedDict):
    type: Literal["presence"]
    status: PresenceStatus | Literal["offline"]
    page: NotRequired[str]  # what the tab shows ("messages"): a label for the others, not checked


class SetTypingFrame(TypedDict):
    type: Literal["typing"]
    typing: bool


ClientFrame = SubscribeFrame | UnsubscribeFrame | PingFrame | SetPresenceFrame | SetTypingFrame


# --- server to client ---------------------------------------------------------------------------


class HelloFrame(TypedDict):
    type: Literal["hello"]
    customer: int
    seq: int
    topics: list[str]


class SubscribedFrame(TypedDict):
    type: Literal["subscribed"]
    topics: list[str]
    seq: int


class ChangeFrame(TypedDict):
    type: Literal["change"]
    seq: int
    topic: str
    op: Op
    event: str
    id: int
    new: Row | None
    old: Row | None
    changed: list[str]
    at: str


class PongFrame(TypedDict):
    type: Literal["pong"]
    seq: int


class ResyncFrame(TypedDict):
    type: Literal["resync"]
    reason: str
    seq: int


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: ErrorCode
    message: str


class OnlineUser(TypedDict):
    name: str
    role: Literal["customer", "staff"]
    status: PresenceStatus
    page: NotRequired[str]  # what their most present tab shows, when it said


class PresenceFrame(TypedDict):
    """The whole room: the first presence frame a socket gets after joining."""

    type: Literal["presence"]
    online: dict[str, OnlineUser]


class PresenceDiffFrame(TypedDict):
    """What changed in the room since the socket's last presence frame."""

    type: Literal["presence_diff"]
    joined: dict[str, OnlineUser]  # users who came online or changed status, as they are now
    left: list[str]


class TypingFrame(TypedDict):
    type: Literal["typing"]
    user: str
    name: str
    role: Literal["customer", "staff"]
    typing: bool


ServerFrame = (
    HelloFrame
    | SubscribedFrame
    | ChangeFrame
    | PongFrame
    | ResyncFrame
    | ErrorFrame
    | PresenceFrame
    | PresenceDiffFrame
    | TypingFrame
)


class EncodedChange(TypedDict):
    """A change frame between processes, encoded once by its writer for every socket it reaches."""

    seq: int
    topic: str
    text: str


def encoded(frame: ChangeFrame) -> EncodedChange:
    return {"seq": frame["seq"], "topic": frame["topic"], "text": encode(frame)}


def _by_type(*frames: type[Any]) -> dict[str, type[Any]]:
    return {get_args(get_type_hints(frame)["type"])[0]: frame for frame in frames}


# Each frame type by its `type` string, for checkers and documentation.
CLIENT_FRAMES = _by_type(SubscribeFrame, UnsubscribeFrame, PingFrame, SetPresenceFrame, SetTypingFrame)
SERVER_FRAMES = _by_type(
    HelloFrame,
    SubscribedFrame,
    ChangeFrame,
    PongFrame,
    ResyncFrame,
    ErrorFrame,
    PresenceFrame,
    PresenceDiffFrame,
    TypingFrame,
)


def encode(frame: ServerFrame) -> str:
    return json.dumps(frame, separators=(",", ":"))


def error_frame(error: ProtocolError) -> ErrorFrame:
    return {"type": "error", "code": error.code, "message": error.message}


# --- parsing client frames ----------------------------------------------------------------------


class ProtocolError(Exception):
    """A client frame the protocol refuses; the consumer answers with an error frame."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_client_frame(text: str | None, data: bytes | None, *, known_topics: list[str]) -> ClientFrame:
    """The validated client frame in this WebSocket message, or ProtocolError saying what is wrong."""
    if text is None:
        raise ProtocolError(ErrorCode.BAD_FRAME, "Send JSON text frames; binary frames are not accepted.")
    # Measured in bytes, as documented: a non-ASCII frame is longer in bytes than in characters.
    if len(text) > MAX_FRAME_BYTES or len(text.encode()) > MAX_FRAME_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"Frames are at most {MAX_FRAME_BYTES} bytes.")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise ProtocolError(ErrorCode.BAD_JSON, "The frame is not valid JSON.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError(ErrorCode.BAD_FRAME, 'A frame is a JSON object with a string "type".')
    kind = raw["type"]
    if kind == "subscribe":
        return {"type": "subscribe", "topics": _topics(raw, known_topics), "since": _since(raw)}
    if kind == "unsubscribe":
        return {"type": "unsubscribe", "topics": _topics(raw, known_topics)}
    if kind == "ping":
        return {"type": "ping"}
    if kind == "presence":
        status = raw.get("status")
        if status == "offline":
            return {"type": "presence", "status": "offline"}
        for allowed in PRESENCE_STATUSES:
            if status == allowed:
                return _with_page({"type": "presence", "status": allowed}, raw)
        raise ProtocolError(
            ErrorCode.BAD_STATUS, f'"status" must be one of {[*PRESENCE_STATUSES, "offline"]}.'
        )
    if kind == "typing":
        typing = raw.get("typing")
        if not isinstance(typing, bool):
            raise ProtocolError(ErrorCode.BAD_TYPING, '"typing" must be true or false.')
        return {"type": "typing", "typing": typing}
    raise ProtocolError(
        ErrorCode.UNKNOWN_TYPE, f"Unknown frame type {kind!r}; expected {', '.join(CLIENT_FRAMES)}."
    )


def _topics(raw: dict[str, Any], known_topics: list[str]) -> list[str]:
    topics = raw.get("topics")
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        raise ProtocolError(ErrorCode.BAD_TOPICS, '"topics" must be a non-empty list of topic names.')
    unknown = sorted(set(topics) - set(known_topics))
    if unknown:
        # All or nothing: a subscribe naming one unknown topic adds none of them.
        raise ProtocolError(
            ErrorCode.UNKNOWN_TOPIC, f"Unknown topics {unknown}; known: {sorted(known_topics)}."
        )
    return list(dict.fromkeys(topics))


def _since(raw: dict[str, Any]) -> int | None:
    since = raw.get("since")
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise ProtocolError(ErrorCode.BAD_SINCE, '"since" must be a whole number >= 0, or null.')
    return since


PAGE = re.compile(r"[a-z0-9_-]{1,32}")


def _with_page(frame: SetPresenceFrame, raw: dict[str, Any]) -> SetPresenceFrame:
    page = raw.get("page")
    if page is None:
        return frame
    if not isinstance(page, str) or not PAGE.fullmatch(page):
        raise ProtocolError(ErrorCode.BAD_PAGE, '"page" must be 1-32 of a-z, 0-9, "-" and "_".')
    return {**frame, "page": page}
