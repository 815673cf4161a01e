"""CronJob (batch/v1): a Job template started on a cron schedule.

Defaulting: pkg/apis/batch/v1/defaults.go (SetDefaults_CronJob); validation:
pkg/apis/batch/validation (ValidateCronJobCreate, ValidateCronJobUpdate, validateCronJobSpec,
ValidateJobTemplateSpec); create: pkg/registry/batch/cronjob/strategy.go. The schedule and
time zone rules (robfig/cron's own words) live in cluster/cron.py.
"""

from cluster import printing
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import workload as w
from cluster.kinds.job import JOB_SELECTOR_DOC, validate_job_spec

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
# The controller names each Job <cronjob>-<11-digit time>, and a Job name is at most 63.
MAX_NAME = 52
BOTH_TZ = "cannot use both timeZone field and TZ or CRON_TZ in schedule"


@register
class CronJob(Kind):
    kind = "CronJob"
    group, version = "batch", "v1"
    plural, singular = "cronjobs", "cronjob"
    short_names = ("cj",)
    categories = ("all",)
    model = "V1CronJob"
    has_generation = True
    deprecated_versions = {
        "batch/v1beta1": w.deprecation_warning("batch/v1beta1", "CronJob", "1.21", "1.25",
                                               "batch/v1"),
    }

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        if not spec.get("concurrencyPolicy"):
            spec["concurrencyPolicy"] = "Allow"
        w.set_default(spec, "suspend", False)
        w.set_default(spec, "successfulJobsHistoryLimit", 3)
        w.set_default(spec, "failedJobsHistoryLimit", 1)
        # Only the pod template inside is defaulted: SetDefaults_Job is for Jobs, so the
        # jobTemplate keeps no completions or backoffLimit until a Job is made from it.
        job_spec = w.set_default(w.set_default(spec, "jobTemplate", {}), "spec", {})
        w.default_template(w.set_default(job_spec, "template", {}))

    def prepare_create(self, obj, ctx):
        obj["status"] = {}

    def validate(self, obj, ctx):
        return _errors(obj, None) if w.creating(obj) else []

    def validate_update(self, old, new, ctx):
        return _errors(new, old)

    # kubectl get cj: printCronJob's columns; TIMEZONE is new in 1.30 (kubernetes PR #122231).
    columns = (
        printing.NAME,
        printing.Column("Schedule", description=("V1CronJobSpec", "schedule")),
        printing.Column("Timezone", description=("V1CronJobSpec", "timeZone")),
        printing.Column("Suspend", "boolean", ("V1CronJobSpec", "suspend")),
        printing.Column("Active", "integer", ("V1CronJobStatus", "active")),
        printing.Column("Last Schedule", description=("V1CronJobStatus", "lastScheduleTime")),
        printing.AGE, printing.CONTAINERS, printing.IMAGES,
        printing.Column("Selector", description=JOB_SELECTOR_DOC, priority=1),
    )

    def printer_row(self, obj, now):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        last = status.get("lastScheduleTime")
        return [obj["metadata"].get("name", ""), spec.get("schedule", ""),
                spec.get("timeZone") or printing.NONE, printing.bool_ptr(spec.get("suspend")),
                len(status.get("active") or []),
                printing.since(last, now) if last else printing.NONE, printing.age(obj, now),
                *printing.template_cells(job_spec.get("template"),
                                         printing.format_label_selector(job_spec.get("selector")))]

    def index(self, obj):
        return {"owner_uid": owner_controller_uid(obj)}


def _errors(obj, old):
    """validateCronJobSpec, plus the name limit on create (ValidateCronJobCreate)."""
    spec = obj.get("spec") or {}
    old_spec = None if old is None else (old.get("spec") or {})
    errors = _schedule_errors(spec, old_spec)
    errors += w.nonnegative(spec, "startingDeadlineSeconds", "spec")
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        errors += _time_zone_errors(spec.get("timeZone"))
    policy = spec.get("concurrencyPolicy")
    if not policy:
        errors.append(FieldError.required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        errors.append(FieldError.not_supported("spec.concurrencyPolicy", policy,
                                               CONCURRENCY_POLICIES))
    errors += _job_template_errors(spec.get("jobTemplate") or {}, "spec.jobTemplate")
    errors += w.nonnegative(spec, "successfulJobsHistoryLimit", "spec")
    errors += w.nonnegative(spec, "failedJobsHistoryLimit", "spec")
    name = obj["metadata"].get("name", "")
    if old is None and len(name) > MAX_NAME:
        errors.append(FieldError.invalid("metadata.name", name,
                                         f"must be no more than {MAX_NAME} characters"))
    return errors


def _schedule_errors(spec, old_spec):
    # Imported here: cluster.cron is its own module, and kinds must import without it.
    from cluster import cron

    schedule = spec.get("schedule") or ""
    problems = cron.validate_schedule(schedule)
    if not schedule or problems == [cron.REQUIRED]:
        return [FieldError.required("spec.schedule")]
    # An old schedule that already used TZ= may keep it, as long as timeZone stays unset.
    if old_spec is not None and "TZ" in (old_spec.get("schedule") or ""):
        problems = [p for p in problems if p != cron.TZ_REFUSED]
        if "TZ" in schedule and spec.get("timeZone") is not None:
            problems.append(BOTH_TZ)
    return [FieldError.invalid("spec.schedule", schedule, p) for p in problems]


def _time_zone_errors(zone):
    from cluster import cron

    if zone is None:
        return []
    return [FieldError.invalid("spec.timeZone", zone, p) for p in cron.validate_time_zone(zone)]


def _job_template_errors(job_template, path):
    """ValidateJobTemplateSpec: a Job's spec, whose selector the Job will get generated."""
    job_spec = job_template.get("spec") or {}
    errors = validate_job_spec(job_spec, f"{path}.spec")
    if job_spec.get("selector") is not None:
        errors.append(FieldError.invalid(f"{path}.spec.selector",
                                         w.go_selector(job_spec["selector"]),
                                         "`selector` will be auto-generated"))
    if job_spec.get("manualSelector"):
        errors.append(FieldError.not_supported(f"{path}.spec.manualSelector", True,
                                               ("nil", "false")))
    return errors
