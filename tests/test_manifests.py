"""cluster.manifests: YAML in, errors that teach (the seed's manifests, mistakes included)."""

import time
from pathlib import Path

import pytest

from cluster import manifests, schema
from cluster.errors import FieldError
from cluster.manifests import ManifestError, parse

SEED = Path("/work/shared/seed/000_3812b945b6df1cdf.txt")

# The seed's manifests exactly as the learner pasted them (comments, the tab and the
# missing space before '#' included). test_snippets_are_the_seed_verbatim keeps them honest.

# seed lines 60-77
RC = """\
apiVersion: v1
kind: ReplicationController # RC의 manifest 정의
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    app: kubia # 관리하는 pod 선택
  template: # 새 pod 에 사용할 pod template
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - containerPort: 8080
"""

# seed lines 84-103
RS = """\
apiVersion: apps/v1beta2
kind: ReplicaSet
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    matchExpressions:
      - key: app # pod 의 키는 app 이다.
        operator: In # 이외에도 NotIn, Exists, DoesNotExist 등의 표현식이 있다.
        values:
         - kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
"""

# seed lines 119-132
JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: batch-job
spec:
  template: # pod selector 를 지정하지 않는다.
    metadata:
      labels:
        app: batch-job
    spec:
      restartPolicy: OnFailure # job 은 무한정 실행하지 않으므로 기본 정책 사용이 불가능하다 따라서 restartPolicy 는 OnFailure 나 Never 로 설정해야 한다.
      containers:
      - name: main
        image: luksa/batch-job
"""

# seed lines 135-152
CRONJOB = """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: batch-job-every-fifteen-minutes
spec:
  schedule: "0,15,30,45 * * * *" # 분 시 일 월 요일 
\tstartingDeadlineSecond: 15 #
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            app: periodic-batch-job
        spec:
          restartPolicy: OnFailure
          containers:
          - name: main
            image: luksa/batch-job
"""

# seed lines 159-169
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
  ports:
  - port: 80 # 서비스가 사용할 포트
    targetPort: 8080# 서비스가 포워드할 컨테이너 포트
  selector:
    app: kubia # app=kubia 레이블이 있는 모든 파드가 이 서비스에 포함된다는것을 의미
  sessionAffinity: ClientIP # 동일한 클라이언트 IP의 모든 요청을 동일한 파드로 전달. 없으면 파드 상관없이 로드밸런싱
"""

# seed lines 175-187
INGRESS = """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: kubia
spec:
  rules:
  - host: kubia.example.com # 인그레스는 kubia.example.com 도메인 이름으로 서비스에 매핑된다.
    http:
      paths:
      - path: /
        backend:
          serviceName: kubia-nodeport # 모든 요청은 kubia-nodeport 서비스의 포트 80으로 전달된다.
          servicePort: 80
"""

# seed lines 197-208
READINESS = """\
spec:
      containers:
        - name: kubia
          image: sungsu9022/kubia
          ports:
            - name: http
              containerPort: 8080
            readinessProbe: # 파드의 각 컨테이너에 레디니스 프로브를 정의
              exec: # ls /var/ready 명령어를 주기적으로 수행하여 존재하면 0(성공), 그렇지 않으면 다른 값(실패)
                command:
                  - ls
                  - /var/ready
"""

SEED_SNIPPETS = {"RC": RC, "RS": RS, "JOB": JOB, "CRONJOB": CRONJOB, "SERVICE": SERVICE,
                 "INGRESS": INGRESS, "READINESS": READINESS}

POD_HEAD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kubia\n"


def only(text):
    docs = parse(text)
    assert len(docs) == 1
    return docs[0]


@pytest.mark.skipif(not SEED.exists(), reason="the seed file is not on this machine")
def test_snippets_are_the_seed_verbatim():
    seed = SEED.read_text(encoding="utf-8")
    for name, text in SEED_SNIPPETS.items():
        assert text in seed, name


# --- the seed, table by table -----------------------------------------------------------------

@pytest.mark.parametrize("text, kind, model, api_version", [
    (RC, "ReplicationController", "V1ReplicationController", "v1"),
    (RS, "ReplicaSet", "V1ReplicaSet", "apps/v1beta2"),     # reads fine as YAML; the store converts
    (JOB, "Job", "V1Job", "batch/v1"),
])
def test_seed_manifests_read_cleanly(text, kind, model, api_version):
    doc = only(text)
    assert (doc.index, doc.line, doc.errors) == (1, 1, [])
    assert doc.obj["kind"] == kind and doc.obj["apiVersion"] == api_version
    assert schema.check(doc.obj, model) == []


def test_seed_rc_fields_and_lines():
    doc = only(RC)
    assert doc.obj["spec"]["replicas"] == 3
    assert doc.obj["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 8080}]
    assert doc.line_of("spec.replicas") == 6
    assert doc.line_of("spec.template.spec.containers[0]") == 15
    assert doc.line_of("spec.template.spec.containers[0].ports[0].containerPort") == 18


def test_seed_rs_match_expressions():
    doc = only(RS)
    expr = doc.obj["spec"]["selector"]["matchExpressions"][0]
    assert expr == {"key": "app", "operator": "In", "values": ["kubia"]}
    assert doc.line_of("spec.selector.matchExpressions[0].values[0]") == 12


def test_seed_cronjob_tab_is_refused_at_its_line():
    with pytest.raises(ManifestError) as info:
        parse(CRONJOB)
    err = info.value
    assert (err.line, err.column, err.document) == (7, 1, 1)
    assert "line 7, column 1: a tab character: YAML indents with spaces, never tabs; " \
           "replace the tab with spaces" in err.message


def test_seed_cronjob_with_spaces_reads_and_the_typo_is_taught():
    doc = only(CRONJOB.replace("\t", "  "))
    assert doc.errors == []
    assert doc.obj["spec"]["schedule"] == "0,15,30,45 * * * *"
    assert doc.obj["spec"]["startingDeadlineSecond"] == 15
    errors = doc.locate(schema.check(doc.obj, "V1CronJob"))
    assert len(errors) == 1
    e = errors[0]
    assert (e.type, e.field, e.line) == ("FieldValueUnknown", "spec.startingDeadlineSecond", 7)
    assert e.hint == 'did you mean "startingDeadlineSeconds"?'
    assert str(e) == 'unknown field "spec.startingDeadlineSecond"'


def test_seed_service_comment_without_space():
    doc = only(SERVICE)
    target = doc.obj["spec"]["ports"][0]["targetPort"]
    assert target.startswith("8080# ")        # YAML read one string, not a port and a comment
    assert doc.obj["spec"]["ports"][0]["port"] == 80
    assert schema.check(doc.obj, "V1Service") == []     # IntOrString: a string is a port name
    # the store refuses the name (not an IANA_SVC_NAME); explain says why it happened
    refused = FieldError.invalid("spec.ports[0].targetPort", target,
                                 "must be no more than 15 characters")
    [e] = doc.locate([refused])
    assert e.line == 8
    assert e.hint == ("YAML reads `8080# ...` as one string: a comment needs a space before #, "
                      "write `8080 # ...`")


def test_seed_ingress_reads():
    doc = only(INGRESS)
    assert doc.obj["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {
        "serviceName": "kubia-nodeport", "servicePort": 80}
    assert doc.line_of("spec.rules[0].http.paths[0].backend.servicePort") == 13


def test_seed_readiness_snippet_as_pasted_is_a_yaml_error_that_teaches():
    # As pasted, readinessProbe sits at the column of the ports' '- ' items: YAML (PyYAML and
    # Go's alike) cannot read that, so it is a syntax error, explained.
    with pytest.raises(ManifestError) as info:
        parse(POD_HEAD + READINESS)
    err = info.value
    assert (err.line, err.column) == (12, 13)
    assert "readinessProbe is lined up with the '- ' items of the list that starts on line 10" \
        in err.message
    assert "indent it to column 15" in err.message
    assert "line it up with ports (column 11)" in err.message


def test_seed_readiness_under_the_port_item_gets_the_indentation_hint():
    # The other way learners get it wrong: readinessProbe lined up with containerPort.
    lines = READINESS.splitlines()
    fixed = lines[:7] + ["  " + line for line in lines[7:]]
    doc = only(POD_HEAD + "\n".join(fixed) + "\n")
    errors = doc.locate(schema.check(doc.obj, "V1Pod"))
    assert [(e.field, e.line) for e in errors] == [
        ("spec.containers[0].ports[0].readinessProbe", 12)]
    assert errors[0].hint == (
        "readinessProbe is a field of the container (spec.containers[0].readinessProbe): "
        "it is indented too far, line it up with ports")


# --- whole-text refusals ----------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_refused_in_milliseconds():
    start = time.perf_counter()
    with pytest.raises(ManifestError) as info:
        parse(BILLION_LAUGHS)
    elapsed = time.perf_counter() - start
    assert "billion laughs" in info.value.message and "100,000" in info.value.message
    assert elapsed < 0.2, elapsed


def test_small_anchors_are_fine_and_not_shared():
    docs = parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: &l {app: a}\n"
                 "  annotations: *l\n")
    obj = docs[0].obj
    assert obj["metadata"]["annotations"] == {"app": "a"}
    assert obj["metadata"]["annotations"] is not obj["metadata"]["labels"]


def test_merge_keys():
    doc = only("apiVersion: v1\nkind: ConfigMap\nbase: &b {x: '1', y: '2'}\n"
               "data:\n  <<: *b\n  y: '3'\n")
    assert doc.obj["data"] == {"x": "1", "y": "3"}
    assert doc.errors == []


def test_an_anchor_inside_itself_is_refused():
    with pytest.raises(ManifestError, match="used inside itself"):
        parse("a: &a [1, *a]\n")


def test_too_many_aliases():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (manifests.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(ManifestError, match="aliases"):
        parse(text)


def test_one_mebibyte_limit():
    ok = "a: " + "x" * (manifests.MAX_BYTES - 10) + "\n"
    parse(ok)
    with pytest.raises(ManifestError) as info:
        parse(ok + "y" * 20)
    assert "is 1,048,590 bytes" in info.value.message
    assert "at most 1,048,576 bytes (1 MiB)" in info.value.message
    with pytest.raises(ManifestError, match="at most"):
        parse(b"#" * (manifests.MAX_BYTES + 1))


def test_non_utf8_bytes():
    with pytest.raises(ManifestError) as info:
        parse(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n")
    err = info.value
    assert (err.line, err.column) == (4, 12)
    assert "byte 0xe9 is not UTF-8" in err.message


def test_bytes_with_bom_and_utf8():
    doc = only("\ufeffapiVersion: v1\nkind: ConfigMap\ndata:\n  k: 한국어\n".encode("utf-8"))
    assert doc.obj["data"] == {"k": "한국어"}


def test_control_character():
    with pytest.raises(ManifestError, match="line 2, column 7: the character U\\+0007"):
        parse("a: b\nc: d e\x07\n")


def test_python_tags_are_refused():
    with pytest.raises(ManifestError, match="!!python/object/apply:os.system is not allowed"):
        parse("a: !!python/object/apply:os.system ['true']\n")


@pytest.mark.parametrize("text, where, words", [
    ('a: "unclosed\nb: c\n', "line 1, column 4", "a quote opened on line 1 is never closed"),
    ("a: *nope\n", "line 1, column 4", "the alias *nope refers to an anchor &nope"),
    ("a:\n  b: 1\n c: 2\n", "line 3, column 2", "does not line up with the keys of the map"),
    ("a: b: c\n", "line 1, column 5", "a ': ' here"),
])
def test_syntax_errors_in_plain_words(text, where, words):
    with pytest.raises(ManifestError) as info:
        parse(text)
    assert where in info.value.message and words in info.value.message


def test_syntax_error_names_its_document():
    text = "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\n\tkind: Pod\n"
    with pytest.raises(ManifestError) as info:
        parse(text)
    assert info.value.message.startswith("document 2, line 5, column 1: a tab character")
    assert info.value.document == 2


# --- documents --------------------------------------------------------------------------------

def test_multi_document_indexes_and_lines():
    text = ("# leading comment\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"        # doc 1, line 2
            "---\n"
            "---\n"                                                  # doc 2: empty, skipped
            "# about b\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n"       # doc 3, line 8
            "...\n"
            "---\n"
            "- 1\n- 2\n")                                            # doc 4: a list
    docs = parse(text)
    assert [(d.index, d.line) for d in docs] == [(1, 2), (3, 8), (4, 14)]
    assert docs[1].obj["metadata"]["name"] == "b"
    assert docs[1].line_of("metadata.name") == 11
    assert docs[0].errors == docs[1].errors == []
    [e] = docs[2].errors
    assert docs[2].obj is None
    assert e.detail == ("document 4 is a list, expected a Kubernetes object (a map with "
                        "apiVersion, kind, metadata)")
    assert e.line == 14


def test_empty_text():
    assert parse("") == []
    assert parse("# only a comment\n---\n") == []


def test_missing_api_version_and_kind():
    doc = only("metadata:\n  name: x\n")
    assert [(e.field, e.type, e.detail, e.line) for e in doc.errors] == [
        ("apiVersion", "FieldValueRequired", "apiVersion not set", 1),
        ("kind", "FieldValueRequired", "kind not set", 1),
    ]


def test_list_expands_into_documents():
    text = ("apiVersion: v1\n"
            "kind: List\n"
            "items:\n"
            "- apiVersion: v1\n"           # line 4
            "  kind: Service\n"
            "  metadata: {name: s}\n"
            "- apiVersion: v1\n"           # line 7
            "  kind: Pod\n"
            "  metadata:\n"
            "    name: p\n"
            "---\n"
            "apiVersion: v1\nkind: ConfigMap\n")
    docs = parse(text)
    assert [(d.index, d.line, d.obj["kind"]) for d in docs] == [
        (1, 4, "Service"), (1, 7, "Pod"), (2, 12, "ConfigMap")]
    assert docs[1].line_of("metadata.name") == 10
    assert docs[1].line_of("") == 7


def test_typed_list_items_get_their_kind():
    docs = parse("apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n"
                 "- metadata: {name: b}\n")
    assert [(d.obj["apiVersion"], d.obj["kind"], d.obj["metadata"]["name"]) for d in docs] == [
        ("v1", "Pod", "a"), ("v1", "Pod", "b")]
    assert all(d.errors == [] for d in docs)


def test_duplicate_keys():
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n"
            "spec:\n  containers:\n  - name: c\n    image: x\n    image: y\n")
    doc = only(text)
    assert doc.obj["metadata"]["name"] == "b"           # the last one wins
    assert [(e.type, e.field, e.message, e.line) for e in doc.errors] == [
        ("FieldValueDuplicateField", "metadata.name", 'duplicate field "name"', 5),
        ("FieldValueDuplicateField", "spec.containers[0].image", 'duplicate field "image"', 10),
    ]
    assert "lines 4 and 5" in doc.errors[0].hint


def test_duplicate_keys_inside_a_list_item():
    docs = parse("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n"
                 "  kind: Pod\n")
    [e] = docs[0].errors
    assert (e.field, e.line) == ("kind", 6)


# --- scalars as Kubernetes reads them ---------------------------------------------------------

def test_scalars_follow_go_yaml():
    doc = only("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
               "  creationTimestamp: 2024-01-01T00:00:00Z\n"
               "data:\n  day: 2024-01-01\n  ports: 22:22\n")
    assert doc.obj["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"
    assert doc.obj["data"] == {"day": "2024-01-01", "ports": "22:22"}
    assert doc.obj["apiVersion"] == "v1"


def test_quoted_number_where_a_number_belongs():
    text = POD_HEAD + ('spec:\n  containers:\n  - name: c\n    image: x\n'
                       '    ports:\n    - containerPort: "8080"\n')
    doc = only(text)
    [e] = doc.locate(schema.check(doc.obj, "V1Pod"))
    assert (e.type, e.field, e.line) == ("FieldValueTypeInvalid",
                                         "spec.containers[0].ports[0].containerPort", 10)
    assert e.detail == "expected an integer, got a string"
    assert e.hint == '"8080" is in quotes, so YAML reads it as a string: write 8080 without quotes'


def test_quoted_replicas():
    doc = only("apiVersion: v1\nkind: ReplicationController\nspec:\n  replicas: '3'\n")
    [e] = doc.locate(schema.check(doc.obj, "V1ReplicationController"))
    assert (e.field, e.line) == ("spec.replicas", 4)
    assert e.hint == "'3' is in quotes, so YAML reads it as a string: write 3 without quotes"


def test_number_or_yes_where_a_string_belongs():
    doc = only(POD_HEAD.replace("  name: kubia\n", "  name: kubia\n  labels:\n"
                                "    version: 1.0\n    canary: yes\n"))
    errors = doc.locate(schema.check(doc.obj, "V1Pod"))
    assert [(e.field, e.line) for e in errors] == [("metadata.labels[version]", 6),
                                                    ("metadata.labels[canary]", 7)]
    assert errors[0].hint == 'YAML reads 1.0 as a number: write "1.0" in quotes to keep it a string'
    assert errors[1].hint.startswith('YAML reads yes as the boolean true (YAML 1.1 reads')


def test_line_of_nearest_ancestor_and_dotted_keys():
    doc = only("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n"
               "    app.kubernetes.io/name: web\n")
    assert doc.line_of("metadata.labels[app.kubernetes.io/name]") == 5
    assert doc.line_of("metadata.labels.app.kubernetes.io/name") == 5
    assert doc.line_of("metadata.labels.missing") == 4
    assert doc.line_of("spec.containers[3]") == 1           # nothing: the document's line


def test_locate_keeps_existing_lines_and_unknown_hints():
    doc = only(CRONJOB.replace("\t", "  "))
    errors = schema.check(doc.obj, "V1CronJob") + [FieldError.required("spec.jobTemplate").with_line(99)]
    located = doc.locate(errors)
    assert located[0].hint == 'did you mean "startingDeadlineSeconds"?'
    assert located[1].line == 99
