"""Who may use a cluster's API: its bearer token, local mode, or that cluster's own board.

A request to /clusters/{c}/api..., /apis..., /version or /openapi... is let in when

1. it carries `Authorization: Bearer <token>` with cluster c's token (Cluster.token, the one
   its kubeconfig holds). A token reaches only its own cluster; a token that is wrong, or an
   Authorization header that is no bearer token, is refused even where 2 or 3 would let the
   request in, as the API server refuses a bad token rather than falling back to anonymous;
2. or it is plain HTTP (or ws) from a loopback address while settings.API_ANONYMOUS_LOOPBACK
   is on (local mode, `make run`): curl on the learner's own machine works as it always did.
   kubectl over http sends no credentials at all, so this is also what makes it work there;
3. or it comes from a browser session that has opened cluster c's board, from a page of this
   same origin. The board's scripts call the API with the session cookie (fetch with
   credentials "same-origin"); opening /clusters/{c}/ grants that session cluster c. Because
   the API is CSRF-exempt (kubectl has no CSRF token), the cookie alone is not enough: a
   browser names the requesting page's origin (Origin, Sec-Fetch-Site) on every request that
   could change something, and a request another site's page made is refused.

Anyone who can open a board can also download its kubeconfig, so the board stays the one
door to a cluster; the token is what carries that door to kubectl and the Python client.

Everything else gets 401 with a metav1.Status, which kubectl prints as
`error: You must be logged in to the server (Unauthorized)`.
"""

import hmac
import ipaddress
import re
from importlib import import_module
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings

from cluster import activity
from cluster.api import wire
from cluster.errors import Unauthorized
from cluster.models import Cluster

# The API of a cluster, as cluster.api.urls serves it below /clusters/{cluster}/.
API_PATH = re.compile(r"^/clusters/(?P<cluster>[^/]+)/(?:api|apis|version|openapi)(?:/|$)")
# What the API server lets anyone read (the system:public-info-viewer role: anonymous requests
# may GET the version), unless they send credentials that fail.
PUBLIC_PATH = re.compile(r"^/clusters/[^/]+/version/?$")
# A cluster's board page: opening it grants the session that cluster's API.
BOARD_PATH = re.compile(r"^/clusters/(?P<cluster>[^/]+)/$")
# The session key listing the clusters whose boards this browser session opened.
SESSION_GRANTS = "kubelab_api_clusters"
PLAIN_SCHEMES = ("http", "ws")

# What authenticate() answers: how the request was let in.
BY_TOKEN, BY_LOOPBACK, BY_BOARD = "token", "loopback", "board"


def authenticate(cluster_name, headers, client_host, scheme):
    """How a request to `cluster_name`'s API is let in (BY_TOKEN, BY_LOOPBACK, BY_BOARD),
    or Unauthorized.

    `headers`: a mapping of header names to values (Django's request.headers) or an ASGI
    scope's list of (name, value) byte pairs (websocket consumers). `client_host`: the peer's
    address; `scheme`: "http", "https", "ws" or "wss". Reads the database (run it in a
    thread from async code).
    """
    headers = _lowered(headers)
    authorization = headers.get("authorization", "")
    if authorization:
        if _token_matches(cluster_name, _bearer_token(authorization)):
            return BY_TOKEN
        raise unauthorized()
    if anonymous_allowed(headers, client_host, scheme):
        return BY_LOOPBACK
    if _board_session_grants(cluster_name, headers):
        return BY_BOARD
    raise unauthorized()


def anonymous_allowed(headers, client_host, scheme):
    """Local mode: plain HTTP from loopback with no Authorization header. Reads no database,
    so the middleware answers most local requests without leaving the event loop."""
    return (settings.API_ANONYMOUS_LOOPBACK and scheme in PLAIN_SCHEMES
            and not _lowered(headers).get("authorization") and is_loopback(client_host))


def unauthorized():
    return Unauthorized("Unauthorized")


def is_loopback(host):
    try:
        address = ipaddress.ip_address((host or "").strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)      # ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def grant_board_session(session, cluster_name):
    """Let this browser session use `cluster_name`'s API (its board was opened)."""
    granted = list(session.get(SESSION_GRANTS, []))
    if cluster_name not in granted:
        session[SESSION_GRANTS] = granted + [cluster_name]


def _lowered(headers):
    if isinstance(headers, Mapping):
        return {str(k).lower(): v for k, v in headers.items()}
    return {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
            for k, v in headers or ()}


def _bearer_token(authorization):
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


def _token_matches(cluster_name, token):
    expected = Cluster.objects.filter(name=cluster_name).values_list("token", flat=True).first()
    # compare_digest: no timing hint of how much of a guessed token was right.
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def _board_session_grants(cluster_name, headers):
    if not _same_origin(headers):
        return False
    session_key = _cookie(headers, settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return cluster_name in store.get(SESSION_GRANTS, [])


def _same_origin(headers):
    """Whether the browser says a page of this origin made the request (or says nothing,
    as it does for a same-origin GET). The cookie would ride along a cross-site request."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def _cookie(headers, name):
    try:
        cookies = SimpleCookie(headers.get("cookie", ""))
    except CookieError:
        return ""
    morsel = cookies.get(name)
    return morsel.value if morsel else ""


class _Middleware:
    """Sync- and async-capable, so the API's async views (watch, `logs -f`) keep the event
    loop; only a request that needs the database (a token, a session) takes a trip to the
    sync thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)


class ApiAuthenticationMiddleware(_Middleware):
    """authenticate() at the door of every cluster API URL (401 Status when refused), and
    the board grant when a cluster's board page is opened."""

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        refused = self._refusal(request, authenticate)
        if refused is not None:
            return refused
        match = API_PATH.match(request.path)
        if match:
            activity.seen(match["cluster"])
        response = self.get_response(request)
        self._grant(request, response)
        return response

    async def _acall(self, request):
        match = API_PATH.match(request.path)
        if match and not anonymous_allowed(request.headers, _client(request), request.scheme):
            refused = await sync_to_async(self._refusal)(request, authenticate)
            if refused is not None:
                return refused
        if match and activity.due(match["cluster"]):
            await sync_to_async(activity.seen)(match["cluster"])
        response = await self.get_response(request)
        if BOARD_PATH.match(request.path):
            await sync_to_async(self._grant)(request, response)
        return response

    @staticmethod
    def _refusal(request, check):
        match = API_PATH.match(request.path)
        if not match:
            return None
        if PUBLIC_PATH.match(request.path) and request.method in ("GET", "HEAD") and \
                "authorization" not in request.headers:
            return None
        try:
            check(match["cluster"], request.headers, _client(request), request.scheme)
        except Unauthorized as error:
            return wire.status_response(error)
        return None

    @staticmethod
    def _grant(request, response):
        match = BOARD_PATH.match(request.path)
        if match and request.method == "GET" and response.status_code == 200 and \
                hasattr(request, "session"):
            grant_board_session(request.session, match["cluster"])


def _client(request):
    return request.META.get("REMOTE_ADDR", "")


# The API at the server's root, as `kubectl get --raw /api/v1/...` asks for it: --raw replaces
# the kubeconfig server's path (/clusters/{c}), so only the token says which cluster is meant.
ROOT_API_PATH = re.compile(r"^/(?:api|apis|version|openapi)(?:/|$)")


class RootApiMiddleware(_Middleware):
    """A root API URL with a cluster's bearer token is served as that cluster's own URL
    (/api/v1/pods -> /clusters/{c}/api/v1/pods); without a token that names a cluster, 401.
    Runs before ApiAuthenticationMiddleware, which then checks the token as for any request."""

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        refused = self._route(request)
        return refused if refused is not None else self.get_response(request)

    async def _acall(self, request):
        if ROOT_API_PATH.match(request.path_info):
            refused = await sync_to_async(self._route)(request)
            if refused is not None:
                return refused
        return await self.get_response(request)

    @staticmethod
    def _route(request):
        if not ROOT_API_PATH.match(request.path_info):
            return None
        try:
            token = _bearer_token(request.headers.get("authorization", ""))
        except Unauthorized as error:
            return wire.status_response(error)
        name = next((name for name, expected in Cluster.objects.values_list("name", "token")
                     if expected and hmac.compare_digest(token.encode(), expected.encode())),
                    None)
        if name is None:
            return wire.status_response(unauthorized())
        request.path_info = f"/clusters/{name}{request.path_info}"
        request.path = request.path_info
        return None
