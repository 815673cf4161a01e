from django.http import HttpResponse


def home(request):
    return HttpResponse("kubelab")


def create_cluster(request):
    return HttpResponse("todo")


def board(request, cluster):
    return HttpResponse("todo")


def reset_cluster(request, cluster):
    return HttpResponse("todo")


def apply_manifests(request, cluster):
    return HttpResponse("todo")


def step_clock(request, cluster):
    return HttpResponse("todo")
