"""The Kubernetes-compatible REST API of one cluster, under /clusters/{cluster}/.

Resource URLs are parsed by cluster.api.paths (generic over kinds), so two patterns serve
every kind. Discovery (/api, /api/v1, /apis, /apis/{group}/{version}), /version and
/openapi/v3 come with their own issue: add their patterns above the catch-alls.
"""

from django.urls import re_path

from cluster.api import views

SEGMENT = r"[^/]+"

urlpatterns = [
    re_path(rf"^api/(?P<version>{SEGMENT})/(?P<rest>.+)$", views.resource),
    re_path(rf"^apis/(?P<group>{SEGMENT})/(?P<version>{SEGMENT})/(?P<rest>.+)$",
            views.resource),
    # Anything else under /api or /apis: a Status 404, never an HTML page.
    re_path(r"^(?P<rest>apis?(/.*)?)$", views.not_found),
]
