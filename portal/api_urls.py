from django.urls import path

from portal import api

app_name = "portal-api"

urlpatterns = [
    path("snapshot/", api.SnapshotView.as_view(), name="snapshot"),
    path("profile/", api.ProfileSnapshotView.as_view(), name="profile"),
    path("<slug:topic>/", api.TopicSnapshotView.as_view(), name="topic"),
]
