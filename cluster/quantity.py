"""Resource quantities ("100m", "1.5", "128Mi", "1G") as Kubernetes parses them."""

import re
from decimal import Decimal, InvalidOperation

QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_ERROR = "quantities must match the regular expression " + repr(QUANTITY_RE.pattern)

_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"),
    "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30),
    "Ti": Decimal(2**40), "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}


def parse(value):
    """The quantity as a Decimal; raises ValueError with Kubernetes' message."""
    if isinstance(value, bool):
        raise ValueError(QUANTITY_ERROR)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = QUANTITY_RE.match(str(value).strip())
    if not match:
        raise ValueError(QUANTITY_ERROR)
    number, suffix = match.groups()
    try:
        base = Decimal(number)
    except InvalidOperation:
        raise ValueError(QUANTITY_ERROR) from None
    if suffix in _SUFFIXES:
        return base * _SUFFIXES[suffix]
    exponent = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exponent:
        return base * (Decimal(10) ** int(exponent.group(1)))
    raise ValueError(QUANTITY_ERROR)


def milli(value):
    """The quantity in thousandths, rounded up (how cpu requests are compared)."""
    return int((parse(value) * 1000).to_integral_value(rounding="ROUND_CEILING"))
