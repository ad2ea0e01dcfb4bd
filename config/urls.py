"""URL routes: the admin (staff CRM), the portal and its snapshot API."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from crm.admin import inbox

admin.site.site_header = "CRM"
admin.site.site_title = "CRM"
admin.site.index_title = "Customers, jobs, invoices, messages and loyalty"

handler500 = "config.middleware.server_error"

urlpatterns = [
    *inbox.urlpatterns(),  # before the admin's own catch-all
    path("admin/", admin.site.urls),
    path("api/portal/", include("portal.api_urls")),
    path("portal/", include("portal.urls")),
    path("", RedirectView.as_view(pattern_name="portal:dashboard", permanent=False)),
]
