from __future__ import annotations

from django.urls import path

from portal import actions, calendar, feed, live, requests, unsubscribe, views

app_name = "portal"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("sections/<slug:list_id>/", views.dashboard_section, name="dashboard_section"),
    path("older/<slug:list_id>/", views.older_rows, name="older"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/<int:job_id>/calendar.ics", calendar.appointment_file, name="appointment_file"),
    path("appointments/<int:job_id>/request/", requests.request_change, name="request_change"),
    path("calendar/<slug:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<int:invoice_id>/", views.invoice, name="invoice"),
    path("messages/", views.messages, name="messages"),
    path("messages/send/", actions.send_message, name="send_message"),
    path("messages/<int:message_id>/read/", actions.mark_read, name="mark_read"),
    path("loyalty/", views.loyalty, name="loyalty"),
    path("loyalty/redeem/", actions.redeem, name="redeem"),
    path("profile/", views.profile, name="profile"),
    path("profile/contact/", actions.update_contact, name="update_contact"),
    path("profile/preferences/", actions.update_preferences, name="update_preferences"),
    path("profile/calendar/", calendar.new_calendar_address, name="new_calendar_address"),
    path("live/", live.live_fragments, name="live"),
    path("updates/", feed.updates_feed, name="updates"),
    path("updates/summary/", feed.away_summary, name="away_summary"),
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path("components/", views.components, name="components"),
]
