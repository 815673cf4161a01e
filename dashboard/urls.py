from django.urls import path

from dashboard import views
from dashboard import kubeconfig_views, kubelet_views, workload_views
from dashboard import traffic_views

urlpatterns = [
    path("", views.home, name="home"),
    path("clusters/new", views.create_cluster, name="create-cluster"),
    path("examples", workload_views.example_list, name="examples"),
    path("clusters/<slug:cluster>/", views.board, name="board"),
    path("clusters/<slug:cluster>/reset", views.reset_cluster, name="reset-cluster"),
    path("clusters/<slug:cluster>/kubeconfig", kubeconfig_views.download, name="kubeconfig"),
    path("clusters/<slug:cluster>/apply", views.apply_manifests, name="apply"),
    path("clusters/<slug:cluster>/clock/step", views.step_clock, name="step-clock"),
    path("clusters/<slug:cluster>/selector", views.parse_selector, name="parse-selector"),
    path("clusters/<slug:cluster>/describe/<str:kind>/<str:name>", views.describe,
         name="describe-cluster-scoped"),
    path("clusters/<slug:cluster>/describe/<str:kind>/<str:namespace>/<str:name>",
         views.describe, name="describe"),
    path("clusters/<slug:cluster>/exec", kubelet_views.exec_in_container, name="exec"),
    path("clusters/<slug:cluster>/nodes/<str:name>/drain", kubelet_views.drain_node,
         name="drain-node"),
    path("clusters/<slug:cluster>/workloads/<str:resource>/<str:namespace>/<str:name>/scale",
         workload_views.scale, name="scale-workload"),
    path("clusters/<slug:cluster>/workloads/<str:resource>/<str:namespace>/<str:name>/delete",
         workload_views.delete, name="delete-workload"),
    path("clusters/<slug:cluster>/workloads/cronjobs/<str:namespace>/<str:name>/next",
         workload_views.next_run, name="cronjob-next-run"),
    # Traffic into the cluster (dashboard/traffic_views.py).
    path("clusters/<slug:cluster>/traffic", traffic_views.send_traffic, name="traffic"),
    path("clusters/<slug:cluster>/traffic/ingress", traffic_views.ingress_request,
         name="traffic-ingress"),
    path("clusters/<slug:cluster>/ingress/", traffic_views.ingress, name="ingress-root"),
    path("clusters/<slug:cluster>/ingress/<path:path>", traffic_views.ingress, name="ingress"),
]
