"""A teacher's view of the class: every learner's run of every lesson, and how far it got."""

from django.contrib import admin

from lessons.models import LessonRun


@admin.register(LessonRun)
class LessonRunAdmin(admin.ModelAdmin):
    list_display = ("lesson", "learner", "steps_done", "cluster", "started", "finished")
    list_filter = ("lesson",)
    search_fields = ("learner", "lesson")
    readonly_fields = ("learner", "lesson", "cluster", "done", "since", "started", "finished")

    @admin.display(description="steps done")
    def steps_done(self, run):
        return len(run.done)

    def has_add_permission(self, request):
        return False      # a run is made by the learner starting the lesson
