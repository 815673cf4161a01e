"""The Kubernetes-compatible REST API of one cluster, under /clusters/{cluster}/.

Resource URLs are parsed by cluster.api.paths (generic over kinds), so two patterns serve
every kind; discovery (/api, /api/v1, /apis, /apis/{group}/{version}), /version and
/openapi/v3 come first. The exec websocket is in cluster.api.routing.
"""

from django.urls import re_path

from cluster.api import discovery, openapi, views

SEGMENT = r"[^/]+"

urlpatterns = [
    # Discovery, /version and OpenAPI v3 (cluster.api.discovery, cluster.api.openapi).
    re_path(r"^version/?$", discovery.version),
    re_path(r"^api/?$", discovery.api_root),
    re_path(r"^apis/?$", discovery.apis_root),
    re_path(rf"^api/(?P<version>{SEGMENT})/?$", discovery.core_resources),
    re_path(rf"^apis/(?P<group>{SEGMENT})/?$", discovery.named_group),
    re_path(rf"^apis/(?P<group>{SEGMENT})/(?P<version>{SEGMENT})/?$",
            discovery.named_resources),
    re_path(r"^openapi/v3/?$", openapi.index),
    re_path(r"^openapi/v3/(?P<path>apis?/.+?)/?$", openapi.document),
    re_path(r"^openapi/(?P<rest>.*)$", openapi.not_served),
    re_path(rf"^api/(?P<version>{SEGMENT})/(?P<rest>.+)$", views.resource),
    re_path(rf"^apis/(?P<group>{SEGMENT})/(?P<version>{SEGMENT})/(?P<rest>.+)$",
            views.resource),
    # Anything else under /api or /apis: a Status 404, never an HTML page.
    re_path(r"^(?P<rest>apis?(/.*)?)$", views.not_found),
]
