"""Response headers for browsers: the Content-Security-Policy, and no caching of private answers.

Both run after WhiteNoise, which answers static files itself: a stylesheet or a script needs
neither header, and static files stay cacheable.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control

API_PREFIX = "/api/"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (`CONTENT_SECURITY_POLICY` in settings), with this host's WebSocket
    origin added to `connect-src`.

    CSP3 lets 'self' match ws: and wss: on the page's own host and port (Chromium and Firefox do);
    browsers from before that rule only match http(s), so the socket's origin is named as well.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:  # the 400 page for a host we do not serve: no socket either
            return parts
        socket_origin = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), socket_origin]
        parts.update = update
        return parts


class PrivateNoStoreMiddleware:
    """`Cache-Control: no-store, private` on every answer to a logged-in user and on the API.

    A customer's invoices must not stay in a shared cache, nor in the browser's cache or
    back-forward history after logging out on a shared computer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(API_PREFIX) or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
        return response
