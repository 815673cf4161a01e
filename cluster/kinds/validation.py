"""Kubernetes' name and label validators, with the API server's wording."""

import re

from cluster.errors import FieldError

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
_label_re = re.compile(f"^{DNS1123_LABEL}$")
_subdomain_re = re.compile(f"^{DNS1123_SUBDOMAIN}$")

LABEL_ERROR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    f"regex used for validation is '{DNS1123_LABEL}')"
)
SUBDOMAIN_ERROR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    f"for validation is '{DNS1123_SUBDOMAIN}')"
)

QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_qualified_re = re.compile(f"^{QUALIFIED_NAME}$")
QUALIFIED_NAME_ERROR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    f"for validation is '{QUALIFIED_NAME}')"
)
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_label_value_re = re.compile(f"^{LABEL_VALUE}$")
LABEL_VALUE_ERROR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value', "
    f" or '12345', regex used for validation is '{LABEL_VALUE}')"
)


def max_len(n):
    return f"must be no more than {n} characters"


def dns1123_label(value):
    """Problems with `value` as an RFC 1123 label (container names, namespaces)."""
    problems = []
    if len(value) > 63:
        problems.append(max_len(63))
    if not _label_re.fullmatch(value):
        problems.append(LABEL_ERROR)
    return problems


def dns1123_subdomain(value):
    problems = []
    if len(value) > 253:
        problems.append(max_len(253))
    if not _subdomain_re.fullmatch(value):
        problems.append(SUBDOMAIN_ERROR)
    return problems


def qualified_name(value):
    """Problems with a label or annotation key: optional 'prefix/' (a subdomain) + name."""
    problems = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            problems.append("prefix part must be non-empty")
        else:
            problems.extend("prefix part " + p for p in dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            f"'123-abc', regex used for validation is '{QUALIFIED_NAME}') with an optional DNS "
            "subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part " + max_len(63))
    if not _qualified_re.fullmatch(name):
        problems.append(QUALIFIED_NAME_ERROR)
    return problems


def label_value(value):
    problems = []
    if len(value) > 63:
        problems.append(max_len(63))
    if not _label_value_re.fullmatch(value):
        problems.append(LABEL_VALUE_ERROR)
    return problems


def iana_svc_name(value):
    """Problems with a port name (IANA_SVC_NAME)."""
    problems = []
    if len(value) > 15:
        problems.append(max_len(15))
    if not re.fullmatch(r"[-a-z0-9]+", value):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if not re.search(r"[a-z]", value):
        problems.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        problems.append("must not begin or end with a hyphen")
    return problems


def port_number(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return ["must be between 1 and 65535, inclusive"]
    return []


def each(field, value, problems, hint=""):
    return [FieldError.invalid(field, value, p, hint) for p in problems]


def labels(field, mapping):
    errors = []
    for key, value in (mapping or {}).items():
        errors += each(field, key, qualified_name(key))
        if not isinstance(value, str):
            errors.append(FieldError.invalid(f"{field}", value, "label values must be strings"))
        else:
            errors += each(field, value, label_value(value))
    return errors


def annotations(field, mapping):
    errors = []
    total = 0
    for key, value in (mapping or {}).items():
        errors += each(field, key, [p for p in qualified_name(key)])
        total += len(key) + len(value or "")
    if total > 256 * 1024:
        errors.append(FieldError("metadata.annotations", "FieldValueTooLong",
                                 "may not be more than 262144 bytes"))
    return errors
