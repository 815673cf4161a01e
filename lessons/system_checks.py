"""`manage.py check` (and so `make run`) names every broken lesson file, with its line: as a
warning, so one broken file never stops the server (the lessons page lists it too)."""

from django.core import checks

from lessons import catalog


@checks.register("lessons")
def lesson_files(app_configs=None, **kwargs):
    return [checks.Warning(str(error), hint="fix the file; the other lessons still load",
                           obj=str(error.path), id="lessons.W001")
            for error in catalog.load().broken]
