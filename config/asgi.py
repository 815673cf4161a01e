"""ASGI entry point: Django for HTTP, Channels for the board's websockets and the API's
(`kubectl exec`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# The board's scripts and styles come from the same process: no separate web server to set up.
django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from cluster.api.routing import websocket_urlpatterns as api_websockets  # noqa: E402
from dashboard.routing import websocket_urlpatterns as board_websockets  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": URLRouter(board_websockets + api_websockets),
})
