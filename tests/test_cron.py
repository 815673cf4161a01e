"""cluster.cron: CronJob schedules read and fired as Kubernetes 1.32 does (no database).

Expected values come from robfig/cron v3.0.1 (parser.go, spec.go, constantdelay.go), which
Kubernetes 1.32 vendors, and from Kubernetes' validation.go and cronjob/utils.go. The DST
cases were checked against robfig's own code compiled with Go on the same tz database.
"""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cluster import cron
from cluster.cron import CronError, most_recent_schedule_time, parse

UTC = timezone.utc


def at(text, tz=UTC):
    """'2024-07-01 10:00' (or with seconds) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def runs(spec, start, n=5, tz=None):
    """The next `n` activations after `start`, as 'YYYY-MM-DD HH:MM' strings in UTC."""
    schedule, t, out = parse(spec, tz=tz), at(start) if isinstance(start, str) else start, []
    for _ in range(n):
        t = schedule.next(t)
        out.append(t.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    return out


def error(spec):
    with pytest.raises(CronError) as e:
        parse(spec)
    return str(e.value)


# --- grammar (parser.go getRange / getField, spec.go bounds) --------------------------------

def test_star_and_question_mark_mean_every_value():
    assert runs("* * * * *", "2024-07-01 10:00:30", 3) == [
        "2024-07-01 10:01", "2024-07-01 10:02", "2024-07-01 10:03"]
    assert runs("? ? ? ? ?", "2024-07-01 10:00", 2) == ["2024-07-01 10:01", "2024-07-01 10:02"]


def test_ranges_lists_and_steps():
    assert runs("10-12 9 * * *", "2024-07-01 00:00", 4) == [
        "2024-07-01 09:10", "2024-07-01 09:11", "2024-07-01 09:12", "2024-07-02 09:10"]
    assert runs("0,30 9 * * *", "2024-07-01 00:00", 3) == [
        "2024-07-01 09:00", "2024-07-01 09:30", "2024-07-02 09:00"]
    assert runs("*/15 9 * * *", "2024-07-01 09:20", 3) == [
        "2024-07-01 09:30", "2024-07-01 09:45", "2024-07-02 09:00"]
    assert runs("10-30/10 9 * * *", "2024-07-01 00:00", 4) == [
        "2024-07-01 09:10", "2024-07-01 09:20", "2024-07-01 09:30", "2024-07-02 09:10"]


def test_single_value_with_step_runs_to_the_maximum():
    # parser.go: "N/step" means "N-max/step".
    assert runs("50/5 9 * * *", "2024-07-01 00:00", 3) == [
        "2024-07-01 09:50", "2024-07-01 09:55", "2024-07-02 09:50"]


def test_month_and_weekday_names_any_case():
    assert runs("0 0 1 JAN,jul *", "2024-02-01 00:00", 2) == [
        "2024-07-01 00:00", "2025-01-01 00:00"]
    assert runs("0 9 * * Mon-FRI", "2024-07-05 12:00", 2) == [
        "2024-07-08 09:00", "2024-07-09 09:00"]
    assert runs("0 0 1 jan/6 *", "2024-02-01 00:00", 2) == ["2024-07-01 00:00", "2025-01-01 00:00"]
    assert error("0 0 * * Monday") == (
        'failed to parse int from Monday: strconv.Atoi: parsing "Monday": invalid syntax')


def test_sunday_is_0_and_7_is_refused():
    # spec.go: dow bounds are 0-6.
    assert runs("0 0 * * 0", "2024-07-01 00:00", 1) == ["2024-07-07 00:00"]
    assert error("0 0 * * 7") == "end of range (7) above maximum (6): 7"


def test_robfig_quirks_are_kept():
    assert runs("*-5 0 * * *", "2024-07-01 00:00", 2) == ["2024-07-01 00:01", "2024-07-01 00:02"]
    assert runs("1,,2 0 * * *", "2024-07-01 00:00", 2) == ["2024-07-01 00:01", "2024-07-01 00:02"]
    assert runs("+5 0 * * *", "2024-07-01 00:00", 1) == ["2024-07-01 00:05"]
    assert parse(", * * * *").next(at("2024-07-01 00:00")) is None  # accepted, never fires
    assert runs("0\t0  *\u00a0* *", "2024-07-01 00:00", 1) == ["2024-07-02 00:00"]


# --- robfig's error messages, which Kubernetes shows inside its own ------------------------

@pytest.mark.parametrize("spec, message", [
    ("", "empty spec string"),
    ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("   ", "expected exactly 5 fields, found 0: []"),
    (" @daily", "expected exactly 5 fields, found 1: [@daily]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("0 24 * * *", "end of range (24) above maximum (23): 24"),
    ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("0 0 1 13 *", "end of range (13) above maximum (12): 13"),
    ("20-10 * * * *", "beginning of range (20) beyond end of range (10): 20-10"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("-1 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'),
    ("*/x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("99999999999999999999 * * * *", "failed to parse int from 99999999999999999999: "
     'strconv.Atoi: parsing "99999999999999999999": value out of range'),
    ("*/-5 * * * *", "negative number (-5) not allowed: -5"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("1/2/3 * * * *", "too many slashes: 1/2/3"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("0 0 1 Foo *", 'failed to parse int from Foo: strconv.Atoi: parsing "Foo": invalid syntax'),
    ("@foo", "unrecognized descriptor: @foo"),
    ("@DAILY", "unrecognized descriptor: @DAILY"),
    ("@daily ", "unrecognized descriptor: @daily "),
    ("@every", "unrecognized descriptor: @every"),
    ("@every x", 'failed to parse duration @every x: time: invalid duration "x"'),
    ("@every 1", 'failed to parse duration @every 1: time: missing unit in duration "1"'),
    ("@every 1d", 'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"'),
    ("@every ", 'failed to parse duration @every : time: invalid duration ""'),
    ("TZ=Nope/Zone * * * * *", "provided bad location Nope/Zone: unknown time zone Nope/Zone"),
    ("CRON_TZ=../x * * * * *", "provided bad location ../x: time: invalid location name"),
])
def test_error_messages_are_robfigs(spec, message):
    assert error(spec) == message


def test_first_bad_field_wins():
    # parser.go: fields are read minute to day-of-week; the first error is the one reported.
    assert error("61 25 * * *") == "end of range (61) above maximum (59): 61"


def test_tz_prefix_without_a_schedule_is_refused_not_a_crash():
    # robfig v3.0.1 panics on "TZ=UTC" (no space); kubelab reports an error instead.
    assert "TZ=UTC" in error("TZ=UTC")


# --- day-of-month / day-of-week (spec.go dayMatches) --------------------------------------

def test_both_day_fields_restricted_means_either_may_match():
    # The 1st of the month OR any Monday.
    assert runs("0 0 1 * MON", "2024-06-28 00:00", 7) == [
        "2024-07-01 00:00", "2024-07-08 00:00", "2024-07-15 00:00", "2024-07-22 00:00",
        "2024-07-29 00:00", "2024-08-01 00:00", "2024-08-05 00:00"]


def test_an_unrestricted_day_field_means_both_must_match():
    assert runs("0 0 * * MON", "2024-06-28 00:00", 3) == [
        "2024-07-01 00:00", "2024-07-08 00:00", "2024-07-15 00:00"]
    assert runs("0 0 ? * MON", "2024-06-28 00:00", 2) == ["2024-07-01 00:00", "2024-07-08 00:00"]
    assert runs("0 0 1 * *", "2024-06-28 00:00", 2) == ["2024-07-01 00:00", "2024-08-01 00:00"]
    # A step of 1 keeps the star bit: still unrestricted.
    assert runs("0 0 */1 * MON", "2024-06-28 00:00", 2) == ["2024-07-01 00:00", "2024-07-08 00:00"]


def test_a_step_over_1_makes_the_field_restricted():
    # "*/2" clears the star bit (parser.go), so odd days OR Mondays.
    assert runs("0 0 */2 * MON", "2024-07-01 00:00", 6) == [
        "2024-07-03 00:00", "2024-07-05 00:00", "2024-07-07 00:00", "2024-07-08 00:00",
        "2024-07-09 00:00", "2024-07-11 00:00"]


# --- descriptors (parser.go parseDescriptor) and @every (constantdelay.go) -----------------

@pytest.mark.parametrize("spec, first, second", [
    ("@yearly", "2025-01-01 00:00", "2026-01-01 00:00"),
    ("@annually", "2025-01-01 00:00", "2026-01-01 00:00"),
    ("@monthly", "2024-08-01 00:00", "2024-09-01 00:00"),
    ("@weekly", "2024-07-21 00:00", "2024-07-28 00:00"),  # Sundays
    ("@daily", "2024-07-18 00:00", "2024-07-19 00:00"),
    ("@midnight", "2024-07-18 00:00", "2024-07-19 00:00"),
    ("@hourly", "2024-07-17 11:00", "2024-07-17 12:00"),
])
def test_descriptors(spec, first, second):
    assert runs(spec, "2024-07-17 10:30", 2) == [first, second]


def test_every_adds_the_delay_to_the_second():
    schedule = parse("@every 1h30m")
    assert schedule.next(at("2024-07-01 10:00:30.750")) == at("2024-07-01 11:30:30")
    assert parse("@every 1.5h").next(at("2024-07-01 10:00")) == at("2024-07-01 11:30")
    assert parse("@every 2m30.9s").delay == timedelta(minutes=2, seconds=30)


def test_every_under_a_second_becomes_one_second():
    for spec in ("@every 500ms", "@every 0", "@every -5m"):
        assert parse(spec).next(at("2024-07-01 10:00")) == at("2024-07-01 10:00:01")


def test_tz_prefix_with_descriptor():
    schedule = parse("TZ=Asia/Kolkata @daily")
    assert schedule.next(at("2024-07-01 00:00")) == at("2024-07-01 18:30")


# --- next(): boundaries and zones (spec.go Next) ---------------------------------------------

def test_next_is_strictly_after():
    assert runs("0 9 * * *", "2024-07-01 09:00", 1) == ["2024-07-02 09:00"]
    assert runs("0 9 * * *", "2024-07-01 08:59:59.999", 1) == ["2024-07-01 09:00"]


def test_next_across_month_and_year_ends():
    assert runs("59 23 31 12 *", "2024-12-31 23:59", 1) == ["2025-12-31 23:59"]
    assert runs("0 0 31 * *", "2024-04-01 00:00", 3) == [
        "2024-05-31 00:00", "2024-07-31 00:00", "2024-08-31 00:00"]
    assert runs("0 12 * * *", "2024-12-31 13:00", 1) == ["2025-01-01 12:00"]


def test_february_29():
    assert runs("0 0 29 2 *", "2024-03-01 00:00", 2) == ["2028-02-29 00:00", "2032-02-29 00:00"]
    assert runs("0 0 29 * *", "2025-01-30 00:00", 2) == ["2025-03-29 00:00", "2025-04-29 00:00"]


def test_a_schedule_that_never_fires_gives_none():
    # spec.go gives up after five years (zero time); Kubernetes accepts such a schedule.
    assert parse("0 0 31 2 *").next(at("2024-01-01 00:00")) is None
    assert parse("0 0 30 2 *").next(at("2024-01-01 00:00")) is None


def test_result_is_in_the_zone_of_after():
    berlin = ZoneInfo("Europe/Berlin")
    result = parse("0 9 * * *").next(at("2024-07-01 12:00", berlin))
    assert result.tzinfo is berlin and result == at("2024-07-02 09:00")


def test_schedule_zone_from_parse_or_prefix():
    kolkata = ZoneInfo("Asia/Kolkata")
    assert runs("0 9 * * *", "2024-07-01 00:00", 1, tz=kolkata) == ["2024-07-01 03:30"]
    assert runs("CRON_TZ=Asia/Kolkata 0 9 * * *", "2024-07-01 00:00", 1) == ["2024-07-01 03:30"]
    # the prefix wins over tz=, as the controller's "TZ=<spec.timeZone> " prefix does
    assert runs("TZ=UTC 0 9 * * *", "2024-07-01 00:00", 1, tz=kolkata) == ["2024-07-01 09:00"]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        parse("* * * * *").next(datetime(2024, 7, 1))


@pytest.mark.parametrize("spec, zone, start, expected", [
    # spring forward: 02:30 does not exist that day, robfig skips the day
    ("30 2 * * *", "America/New_York", "2024-03-09 12:00",
     ["2024-03-11 06:30", "2024-03-12 06:30"]),
    ("30 2 * * *", "Europe/Berlin", "2024-03-30 12:00", ["2024-04-01 00:30", "2024-04-02 00:30"]),
    # fall back: 02:30 happens twice and fires twice
    ("30 2 * * *", "Europe/Berlin", "2024-10-26 12:00",
     ["2024-10-27 00:30", "2024-10-27 01:30", "2024-10-28 01:30"]),
    ("30 1 * * *", "America/New_York", "2024-11-02 12:00",
     ["2024-11-03 05:30", "2024-11-03 06:30", "2024-11-04 06:30"]),
    # Sao Paulo 2018: midnight did not exist on 4 November
    ("0 0 * * *", "America/Sao_Paulo", "2018-11-03 12:00",
     ["2018-11-05 02:00", "2018-11-06 02:00"]),
])
def test_dst_as_robfig_does(spec, zone, start, expected):
    assert runs(spec, start, len(expected), tz=ZoneInfo(zone)) == expected


# --- the controller's missed-start rule (cronjob/utils.go mostRecentScheduleTime) ----------

def test_nothing_due_yet():
    assert most_recent_schedule_time(parse("0 * * * *"), at("2024-07-01 10:05"),
                                     at("2024-07-01 10:59")) == (None, 0, False)


def test_one_start_due():
    assert most_recent_schedule_time(parse("0 * * * *"), at("2024-07-01 10:05"),
                                     at("2024-07-01 11:30")) == (at("2024-07-01 11:00"), 1, False)


def test_several_missed_starts_the_most_recent():
    assert most_recent_schedule_time(parse("0 * * * *"), at("2024-07-01 10:05"),
                                     at("2024-07-01 15:30")) == (at("2024-07-01 15:00"), 5, False)


def test_more_than_100_missed_is_too_many():
    # Estimated as elapsed // (t2 - t1) + 1; "too many" is strictly more than 100.
    every_minute, start = parse("* * * * *"), at("2024-07-01 00:00")
    assert most_recent_schedule_time(every_minute, start, at("2024-07-01 01:40")) == (
        at("2024-07-01 01:40"), 100, False)
    assert most_recent_schedule_time(every_minute, start, at("2024-07-01 01:41")) == (
        at("2024-07-01 01:41"), 101, True)
    recent, missed, too_many = most_recent_schedule_time(
        parse("0 * * * *"), at("2024-06-21 10:05"), at("2024-07-01 10:30"))
    assert (recent, missed, too_many) == (at("2024-07-01 10:00"), 240, True)


def test_starting_deadline_moves_earliest_forward():
    hourly, created = parse("0 * * * *"), at("2024-06-21 10:05")
    # only starts since now - 200 s count: one due, nothing "too many"
    assert most_recent_schedule_time(hourly, created, at("2024-07-01 10:02"), 200) == (
        at("2024-07-01 10:00"), 1, False)
    # the last start is older than the deadline: nothing to start
    assert most_recent_schedule_time(hourly, created, at("2024-07-01 10:02"), 60) == (
        None, 0, False)
    # a deadline older than earliest changes nothing
    assert most_recent_schedule_time(hourly, at("2024-07-01 09:30"), at("2024-07-01 10:02"),
                                     86400) == (at("2024-07-01 10:00"), 1, False)


def test_estimate_uses_the_first_gap_for_irregular_schedules():
    # "30 6-16/4 * * 1-5": 06:30, 10:30, 14:30 on weekdays. t1 = Fri 10:30, t2 = Fri 14:30:
    # a 4 h gap, 73.5 h elapsed since t1, so 73.5 // 4 + 1 = 19 "missed" (really 5).
    schedule = parse("30 6-16/4 * * 1-5")
    assert most_recent_schedule_time(schedule, at("2024-07-05 07:00"),
                                     at("2024-07-08 12:00")) == (at("2024-07-08 10:30"), 19, False)


def test_the_estimate_can_miss_a_due_start():
    # Kubernetes 1.32 walks forward from t1 + (missed - 2) * gap = Jul 2 00:00, whose Next
    # is Aug 1: the Jul 2 start, due, is not found, so nothing starts now.
    assert most_recent_schedule_time(parse("0 0 1,2 * *"), at("2024-06-30 12:00"),
                                     at("2024-07-03 00:00")) == (None, 3, False)


def test_every_schedules_count_from_earliest():
    assert most_recent_schedule_time(parse("@every 7m"), at("2024-07-01 10:00:10"),
                                     at("2024-07-01 10:30")) == (
        at("2024-07-01 10:28:10"), 4, False)


def test_a_schedule_that_never_fires_is_an_error():
    with pytest.raises(CronError, match="time difference between two schedules is less than 1"):
        most_recent_schedule_time(parse("0 0 31 2 *"), at("2024-07-01 10:00"),
                                  at("2024-07-02 10:00"))


def test_missed_starts_in_a_zone():
    schedule = parse("0 9 * * *", tz=ZoneInfo("Europe/Berlin"))
    recent, missed, _ = most_recent_schedule_time(schedule, at("2024-03-29 12:00"),
                                                  at("2024-04-02 12:00"))
    assert recent == at("2024-04-02 07:00") and missed == 4


# --- Kubernetes validation (validation.go validateScheduleFormat / validateTimeZone) -------

@pytest.mark.parametrize("spec, problems", [
    ("0 9 * * *", []),
    ("@every 1h", []),
    ("", [cron.REQUIRED]),
    ("61 * * * *", ["end of range (61) above maximum (59): 61"]),
    ("CRON_TZ=UTC * * * * *", [cron.TZ_REFUSED]),
    ("TZ=Europe/Paris 0 9 * * *", [cron.TZ_REFUSED]),
    ("TZ=Nope * * * * *", ["provided bad location Nope: unknown time zone Nope",
                           cron.TZ_REFUSED]),
])
def test_validate_schedule(spec, problems):
    assert cron.validate_schedule(spec) == problems


def test_tz_refusal_wording():
    assert cron.TZ_REFUSED == "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"


@pytest.mark.parametrize("name, problems", [
    (None, []),
    ("America/New_York", []),
    ("Etc/GMT+5", []),
    ("UTC", []),
    ("", ["timeZone must be nil or non-empty string"]),
    ("Europe/Pariss", ["unknown time zone Europe/Pariss"]),
    ("America/Argentina_Buenos_Aires", ["unknown time zone America/Argentina_Buenos_Aires"]),
    ("-x", ["unknown time zone -x"]),
    ("Europe/../Paris", ["unknown time zone Europe/../Paris"]),
    ("a..b", ["time: invalid location name"]),
    ("Local", ["timeZone must be an explicit time zone as defined in "
               "https://www.iana.org/time-zones"]),
    ("local", ["timeZone must be an explicit time zone as defined in "
               "https://www.iana.org/time-zones", "unknown time zone local"]),
])
def test_validate_time_zone(name, problems):
    assert cron.validate_time_zone(name) == problems
