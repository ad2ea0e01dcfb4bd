from django.urls import path

from realtime.consumers import PortalConsumer

websocket_urlpatterns = [path("ws/realtime/", PortalConsumer.as_asgi())]
