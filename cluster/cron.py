"""CronJob schedules as Kubernetes 1.32 accepts them and fires them (pure Python, stdlib only).

Kubernetes reads `spec.schedule` with robfig/cron v3's `cron.ParseStandard` and asks the
schedule for `Next(t)`; this module reproduces both, error wording included, because the
API server shows robfig's message to the user inside its own ("spec.schedule: Invalid value:
"61 * * * *": end of range (61) above maximum (59): 61").

Public API:
    CronError                        a parse error, worded as robfig words it
    parse(text, tz=None) -> Schedule SpecSchedule (five fields, @daily, ...) or EverySchedule
    Schedule.next(after) -> datetime the first activation strictly after `after`, or None
    validate_schedule(text)          Kubernetes 1.32's messages for spec.schedule
    validate_time_zone(name)         Kubernetes 1.32's messages for spec.timeZone
    most_recent_schedule_time(...)   the 1.32 controller's "which start is due now" rule

Sources (robfig/cron v3.0.1 = the version Kubernetes 1.32 vendors; Kubernetes release-1.32):
parser.go, spec.go, constantdelay.go; pkg/apis/batch/validation/validation.go;
pkg/controller/cronjob/utils.go and cronjob_controllerv2.go; Go's time.LoadLocation,
time.ParseDuration and strconv.Atoi for the texts robfig passes through.
"""

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_SECOND = timedelta(seconds=1)
_STAR = 1 << 63  # spec.go: set when a field was written `*` or `?` (and no step > 1)

# spec.go: field bounds and the names parseIntOrName accepts (lower-cased first).
_MONTH_NAMES = {n: i + 1 for i, n in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DOW_NAMES = {n: i for i, n in enumerate("sun mon tue wed thu fri sat".split())}
_BOUNDS = [(0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTH_NAMES), (0, 6, _DOW_NAMES)]

REQUIRED = "Required value"
TZ_REFUSED = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
TOO_CLOSE = "time difference between two schedules is less than 1 second"

# Go's unicode.IsSpace: what strings.Fields splits on and strings.TrimSpace trims.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_RE = re.compile(f"[{_GO_SPACE}]+")


class CronError(ValueError):
    """A schedule robfig/cron refuses; str() is robfig's own message."""


# --- Go behaviour that robfig's messages carry ------------------------------------------

def _go_quote(s):
    """strconv.Quote, as strconv.Atoi's errors print the text."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def _atoi(s):
    """strconv.Atoi: optional sign, ASCII digits, int64; errors worded like Go's."""
    body = s[1:] if s[:1] in ("+", "-") else s
    n, why = 0, "invalid syntax" if not body else ""
    for ch in body:
        if ch not in "0123456789":
            why = why or "invalid syntax"
            break
        n = n * 10 + ord(ch) - 48
        if n >= 1 << 64:  # ParseUint stops at the first overflow, before any later bad byte
            why = "value out of range"
            break
    if not why and n > (1 << 63) - (0 if s.startswith("-") else 1):
        why = "value out of range"
    if why:
        raise ValueError(f"strconv.Atoi: parsing {_go_quote(s)}: {why}")
    return -n if s.startswith("-") else n


def _time_quote(s):
    """time's own quote(), used by ParseDuration: bytes outside printable ASCII as \\xNN."""
    out = []
    for ch in s:
        if ord(ch) >= 0x80 or ch < " ":
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        else:
            out.append("\\" + ch if ch in '"\\' else ch)
    return '"' + "".join(out) + '"'


_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6,
          "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def _parse_duration(orig):
    """time.ParseDuration, in nanoseconds ("1h30m", "-1.5h", "300ms")."""
    bad = ValueError("time: invalid duration " + _time_quote(orig))
    s, neg, d = orig, orig[:1] == "-", 0
    if s[:1] in ("-", "+"):
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise bad
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise bad
        m = re.match(r"[0-9]*", s)
        v, pre, s = 0, m.end() > 0, s[m.end():]
        for ch in m.group():
            if v > (1 << 63) // 10 or v * 10 + int(ch) > 1 << 63:
                raise bad
            v = v * 10 + int(ch)
        f, scale, post = 0, 1.0, False
        if s[:1] == ".":
            m = re.match(r"[0-9]*", s[1:])
            post, s = m.end() > 0, s[1 + m.end():]
            for ch in m.group():  # leadingFraction: stops gaining precision on overflow
                if f > ((1 << 63) - 1) // 10 or f * 10 + int(ch) > 1 << 63:
                    break
                f, scale = f * 10 + int(ch), scale * 10
        if not pre and not post:
            raise bad
        unit = re.match(r"[^.0-9]*", s).group()
        if not unit:
            raise ValueError("time: missing unit in duration " + _time_quote(orig))
        s = s[len(unit):]
        if unit not in _UNITS:
            raise ValueError(f"time: unknown unit {_time_quote(unit)} in duration "
                             + _time_quote(orig))
        if v > (1 << 63) // _UNITS[unit]:
            raise bad
        v *= _UNITS[unit]
        if f > 0:
            v += int(float(f) * (float(_UNITS[unit]) / scale))
        d += v
        if v > 1 << 63 or d > 1 << 63:
            raise bad
    if not neg and d > (1 << 63) - 1:
        raise bad
    return -d if neg else d


def _load_location(name):
    """time.LoadLocation: (tzinfo, "") or (None, error); "Local" gives (None, "")."""
    if name in ("", "UTC"):
        return UTC, ""
    if name == "Local":
        return None, ""
    if ".." in name or name[0] in "/\\":
        return None, "time: invalid location name"
    try:
        return ZoneInfo(name), ""
    except IsADirectoryError:  # "America"
        return None, "is a directory"
    except ValueError as e:  # a file that is no zone ("zone.tab")
        if "TZif" in str(e):
            return None, "malformed time zone information"
        return None, "unknown time zone " + name
    except (KeyError, OSError):
        return None, "unknown time zone " + name


# --- parser.go -----------------------------------------------------------------------------

def _int_or_name(expr, names):
    if names and expr.lower() in names:
        return names[expr.lower()]
    return _must_int(expr)


def _must_int(expr):
    try:
        num = _atoi(expr)
    except ValueError as e:
        raise CronError(f"failed to parse int from {expr}: {e}") from None
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _range_bits(expr, bounds):
    """One range: `*`/`?`, `a`, `a-b`, each optionally `/step`; `a/step` means a-max/step."""
    low, high, names = bounds
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):  # anything after "*-" is ignored, as robfig does
        start, end, extra = low, high, _STAR
    else:
        start = _int_or_name(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _must_int(range_and_step[1])
        if len(low_high) == 1:
            end = high
        if step > 1:  # a step clears the star bit: "*/2" counts as a restriction
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < low:
        raise CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return sum(1 << i for i in range(start, end + 1, step)) | extra


def _field_bits(field, bounds):
    bits = 0
    for expr in field.split(","):
        if expr:  # strings.FieldsFunc drops empty pieces: "1,,2" is "1,2" and "," is nothing
            bits |= _range_bits(expr, bounds)
    return bits


def _all(low, high):
    return sum(1 << i for i in range(low, high + 1)) | _STAR


_DESCRIPTORS = {  # parser.go parseDescriptor: (minute, hour, dom, month, dow)
    "@yearly": (1, 1, 1 << 1, 1 << 1, _all(0, 6)),
    "@annually": (1, 1, 1 << 1, 1 << 1, _all(0, 6)),
    "@monthly": (1, 1, 1 << 1, _all(1, 12), _all(0, 6)),
    "@weekly": (1, 1, _all(1, 31), _all(1, 12), 1),
    "@daily": (1, 1, _all(1, 31), _all(1, 12), _all(0, 6)),
    "@midnight": (1, 1, _all(1, 31), _all(1, 12), _all(0, 6)),
    "@hourly": (1, _all(0, 23), _all(1, 31), _all(1, 12), _all(0, 6)),
}


def parse(text, tz=None):
    """Parse a schedule as robfig's ParseStandard does; raise CronError with its message.

    `tz` is the zone to compute in (kubelab's stand-in for the controller's local zone,
    UTC when None). A `TZ=zone ` or `CRON_TZ=zone ` prefix overrides it, as it does in
    robfig; the controller itself writes that prefix when `spec.timeZone` is set.
    """
    loc, spec = UTC if tz is None else tz, text
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space, eq = spec.find(" "), spec.find("=")
        if space < 0:  # robfig v3.0.1 panics here (slice bounds out of range); kubelab refuses
            raise CronError(f"no schedule after the time zone: {spec}")
        name = spec[eq + 1:space]
        zone, err = _load_location(name)
        if err:
            raise CronError(f"provided bad location {name}: {err}")
        loc, spec = zone or loc, spec[space:].strip(_GO_SPACE)
    if spec.startswith("@"):  # exact words only: "@daily " or "@DAILY" are unrecognized
        if spec in _DESCRIPTORS:
            return SpecSchedule(*_DESCRIPTORS[spec], location=loc)
        if spec.startswith("@every "):
            try:
                return EverySchedule(_parse_duration(spec[len("@every "):]))
            except ValueError as e:
                raise CronError(f"failed to parse duration {spec}: {e}") from None
        raise CronError(f"unrecognized descriptor: {spec}")
    fields = [f for f in _SPACE_RE.split(spec) if f]
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    return SpecSchedule(*(_field_bits(f, b) for f, b in zip(fields, _BOUNDS)), location=loc)


# --- spec.go and constantdelay.go ---------------------------------------------------------

def _unix(t):
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("cron needs an aware datetime")
    return (t - _EPOCH) // _SECOND  # whole seconds, rounded down like t.Add(-t.Nanosecond())


def _offset(loc, unix):
    return int(datetime.fromtimestamp(unix, loc).utcoffset().total_seconds())


def _go_date(loc, y, mo, d, h=0, mi=0, s=0):
    """time.Date: out-of-range fields roll over; a wall time in a DST gap or overlap is
    resolved as Go resolves it (offset at wall-as-UTC, re-looked-up at the result)."""
    y, mo = y + (mo - 1) // 12, (mo - 1) % 12 + 1
    wall = (date(y, mo, 1).toordinal() - _EPOCH_DAY + d - 1) * 86400 + h * 3600 + mi * 60 + s
    return wall - _offset(loc, wall - _offset(loc, wall))


class Schedule:
    """A parsed schedule. `next(after)` is robfig's Next: the first activation strictly
    after `after` (an aware datetime), in `after`'s zone, or None if there is none."""

    def next(self, after):
        raise NotImplementedError


class SpecSchedule(Schedule):
    """Five cron fields as bit sets (bit i = value i; bit 63 = written as `*` or `?`)."""

    def __init__(self, minute, hour, dom, month, dow, location=UTC):
        self.minute, self.hour, self.dom, self.month, self.dow = minute, hour, dom, month, dow
        self.location = location

    def __repr__(self):
        return (f"SpecSchedule(minute={self.minute:#x}, hour={self.hour:#x}, dom={self.dom:#x},"
                f" month={self.month:#x}, dow={self.dow:#x}, location={self.location})")

    def _day_matches(self, w):
        # spec.go dayMatches: if either day field is unrestricted both must match, else either.
        dom = bool(1 << w.day & self.dom)
        dow = bool(1 << (w.weekday() + 1) % 7 & self.dow)
        if (self.dom | self.dow) & _STAR:
            return dom and dow
        return dom or dow

    def _never(self):
        """A field with no value at all (written ","): robfig would search five years."""
        dom, dow = self.dom & ~_STAR, self.dow & ~_STAR
        days = (dom and dow) if (self.dom | self.dow) & _STAR else (dom or dow)
        return not (self.minute and self.hour and self.month and days)

    def next(self, after):
        out_tz, start = after.tzinfo, _unix(after) + 1
        if self._never():
            return None
        try:
            found = self._search(start)
        except (OverflowError, ValueError, OSError):  # past year 9999
            return None
        return None if found is None else datetime.fromtimestamp(found, out_tz)

    def _search(self, t):
        """spec.go Next, step for step: each field is advanced until it matches; rolling
        over into the next month/day/hour starts the search again from the month."""
        loc = self.location

        def wall(u):
            return datetime.fromtimestamp(u, loc)

        added, year_limit = False, wall(t).year + 5
        while True:
            w = wall(t)
            if w.year > year_limit:
                return None
            wrapped = False
            while not 1 << w.month & self.month:
                if not added:
                    added, t = True, _go_date(loc, w.year, w.month, 1)
                    w = wall(t)
                t = _go_date(loc, w.year, w.month + 1, w.day, w.hour, w.minute, w.second)
                w = wall(t)
                if w.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(w):
                if not added:
                    added, t = True, _go_date(loc, w.year, w.month, w.day)
                    w = wall(t)
                t = _go_date(loc, w.year, w.month, w.day + 1, w.hour, w.minute, w.second)
                w = wall(t)
                if w.hour:  # a DST change moved midnight: robfig steps back (or on) to it
                    t += (24 - w.hour) * 3600 if w.hour > 12 else -w.hour * 3600
                    w = wall(t)
                if w.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not 1 << w.hour & self.hour:
                if not added:
                    added, t = True, _go_date(loc, w.year, w.month, w.day, w.hour)
                t += 3600
                w = wall(t)
                if w.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not 1 << w.minute & self.minute:
                if not added:
                    added, t = True, t - t % 60
                t += 60
                w = wall(t)
                if w.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            if w.second == 0:  # the standard parser's seconds field is always "0"
                return t
            # robfig steps second by second to :00 of the next minute, then starts again
            added, t = True, t + 60 - w.second


class EverySchedule(Schedule):
    """`@every <duration>` (constantdelay.go): `after` rounded down to the second, plus the
    delay. Delays under a second become one second; fractions of a second are dropped."""

    def __init__(self, nanoseconds):
        self.delay = timedelta(seconds=max(nanoseconds, 10**9) // 10**9)

    def __repr__(self):
        return f"EverySchedule({self.delay})"

    def next(self, after):
        base = _EPOCH + timedelta(seconds=_unix(after))
        return (base + self.delay).astimezone(after.tzinfo)


# --- Kubernetes validation (pkg/apis/batch/validation/validation.go) ----------------------

def validate_schedule(text):
    """The messages Kubernetes 1.32 gives for `spec.schedule` on create.

    An empty schedule gives [REQUIRED]: report it as a Required error, not an Invalid one.
    Otherwise each entry is an "Invalid value" detail: robfig's parse error, then the TZ
    refusal, which applies to any schedule containing "TZ" (validateScheduleFormat).
    """
    if not text:
        return [REQUIRED]
    problems = []
    try:
        parse(text)
    except CronError as e:
        problems.append(str(e))
    if "TZ" in text:
        problems.append(TZ_REFUSED)
    return problems


_ZONE_PART = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def validate_time_zone(name):
    """The messages Kubernetes 1.32 gives for `spec.timeZone` (validateTimeZone); None is fine."""
    if name is None:
        return []
    if name == "":
        return ["timeZone must be nil or non-empty string"]
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not _ZONE_PART.fullmatch(part):
            return [f"unknown time zone {name}"]
    problems = []
    if name.lower() == "local":
        problems.append("timeZone must be an explicit time zone as defined in "
                        "https://www.iana.org/time-zones")
    err = _load_location(name)[1]
    if err:
        problems.append(err)
    return problems


# --- the controller (pkg/controller/cronjob/utils.go mostRecentScheduleTime) --------------

def most_recent_schedule_time(schedule, earliest, now, starting_deadline_seconds=None):
    """Which scheduled time the 1.32 CronJob controller would start at `now`.

    `earliest` is status.lastScheduleTime, or the CronJob's creationTimestamp if never run.
    Pass `starting_deadline_seconds` when deciding what to start (nextScheduleTime does);
    leave it None when computing the requeue (nextScheduleTimeDuration does): then nothing
    older than now - deadline counts. Returns (most_recent or None, missed, too_many):
    `missed` is Kubernetes' estimate of the starts due in (earliest, now] (0, 1, or
    elapsed // gap + 1 from the first two starts' gap), `too_many` is missed > 100 (the
    controller then records a TooManyMissedTimes warning but still starts `most_recent`).
    Raises CronError(TOO_CLOSE) for a schedule that never fires ("0 0 31 2 *").
    """
    zone = now.tzinfo
    earliest, now = earliest.astimezone(UTC), now.astimezone(UTC)  # Go's arithmetic is absolute
    if starting_deadline_seconds is not None:
        deadline = now - timedelta(seconds=starting_deadline_seconds)
        if deadline > earliest:
            earliest = deadline
    t1 = schedule.next(earliest)
    if t1 is None:  # no start within five years: Go's zero time, and no positive gap
        raise CronError(TOO_CLOSE)
    if now < t1:
        return None, 0, False
    t2 = schedule.next(t1)
    if t2 is None:
        raise CronError(TOO_CLOSE)
    if now < t2:
        return t1.astimezone(zone), 1, False
    gap = (t2 - t1) // _SECOND
    missed = (now - t1) // _SECOND // gap + 1
    # Step back to one gap before the estimated last start, then walk forward with Next:
    # exact for @every and for irregular schedules like "30 6-16/4 * * 1-5".
    most_recent = None
    t = schedule.next(t1 + timedelta(seconds=(missed - 2) * gap))
    while t is not None and t <= now:
        most_recent, t = t, schedule.next(t)
    return most_recent and most_recent.astimezone(zone), missed, missed > 100
