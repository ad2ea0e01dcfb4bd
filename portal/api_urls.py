from django.urls import path

from portal import api

app_name = "portal-api"

urlpatterns = [
    path("profile/", api.ProfileSnapshotView.as_view(), name="profile"),
    path("<slug:topic>/", api.TopicSnapshotView.as_view(), name="topic"),
]
