from django.urls import path

from lessons import views

urlpatterns = [
    path("", views.index, name="lessons"),
    path("<slug:slug>/", views.lesson, name="lesson"),
    path("<slug:slug>/start", views.start, name="lesson-start"),
    path("<slug:slug>/reset", views.reset, name="lesson-reset"),
    path("<slug:slug>/progress", views.progress_view, name="lesson-progress"),
    path("<slug:slug>/manifests/<slug:manifest>.yaml", views.manifest, name="lesson-manifest"),
]
