"""The simulated container shell (cluster/shell/): pure Python, no database, no real time.

Expected messages and exit codes were checked against real busybox ash (Debian's busybox 1.35,
`sh -c`): e.g. ash numbers lines from 0 in `-c` scripts ("sh: cd: line 0: can't cd to ..."),
and a failed redirection gives status 1.
"""

import json
import math
import random

import pytest

from cluster import shell
from cluster.shell import FileSystem, Host, ShellError, compile, run_command

T0 = 1767268800.0          # 2026-01-01 12:00:00 UTC, the test cluster's START


def sh(script, fs=None, env=None, io=None, now=T0, limit=60.0):
    """Run a shell command line in a busybox container; (code, out, err, slept)."""
    return run_command(script, fs or FileSystem("busybox"), now, env or {}, io or Host("pod-1"),
                       limit=limit)


def out_of(script, **kw):
    code, out, err, _ = sh(script, **kw)
    return out


def run_timeline(argv, call_times, fs=None, env=None, io=None, start=T0):
    """Run a container program, calling `run` at each time with the state JSON round-tripped.

    Returns (host, last outcome)."""
    io = io or Host("pod-1")
    fs = fs or FileSystem("busybox")
    prog = compile(argv)
    state, outcome = None, None
    for t in [start] + list(call_times):
        if outcome is not None and (outcome.exited or t < outcome.waiting_until):
            if outcome.exited:
                break
            continue                    # the kubelet only calls again when due; extra calls ok
        outcome = prog.run(state, fs, t, env or {}, io)
        if not outcome.exited:
            state = json.loads(json.dumps(outcome.state))
            assert state == outcome.state
    return io, outcome


# --------------------------------------------------------------------------------------------
# Builtins and commands: exit codes and busybox's messages
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, code, out, err", [
    ("echo hello world", 0, ["hello world"], []),
    ("echo -n a; echo b", 0, ["ab"], []),
    ("echo -e 'a\\tb\\nc'", 0, ["a\tb", "c"], []),
    ("echo 'a\\nb'", 0, ["a\\nb"], []),                       # busybox echo: no -e, no escapes
    ("echo -e 'x\\cy'; echo z", 0, ["xz"], []),
    ("printf '%s-%d\\n' a 7", 0, ["a-7"], []),
    ("printf '%s\\n' a b c", 0, ["a", "b", "c"], []),
    ("printf '%05.1f|%-3s|%x\\n' 3.14159 ab 255", 0, ["003.1|ab |ff"], []),
    ("printf '%d\\n' abc", 1, ["0"], ["sh: invalid number 'abc'"]),
    ("true", 0, [], []),
    ("false", 1, [], []),
    (":", 0, [], []),
    ("exit 3", 3, [], []),
    ("exit 256", 0, [], []),
    ("exit abc", 2, [], ["sh: exit: line 0: Illegal number: abc"]),
    ("false; exit", 1, [], []),
    ("pwd; cd /tmp; pwd; cd ..; pwd", 0, ["/", "/tmp", "/"], []),
    ("cd /nope", 2, [], ["sh: cd: line 0: can't cd to /nope: No such file or directory"]),
    ("echo\ncd /nope", 2, [""], ["sh: cd: line 1: can't cd to /nope: No such file or directory"]),
    ("cd /tmp; cd /; cd -", 0, ["/tmp"], []),
    ("hostname", 0, ["pod-1"], []),
    ("hostname -i", 0, ["127.0.0.1"], []),
    ("whoami; id", 0, ["root", "uid=0(root) gid=0(root) groups=0(root),10(wheel)"], []),
    ("uname; uname -n", 0, ["Linux", "pod-1"], []),
    ("date", 0, ["Thu Jan  1 12:00:00 UTC 2026"], []),
    ("date +%s; sleep 30; date '+%H:%M:%S'", 0, [str(int(T0)), "12:00:30"], []),
    ("date -u +%Y-%m-%dT%H:%M:%SZ", 0, ["2026-01-01T12:00:00Z"], []),
    ("nosuchcmd arg", 127, [], ["sh: nosuchcmd: not found"]),
    ("curl localhost", 127, [], ["sh: curl: not found"]),   # busybox has wget, not curl
    ("seq 3", 0, ["1", "2", "3"], []),
    ("seq 2 2 6", 0, ["2", "4", "6"], []),
    ("basename /a/b/c.txt .txt; dirname /a/b/c.txt", 0, ["c", "/a/b"], []),
    ("which ls sh; which nope", 1, ["/bin/ls", "/bin/sh"], []),
    ("command -v wget", 0, ["/bin/wget"], []),
])
def test_builtin_output_codes_and_messages(script, code, out, err):
    got = sh(script)
    assert got[:3] == (code, out, err)


@pytest.mark.parametrize("script, code, out, err", [
    ("touch /tmp/a; ls /tmp/a", 0, ["/tmp/a"], []),
    ("touch /nope/x", 1, [], ["touch: /nope/x: No such file or directory"]),
    ("touch -c /tmp/new; ls /tmp", 0, [], []),
    ("rm /tmp/x", 1, [], ["rm: can't remove '/tmp/x': No such file or directory"]),
    ("rm -f /tmp/x", 0, [], []),
    ("mkdir /tmp/d; rm /tmp/d", 1, [], ["rm: '/tmp/d' is a directory"]),
    ("mkdir -p /tmp/d/e; touch /tmp/d/e/f; rm -rf /tmp/d; ls /tmp/d", 1, [],
     ["ls: /tmp/d: No such file or directory"]),
    ("mkdir /tmp", 1, [], ["mkdir: can't create directory '/tmp': File exists"]),
    ("mkdir /a/b", 1, [], ["mkdir: can't create directory '/a/b': No such file or directory"]),
    ("mkdir -p /a/b/c && ls /a/b", 0, ["c"], []),
    ("rmdir /tmp/nope", 1, [], ["rmdir: '/tmp/nope': No such file or directory"]),
    ("cat /nope", 1, [], ["cat: can't open '/nope': No such file or directory"]),
    ("cat /tmp", 1, [], ["cat: read error: Is a directory"]),
    ("echo hi > /tmp/f; echo there >> /tmp/f; cat /tmp/f", 0, ["hi", "there"], []),
    ("echo one > /tmp/f; echo two > /tmp/f; cat /tmp/f", 0, ["two"], []),
    ("printf 'a\\nb\\n' > /tmp/f; cat -n /tmp/f", 0, ["     1\ta", "     2\tb"], []),
    ("cat < /etc/group", 0, ["root:x:0:", "nobody:x:65534:"], []),
    ("echo x > /nope/f", 1, [], ["sh: can't create /nope/f: nonexistent directory"]),
    ("cat < /nope", 1, [], ["sh: can't open /nope: no such file"]),
    ("printf 'x\\n' > a; printf 'y\\n' > b; cat -n a b", 0, ["     1\tx", "     2\ty"], []),
    ("mkdir -p a/b; touch a/b/c; ls -R a", 0, ["a:", "b", "", "a/b:", "c"], []),
    ("ls /var/ready", 1, [], ["ls: /var/ready: No such file or directory"]),
    ("ls /", 0, "bin dev etc home lib lib64 proc root sys tmp usr var".split(), []),
    ("cd /etc; ls", 0, ["group", "passwd"], []),
    ("touch /tmp/.hidden /tmp/v; ls /tmp; ls -A /tmp", 0, ["v", ".hidden", "v"], []),
    ("touch /tmp/f; ls -d /tmp /tmp/f", 0, ["/tmp", "/tmp/f"], []),
    ("mkdir /tmp/d; touch /tmp/d/x /tmp/f; ls /tmp/f /tmp/d", 0,
     ["/tmp/f", "", "/tmp/d:", "x"], []),
    ("ls /nope /etc", 1, ["/etc:", "group", "passwd"],            # 2+ operands: labelled
     ["ls: /nope: No such file or directory"]),
    ("ls -z", 1, [], ["ls: invalid option -- 'z'"]),
    ("echo hi > /tmp/f; ls -l /tmp/f", 0,
     ["-rw-r--r--    1 root     root             3 Jan  1 12:00 /tmp/f"], []),
    ("echo data > /tmp/a; cp /tmp/a /tmp/b; mv /tmp/a /tmp/c; ls /tmp; cat /tmp/b", 0,
     ["b", "c", "data"], []),
    ("echo a >/dev/null; echo b 2>/dev/null; ls /nope 2>/dev/null; echo $?", 0, ["b", "1"], []),
    ("ls /nope 2>&1", 1, ["ls: /nope: No such file or directory"], []),
    ("echo err >&2", 0, [], ["err"]),
    ("ls /nope > /tmp/log 2>&1; cat /tmp/log", 0, ["ls: /nope: No such file or directory"], []),
    ("ls /nope 2>&1 >/dev/null", 1, ["ls: /nope: No such file or directory"], []),
    ("echo x &> /tmp/both; cat /tmp/both", 0, ["x"], []),
])
def test_file_commands(script, code, out, err):
    assert sh(script)[:3] == (code, out, err)


@pytest.mark.parametrize("expr, code", [
    ("[ -f /etc/passwd ]", 0), ("[ -f /etc ]", 1), ("[ -d /etc ]", 0), ("[ -e /nope ]", 1),
    ("[ -z '' ]", 0), ("[ -z x ]", 1), ("[ -n x ]", 0), ("[ -n '' ]", 1),
    ("[ a = a ]", 0), ("[ a = b ]", 1), ("[ a != b ]", 0), ("[ a == a ]", 0),
    ("[ 3 -eq 3 ]", 0), ("[ 3 -ne 3 ]", 1), ("[ 2 -lt 3 ]", 0), ("[ 4 -gt 3 ]", 0),
    ("[ 3 -le 3 ]", 0), ("[ 2 -ge 3 ]", 1), ("[ ! -e /nope ]", 0), ("[ x ]", 0), ("[ '' ]", 1),
    ("[ ]", 1), ("[ -e /etc -a -e /nope ]", 1), ("[ -e /etc -o -e /nope ]", 0),
    ("[ ! a = b ]", 0), ("[ \\( a = a \\) ]", 0), ("test -d /tmp", 0), ("test", 1),
    ("[ -s /etc/passwd ]", 0), ("[ -x /bin/ls ]", 0), ("[ -x /etc/passwd ]", 1),
])
def test_test_and_brackets(expr, code):
    assert sh(expr)[:3] == (code, [], [])


@pytest.mark.parametrize("expr, err", [
    ("[ 1 -eq 1", "sh: missing ]"),
    ("[ abc -eq 1 ]", "sh: abc: bad number"),
    ("test a b c d", "sh: b: unknown operand"),
])
def test_test_errors_exit_2(expr, err):
    assert sh(expr)[:3] == (2, [], [err])


def test_env_and_printenv_show_the_container_environment():
    code, out, _, _ = sh("export COLOR=blue; LOCAL=1; env; printenv COLOR; printenv NOPE",
                         env={"APP": "kubia", "PATH": "/bin:/usr/bin"})
    assert code == 1                                    # printenv of a missing variable
    assert "APP=kubia" in out and "COLOR=blue" in out and "PATH=/bin:/usr/bin" in out
    assert "HOSTNAME=pod-1" in out and "HOME=/root" in out
    assert not any(line.startswith("LOCAL=") for line in out)
    assert out[-1] == "blue"


def test_env_prefix_assignment_reaches_the_command_only():
    assert out_of("A=1 env | grep '^A='; echo \"[$A]\"") == ["A=1", "[]"]


# --------------------------------------------------------------------------------------------
# Lists, conditionals and loops
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, code, out", [
    ("true && echo yes", 0, ["yes"]),
    ("false && echo yes", 1, []),
    ("false || echo no", 0, ["no"]),
    ("true || echo no", 0, []),
    ("false && echo a || echo b", 0, ["b"]),
    ("true && false || echo c", 0, ["c"]),
    ("true && echo a || echo b", 0, ["a"]),
    ("echo a; false; echo b", 0, ["a", "b"]),
    ("echo a\necho b\n\n", 0, ["a", "b"]),
    ("false; echo $?; true; echo $?", 0, ["1", "0"]),
    ("! false && echo negated", 0, ["negated"]),
    ("! true; echo $?", 0, ["1"]),
    ("if true; then echo t; else echo f; fi", 0, ["t"]),
    ("if false; then echo t; else echo f; fi", 0, ["f"]),
    ("if false; then echo t; fi; echo $?", 0, ["0"]),
    ("if false; then echo 1; elif true; then echo 2; else echo 3; fi", 0, ["2"]),
    ("if [ -e /nope ]\nthen\n  echo yes\nelse\n  echo no\nfi", 0, ["no"]),
    ("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done", 0, ["0", "1", "2"]),
    ("i=0; until [ $i -ge 2 ]; do echo $i; i=$((i+1)); done", 0, ["0", "1"]),
    ("while false; do echo never; done; echo $?", 0, ["0"]),
    ("for x in a b c; do echo $x; done", 0, ["a", "b", "c"]),
    ("for x in; do echo $x; done; echo end", 0, ["end"]),
    ("for f in /etc/*; do echo $f; done", 0, ["/etc/group", "/etc/passwd"]),
    ("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done", 0, ["1", "2"]),
    ("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done", 0, ["1", "3"]),
    ("i=0; while true; do i=$((i+1)); [ $i -gt 3 ] && break; done; echo $i", 0, ["4"]),
    ("for a in x y; do for b in 1 2; do [ $b = 2 ] && continue 2; echo $a$b; done; done", 0,
     ["x1", "y1"]),
    ("for a in x y; do for b in 1 2; do break 2; done; done; echo out $a$b", 0, ["out x1"]),
    ("{ echo a; echo b; } && echo c", 0, ["a", "b", "c"]),
    ("x=1; (x=2; echo $x; exit 4); echo $? $x", 0, ["2", "4 1"]),
    ("(cd /tmp); pwd", 0, ["/"]),
    ("exit 5; echo never", 5, []),
    ("false && exit 1; echo survived", 0, ["survived"]),
    ("set -e; true; false; echo never", 1, []),
    ("set -e; false || true; if false; then :; fi; ! true; echo fine", 0, ["fine"]),
    ("echo a # a comment\n# whole line\necho b", 0, ["a", "b"]),
    ("echo one \\\n two", 0, ["one two"]),
])
def test_lists_conditionals_and_loops(script, code, out):
    got = sh(script)
    assert got[:3] == (code, out, [])


def test_pipelines_feed_stdout_to_the_next_command():
    assert out_of("printf 'a\\nb\\nab\\n' | grep a") == ["a", "ab"]
    assert out_of("printf 'a\\nb\\n' | wc -l") == ["2"]
    assert out_of("seq 10 | tail -n 2 | head -1") == ["9"]
    assert out_of("echo hi | grep -q hi && echo found") == ["found"]
    assert out_of("echo hi | tee /tmp/t >/dev/null; cat /tmp/t") == ["hi"]
    assert sh("echo x | grep -c y")[:2] == (1, ["0"])
    assert out_of("x=1; echo hi | x=2; echo $x") == ["1"]          # stages are subshells


@pytest.mark.parametrize("script, out", [
    ("printf 'a 1\\nb 2\\n' > f; while read k v; do echo \"$v=$k\"; done < f", ["1=a", "2=b"]),
    ("printf 'a\\nb\\n' | while read l; do echo \"<$l>\"; done", ["<a>", "<b>"]),
    ("n=0; seq 3 > f; while read l; do n=$((n+1)); done < f; echo $n", ["3"]),  # no subshell
    ("for f in a b; do echo $f; done > out; cat out", ["a", "b"]),
    ("{ echo x; echo y >&2; } 2>&1 | grep -c .", ["2"]),
    ("(echo sub; exit 3) | cat; echo $?", ["sub", "0"]),
    ("seq 3 | { while read n; do [ $n = 2 ] && continue; echo $n; done; }", ["1", "3"]),
    ("printf x | { read v; echo \"$? [$v]\"; }", ["1 [x]"]),
])
def test_compound_commands_in_pipelines_and_with_redirections(script, out):
    assert sh("cd /tmp; " + script)[:3] == (0, out, [])


def test_exit_inside_a_redirected_group_ends_the_shell():
    assert sh("{ echo a; exit 5; } > /dev/null; echo never")[:2] == (5, [])


def test_set_x_traces_commands_to_stderr():
    assert sh("set -x; echo 'a b'; sleep 1")[:3] == (0, ["a b"], ["+ echo 'a b'", "+ sleep 1"])


# --------------------------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, out", [
    ("echo $NAME ${NAME}s", ["kubia kubias"]),
    ("echo \"$NAME\" '$NAME'", ["kubia $NAME"]),
    ("echo \"[$NOPE]\"", ["[]"]),
    ("echo ${NOPE:-default} ${NAME:-x} ${EMPTY:-e} ${EMPTY-e}", ["default kubia e"]),
    ("echo ${NOPE:=set}; echo $NOPE", ["set", "set"]),
    ("echo ${NAME:+alt} [${NOPE:+alt}]", ["alt []"]),
    ("echo ${#NAME}", ["5"]),
    ("F=/a/b/c.txt; echo ${F##*/} ${F%.txt} ${F#/a} ${F%%/*}x", ["c.txt /a/b/c /b/c.txt x"]),
    ("X='a   b'; for w in $X; do echo $w; done", ["a", "b"]),
    ("X='a   b'; for w in \"$X\"; do echo \"$w\"; done", ["a   b"]),
    ("echo \"$(echo nested) and `echo back`\"", ["nested and back"]),
    ("echo $((2 + 3 * 4)) $((10 / 3)) $((10 % 3)) $((-7 / 2)) $(( (1+2) * 3 ))",
     ["14 3 1 -3 9"]),
    ("a=1; echo $((a+=2)) $a $((a>2?10:20)) $((2**10)) $((010)) $((0x10))", ["3 3 10 1024 8 16"]),
    ("set -- 'a b' c; for a in \"$@\"; do echo \"<$a>\"; done; echo \"$*\"",
     ["<a b>", "<c>", "a b c"]),
    ("echo \"$@\" x", ["x"]),                                  # "$@" with no arguments
    ("i=5; echo $((i * 2)) $(($i + 1)) $((i > 3 && i < 10))", ["10 6 1"]),
    ("echo $HOME ~ ~/x", ["/root /root /root/x"]),
    ("echo \"$HOSTNAME\"", ["pod-1"]),
    ("echo a\\ b \"c\\\"d\" 'e\\f'", ["a b c\"d e\\f"]),
    ("echo \"\" | wc -c", ["1"]),
    ("echo $$ $# $0", ["1 0 sh"]),
    ("echo /etc/pass*", ["/etc/passwd"]),
    ("echo '/etc/pass*'", ["/etc/pass*"]),
    ("echo /nothing/*", ["/nothing/*"]),
    ("echo $(sleep 2; date +%s)", [str(int(T0) + 2)]),
])
def test_variable_and_command_expansion(script, out):
    assert sh(script, env={"NAME": "kubia", "EMPTY": ""})[:3] == (0, out, [])


def test_sh_c_positional_arguments():
    assert run_command(["sh", "-c", "echo $0 $1 $#; echo \"$@\"", "me", "a b", "c"],
                       FileSystem("busybox"), T0, {}, Host())[:2] == (0, ["me a b 2", "a b c"])


@pytest.mark.parametrize("script, err", [
    ("echo $((1/0))", "sh: divide by zero"),
    ("echo $((1 +))", "sh: arithmetic syntax error"),
    ("echo ${NOPE:?is required}", "sh: NOPE: is required"),
    ("set -u; echo $NOPE", "sh: NOPE: parameter not set"),
])
def test_expansion_errors_end_the_shell_with_2(script, err):
    assert sh(script + "; echo after")[:3] == (2, [], [err])


# --------------------------------------------------------------------------------------------
# Syntax errors
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, message", [
    ("done", 'sh: syntax error: unexpected "done"'),
    ("echo a; done", 'sh: syntax error: unexpected "done"'),
    (";", 'sh: syntax error: unexpected ";"'),
    ("echo 'abc", "sh: syntax error: unterminated quoted string"),
    ('echo "abc', "sh: syntax error: unterminated quoted string"),
    ("if true; then echo x", 'sh: syntax error: unexpected end of file (expecting "fi")'),
    ("if true; echo x; fi", 'sh: syntax error: unexpected "fi" (expecting "then")'),
    ("while true; do done", 'sh: syntax error: unexpected "done"'),
    ("while true; echo; done", 'sh: syntax error: unexpected "done" (expecting "do")'),
    ("for x in a b; echo $x; done", 'sh: syntax error: unexpected word (expecting "do")'),
    ("for 1x in a; do :; done", "sh: syntax error: bad for loop variable"),
    ("true &&", "sh: syntax error: unexpected end of file"),
    ("| grep x", 'sh: syntax error: unexpected "|"'),
    ("echo >", "sh: syntax error: unexpected end of file"),
    ("echo $(if)", 'sh: syntax error: unexpected ")"'),
    ("(echo a", 'sh: syntax error: unexpected end of file (expecting ")")'),
    ("{ echo a", 'sh: syntax error: unexpected end of file (expecting "}")'),
    ("echo ${a b}", "sh: syntax error: bad substitution"),
    ("sleep 5 &", "sh: background jobs (&) are not supported in kubelab's shell"),
    ("f() { echo; }", "sh: functions are not supported in kubelab's shell"),
])
def test_syntax_errors_are_shell_errors_with_exit_code_2(script, message):
    with pytest.raises(ShellError) as e:
        compile(["sh", "-c", script])
    assert e.value.message == message and e.value.exit_code == 2
    assert sh(script)[:3] == (2, [], [message])


def test_syntax_error_names_the_shell_as_invoked():
    with pytest.raises(ShellError) as e:
        compile(["/bin/sh", "-c", "fi"])
    assert e.value.message == '/bin/sh: syntax error: unexpected "fi"'


# --------------------------------------------------------------------------------------------
# The resumable VM
# --------------------------------------------------------------------------------------------

LOOP = ["/bin/sh", "-c", 'i=0; while true; do echo "$i $(date +%s)"; i=$((i+1)); sleep 1; done']


def expected_loop_lines(until):
    """What the loop above has printed by simulated time `until` (relative to T0)."""
    return [(T0 + k, f"{k} {int(T0) + k}") for k in range(int(math.floor(until)) + 1)]


@pytest.mark.parametrize("times", [
    [k * 0.5 for k in range(1, 61)],               # ticks faster than the loop
    [k * 1.0 for k in range(1, 31)],               # in lock step
    [k * 7.0 for k in range(1, 5)],                # slower ticks: catches up each time
    [29.0],                                        # one big jump
    sorted(random.Random(4).uniform(0, 30) for _ in range(25)) + [29.0],
])
def test_loop_prints_exactly_what_a_real_run_would_by_each_time(times):
    io, outcome = run_timeline(LOOP, [T0 + t for t in times])
    assert io.out == expected_loop_lines(max(times))
    assert outcome.waiting_until == T0 + math.floor(max(times)) + 1


def test_every_resume_point_shows_the_prefix_of_the_full_timeline():
    prog = compile(LOOP)
    fs, io = FileSystem("busybox"), Host("pod-1")
    outcome = prog.run(None, fs, T0, {}, io)
    for step in range(1, 40):
        now = T0 + step * 0.75
        if now >= outcome.waiting_until:
            state = json.loads(json.dumps(outcome.state))
            outcome = prog.run(state, fs, now, {}, io)
        assert io.out == expected_loop_lines(step * 0.75)


def test_program_waits_and_exits_at_its_own_simulated_time():
    prog = compile(["sh", "-c", "echo start; sleep 5 && touch /tmp/done || exit 3; exit 4"])
    fs, io = FileSystem("busybox"), Host()
    first = prog.run(None, fs, T0, {}, io)
    assert (first.exited, first.waiting_until) == (False, T0 + 5)
    assert io.out == [(T0, "start")] and not fs.exists("/tmp/done")
    same = prog.run(json.loads(json.dumps(first.state)), fs, T0 + 4.9, {}, io)
    assert same.waiting_until == T0 + 5 and io.out == [(T0, "start")]
    late = prog.run(json.loads(json.dumps(same.state)), fs, T0 + 100, {}, io)
    assert (late.exit_code, late.finished_at) == (4, T0 + 5)
    assert fs.is_file("/tmp/done")


def test_direct_argv_runs_one_command():
    prog = compile(["sleep", "3600"])
    assert [ins[0] for ins in prog.code] == ["WAIT", "EXITST"]
    fs = FileSystem("busybox")
    out = prog.run(None, fs, T0, {}, Host())
    assert out.waiting_until == T0 + 3600
    done = prog.run(out.state, fs, T0 + 3600, {}, Host())
    assert (done.exit_code, done.finished_at) == (0, T0 + 3600)
    # no shell: $VAR is not expanded (the kubelet expands Kubernetes' $(VAR) beforehand)
    assert run_command(["echo", "$HOME", "a  b"], fs, T0, {}, Host())[:2] == (0, ["$HOME a  b"])


def test_missing_entrypoint_is_a_start_error_like_runc():
    out = compile(["curl", "localhost"]).run(None, FileSystem("busybox"), T0, {}, Host())
    assert out.exit_code == 128 and out.finished_at == T0
    assert out.error.endswith('exec: "curl": executable file not found in $PATH: unknown')
    out = compile(["/app/run"]).run(None, FileSystem("busybox"), T0, {}, Host())
    assert 'exec: "/app/run": stat /app/run: no such file or directory' in out.error
    code, out_lines, err, _ = run_command(["curl", "x"], FileSystem("busybox"), T0, {}, Host())
    assert code == 126 and err[0].startswith("OCI runtime exec failed")
    assert run_command(["curl", "-s", "x"], FileSystem("node"), T0, {},
                       Host(http={"http://x/": (200, "ok\n")}))[:2] == (0, ["ok"])


def test_sleep_forms_and_errors():
    assert sh("sleep 1.5; sleep 2s; sleep 1m; sleep 1 1", limit=100)[3] == 65.5
    assert sh("sleep 1h", limit=4000)[3] == 3600.0
    assert sh("sleep abc")[:3] == (1, [], ["sleep: invalid number 'abc'"])
    assert sh("sleep")[0] == 1
    assert sh("sleep 2 | cat; echo $?")[1:] == (["0"], [], 2.0)


def test_sleep_infinity_waits_forever_and_survives_json():
    prog = compile(["sh", "-c", "echo up; sleep infinity; echo never"])
    fs, io = FileSystem("busybox"), Host()
    out = prog.run(None, fs, T0, {}, io)
    assert out.waiting_until == math.inf
    state = json.loads(json.dumps(out.state))                      # strict JSON: no Infinity
    assert state["wake_at"] is None and state["forever"] is True
    again = prog.run(state, fs, T0 + 1e9, {}, io)
    assert again.waiting_until == math.inf and io.out == [(T0, "up")]
    assert sh("sleep infinity", limit=30)[0] is None


def test_busy_loop_uses_the_step_budget_and_yields():
    prog = compile(["sh", "-c", "i=0; while true; do i=$((i+1)); done"])
    fs = FileSystem("busybox")
    out = prog.run(None, fs, T0, {}, Host())
    assert not out.exited and out.waiting_until == T0 + 1
    i_after_one_call = int(out.state["vars"]["i"])
    assert 1000 < i_after_one_call < shell.STEP_BUDGET
    out2 = prog.run(json.loads(json.dumps(out.state)), fs, T0 + 1, {}, Host())
    assert out2.waiting_until == T0 + 2 and int(out2.state["vars"]["i"]) > i_after_one_call
    code, _, _, slept = sh("while :; do :; done", limit=3)
    assert code is None and slept == 3


def test_busy_counting_loop_finishes_over_several_calls():
    io, out = run_timeline(["sh", "-c", "i=0; while [ $i -lt 6000 ]; do i=$((i+1)); done; "
                                        "echo done $i"], [T0 + k for k in range(1, 10)])
    assert out.exited and io.out[-1][1] == "done 6000"


def test_catch_up_budget_leaves_the_program_runnable():
    prog = compile(["sh", "-c", "while true; do echo x; sleep 1; done"])
    fs, io = FileSystem("busybox"), Host()
    out = prog.run(None, fs, T0, {}, io)
    out = prog.run(out.state, fs, T0 + 100_000, {}, io)           # a very late call
    assert out.waiting_until <= T0 + 100_000                      # still runnable: call again
    n = len(io.out)
    out = prog.run(out.state, fs, T0 + 100_000, {}, io)
    assert len(io.out) > n and [t for t, _ in io.out] == sorted(t for t, _ in io.out)


def test_partial_output_line_is_kept_in_state_until_its_newline():
    prog = compile(["sh", "-c", "echo -n 'waiting...'; sleep 2; echo ' ready'; sleep 1"])
    fs, io = FileSystem("busybox"), Host()
    out = prog.run(None, fs, T0, {}, io)
    assert io.out == [] and out.state["partial_out"] == "waiting..."
    out = prog.run(json.loads(json.dumps(out.state)), fs, T0 + 2, {}, io)
    assert io.out == [(T0 + 2, "waiting... ready")]


def test_for_loop_position_survives_resume():
    io, out = run_timeline(["sh", "-c", "for n in one two three; do echo $n; sleep 10; done; "
                                        "echo end"], [T0 + 5, T0 + 10, T0 + 25, T0 + 31])
    assert io.out == [(T0, "one"), (T0 + 10, "two"), (T0 + 20, "three"), (T0 + 30, "end")]
    assert out.exit_code == 0 and out.finished_at == T0 + 30


def test_until_loop_waits_for_a_file_created_elsewhere():
    fs = FileSystem("busybox")
    prog = compile(["sh", "-c", "until [ -f /tmp/go ]; do sleep 2; done; echo go"])
    io = Host()
    out = prog.run(None, fs, T0, {}, io)
    out = prog.run(out.state, fs, T0 + 6, {}, io)
    assert not out.exited and io.out == []
    fs.touch("/tmp/go")
    out = prog.run(out.state, fs, T0 + 7, {}, io)
    assert not out.exited
    out = prog.run(out.state, fs, T0 + 8, {}, io)
    assert out.exit_code == 0 and io.out == [(T0 + 8, "go")]


def test_script_file_from_a_volume_runs_and_resumes():
    fs, vol = FileSystem("busybox"), FileSystem()
    vol.write("/run.sh", "#!/bin/sh\necho from script $1\nsleep 3\necho again\n")
    fs.mount("/scripts", vol, readonly=True)
    io, out = run_timeline(["sh", "/scripts/run.sh", "x"], [T0 + 3], fs=fs)
    assert io.out == [(T0, "from script x"), (T0 + 3, "again")] and out.exit_code == 0
    assert run_command(["/scripts/run.sh", "y"], fs, T0, {}, Host())[1] == [
        "from script y", "again"]
    assert sh("sh /scripts/nope.sh", fs=fs)[:3] == (
        2, [], ["sh: can't open '/scripts/nope.sh': No such file or directory"])


def test_listing_shows_the_instructions():
    listing = compile(["sh", "-c", "while true; do date; sleep 1; done"]).listing()
    assert [line.split()[1] for line in listing.splitlines()] == [
        "CLEAR", "RUN", "JNZ", "RUN", "WAIT", "SAVE", "JMP", "LOAD"]


# --------------------------------------------------------------------------------------------
# Exec probes and the exec console
# --------------------------------------------------------------------------------------------

def test_readiness_exec_probe_ls_var_ready_fails_until_touched():
    fs = FileSystem("busybox")
    probe = ["ls", "/var/ready"]
    assert run_command(probe, fs, T0, {}, Host()) == (
        1, [], ["ls: /var/ready: No such file or directory"], 0.0)
    assert run_command("touch /var/ready", fs, T0 + 5, {}, Host())[0] == 0   # exec console
    assert run_command(probe, fs, T0 + 10, {}, Host()) == (0, ["/var/ready"], [], 0.0)
    restored = FileSystem.from_json(json.loads(json.dumps(fs.to_json())))
    assert run_command(probe, restored, T0 + 11, {}, Host())[0] == 0
    assert run_command(probe, FileSystem("busybox"), T0, {}, Host())[0] == 1  # restart: fresh


def test_exec_probe_sleep_reports_time_for_the_timeout_decision():
    assert run_command(["sh", "-c", "sleep 3; exit 0"], FileSystem("busybox"), T0, {},
                       Host()) == (0, [], [], 3.0)
    assert run_command(["sh", "-c", "sleep 30"], FileSystem("busybox"), T0, {}, Host(),
                       limit=1)[::3] == (None, 1.0)


def test_kill_1_reaches_the_host():
    io = Host()
    assert sh("kill 1", io=io)[0] == 0
    assert sh("kill -9 1; kill -s KILL 1; kill -TERM 1; kill -0 1", io=io)[0] == 0
    assert io.kills == [15, 9, 9, 15]
    assert sh("kill 42")[:3] == (1, [], ["sh: can't kill pid 42: No such process"])
    assert sh("kill -FOO 1")[:3] == (1, [], ["sh: bad signal name 'FOO'"])
    assert sh("kill x")[:3] == (1, [], ["sh: invalid number 'x'"])
    assert sh("kill $$; echo never", io=Host(pid=7))[:2] == (143, [])


def test_kill_1_from_the_main_program_also_asks_the_host():
    io = Host()
    compile(["sh", "-c", "sleep 2; kill 1"]).run(None, FileSystem("busybox"), T0 + 2, {}, io)
    assert io.kills == []            # started at T0+2: still sleeping
    out = compile(["sh", "-c", "kill -INT 1"]).run(None, FileSystem("busybox"), T0, {}, io)
    assert io.kills == [2] and out.exit_code == 0


def kubia(url):
    if url.startswith("http://localhost:8080/"):
        return 200, "You've hit kubia-7xk2p\n"
    if url == "http://localhost:8081/":
        return 500, "I'm not well. Please restart me!\n"
    if url.startswith("http://slow"):
        raise TimeoutError(url)
    if url.startswith("http://nohost"):
        raise LookupError(url)
    raise ConnectionRefusedError(url)


def curl_sh(script):
    return sh(script, fs=FileSystem("node"), io=Host("kubia-7xk2p", http=kubia))


def test_curl_success_prints_the_body_and_a_progress_meter_on_stderr():
    code, out, err, _ = curl_sh("curl localhost:8080")
    assert (code, out) == (0, ["You've hit kubia-7xk2p"])
    assert err[0].startswith("  % Total") and err[-1].startswith("100    23  100    23")
    assert curl_sh("curl -s http://localhost:8080/")[:3] == (0, ["You've hit kubia-7xk2p"], [])


def test_curl_connection_refused():
    code, out, err, _ = curl_sh("curl localhost:8080/x; curl localhost:9999")
    assert code == 7 and out == ["You've hit kubia-7xk2p"]
    assert err[-1] == ("curl: (7) Failed to connect to localhost port 9999 after 0 ms: "
                       "Couldn't connect to server")
    assert curl_sh("curl -s localhost:9999")[:3] == (7, [], [])
    assert curl_sh("curl -sS localhost:9999")[2] == [
        "curl: (7) Failed to connect to localhost port 9999 after 0 ms: Couldn't connect "
        "to server"]
    assert curl_sh("curl -s 10.0.0.1")[0] == 7


@pytest.mark.parametrize("script, code, out, err", [
    ("curl -s localhost:8081", 0, ["I'm not well. Please restart me!"], []),
    ("curl -sf localhost:8081", 22, [], []),
    ("curl -sSf localhost:8081", 22, [], ["curl: (22) The requested URL returned error: 500"]),
    ("curl -s -o /dev/null -w '%{http_code}' localhost:8081", 0, ["500"], []),
    ("curl -s -o /dev/null -w '%{http_code}\\n' localhost:8080", 0, ["200"], []),
    ("curl -so /tmp/page localhost:8080; cat /tmp/page", 0, ["You've hit kubia-7xk2p"], []),
    ("curl -si localhost:8080", 0, ["HTTP/1.1 200 OK\r", "\r", "You've hit kubia-7xk2p"], []),
    ("curl -sS nohost", 6, [], ["curl: (6) Could not resolve host: nohost"]),
    ("curl -sS -m 2 slow", 28, [],
     ["curl: (28) Failed to connect to slow port 80 after 2000 ms: Timeout was reached"]),
    ("curl --bogus x", 2, [], ["curl: option --bogus: is unknown",
                               "curl: try 'curl --help' or 'curl --manual' for more information"]),
    ("wget -qO- localhost:8080", 0, ["You've hit kubia-7xk2p"], []),
    ("wget -q -O - http://localhost:8080/", 0, ["You've hit kubia-7xk2p"], []),
    ("wget -qO- localhost:9999", 1, [],
     ["wget: can't connect to remote host (127.0.0.1): Connection refused"]),
    ("wget -qO- localhost:8081", 1, [],
     ["wget: server returned error: HTTP/1.1 500 Internal Server Error"]),
    ("wget -O- localhost:8080", 0, ["You've hit kubia-7xk2p"],
     ["Connecting to localhost:8080 (127.0.0.1:8080)", "writing to stdout",
      "written to stdout"]),
    ("cd /tmp; wget -q localhost:8080; cat index.html", 0, ["You've hit kubia-7xk2p"], []),
    ("wget -q --spider localhost:8080", 0, [], []),
    ("wget -qO- nohost", 1, [], ["wget: bad address 'nohost'"]),
])
def test_http_clients(script, code, out, err):
    assert curl_sh(script)[:3] == (code, out, err)


def test_curl_timeout_takes_simulated_time():
    assert curl_sh("curl -s -m 5 slow")[::3] == (28, 5.0)
    assert curl_sh("wget -q -T 3 slow")[::3] == (1, 3.0)


# --------------------------------------------------------------------------------------------
# The file system: layers, JSON, mounts
# --------------------------------------------------------------------------------------------

def test_image_layers_differ():
    busybox, alpine, debian = FileSystem("busybox"), FileSystem("alpine"), FileSystem("debian")
    assert busybox.is_file("/bin/sh") and busybox.is_file("/bin/wget")
    assert not busybox.exists("/usr/bin/curl")
    assert alpine.read("/etc/alpine-release") == "3.21.0\n"
    assert debian.is_file("/usr/bin/bash") and not debian.exists("/usr/bin/wget")
    assert FileSystem("node").is_file("/usr/bin/curl")
    assert FileSystem().listdir("/") == []
    with pytest.raises(ValueError):
        FileSystem("windows")


def test_json_keeps_only_the_changes_and_round_trips():
    fs = FileSystem("busybox")
    assert fs.to_json() == {"image": "busybox", "upper": {}, "deleted": []}
    fs.write("/tmp/a", "1\n", t=5.0)
    fs.mkdir("/data")
    fs.remove("/etc/passwd")
    fs.remove("/var", recursive=True)
    data = json.loads(json.dumps(fs.to_json()))
    again = FileSystem.from_json(data)
    assert again.read("/tmp/a") == "1\n" and again.is_dir("/data")
    assert not again.exists("/etc/passwd") and not again.exists("/var/spool/mail")
    assert again.listdir("/etc") == ["group"]
    again.mkdir("/var")                           # re-created: old contents stay gone
    assert again.listdir("/var") == []
    assert len(json.dumps(again.to_json())) < 400


def test_whiteout_then_recreate_a_file():
    fs = FileSystem("busybox")
    fs.remove("/etc/group")
    assert sh("cat /etc/group", fs=fs)[0] == 1
    fs.write("/etc/group", "new\n")
    assert fs.read("/etc/group") == "new\n"


@pytest.mark.parametrize("op, error", [
    (lambda fs: fs.read("/nope"), shell.ENOENT),
    (lambda fs: fs.read("/etc"), shell.EISDIR),
    (lambda fs: fs.read("/etc/passwd/x"), shell.ENOTDIR),
    (lambda fs: fs.write("/etc", "x"), shell.EISDIR),
    (lambda fs: fs.write("/a/b", "x"), shell.ENOENT),
    (lambda fs: fs.mkdir("/etc"), shell.EEXIST),
    (lambda fs: fs.remove("/etc"), shell.EISDIR),
    (lambda fs: fs.remove("/etc", dir_ok=True), shell.ENOTEMPTY),
    (lambda fs: fs.listdir("/etc/passwd"), shell.ENOTDIR),
    (lambda fs: fs.listdir("/nope"), shell.ENOENT),
])
def test_file_system_errors(op, error):
    with pytest.raises(shell.FsError, match=error):
        op(FileSystem("busybox"))


def test_empty_dir_shared_between_two_containers():
    volume = FileSystem()                           # an emptyDir: one object, two mounts
    web, sidecar = FileSystem("busybox"), FileSystem("alpine")
    web.mount("/usr/share/nginx/html", volume)
    sidecar.mount("/var/htdocs", volume)
    assert web.is_dir("/usr/share/nginx/html") and "htdocs" in sidecar.listdir("/var")
    assert sh("echo '<h1>hi</h1>' > /var/htdocs/index.html", fs=sidecar)[0] == 0
    assert sh("cat /usr/share/nginx/html/index.html", fs=web)[1] == ["<h1>hi</h1>"]
    assert sh("touch /usr/share/nginx/html/ready", fs=web)[0] == 0
    assert sh("ls /var/htdocs", fs=sidecar)[1] == ["index.html", "ready"]
    assert sh("rm /var/htdocs/ready", fs=sidecar)[0] == 0
    assert not web.exists("/usr/share/nginx/html/ready")
    # the volume's files live in the volume, not in the containers' own layers
    assert web.to_json()["upper"] == {} and "/ready" not in volume.to_json()["upper"]
    # a restarted container (fresh fs, re-mounted) still sees the volume
    restarted = FileSystem("busybox")
    restarted.mount("/usr/share/nginx/html", volume)
    assert sh("ls /usr/share/nginx/html", fs=restarted)[1] == ["index.html"]


def test_mount_details_read_only_subpath_and_busy():
    config = FileSystem()
    config.mkdir("/conf")
    config.write("/conf/app.properties", "debug=true\n")
    fs = FileSystem("busybox")
    fs.mount("/etc/config", config, source="/conf", readonly=True)
    assert sh("cat /etc/config/app.properties", fs=fs)[1] == ["debug=true"]
    assert sh("touch /etc/config/x", fs=fs)[:3] == (
        1, [], ["touch: /etc/config/x: Read-only file system"])
    assert sh("rm -rf /etc/config", fs=fs)[2] == ["rm: can't remove '/etc/config': Resource busy"]
    fs.mount("/deep/mount/point", FileSystem())     # missing parents appear as directories
    assert sh("ls /deep; ls /deep/mount/point", fs=fs)[:2] == (0, ["mount"])


def test_glob_sees_files_through_mounts():
    vol = FileSystem()
    fs = FileSystem("busybox")
    fs.mount("/data", vol)
    assert out_of("touch /data/a.log /data/b.log /data/c.txt; echo /data/*.log", fs=fs) == [
        "/data/a.log /data/b.log"]
    assert out_of("cd /data; rm *.log; ls", fs=fs) == ["c.txt"]


PIECES = ["echo a;", "sleep 1;", "sleep 0.5;", "x=$((x+1));", "echo $x;", "echo -n p;",
          "for i in 1 2; do echo $i; sleep 2; done;", "(sleep 1; echo sub);", "false || true;",
          "while [ ${x:-0} -lt 3 ]; do x=$((x+1)); sleep 1; done;", "cd /tmp;", "exit 3;",
          "if true; then sleep 3; fi;", "{ sleep 1; echo g; } > /tmp/o;", "echo $(date +%s);",
          "seq 2 | while read n; do echo $n; done;", "touch /tmp/f; ls /tmp/f;"]


@pytest.mark.parametrize("seed", range(5))
def test_resuming_at_random_times_equals_one_late_run(seed):
    rnd = random.Random(seed)
    for _ in range(40):
        prog = compile(["sh", "-c", " ".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 8)))])
        late_fs, late_io = FileSystem("busybox"), Host()
        late = prog.run(None, late_fs, T0, {}, late_io)
        late = late if late.exited else prog.run(late.state, late_fs, T0 + 999, {}, late_io)
        fs, io, state, t = FileSystem("busybox"), Host(), None, T0
        while True:
            out = prog.run(state, fs, t, {}, io)
            if out.exited:
                break
            state = json.loads(json.dumps(out.state, allow_nan=False))
            t += rnd.choice([0.25, 0.5, 1, 3])
        assert (out.exit_code, out.finished_at, io.out) == (late.exit_code, late.finished_at,
                                                            late_io.out)
