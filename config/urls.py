from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("clusters/<slug:cluster>/", include("cluster.api.urls")),
    path("lessons/", include("lessons.urls")),
    path("", include("dashboard.urls")),
]
