"""cluster.selectors: label selectors parsed, matched and printed as Kubernetes 1.32 does."""

import random
import time

import pytest

from cluster import selectors
from cluster.selectors import (
    EQUALS, EXISTS, GREATER_THAN, IN, NOT_IN, Everything, Nothing, Requirement, Selector,
    SelectorError, format_labels, from_label_selector, from_map, new_requirement, parse,
    to_string, validate_label_selector,
)

# Kubernetes' validator messages, spelled out here so a drift in cluster/kinds/validation.py shows.
KEY_REGEX = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN_REGEX = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
OPERATORS = "in, notin, =, ==, !=, gt, lt"
UNABLE = "unable to parse requirement: "

# --- the string language: what selects what ---------------------------------------------------

# (selector, label sets that must match, label sets that must not)
MATCHING = [
    ("", [{}, {"a": "b"}], []),
    ("   ", [{}, {"a": "b"}], []),
    ("key1=value1", [{"key1": "value1"}, {"key1": "value1", "x": "y"}],
     [{}, {"key1": "value2"}, {"key2": "value1"}, {"key1": ""}]),
    ("!key1", [{}, {"key2": "x"}], [{"key1": ""}, {"key1": "value1"}]),
    ("env in (prod,devel)", [{"env": "prod"}, {"env": "devel", "app": "pc"}],
     [{}, {"env": "qa"}, {"env": ""}, {"environment": "prod"}]),
    ("env notin (prod,devel)", [{}, {"env": "qa"}, {"env": ""}, {"app": "pc"}],
     [{"env": "prod"}, {"env": "devel"}]),
    ("app=pc", [{"app": "pc"}], [{"app": "PC"}, {"app": "pc "}, {}]),
    ("a==b", [{"a": "b"}], [{"a": "c"}, {}]),
    ("a!=b", [{}, {"a": "c"}, {"a": ""}], [{"a": "b"}]),
    ("a=", [{"a": ""}], [{}, {"a": "b"}]),
    ("a==", [{"a": ""}], [{}, {"a": "b"}]),
    ("a!=", [{}, {"a": "x"}], [{"a": ""}]),
    ("x,y", [{"x": "", "y": ""}, {"x": "1", "y": "2", "z": "3"}], [{"x": "1"}, {"y": "1"}, {}]),
    ("x", [{"x": ""}, {"x": "v"}], [{}, {"X": "v"}]),
    ("a in (b, c)", [{"a": "b"}, {"a": "c"}], [{"a": " c"}, {"a": "d"}, {}]),
    ("a in (b)", [{"a": "b"}], [{"a": "bb"}, {}]),
    ("a in ()", [{"a": ""}], [{}, {"a": "b"}]),
    ("a notin ()", [{}, {"a": "b"}], [{"a": ""}]),
    ("a in (,b)", [{"a": ""}, {"a": "b"}], [{}, {"a": "c"}]),
    ("a in (b,)", [{"a": ""}, {"a": "b"}], [{}]),
    ("a in (,)", [{"a": ""}], [{"a": "b"}]),
    ("a in (b,,c)", [{"a": ""}, {"a": "b"}, {"a": "c"}], [{"a": "d"}]),
    ("a in (b,,,)", [{"a": ""}, {"a": "b"}], [{"a": "c"}]),
    ("a in (b,b)", [{"a": "b"}], [{"a": "c"}]),
    # whitespace: around operators, inside parentheses, tabs and newlines, none at all
    ("  key1  =  value1  ", [{"key1": "value1"}], [{"key1": " value1"}]),
    ("a= b", [{"a": "b"}], [{"a": ""}]),
    ("a =b", [{"a": "b"}], []),
    ("a\t==\tb", [{"a": "b"}], []),
    ("a\n!=\r\nb", [{"a": "c"}], [{"a": "b"}]),
    ("env in(prod)", [{"env": "prod"}], [{"env": "qa"}]),
    ("env in (  prod  ,  devel  )", [{"env": "devel"}], [{"env": " prod"}]),
    ("env notin(prod)", [{"env": "qa"}], [{"env": "prod"}]),
    ("! a", [{}], [{"a": "b"}]),
    ("a , b", [{"a": "1", "b": "2"}], [{"a": "1"}]),
    ("a=1,!b", [{"a": "1"}, {"a": "1", "c": "x"}], [{"a": "1", "b": ""}, {"a": "2"}]),
    ("a=1 , b!=2 , c in (3,4) , d notin (5) , e , !f",
     [{"a": "1", "c": "3", "e": ""}, {"a": "1", "b": "3", "c": "4", "d": "6", "e": "x"}],
     [{"a": "1", "c": "3"}, {"a": "1", "c": "3", "e": "", "f": ""},
      {"a": "1", "b": "2", "c": "3", "e": ""}, {"a": "1", "c": "3", "d": "5", "e": ""}]),
    # same key twice: both must hold
    ("a=1,a!=1", [], [{"a": "1"}, {}, {"a": "2"}]),
    ("a,a in (1,2)", [{"a": "1"}], [{}, {"a": "3"}]),
    # `in` and `notin` are only keywords where an operator is expected
    ("in", [{"in": "x"}], [{}]),
    ("notin=in", [{"notin": "in"}], [{"notin": "notin"}]),
    ("in in (in,notin)", [{"in": "in"}, {"in": "notin"}], [{"in": "x"}, {}]),
    ("!notin", [{}], [{"notin": ""}]),
    ("a==in", [{"a": "in"}], [{"a": "notin"}]),
    # prefixed keys, characters the lexer treats as part of an identifier
    ("app.kubernetes.io/name=kubia", [{"app.kubernetes.io/name": "kubia"}], [{"name": "kubia"}]),
    ("example.com/tier in (front-end, back_end)", [{"example.com/tier": "back_end"}],
     [{"tier": "back_end"}]),
    ("A.b-c_d=X.y-Z_9", [{"A.b-c_d": "X.y-Z_9"}], [{"a.b-c_d": "X.y-Z_9"}]),
    ("k=" + "v" * 63, [{"k": "v" * 63}], [{"k": "v" * 62}]),
    ("k" * 63, [{"k" * 63: ""}], [{}]),
    # integer comparisons (Gt, Lt)
    ("n>2", [{"n": "3"}, {"n": "+10"}, {"n": "9223372036854775807"}],
     [{"n": "2"}, {"n": "-5"}, {"n": "x"}, {"n": "3.5"}, {"n": " 3"}, {"n": "1_0"}, {},
      {"n": "9223372036854775808"}]),
    ("n<2", [{"n": "1"}, {"n": "-3"}, {"n": "00"}], [{"n": "2"}, {}, {"n": ""}]),
    ("n>0", [{"n": "1"}, {"n": "0001"}], [{"n": "0"}, {"n": "-1"}]),
]


@pytest.mark.parametrize("text,good,bad", MATCHING, ids=[m[0] or "<empty>" for m in MATCHING])
def test_string_selectors_match(text, good, bad):
    selector = parse(text)
    for labels in good:
        assert selector.matches(labels), (text, labels)
    for labels in bad:
        assert not selector.matches(labels), (text, labels)


def test_no_labels_is_an_empty_label_set():
    assert parse("!a").matches(None)
    assert parse("a notin (b)").matches(None)
    assert not parse("a").matches(None)
    assert parse("").matches(None)


def test_matches_object_reads_metadata_labels():
    selector = parse("app=kubia")
    assert selector.matches_object({"metadata": {"labels": {"app": "kubia"}}})
    assert not selector.matches_object({"metadata": {}})
    assert not selector.matches_object({})


# --- the canonical string form ----------------------------------------------------------------

# (written, canonical): requirements sorted by key, values sorted, `==` kept, spaces gone.
CANONICAL = [
    ("", ""),
    ("key1=value1", "key1=value1"),
    ("!key1", "!key1"),
    ("env in (prod,devel)", "env in (devel,prod)"),
    ("env notin (prod,devel)", "env notin (devel,prod)"),
    ("a in (b, c)", "a in (b,c)"),
    ("x,y", "x,y"),
    ("y,x", "x,y"),
    ("a=", "a="),
    ("a==b", "a==b"),
    ("a != b", "a!=b"),
    ("a in ()", "a in ()"),
    ("a notin (b,)", "a notin (,b)"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("a in (c,b,c,a)", "a in (a,b,c)"),
    ("  env  in  ( prod )  ", "env in (prod)"),
    ("z=1,!y,x in (b,a),w notin (d,c),v", "v,w notin (c,d),x in (a,b),!y,z=1"),
    ("b=1,a=2,a!=3", "a=2,a!=3,b=1"),  # same key: written order kept
    ("n>5,m<2", "m<2,n>5"),
    ("app.kubernetes.io/name=web,app=web", "app=web,app.kubernetes.io/name=web"),
    ("B=1,a=1", "B=1,a=1"),  # byte order: upper case first
]


@pytest.mark.parametrize("text,canonical", CANONICAL)
def test_canonical_string(text, canonical):
    selector = parse(text)
    assert str(selector) == canonical
    assert str(parse(canonical)) == canonical  # the canonical form reads back the same
    assert parse(canonical) == selector


def test_requirements_and_empty():
    selector = parse("env in (prod,devel), !gone, app=pc")
    assert selector.requirements == [
        Requirement("app", EQUALS, ["pc"]),
        Requirement("env", IN, ["devel", "prod"]),
        Requirement("gone", "!", []),
    ]
    assert [str(r) for r in selector.requirements] == ["app=pc", "env in (devel,prod)", "!gone"]
    assert not selector.empty
    assert parse("").empty and parse(" ").empty and parse(None).empty
    assert parse("") is Everything()
    assert repr(selector) == "Selector('app=pc,env in (devel,prod),!gone')"


def test_everything_and_nothing():
    assert Everything().empty and Everything().matches({}) and Everything().matches({"a": "b"})
    assert str(Everything()) == "" and Everything().requirements == []
    assert not Nothing().empty and Nothing().matches_nothing and not Everything().matches_nothing
    assert not Nothing().matches({}) and not Nothing().matches({"a": "b"})
    assert str(Nothing()) == "" and Nothing().requirements == []
    assert Nothing() != Everything()
    assert Nothing().add(Requirement("a", EXISTS)) is Nothing()


def test_add_and_exact_match():
    selector = parse("env=prod").add(new_requirement("app", IN, ["web"]))
    assert str(selector) == "app in (web),env=prod"
    assert selector.requires_exact_match("app") == "web"
    assert selector.requires_exact_match("env") == "prod"
    assert selector.requires_exact_match("tier") is None
    assert parse("env in (a,b)").requires_exact_match("env") is None
    assert parse("env!=a").requires_exact_match("env") is None


# --- the string language: refusals, worded as the API server words them -----------------------

INVALID = [
    # values sets and parentheses
    ("a in b", UNABLE + "found 'b' expected: '('"),
    ("a notin b", UNABLE + "found 'b' expected: '('"),
    ("a in", UNABLE + "found '' expected: '('"),
    ("a in (b,", UNABLE + "found '', expected: ',', or identifier"),
    ("a in (b", UNABLE + "found '', expected: ',' or ')'"),
    ("a in (", UNABLE + "found '', expected: ',', ')' or identifier"),
    ("a in (b c)", UNABLE + "found 'c', expected: ',' or ')'"),
    ("a in ((b))", UNABLE + "found '(', expected: ',', ')' or identifier"),
    ("a in (b=c)", UNABLE + "found '=', expected: ',' or ')'"),
    ("a in (,=)", UNABLE + "found '=', expected: ',', or identifier"),
    ("x in (a,,)", UNABLE + "found ')', expected: ',', or identifier"),  # 1.32 quirk
    ("a in (b)c", "found 'c', expected: ',' or 'end of string'"),
    ("a in (b) c", "found 'c', expected: ',' or 'end of string'"),
    # operators
    ("=a", "found '=', expected: !, identifier, or 'end of string'"),
    ("==a", "found '==', expected: !, identifier, or 'end of string'"),
    ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a!b", UNABLE + f"found '!', expected: {OPERATORS}"),
    ("a b", UNABLE + f"found 'b', expected: {OPERATORS}"),
    ("a (b)", UNABLE + f"found '(', expected: {OPERATORS}"),
    ("a)", UNABLE + f"found ')', expected: {OPERATORS}"),
    ("a exists", UNABLE + f"found 'exists', expected: {OPERATORS}"),
    ("a:b", UNABLE + '<nil>: Invalid value: "a:b": ' + KEY_REGEX),
    ("a=!b", UNABLE + "found '!', expected: identifier"),
    ("a===b", UNABLE + "found '=', expected: identifier"),
    ("a!==b", UNABLE + "found '=', expected: identifier"),
    ("a=(b)", UNABLE + "found '(', expected: identifier"),
    ("a=)", UNABLE + "found ')', expected: identifier"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("!a in (b)", "found 'in', expected: ',' or 'end of string'"),
    ("!a b", "found 'b', expected: ',' or 'end of string'"),
    ("!", UNABLE + "found '', expected: identifier"),
    ("!!a", UNABLE + "found '!', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    # commas
    ("a=b,", "found '', expected: identifier after ','"),
    ("a,", "found '', expected: identifier after ','"),
    ("a,,b", "found ',', expected: identifier after ','"),
    ("a, =b", "found '=', expected: identifier after ','"),
    (",", "found ',', expected: !, identifier, or 'end of string'"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    # keys
    ("a$b=c", UNABLE + '<nil>: Invalid value: "a$b": ' + KEY_REGEX),
    ("-a", UNABLE + '<nil>: Invalid value: "-a": ' + KEY_REGEX),
    ("a_", UNABLE + '<nil>: Invalid value: "a_": ' + KEY_REGEX),
    ("k" * 64 + "=v", UNABLE + f'<nil>: Invalid value: "{"k" * 64}": '
     "name part must be no more than 63 characters"),
    ("k" * 64 + "$", UNABLE + f'<nil>: Invalid value: "{"k" * 64}$": '
     f"name part must be no more than 63 characters; {KEY_REGEX}"),
    ("Example.com/a=b", UNABLE + '<nil>: Invalid value: "Example.com/a": prefix part '
     + SUBDOMAIN_REGEX),
    ("/a", UNABLE + '<nil>: Invalid value: "/a": prefix part must be non-empty'),
    ("a/b/c", UNABLE + '<nil>: Invalid value: "a/b/c": a qualified name must consist of '
     "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
     "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
     "'/' (e.g. 'example.com/MyName')"),
    ('a"b', UNABLE + '<nil>: Invalid value: "a\\"b": ' + KEY_REGEX),
    # values
    ("a=b$", UNABLE + 'values[0][a]: Invalid value: "b$": ' + VALUE_REGEX),
    ("a=-b", UNABLE + 'values[0][a]: Invalid value: "-b": ' + VALUE_REGEX),
    ("a=" + "v" * 64, UNABLE + f'values[0][a]: Invalid value: "{"v" * 64}": '
     "must be no more than 63 characters"),
    ("a in (ok,b/c)", UNABLE + 'values[0][a]: Invalid value: "b/c": ' + VALUE_REGEX),
    ("a in (z,b/c)", UNABLE + 'values[0][a]: Invalid value: "b/c": ' + VALUE_REGEX),  # sorted
    ("a notin (x:y,z)", UNABLE + 'values[0][a]: Invalid value: "x:y": ' + VALUE_REGEX),
    ("a in (b:c,d:e)", UNABLE + '[values[0][a]: Invalid value: "b:c": ' + VALUE_REGEX
     + ', values[1][a]: Invalid value: "d:e": ' + VALUE_REGEX + "]"),
    ("a=b\x01", UNABLE + 'values[0][a]: Invalid value: "b\\x01": ' + VALUE_REGEX),
    # integer comparisons
    ("n>x", UNABLE + "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value "
     "must be an integer"),
    ("n<", UNABLE + "values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value "
     "must be an integer"),
    ("n>1.5", UNABLE + "values[0]: Invalid value: \"1.5\": for 'Gt', 'Lt' operators, the value "
     "must be an integer"),
    ("n>-x", UNABLE + "[values[0]: Invalid value: \"-x\": for 'Gt', 'Lt' operators, the value "
     "must be an integer, values[0][n]: Invalid value: \"-x\": " + VALUE_REGEX + "]"),
    # a negative bound is an integer but not a valid label value
    ("n>-1", UNABLE + 'values[0][n]: Invalid value: "-1": ' + VALUE_REGEX),
    ("n>9223372036854775808", UNABLE + "values[0]: Invalid value: \"9223372036854775808\": "
     "for 'Gt', 'Lt' operators, the value must be an integer"),
    ("n>>1", UNABLE + "found '>', expected: identifier"),
    ("n>=1", UNABLE + "found '=', expected: identifier"),
    # the first problem wins
    ("a=b,c d,e f", UNABLE + f"found 'd', expected: {OPERATORS}"),
]


@pytest.mark.parametrize("text,message", INVALID, ids=[i[0][:40] for i in INVALID])
def test_invalid_strings(text, message):
    with pytest.raises(SelectorError) as caught:
        parse(text)
    assert caught.value.message == message
    assert str(caught.value) == message


def test_empty_name_part_gives_both_messages():
    with pytest.raises(SelectorError) as caught:
        parse("a/=b")
    assert caught.value.message == (
        UNABLE + '<nil>: Invalid value: "a/": name part must be non-empty; ' + KEY_REGEX)


# --- requirements built directly (labels.NewRequirement) --------------------------------------

REQUIREMENT_ERRORS = [
    ("a", IN, [], "values: Invalid value: []string{}: for 'in', 'notin' operators, values set "
     "can't be empty"),
    ("a", NOT_IN, None, "values: Invalid value: []string(nil): for 'in', 'notin' operators, "
     "values set can't be empty"),
    ("a", EQUALS, ["b", "c"], 'values: Invalid value: []string{"b", "c"}: exact-match '
     "compatibility requires one single value"),
    ("a", "!=", [], "values: Invalid value: []string{}: exact-match compatibility requires one "
     "single value"),
    ("a", EXISTS, ["b"], 'values: Invalid value: []string{"b"}: values set must be empty for '
     "exists and does not exist"),
    ("a", GREATER_THAN, ["1", "2"], 'values: Invalid value: []string{"1", "2"}: for \'Gt\', '
     "'Lt' operators, exactly one value is required"),
    ("a", "~", [], 'operator: Unsupported value: "~": supported values: "in", "notin", "=", '
     '"==", "!=", "gt", "lt", "exists", "!"'),
    ("a$", EQUALS, ["b$"], '[key: Invalid value: "a$": ' + KEY_REGEX
     + ', values[0][a$]: Invalid value: "b$": ' + VALUE_REGEX + "]"),
]


@pytest.mark.parametrize("key,op,values,message", REQUIREMENT_ERRORS)
def test_new_requirement_errors(key, op, values, message):
    with pytest.raises(SelectorError) as caught:
        new_requirement(key, op, values)
    assert caught.value.message == message


def test_new_requirement_with_path():
    with pytest.raises(SelectorError) as caught:
        new_requirement("a", IN, ["x y"], path="spec.selector")
    assert caught.value.message == (
        'spec.selector.values[0][a]: Invalid value: "x y": ' + VALUE_REGEX)
    requirement = new_requirement("a", NOT_IN, ["c", "b"])
    assert requirement.values == ("c", "b") and str(requirement) == "a notin (b,c)"
    assert requirement.matches({"a": "d"}) and not requirement.matches({"a": "b"})


# --- the LabelSelector object -----------------------------------------------------------------

# (selector object, canonical string, must match, must not match)
OBJECTS = [
    ({}, "", [{}, {"a": "b"}], []),
    ({"matchLabels": {}, "matchExpressions": []}, "", [{}], []),
    ({"matchLabels": {"app": "kubia"}}, "app=kubia", [{"app": "kubia", "x": "y"}],
     [{}, {"app": "other"}]),
    ({"matchLabels": {"app": "kubia"},
      "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]},
     "app=kubia,env in (prod)", [{"app": "kubia", "env": "prod"}],
     [{"app": "kubia"}, {"env": "prod"}, {"app": "kubia", "env": "dev"}]),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod", "devel"]}]},
     "env notin (devel,prod)", [{}, {"env": "qa"}], [{"env": "prod"}, {"env": "devel"}]),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, "tier",
     [{"tier": ""}], [{}]),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist", "values": []}]}, "!tier",
     [{}], [{"tier": "x"}]),
    ({"matchLabels": {"z": "1", "b": "2"},
      "matchExpressions": [{"key": "c", "operator": "Exists"},
                           {"key": "a", "operator": "In", "values": ["y", "x"]}]},
     "a in (x,y),b=2,c,z=1", [{"a": "x", "b": "2", "c": "", "z": "1"}],
     [{"a": "x", "b": "2", "z": "1"}]),
    ({"matchLabels": {"app": "web"},
      "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
     "app=web,app notin (web)", [], [{"app": "web"}, {}]),
]


@pytest.mark.parametrize("obj,text,good,bad", OBJECTS)
def test_label_selector_objects(obj, text, good, bad):
    assert validate_label_selector(obj, "spec.selector") == []
    selector = from_label_selector(obj)
    assert str(selector) == text
    assert selector == parse(text)
    assert selector.empty == (text == "")
    for labels in good:
        assert selector.matches(labels), labels
    for labels in bad:
        assert not selector.matches(labels), labels


def test_null_label_selector_selects_nothing_and_empty_selects_everything():
    assert from_label_selector(None) is Nothing()
    assert not from_label_selector(None).matches({})
    assert from_label_selector({}) is Everything()
    assert from_label_selector({}).matches({"anything": "at-all"})
    assert validate_label_selector(None, "spec.selector") == []


# (selector object, [str(field error)])
INVALID_OBJECTS = [
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": []}]},
     ["spec.selector.matchExpressions[0].values: Required value: must be specified when "
      "`operator` is 'In' or 'NotIn'"]),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn"}]},
     ["spec.selector.matchExpressions[0].values: Required value: must be specified when "
      "`operator` is 'In' or 'NotIn'"]),
    ({"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["prod"]}]},
     ["spec.selector.matchExpressions[0].values: Forbidden: may not be specified when "
      "`operator` is 'Exists' or 'DoesNotExist'"]),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["ok"]},
                           {"key": "env", "operator": "DoesNotExist", "values": ["x"]}]},
     ["spec.selector.matchExpressions[1].values: Forbidden: may not be specified when "
      "`operator` is 'Exists' or 'DoesNotExist'"]),
    ({"matchExpressions": [{"key": "env", "operator": "in", "values": ["prod"]}]},
     ['spec.selector.matchExpressions[0].operator: Invalid value: "in": not a valid selector '
      "operator"]),
    ({"matchExpressions": [{"key": "env", "operator": "Equals", "values": ["prod"]}]},
     ['spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid '
      "selector operator"]),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["ok", "not ok"]}]},
     ['spec.selector.matchExpressions[0].values[1]: Invalid value: "not ok": ' + VALUE_REGEX]),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["v" * 64]}]},
     [f'spec.selector.matchExpressions[0].values[0]: Invalid value: "{"v" * 64}": '
      "must be no more than 63 characters"]),
    ({"matchExpressions": [{"key": "bad key", "operator": "Exists"}]},
     ['spec.selector.matchExpressions[0].key: Invalid value: "bad key": ' + KEY_REGEX]),
    ({"matchLabels": {"app": "kubia", "bad key": "x"}},
     ['spec.selector.matchLabels: Invalid value: "bad key": ' + KEY_REGEX]),
    ({"matchLabels": {"app": "bad value"}},
     ['spec.selector.matchLabels: Invalid value: "bad value": ' + VALUE_REGEX]),
    ({"matchLabels": {"app/x/y": "-"},
      "matchExpressions": [{"key": "", "operator": "Bogus", "values": ["a b"]}]},
     ['spec.selector.matchLabels: Invalid value: "app/x/y": a qualified name must consist of '
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
      "'/' (e.g. 'example.com/MyName')",
      'spec.selector.matchLabels: Invalid value: "-": ' + VALUE_REGEX,
      'spec.selector.matchExpressions[0].operator: Invalid value: "Bogus": not a valid '
      "selector operator",
      'spec.selector.matchExpressions[0].key: Invalid value: "": name part must be non-empty',
      'spec.selector.matchExpressions[0].key: Invalid value: "": ' + KEY_REGEX,
      'spec.selector.matchExpressions[0].values[0]: Invalid value: "a b": ' + VALUE_REGEX]),
]


@pytest.mark.parametrize("obj,errors", INVALID_OBJECTS)
def test_invalid_label_selector_objects(obj, errors):
    found = validate_label_selector(obj, "spec.selector")
    assert [str(e) for e in found] == errors
    with pytest.raises(SelectorError):
        from_label_selector(obj)
    assert to_string(obj) == "<error>"


def test_field_error_types():
    [required] = validate_label_selector(
        {"matchExpressions": [{"key": "a", "operator": "In"}]}, "spec.selector")
    assert (required.type, required.field) == (
        "FieldValueRequired", "spec.selector.matchExpressions[0].values")
    [forbidden] = validate_label_selector(
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}, "sel")
    assert forbidden.type == "FieldValueForbidden"
    [operator] = validate_label_selector(
        {"matchExpressions": [{"key": "a", "operator": "Nope"}]}, "sel")
    assert (operator.type, operator.field, operator.value) == (
        "FieldValueInvalid", "sel.matchExpressions[0].operator", "Nope")


# What LabelSelectorAsSelector answers for a selector that did not pass validation.
AS_SELECTOR_ERRORS = [
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": []}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
     "empty"),
    ({"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["a"]}]},
     'values: Invalid value: []string{"a"}: values set must be empty for exists and does not '
     "exist"),
    ({"matchExpressions": [{"key": "env", "operator": "Equals", "values": ["a"]}]},
     '"Equals" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "env"}]}, '"" is not a valid label selector operator'),
    ({"matchLabels": {"a b": "c"}}, 'key: Invalid value: "a b": ' + KEY_REGEX),
    ({"matchLabels": {"a": "c d"}}, 'values[0][a]: Invalid value: "c d": ' + VALUE_REGEX),
]


@pytest.mark.parametrize("obj,message", AS_SELECTOR_ERRORS)
def test_from_label_selector_errors(obj, message):
    with pytest.raises(SelectorError) as caught:
        from_label_selector(obj)
    assert caught.value.message == message


# --- printing ---------------------------------------------------------------------------------

def test_to_string_as_kubectl_prints_it():
    assert to_string({"matchLabels": {"app": "kubia"},
                      "matchExpressions": [{"key": "env", "operator": "In",
                                            "values": ["prod"]}]}) == "app=kubia,env in (prod)"
    assert to_string({"matchLabels": {"env": "prod", "app": "kubia"}}) == "app=kubia,env=prod"
    assert to_string({"matchExpressions": [{"key": "env", "operator": "NotIn",
                                            "values": ["b", "a"]},
                                           {"key": "gpu", "operator": "DoesNotExist"}]}) \
        == "env notin (a,b),!gpu"
    assert to_string(None) == "<none>"
    assert to_string({}) == "<none>"
    assert to_string({}, none="") == ""  # Scale status.selector
    assert to_string({"matchLabels": {"app": "kubia"}}, none="") == "app=kubia"


def test_format_labels_for_map_selectors():
    assert format_labels({"app": "kubia", "env": "prod"}) == "app=kubia,env=prod"
    assert format_labels({"env": "prod", "app": "kubia"}) == "app=kubia,env=prod"
    assert format_labels({}) == "<none>"
    assert format_labels(None) == "<none>"


# --- map selectors (ReplicationController, Service) -------------------------------------------

def test_from_map():
    selector = from_map({"app": "kubia", "env": "prod"})
    assert str(selector) == "app=kubia,env=prod"
    assert selector == parse("env=prod,app=kubia")
    assert selector.matches({"app": "kubia", "env": "prod", "extra": "x"})
    assert not selector.matches({"app": "kubia"})
    assert not selector.matches({"app": "kubia", "env": "dev"})
    # As SelectorFromSet: absent and empty maps are Everything; the consumers check first.
    assert from_map(None) is Everything() and from_map({}) is Everything()


# --- speed ------------------------------------------------------------------------------------

def test_matching_is_cheap():
    rng = random.Random(7)
    apps = ["kubia", "web", "db", "cache"]
    envs = ["prod", "devel", "qa", "staging"]
    label_sets = []
    for i in range(10_000):
        labels = {"app": rng.choice(apps), "pod-template-hash": f"h{i % 97}"}
        if rng.random() < 0.8:
            labels["env"] = rng.choice(envs)
        if rng.random() < 0.3:
            labels["tier"] = "front"
        label_sets.append(labels)
    text = "app in (kubia,web),env notin (qa),!tier,pod-template-hash"
    started = time.perf_counter()
    selector = parse(text)
    parsed = time.perf_counter()
    selected = sum(1 for labels in label_sets if selector.matches(labels))
    done = time.perf_counter()
    expected = sum(
        1 for labels in label_sets
        if labels["app"] in ("kubia", "web") and labels.get("env") != "qa"
        and "tier" not in labels
    )
    assert selected == expected
    equality = parse("app=kubia,env=prod")
    t0 = time.perf_counter()
    simple = sum(1 for labels in label_sets if equality.matches(labels))
    t1 = time.perf_counter()
    print(f"\nselectors: parse {text!r} in {(parsed - started) * 1e6:.0f} us; "
          f"matched 10,000 label sets in {(done - parsed) * 1e3:.2f} ms ({selected} selected); "
          f"'app=kubia,env=prod' over 10,000 in {(t1 - t0) * 1e3:.2f} ms ({simple} selected)")


def test_module_exports():
    for name in selectors.__all__:
        assert hasattr(selectors, name), name
    assert isinstance(parse("a"), Selector)
