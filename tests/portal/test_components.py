from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError


def render(source: str, **context) -> str:
    return Template("{% load realtime_components %}" + source).render(Context(context))


@pytest.mark.parametrize("variant", ["default", "compact", "badge"])
@pytest.mark.parametrize("state", ["connecting", "live", "reconnecting", "offline", "error"])
def test_connection_status_variants_and_states(variant, state):
    html = render("{% connection_status variant=v state=s %}", v=variant, s=state)
    assert "data-connection-status" in html
    # Not a live region: the page's one announcer speaks state changes (no countdown ticks).
    assert "role=" not in html and "aria-live" not in html
    assert f'data-variant="{variant}"' in html and f'data-state="{state}"' in html
    # Every state's text travels with the component, for the script to swap in.
    assert 'data-label-reconnecting="Reconnecting in {s}s"' in html


def test_reconnecting_says_when_it_retries():
    html = render('{% connection_status variant="default" state="reconnecting" retry_seconds=8 %}')
    assert "Reconnecting in 8s" in html and "Trying again in 8 seconds." in html


@pytest.mark.parametrize(
    ("state", "shown"),
    [("connecting", False), ("live", False), ("reconnecting", True), ("offline", True), ("error", False)],
)
def test_retry_button_is_there_when_asked_and_shown_while_it_can_help(state, shown):
    assert "data-conn-retry" not in render("{% connection_status state=s %}", s=state)
    html = render('{% connection_status variant="badge" state=s retry=True %}', s=state)
    button = html.split("<button", 1)[1].split(">", 1)[0]
    assert "data-conn-retry" in button and ("hidden" not in button) == shown
    assert ">Retry now</button>" in html


def test_the_announcer_is_the_one_live_region_with_each_states_words():
    html = render("{% realtime_announcer %}")
    assert 'id="realtime-announcer"' in html and 'role="status"' in html and 'aria-live="polite"' in html
    assert 'data-announce-reconnecting="Connection lost. Reconnecting."' in html
    assert 'data-announce-connecting=""' in html  # connecting is not news


def test_badge_without_label_keeps_it_for_screen_readers():
    html = render('{% connection_status variant="badge" show_label=False state="live" %}')
    assert "visually-hidden" in html and ">Live<" in html


def test_bad_arguments_fail_loudly():
    with pytest.raises(TemplateSyntaxError):
        render('{% connection_status variant="huge" %}')
    with pytest.raises(TemplateSyntaxError):
        render('{% toast type="warning" %}')


@pytest.mark.parametrize("kind", ["job", "invoice", "message", "loyalty", "info"])
def test_toast_types(kind):
    html = render('{% toast type=k title="T" message="M" action_url="/portal/invoices/#invoice-1" %}', k=kind)
    assert f'data-toast-type="{kind}"' in html and f"toast--{kind}" in html
    assert 'class="toast-dismiss" aria-label="Dismiss"' in html
    assert '<a class="toast-action" href="/portal/invoices/#invoice-1">View details</a>' in html


def test_toast_escapes_its_text():
    html = render("{% toast title=t message=m %}", t="<b>hi</b>", m='<img src=x onerror="x">')
    assert "<b>" not in html and "<img" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html


def test_multi_subscription_status_counts_and_labels():
    html = render(
        "{% multi_subscription_status topics states=states %}",
        topics="jobs invoices",
        states={"jobs": "live"},
    )
    assert 'id="subscription-status"' in html
    for label in ("Appointments", "Invoices", "Messages", "Loyalty", "Profile", "Requests"):
        assert label in html
    assert "<span data-active-count>1</span>/6 active" in html
    assert html.count('data-state="inactive"') == 4
    assert "role=" not in html
