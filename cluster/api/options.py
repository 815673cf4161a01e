"""Query and body options of the write verbs, validated as the API server validates them
(CreateOptions, UpdateOptions, PatchOptions, DeleteOptions of meta.k8s.io)."""

from dataclasses import dataclass, field

from cluster.errors import BadRequest, FieldError, Invalid

FIELD_VALIDATIONS = ("Ignore", "Strict", "Warn")
PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")
# Kubernetes 1.32 defaults fieldValidation to Warn when the client sends none.
DEFAULT_FIELD_VALIDATION = "Warn"
OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}


def parse_bool(text, name):
    """Go's strconv.ParseBool, which the parameter codec uses."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise BadRequest(f'{name}: invalid value "{text}": must be true or false')


def parse_int(text, name):
    """A whole number query parameter (tailLines, sinceSeconds, ...)."""
    try:
        return int(text)
    except (TypeError, ValueError):
        raise BadRequest(f'{name}: invalid value "{text}": must be an integer') from None


def _invalid(verb, errors):
    return Invalid(OPTIONS_KIND.get(verb, "Options"), "", errors, group="meta.k8s.io")


def _dry_run_errors(values):
    bad = [v for v in values if v != "All"]
    if bad:
        return [FieldError.not_supported("dryRun", bad[0], ["All"])]
    return []


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_validation: str = DEFAULT_FIELD_VALIDATION
    field_manager: str = ""
    force: bool | None = None


def write_options(request, verb, *, apply=False):
    """dryRun, fieldValidation, fieldManager (and force for apply) from the query."""
    query = request.GET
    dry_run = query.getlist("dryRun")
    errors = _dry_run_errors(dry_run)
    validation = query.get("fieldValidation") or DEFAULT_FIELD_VALIDATION
    if validation not in FIELD_VALIDATIONS:
        errors.append(FieldError.not_supported("fieldValidation", validation, FIELD_VALIDATIONS))
    manager = query.get("fieldManager", "")
    if len(manager) > 128:
        errors.append(FieldError.invalid("fieldManager", manager,
                                         "must be less than or equal to 128 characters"))
    force = None
    if "force" in query:
        force = parse_bool(query["force"], "force")
        if not apply:
            errors.append(FieldError.forbidden("force",
                                               "may not be specified for non-apply patch"))
    if apply and not manager:
        errors.append(FieldError.required("fieldManager", "is required for apply patch"))
    if errors:
        raise _invalid(verb, errors)
    return WriteOptions(bool(dry_run), validation, manager, force)


@dataclass
class DeleteOptions:
    grace_period: int | None = None
    propagation: str | None = None
    preconditions: dict = field(default_factory=dict)
    dry_run: bool = False


def delete_options(query, body, verb="delete"):
    """DeleteOptions from a JSON body when there is one, else from the query (as the API
    server reads them: the body wins whole, it is not merged with the query)."""
    if body is not None:
        if not isinstance(body, dict):
            raise BadRequest("the DeleteOptions body must be a JSON object")
        if body.get("kind") not in (None, "DeleteOptions"):
            raise BadRequest(f'the body kind "{body.get("kind")}" is not DeleteOptions')
        raw = body
    else:
        raw = {}
        if "gracePeriodSeconds" in query:
            raw["gracePeriodSeconds"] = query["gracePeriodSeconds"]
        if "propagationPolicy" in query:
            raw["propagationPolicy"] = query["propagationPolicy"]
        if "orphanDependents" in query:
            raw["orphanDependents"] = parse_bool(query["orphanDependents"], "orphanDependents")
        if query.getlist("dryRun"):
            raw["dryRun"] = query.getlist("dryRun")
        raw["preconditions"] = {k: query[f"preconditions.{k}"]
                                for k in ("uid", "resourceVersion")
                                if f"preconditions.{k}" in query}

    grace = raw.get("gracePeriodSeconds")
    if grace is not None:
        if isinstance(grace, str):
            try:
                grace = int(grace)
            except ValueError:
                raise BadRequest(f'gracePeriodSeconds: invalid value "{grace}": must be an '
                                 "integer") from None
        elif isinstance(grace, bool) or not isinstance(grace, int):
            raise BadRequest("gracePeriodSeconds must be an integer number of seconds")
    propagation = raw.get("propagationPolicy")
    orphan = raw.get("orphanDependents")
    dry_run = raw.get("dryRun") or []
    if not isinstance(dry_run, list) or not all(isinstance(v, str) for v in dry_run):
        raise BadRequest("dryRun must be a list of strings")
    preconditions = raw.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise BadRequest("preconditions must be an object with uid and resourceVersion")

    errors = _dry_run_errors(dry_run)
    if propagation is not None and propagation not in PROPAGATION_POLICIES:
        errors.append(FieldError.not_supported("propagationPolicy", propagation,
                                               PROPAGATION_POLICIES))
    if orphan is not None and propagation is not None:
        errors.append(FieldError.invalid("propagationPolicy", propagation,
                                         "orphanDependents and deletionPropagation cannot be "
                                         "both set"))
    if errors:
        raise _invalid(verb, errors)
    if orphan is not None and propagation is None:
        propagation = "Orphan" if orphan else "Background"
    return DeleteOptions(grace, propagation, preconditions, bool(dry_run))
