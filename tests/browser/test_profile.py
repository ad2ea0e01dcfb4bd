"""The profile page while staff edit the same customer: the forms follow live changes except
where the customer is typing, a save writes only what the customer changed, and a refused
preferences save puts the form back as it was before the edit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import Customer
from tests.browser.pages import toasts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice", phone="555-0100", address="1 Main St")


def test_staff_edits_reach_the_open_forms_and_a_save_keeps_them(portal, alice):
    page = portal(alice.portal_user, "/portal/profile/")
    contact, preferences = page.locator("#profile-form"), page.locator("#preferences-form")
    phone, name = contact.locator('input[name="phone"]'), contact.locator('input[name="name"]')
    channel = preferences.locator('select[name="contact_channel"]')
    expect(phone).to_have_value("555-0100")

    services.update_contact_details(customer=alice, phone="555-0199", address="2 High St")
    services.update_preferences(
        customer=alice, preferences={"contact_channel": "sms", "notify_loyalty": False}
    )
    expect(page.locator("#profile-phone")).to_have_text("555-0199")
    expect(phone).to_have_value("555-0199")
    expect(contact.locator('textarea[name="address"]')).to_have_value("2 High St")
    expect(channel).to_have_value("sms")
    expect(preferences.locator('input[name="notify_loyalty"]')).not_to_be_checked()

    # The customer starts renaming; staff change the phone again meanwhile.
    name.fill("Alice Cooper")
    services.update_contact_details(customer=alice, phone="555-0142")
    expect(phone).to_have_value("555-0142")  # a field nobody is editing follows
    expect(name).to_have_value("Alice Cooper")  # the one being edited keeps what was typed
    expect(name).to_be_focused()

    contact.locator('[type="submit"]').click()
    expect(contact.locator("[data-form-status]")).to_have_text("Contact details saved.")
    alice.refresh_from_db()
    assert (alice.name, alice.phone, alice.address) == ("Alice Cooper", "555-0142", "2 High St")
    assert alice.preferences["contact_channel"] == "sms"
    expect(page.locator("#profile-name")).to_have_text("Alice Cooper")
    expect(page.locator("#header-customer-name")).to_have_text("Alice Cooper")
    expect(toasts(page)).to_have_count(0)


def test_a_field_being_edited_keeps_the_customers_text(portal, alice):
    page = portal(alice.portal_user, "/portal/profile/")
    phone = page.locator('#profile-form input[name="phone"]')
    phone.fill("555-0777")
    page.locator('#profile-form input[name="email"]').focus()  # edited, then left: still dirty
    services.update_contact_details(customer=alice, phone="555-0199", email="alice@staff.example")
    expect(page.locator("#profile-phone")).to_have_text("555-0199")
    expect(phone).to_have_value("555-0777")
    # The focused email field is not overwritten either, even though the customer never typed in it.
    expect(page.locator('#profile-form input[name="email"]')).to_have_value("alice@example.com")

    page.locator('#profile-form [type="submit"]').click()
    expect(page.locator("#profile-form [data-form-status]")).to_have_text("Contact details saved.")
    expect(page.locator("#profile-phone")).to_have_text("555-0777")
    # Saved: the form settles on the stored values, staff's email included.
    expect(page.locator('#profile-form input[name="email"]')).to_have_value("alice@staff.example")
    alice.refresh_from_db()
    assert (alice.phone, alice.email) == ("555-0777", "alice@staff.example")


def test_refused_preferences_save_restores_the_form_as_it_was(portal, alice):
    page = portal(alice.portal_user, "/portal/profile/")
    form = page.locator("#preferences-form")
    channel = form.locator('select[name="contact_channel"]')
    loyalty = form.locator('input[name="notify_loyalty"]')
    expect(loyalty).to_be_checked()
    # A choice the server refuses (an out-of-date page, say), with another edit beside it.
    channel.evaluate("select => select.add(new Option('Fax', 'fax'))")
    channel.select_option("fax")
    loyalty.uncheck()
    form.locator('[type="submit"]').click()

    expect(page.locator("#toasts .toast[data-toast-error]")).to_contain_text("Preferences not saved")
    expect(form.locator('[data-error-for="contact_channel"]')).to_be_visible()
    expect(channel).to_have_attribute("aria-invalid", "true")
    expect(channel).to_have_value("email")
    expect(loyalty).to_be_checked()
    assert Customer.objects.get(pk=alice.pk).preferences["notify_loyalty"] is True
