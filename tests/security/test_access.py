"""Who may open `/ws/realtime/` and watch whom (docs/protocol.md, "Who sees what" and the close
codes), the origin check, and losing access closing the socket within a second."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.utils.module_loading import import_string

from crm import services
from crm.models import Customer
from realtime.bulk import sync_update
from realtime.hub import hub
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)

ACCESS_LOSS_DEADLINE = 1.0  # seconds, the promise


async def refused_with(user=None, query: str = "", *, cookie: str | None = None) -> int | None:
    """Open a socket that the server accepts and then closes; returns the close code."""
    if user is not None:
        cookie = await helpers.session_cookie(user)
    socket = helpers.Socket(helpers.communicator(cookie, query))
    connected, _ = await socket.comm.connect(timeout=5)
    assert connected, "refusals accept first so browsers see the code, not 1006"
    try:
        return await socket.expect_close()
    finally:
        await socket.close()


async def test_anonymous_is_closed_with_4401(people):
    assert await refused_with() == 4401
    assert await refused_with(cookie="not-a-session") == 4401


async def test_a_user_without_customer_or_asking_for_another_is_closed_with_4403(people, make_user):
    alice, bob, _staff = people
    nobody = await sync_to_async(make_user)("nobody")
    assert await refused_with(nobody) == 4403
    assert await refused_with(alice.portal_user, f"?customer={bob.pk}") == 4403
    assert await refused_with(alice.portal_user, "?customer=not-a-number") == 4403


async def test_staff_needs_the_view_permission_and_an_existing_customer(people, make_user):
    alice, _bob, staff = people
    no_perm = await sync_to_async(make_user)("intern", staff=True)
    assert await refused_with(no_perm, f"?customer={alice.pk}") == 4403
    assert await refused_with(no_perm) == 4403
    assert await refused_with(staff) == 4403  # staff have no customer of their own
    assert await refused_with(staff, "?customer=999999") == 4403
    perm_not_staff = await sync_to_async(make_user)("viewer", perms=["crm.view_customer"])
    assert await refused_with(perm_not_staff, f"?customer={alice.pk}") == 4403


async def test_staff_with_permission_and_the_owner_may_watch(people, sockets):
    alice, _bob, staff = people
    watcher = await sockets(staff, f"?customer={alice.pk}")
    assert watcher.hello["customer"] == alice.pk
    assert watcher.hello["topics"] == list(helpers.TOPICS)
    own = await sockets(alice.portal_user, f"?customer={alice.pk}")  # naming one's own id is fine
    assert own.hello["customer"] == alice.pk


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"http://testserver.evil.example",
        b"",
        b"http://testserver:9999",  # another port of the same host: another site
        b"https://testserver",  # another scheme
        b"null",
    ],
)
async def test_a_foreign_or_missing_origin_is_refused_at_the_handshake(people, origin):
    alice, _bob, _staff = people
    cookie = await helpers.session_cookie(alice.portal_user)
    comm = helpers.communicator(cookie, origin=origin)
    connected, _code = await comm.connect(timeout=5)
    assert not connected
    await comm.disconnect()


async def test_reassigning_the_portal_user_closes_the_old_users_socket(people, sockets, make_user):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    newcomer = await sync_to_async(make_user)("alice2")

    @sync_to_async
    def reassign():
        alice.portal_user = newcomer
        alice.save()

    await reassign()
    assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403
    replacement = await sockets(newcomer)
    assert replacement.hello["customer"] == alice.pk


async def test_deactivating_or_deleting_the_user_closes_their_sockets(people, sockets):
    alice, bob, staff = people
    customer_socket = await sockets(alice.portal_user)
    staff_socket = await sockets(staff, f"?customer={bob.pk}")
    bob_socket = await sockets(bob.portal_user)

    @sync_to_async
    def deactivate(user):
        user.is_active = False
        user.save()

    await deactivate(alice.portal_user)
    assert await customer_socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403
    await sync_to_async(staff.delete)()
    assert await staff_socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403
    assert await bob_socket.until_pong() == []  # others are untouched


async def test_logging_out_closes_that_sessions_sockets_only(people, sockets):
    alice, _bob, _staff = people
    cookie = await helpers.session_cookie(alice.portal_user)
    same_session = [await sockets(alice.portal_user, cookie=cookie) for _ in range(2)]
    other_session = await sockets(alice.portal_user)

    @sync_to_async
    def log_out():
        request = RequestFactory().post("/logout/")
        request.session = import_string(settings.SESSION_ENGINE + ".SessionStore")(session_key=cookie)
        request.user = alice.portal_user
        logout(request)

    await log_out()
    for socket in same_session:
        assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4401
    assert await other_session.until_pong() == []
    assert await refused_with(cookie=cookie) == 4401  # the old cookie no longer logs in


@pytest.mark.parametrize("how", ["own permission", "group", "group permission"])
async def test_losing_the_view_permission_closes_a_staff_socket_within_a_second(
    people, sockets, make_user, how
):
    alice, _bob, _staff = people
    view_customer = await sync_to_async(Permission.objects.get)(codename="view_customer")

    @sync_to_async
    def staff_holding_it():
        if how == "own permission":
            return make_user("dana", staff=True, perms=["crm.view_customer"]), None
        group = Group.objects.create(name=f"Viewers ({how})")
        group.permissions.add(view_customer)
        user = make_user("dana", staff=True)
        user.groups.add(group)
        return user, group

    staff, group = await staff_holding_it()
    socket = await sockets(staff, f"?customer={alice.pk}")
    assert await socket.until_pong() == []

    @sync_to_async
    def revoke():
        if how == "own permission":
            staff.user_permissions.remove(view_customer)
        elif how == "group":
            staff.groups.clear()
        else:
            group.permissions.remove(view_customer)

    await revoke()
    assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403


async def test_losing_staff_status_closes_a_staff_socket_within_a_second(people, sockets):
    alice, _bob, staff = people
    socket = await sockets(staff, f"?customer={alice.pk}")
    assert await socket.until_pong() == []
    staff.is_staff = False
    await sync_to_async(staff.save)()
    assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403


async def test_a_password_change_ends_the_login_and_closes_its_sockets(people, sockets):
    """Django logs a session out when its user's password changes; so does the socket."""
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    assert await socket.until_pong() == []
    user = alice.portal_user
    user.set_password("a-new-password-for-alice")
    await sync_to_async(user.save)()
    assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4401


async def test_moving_the_login_with_the_bulk_path_closes_the_old_users_socket(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    assert await socket.until_pong() == []
    await sync_to_async(sync_update)(Customer.objects.filter(pk=alice.pk), portal_user=None)
    assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403


async def test_an_expired_session_closes_the_socket_at_the_hubs_next_sweep(people, sockets, settings):
    """Nothing announces an expiry: the hub's sweep, which re-checks every socket of the process
    in a few queries, finds it."""
    settings.REALTIME_CHECK_INTERVAL = 0.2
    alice, bob, _staff = people
    cookie = await helpers.session_cookie(alice.portal_user)
    socket = await sockets(alice.portal_user, cookie=cookie)
    others = [await sockets(alice.portal_user), await sockets(bob.portal_user)]
    await sync_to_async(import_string(settings.SESSION_ENGINE + ".SessionStore")(session_key=cookie).delete)()
    assert await socket.expect_close() == 4401  # logged out: the client goes to the login page
    for other in others:  # other logins are untouched
        assert await other.until_pong() == []
    assert hub().stats.closed_by_sweep == 1


async def test_deleting_the_customer_sends_the_deletes_then_closes_its_sockets(
    people, sockets, tomorrow_window
):
    alice, bob, staff = people
    start, end = tomorrow_window()
    job = await sync_to_async(services.schedule_job)(
        customer=alice, service_type="Last", start=start, end=end
    )
    customer_socket = await sockets(alice.portal_user)
    staff_socket = await sockets(staff, f"?customer={alice.pk}")
    bob_socket = await sockets(bob.portal_user)
    for socket in (customer_socket, staff_socket):
        await socket.subscribe()

    alice_id = alice.pk
    await sync_to_async(alice.delete)()
    for socket in (customer_socket, staff_socket):
        frames = await socket.changes(2)
        assert {(f["topic"], f["op"], f["id"]) for f in frames} == {
            ("jobs", "delete", job.pk),
            ("profile", "delete", alice_id),
        }
        assert await socket.expect_close(timeout=ACCESS_LOSS_DEADLINE) == 4403
    assert await bob_socket.until_pong() == []


async def test_the_sweep_catches_what_no_signal_announces(people, sockets, settings, make_user):
    """Changes made with QuerySet.update() or a bare delete of permission rows send no signal:
    the hub's sweep finds them, closes exactly those sockets, and leaves the rest open."""
    from django.contrib.auth.models import Permission

    settings.REALTIME_CHECK_INTERVAL = 0.2
    alice, bob, staff = people
    other_staff = await sync_to_async(make_user)("dana", staff=True, perms=["crm.view_customer"])
    alice_socket = await sockets(alice.portal_user)
    bob_socket = await sockets(bob.portal_user)
    staff_socket = await sockets(staff, f"?customer={bob.pk}")
    other_staff_socket = await sockets(other_staff, f"?customer={alice.pk}")
    user_model = type(alice.portal_user)

    @sync_to_async
    def change_quietly() -> None:
        user_model.objects.filter(pk=alice.portal_user.pk).update(is_active=False)
        permission = Permission.objects.get(codename="view_customer", content_type__app_label="crm")
        user_model.user_permissions.through.objects.filter(user_id=staff.pk, permission=permission).delete()

    await change_quietly()
    assert await alice_socket.expect_close() == 4403
    assert await staff_socket.expect_close() == 4403
    for socket in (bob_socket, other_staff_socket):
        assert await socket.until_pong() == []


@pytest.mark.parametrize(
    ("host", "origin", "proto", "accepted"),
    [
        (b"portal.example:8000", b"http://portal.example:8000", None, True),
        (b"portal.example:8000", b"http://portal.example:9999", None, False),
        (b"portal.example", b"https://portal.example", b"https", True),  # behind a TLS proxy
        (b"portal.example", b"http://portal.example", b"https", False),
        (b"portal.example", b"https://www.portal.example", b"https", True),  # CSRF_TRUSTED_ORIGINS
        (b"elsewhere.example", b"http://elsewhere.example", None, False),  # not in ALLOWED_HOSTS
    ],
)
def test_origins_are_compared_on_scheme_host_and_port(settings, host, origin, proto, accepted):
    from realtime.origin import allowed

    settings.ALLOWED_HOSTS = ["portal.example"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.portal.example"]
    headers = [(b"host", host), (b"origin", origin)] + ([(b"x-forwarded-proto", proto)] if proto else [])
    assert allowed({"type": "websocket", "headers": headers}) is accepted
