"""The fault suite shares the realtime suite's people, sockets and frame checks."""

from tests.realtime.conftest import (
    close_pool_thread_connections,
    frames_recorded_by_this_test,
    fresh_hub,
    people,
    sockets,
)

__all__ = ["close_pool_thread_connections", "frames_recorded_by_this_test", "fresh_hub", "people", "sockets"]
