"""The API's websocket routes: `kubectl exec` (and the Python client's exec stream)."""

from django.urls import re_path

from cluster.api.exec import ExecConsumer

SEGMENT = r"[^/]+"

websocket_urlpatterns = [
    re_path(rf"^clusters/(?P<cluster>{SEGMENT})/api/v1/namespaces/(?P<namespace>{SEGMENT})"
            rf"/pods/(?P<name>{SEGMENT})/exec$", ExecConsumer.as_asgi()),
]
