from tests.realtime.conftest import frames_recorded_by_this_test, people, sockets

__all__ = ["frames_recorded_by_this_test", "people", "sockets"]
