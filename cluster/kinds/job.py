"""Job (batch/v1): pods that run to completion, under a selector the API server generates.

Defaulting: pkg/apis/batch/v1/defaults.go (SetDefaults_Job); validation:
pkg/apis/batch/validation (ValidateJob, validateJobSpec, validateGeneratedSelector,
ValidateJobSpecUpdate); create: pkg/registry/batch/job/strategy.go (generateSelector).
"""

from cluster import printing, selectors
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import validation as v
from cluster.kinds import workload as w

# pkg/apis/batch/types.go: the labels generateSelector puts on the template.
JOB_NAME = "batch.kubernetes.io/job-name"
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
LEGACY_JOB_NAME = "job-name"
LEGACY_CONTROLLER_UID = "controller-uid"

COMPLETION_MODES = ("NonIndexed", "Indexed")
REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")
JOB_RESTART_POLICIES = ("OnFailure", "Never")
MAX_INDEXED_PARALLELISM = 100000
MAX_INT32 = 2 ** 31 - 1
TEMPLATE_HINT = ("a Job's pod template cannot change once created (a suspended Job that never "
                 "started may still change its labels, annotations, nodeSelector, tolerations, "
                 "node affinity and schedulingGates): delete the Job and create it again")


# The SELECTOR column's description (JobSpec.selector's API documentation).
JOB_SELECTOR_DOC = ("A label query over pods that should match the pod count. Normally, the "
                    "system sets this field for you. More info: https://kubernetes.io/docs/"
                    "concepts/overview/working-with-objects/labels/#label-selectors")


def printed_job_status(job):
    """The STATUS of `kubectl get jobs` (1.32): Complete, Failed, Terminating, Suspended,
    FailureTarget or Running, in that precedence; a condition counts when the first of its
    type is True."""
    first = {}
    for cond in (job.get("status") or {}).get("conditions") or []:
        first.setdefault(cond.get("type"), cond.get("status") == "True")
    if first.get("Complete"):
        return "Complete"
    if first.get("Failed"):
        return "Failed"
    if job["metadata"].get("deletionTimestamp"):
        return "Terminating"
    if first.get("Suspended"):
        return "Suspended"
    if first.get("FailureTarget"):
        return "FailureTarget"
    return "Running"


@register
class Job(Kind):
    kind = "Job"
    group, version = "batch", "v1"
    plural, singular = "jobs", "job"
    categories = ("all",)
    model = "V1Job"
    # DefaultGarbageCollectionPolicy: Orphan, as before server-side garbage collection.
    default_propagation = "Orphan"
    default_propagation_warning = (
        "child pods are preserved by default when jobs are deleted; set "
        "propagationPolicy=Background to remove them or set propagationPolicy=Orphan to "
        "suppress this warning")
    has_generation = True

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        # A non-parallel Job may leave both unset; parallelism alone still defaults to 1.
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
        w.set_default(spec, "parallelism", 1)
        w.set_default(spec, "backoffLimit",
                      MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6)
        template = w.set_default(spec, "template", {})
        if not w.creating(obj):
            # On create this waits for the generated labels (prepare_create).
            _labels_from_template(obj)
        w.set_default(spec, "completionMode", "NonIndexed")
        w.set_default(spec, "suspend", False)
        # JobPodReplacementPolicy is beta and on in 1.32.
        w.set_default(spec, "podReplacementPolicy",
                      "Failed" if spec.get("podFailurePolicy") is not None
                      else "TerminatingOrFailed")
        w.set_default(spec, "manualSelector", False)
        w.default_template(template)

    def prepare_create(self, obj, ctx):
        if not obj["spec"].get("manualSelector"):
            _generate_selector(obj)
        # The object's labels default to the template's: in Go the two share one map, so they
        # carry the generated labels too (and a read defaults them again when they were nil).
        _labels_from_template(obj)
        obj["status"] = {}

    def validate(self, obj, ctx):
        spec = obj.get("spec") or {}
        meta = obj["metadata"]
        errors = _generated_selector_errors(obj)
        errors += validate_job_spec(spec, "spec")
        written = spec.get("selector")
        if written is None:
            errors.append(FieldError.required("spec.selector"))
        else:
            errors += selectors.validate_label_selector(written, "spec.selector")
        errors += w.selector_matches_template(w.selector_of(written),
                                              w.template_labels(spec.get("template")),
                                              "spec.template", written)
        completions = spec.get("completions")
        if spec.get("completionMode") == "Indexed" and isinstance(completions, int) \
                and completions > 0:
            # Pods of an Indexed Job are named, and hostnamed, <job>-<index>.
            hostname = f"{meta.get('name', '')}-{completions - 1}"
            if v.dns1123_label(hostname):
                errors.append(FieldError.invalid(
                    "metadata.name", meta.get("name", ""),
                    f"will not able to create pod with invalid DNS label: {hostname}"))
        return errors

    def validate_update(self, old, new, ctx):
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        errors = _completions_update_errors(spec, old_spec)
        errors += w.immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector",
                              w.go_selector(spec.get("selector")))
        # Scheduling directives may change while a Job is suspended and has never started.
        mutable = bool(old_spec.get("suspend")) and not (old.get("status") or {}).get("startTime")
        if _template_changed(old_spec.get("template") or {}, spec.get("template") or {},
                             mutable):
            errors.append(FieldError.invalid("spec.template", w.GO_TEMPLATE, w.IMMUTABLE,
                                             TEMPLATE_HINT))
        errors += w.immutable(spec.get("completionMode"), old_spec.get("completionMode"),
                              "spec.completionMode")
        for key, shown in (("podFailurePolicy", "batch.PodFailurePolicy{...}"),
                           ("backoffLimitPerIndex", None), ("managedBy", None),
                           ("successPolicy", "batch.SuccessPolicy{...}")):
            value = spec.get(key)
            errors += w.immutable(value, old_spec.get(key), f"spec.{key}",
                                  w.GoValue(shown) if shown and value is not None else None)
        return errors

    # kubectl get jobs: printJob's columns; STATUS is new in 1.30 (kubernetes PR #123226).
    columns = (
        printing.NAME,
        printing.Column("Status", description="Status of the job."),
        printing.Column("Completions", description=("V1JobStatus", "succeeded")),
        printing.Column("Duration", description="Time required to complete the job."),
        printing.AGE, printing.CONTAINERS, printing.IMAGES,
        printing.Column("Selector", description=JOB_SELECTOR_DOC, priority=1),
    )

    def printer_row(self, obj, now):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        succeeded = printing.integer(status.get("succeeded"))
        if spec.get("completions") is not None:
            completions = f"{succeeded}/{spec['completions']}"
        elif printing.integer(spec.get("parallelism")) > 1:
            completions = f"{succeeded}/1 of {spec['parallelism']}"
        else:
            completions = f"{succeeded}/1"
        started = printing.parse_time(status.get("startTime"))
        finished = printing.parse_time(status.get("completionTime"))
        duration = ""
        if started is not None:
            duration = printing.human_duration((finished or now) - started)
        return [obj["metadata"].get("name", ""), printed_job_status(obj), completions,
                duration, printing.age(obj, now),
                *printing.template_cells(spec.get("template"),
                                         printing.format_label_selector(spec.get("selector")))]

    def index(self, obj):
        return {"owner_uid": owner_controller_uid(obj)}


def validate_job_spec(spec, path):
    """validateJobSpec: what a Job and a CronJob's jobTemplate share (pod failure and success
    policies are not modelled)."""
    errors = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished", "backoffLimitPerIndex"):
        errors += w.nonnegative(spec, key, path)
    if spec.get("maxFailedIndexes") is not None:
        errors += w.nonnegative(spec, "maxFailedIndexes", path)
        if spec.get("backoffLimitPerIndex") is None:
            errors.append(FieldError.required(f"{path}.backoffLimitPerIndex",
                                              "when maxFailedIndexes is specified"))
    errors += _completion_mode_errors(spec, path)
    errors += _replacement_policy_errors(spec, path)
    template = spec.get("template") or {}
    errors += w.validate_template(template, f"{path}.template")
    errors += _restart_policy_errors(spec, template, f"{path}.template.spec.restartPolicy")
    return errors


def _completion_mode_errors(spec, path):
    mode = spec.get("completionMode")
    errors = []
    if mode is not None and mode not in COMPLETION_MODES:
        errors.append(FieldError.not_supported(f"{path}.completionMode", mode, COMPLETION_MODES))
    if mode == "Indexed":
        if spec.get("completions") is None:
            errors.append(FieldError.required(f"{path}.completions",
                                              "when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if isinstance(parallelism, int) and parallelism > MAX_INDEXED_PARALLELISM:
            errors.append(FieldError.invalid(
                f"{path}.parallelism", parallelism,
                f"must be less than or equal to {MAX_INDEXED_PARALLELISM} when completion mode "
                "is Indexed"))
    if mode in (None, "NonIndexed"):
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(key) is not None:
                errors.append(FieldError.invalid(f"{path}.{key}", spec[key],
                                                 "requires indexed completion mode"))
    return errors


def _replacement_policy_errors(spec, path):
    policy = spec.get("podReplacementPolicy")
    if policy is None:
        return []
    # With a pod failure policy, only Failed pods may be replaced.
    allowed = ("Failed",) if spec.get("podFailurePolicy") is not None else REPLACEMENT_POLICIES
    if policy not in allowed:
        return [FieldError.not_supported(f"{path}.podReplacementPolicy", policy, allowed)]
    return []


def _restart_policy_errors(spec, template, path):
    """A Job's pods finish: Always (the PodSpec default) is refused as a missing choice."""
    policy = (template.get("spec") or {}).get("restartPolicy")
    if policy in ("Always", "", None):
        return [FieldError.required(path, 'valid values: "OnFailure", "Never"')]
    if policy not in JOB_RESTART_POLICIES:
        return [FieldError.not_supported(path, policy, JOB_RESTART_POLICIES)]
    if spec.get("podFailurePolicy") is not None and policy != "Never":
        return [FieldError.invalid(path, policy,
                                   'only "Never" is supported when podFailurePolicy is '
                                   "specified")]
    return []


def _generate_selector(obj):
    """generateSelector: the template gets the Job's name and uid as labels (the legacy keys
    and the batch.kubernetes.io ones), and the selector picks the uid. Labels the user wrote
    are kept; a conflicting one is refused by validation."""
    meta, spec = obj["metadata"], obj["spec"]
    template_meta = w.set_default(spec["template"], "metadata", {})
    labels = w.set_default(template_meta, "labels", {})
    for key in (LEGACY_JOB_NAME, JOB_NAME):
        labels.setdefault(key, meta["name"])
    for key in (LEGACY_CONTROLLER_UID, CONTROLLER_UID):
        labels.setdefault(key, meta["uid"])
    selector = w.set_default(spec, "selector", {})
    w.set_default(selector, "matchLabels", {}).setdefault(CONTROLLER_UID, meta["uid"])


def _labels_from_template(obj):
    labels = w.template_labels((obj.get("spec") or {}).get("template"))
    meta = obj["metadata"]
    if labels is not None and not meta.get("labels"):
        meta["labels"] = dict(labels)


def _generated_selector_errors(obj):
    """validateGeneratedSelector: a generated selector's labels must be on the template, with
    this Job's name and uid, and the selector must pick exactly those."""
    spec, meta = obj.get("spec") or {}, obj["metadata"]
    written = spec.get("selector")
    if spec.get("manualSelector") or written is None:
        return []
    labels = w.template_labels(spec.get("template")) or {}
    expected = {LEGACY_CONTROLLER_UID: meta.get("uid", ""), LEGACY_JOB_NAME: meta.get("name"),
                CONTROLLER_UID: meta.get("uid", ""), JOB_NAME: meta.get("name")}
    errors = []
    for key, value in expected.items():
        path = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            errors.append(FieldError.required(path, f"must be '{value}'"))
        elif labels[key] != value:
            errors.append(FieldError.invalid(path, w.go_labels(labels), f"must be '{value}'"))
    selector = w.selector_of(written)
    if selector is not None and not selector.matches(expected):
        errors.append(FieldError.invalid(
            "spec.selector", w.go_selector(written), "`selector` not auto-generated",
            hint="leave spec.selector out and the API server generates it; set "
                 "spec.manualSelector: true to choose your own"))
    return errors


def _completions_update_errors(spec, old_spec):
    """Completions are fixed, except that an Indexed Job scales with completions ==
    parallelism (ElasticIndexedJob, GA in 1.31)."""
    new, old = spec.get("completions"), old_spec.get("completions")
    if spec.get("completionMode") != "Indexed":
        return w.immutable(new, old, "spec.completions")
    if new == old or new is None:
        return []
    if new != spec.get("parallelism"):
        return [FieldError.invalid("spec.completions", new,
                                   "can only be modified in tandem with spec.parallelism")]
    return []


def _template_changed(old, new, scheduling_mutable):
    """ValidateImmutableField on the template, with the scheduling directives of a suspended
    Job taken from the new template first (validatePodTemplateUpdate)."""
    if scheduling_mutable:
        old = _with_scheduling_of(old, new)
    return _semantic(old) != _semantic(new)


def _with_scheduling_of(old, new):
    old = _copy(old)
    old_spec, new_spec = old.setdefault("spec", {}), new.get("spec") or {}
    old_affinity, new_affinity = old_spec.get("affinity"), new_spec.get("affinity")
    if new_affinity is None and old_affinity is not None:
        # The affinity may be cleared when it held nothing but node affinity.
        old_affinity.pop("nodeAffinity", None)
        if not _semantic(old_affinity):
            old_spec.pop("affinity", None)
    elif new_affinity is not None:
        old_spec["affinity"] = dict(old_affinity or {})
        old_spec["affinity"]["nodeAffinity"] = new_affinity.get("nodeAffinity")
    for key in ("nodeSelector", "tolerations", "schedulingGates"):
        old_spec[key] = new_spec.get(key)
    old_meta, new_meta = old.setdefault("metadata", {}), new.get("metadata") or {}
    for key in ("labels", "annotations"):
        old_meta[key] = new_meta.get(key)
    return old


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(x) for k, x in value.items()}
    if isinstance(value, list):
        return [_copy(x) for x in value]
    return value


def _semantic(value):
    """apiequality.Semantic: a nil and an empty map or list are equal."""
    if isinstance(value, dict):
        pruned = {k: _semantic(x) for k, x in value.items()}
        return {k: x for k, x in pruned.items() if x not in (None, {}, [])}
    if isinstance(value, list):
        return [_semantic(x) for x in value]
    return value
