"""The board's kubeconfig button: the same file `manage.py kubeconfig --cluster c` prints."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from cluster import kubeconfig
from cluster.models import Cluster


@require_GET
def download(request, cluster):
    """GET /clusters/{c}/kubeconfig: the kubeconfig as an attachment (kubelab-{c}.yaml)."""
    found = Cluster.objects.filter(name=cluster).first()
    if found is None:
        raise Http404(f"no cluster named {cluster!r}")
    response = HttpResponse(kubeconfig.render(found), content_type="application/yaml")
    response["Content-Disposition"] = \
        f'attachment; filename="{kubeconfig.context_name(found)}.yaml"'
    # It holds the cluster's token: no cache may keep a copy.
    response["Cache-Control"] = "no-store"
    return response
