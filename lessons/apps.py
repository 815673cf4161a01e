from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "lessons"

    def ready(self):
        from lessons import system_checks  # noqa: F401  (registers the lesson-file check)
