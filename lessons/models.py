"""A learner's run of a lesson: the cluster it plays in and how far the learner has got."""

from django.db import models

from cluster.models import Cluster


class LessonRun(models.Model):
    """One learner, one lesson. `done` maps a step id to when it ticked off
    ({"rv": resourceVersion, "at": simulated time}); `since` is the resourceVersion at which
    the current step began, so its check counts only what the learner did after that."""

    learner = models.CharField(max_length=80)
    lesson = models.SlugField(max_length=63)
    cluster = models.OneToOneField(Cluster, null=True, on_delete=models.SET_NULL,
                                   related_name="lesson_run")
    done = models.JSONField(default=dict)
    since = models.BigIntegerField(default=0)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "lesson"],
                                               name="one_run_per_learner_and_lesson")]

    def __str__(self):
        return f"{self.lesson} for {self.learner}"
