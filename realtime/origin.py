"""Only pages of this site may open a socket: the `Origin` must match the socket's own scheme,
host and port (or be one of `CSRF_TRUSTED_ORIGINS`), and the host must be in `ALLOWED_HOSTS`.

channels' `AllowedHostsOriginValidator` compares host names only, so `http://localhost:9999`
(another program on the same machine) was accepted for a server on port 8000.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _normal(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, with the scheme's default port filled in."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


def _trusted(origin: tuple[str, str, int]) -> bool:
    scheme, host, port = origin
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in trusted
        expected = _normal(trusted.replace("://*.", "://", 1))
        if expected is None or expected[0] != scheme or expected[2] != port:
            continue
        if host == expected[1] or (wildcard and host.endswith("." + expected[1])):
            return True
    return False


def allowed(scope: dict[str, Any]) -> bool:
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    origin = _normal(headers.get("origin", ""))
    if origin is None:
        return False
    host_header = headers.get("host", "")
    domain, _port = split_domain_port(host_header)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    # Behind a TLS-terminating proxy the socket is https to the browser (SECURE_PROXY_SSL_HEADER).
    proxied = headers.get("x-forwarded-proto", "").lower()
    scheme = proxied if proxied in DEFAULT_PORTS else ("https" if scope.get("scheme") == "wss" else "http")
    own = _normal(f"{scheme}://{host_header}")
    return origin == own or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware for WebSocket scopes: refuse the handshake (HTTP 403) unless `allowed`."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
