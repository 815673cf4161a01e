"""wget and curl: HTTP through the Host (`http_get`), with busybox's and curl's messages."""

from __future__ import annotations

import http
import posixpath

from .builtins import _unescape
from .fs import FsError
from .host import _Call


def _split_url(url: str):
    """(full url, host, port) with http:// added when no scheme is given."""
    if "://" not in url:
        url = "http://" + url
    scheme, _, rest = url.partition("://")
    hostport = rest.split("/", 1)[0].split("?", 1)[0]
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    default = 443 if scheme == "https" else 80
    try:
        port_n = int(port) if port else default
    except ValueError:
        port_n = default
    if "/" not in rest:
        url += "/"
    return url, host, port_n


def _ip_of(host: str) -> str:
    return "127.0.0.1" if host in ("localhost", "") else host


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _wget(c: _Call) -> int:
    args = c.argv[1:]
    quiet = spider = False
    out_file = None
    timeout = 900.0
    urls = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-q", "--quiet"):
            quiet = True
        elif a == "--spider":
            spider = True
        elif a in ("-O", "-T", "-U", "--header", "-Y", "-t", "--user-agent", "-P"):
            i += 1
            val = args[i] if i < len(args) else ""
            if a == "-O":
                out_file = val
            elif a == "-T":
                timeout = float(val or 0)
        elif a.startswith("-O") and len(a) > 2:
            out_file = a[2:]
        elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            letters = a[1:]
            for k, ch in enumerate(letters):
                if ch == "q":
                    quiet = True
                elif ch == "O":
                    out_file = letters[k + 1:] or (args[i + 1] if i + 1 < len(args) else "-")
                    if not letters[k + 1:]:
                        i += 1
                    break
                elif ch == "T":
                    i += 1
                    break
        elif not a.startswith("-"):
            urls.append(a)
        i += 1
    if not urls:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: wget [-cqS] [--spider] "
                    "[-O FILE] [-o LOGFILE] [--header STR] [-Y on/off] [-P DIR] [-U AGENT] "
                    "[-T SEC] URL...\n")
        return 1
    status = 0
    for raw in urls:
        url, host, port = _split_url(raw)
        name = out_file or (posixpath.basename(url.split("?", 1)[0].rstrip("/"))
                            if url.split("://", 1)[1].count("/") > 1 and not url.endswith("/")
                            else "index.html")
        if not quiet:
            c.err.write(f"Connecting to {host}:{port} ({_ip_of(host)}:{port})\n")
        try:
            code, body = c.m.io.http_get(url)
        except ConnectionRefusedError:
            return c.fail(f"can't connect to remote host ({_ip_of(host)}): Connection refused")
        except TimeoutError:
            c.m.clock.t = round(c.m.clock.t + timeout, 6)
            return c.fail("download timed out")
        except LookupError:
            return c.fail(f"bad address '{host}'")
        if code >= 400:
            return c.fail(f"server returned error: HTTP/1.1 {code} {_reason(code)}".rstrip())
        if spider:
            if not quiet:
                c.err.write("remote file exists\n")
            continue
        if name == "-":
            if not quiet:
                c.err.write("writing to stdout\n")
            c.out.write(body)
            if not quiet:
                c.err.write("written to stdout\n")
            continue
        path = c.path(name)
        if out_file is None and c.m.fs.exists(path):
            return c.fail(f"can't open '{name}': File exists")
        try:
            c.m.fs.write(path, body, t=c.m.clock.t)
        except FsError as e:
            return c.fail(f"can't open '{name}': {e}")
        if not quiet:
            c.err.write(f"saving to '{name}'\n'{name}' saved\n")
    return status


_CURL_METER = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
               "                                 Dload  Upload   Total   Spent    Left  Speed\n")


def _curl_meter(size: int) -> str:
    pct = 100 if size else 0
    return (_CURL_METER + f"{pct:>3} {size:>5}  {pct:>3} {size:>5}    0     0      0      0 "
            f"--:--:-- --:--:-- --:--:--     0\n")


def _curl(c: _Call) -> int:
    args = c.argv[1:]
    silent = show_errors = fail = include = head = False
    out_file = write_out = None
    max_time = None
    urls = []
    takes_value = {"o", "w", "m", "X", "H", "d", "A", "u", "e", "x", "T", "b", "c", "F", "K"}
    long_value = {"--output": "o", "--write-out": "w", "--max-time": "m", "--request": "X",
                  "--header": "H", "--data": "d", "--user-agent": "A", "--user": "u",
                  "--connect-timeout": "connect", "--retry": "retry", "--data-raw": "d"}
    long_flag = {"--silent": "s", "--show-error": "S", "--fail": "f", "--location": "L",
                 "--insecure": "k", "--include": "i", "--head": "I", "--verbose": "v",
                 "--remote-name": "O", "--fail-with-body": "f", "--http1.1": "",
                 "--compressed": "", "--no-progress-meter": "s"}
    i = 0
    while i < len(args):
        a = args[i]
        opt_vals: list = []
        if a in long_value:
            i += 1
            opt_vals.append((long_value[a], args[i] if i < len(args) else ""))
        elif a in long_flag:
            opt_vals.append((long_flag[a], True))
        elif a.startswith("--"):
            c.err.write(f"curl: option {a}: is unknown\n"
                        "curl: try 'curl --help' or 'curl --manual' for more information\n")
            return 2
        elif a.startswith("-") and len(a) > 1:
            letters = a[1:]
            for k, ch in enumerate(letters):
                if ch in takes_value:
                    val = letters[k + 1:]
                    if not val:
                        i += 1
                        val = args[i] if i < len(args) else ""
                    opt_vals.append((ch, val))
                    break
                opt_vals.append((ch, True))
        else:
            urls.append(a)
        for key, val in opt_vals:
            if key == "s":
                silent = True
            elif key == "S":
                show_errors = True
            elif key == "f":
                fail = True
            elif key == "i":
                include = True
            elif key == "I":
                head = True
            elif key == "o":
                out_file = val
            elif key == "w":
                write_out = val
            elif key in ("m", "connect"):
                try:
                    max_time = float(val)
                except ValueError:
                    c.err.write("curl: (2) option -m: expected a proper numerical "
                                "parameter\n")
                    return 2
        i += 1
    if not urls:
        c.err.write("curl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    report = not silent or show_errors
    status = 0
    for raw in urls:
        url, host, port = _split_url(raw)
        try:
            code, body = c.m.io.http_get(url)
        except ConnectionRefusedError:
            if not silent:
                c.err.write(_curl_meter(0))
            if report:
                c.err.write(f"curl: (7) Failed to connect to {host} port {port} after 0 ms: "
                            "Couldn't connect to server\n")
            status = 7
            code, body = 0, None
        except TimeoutError:
            wait = max_time if max_time is not None else 300.0
            c.m.clock.t = round(c.m.clock.t + wait, 6)
            if not silent:
                c.err.write(_curl_meter(0))
            if report:
                c.err.write(f"curl: (28) Failed to connect to {host} port {port} after "
                            f"{int(wait * 1000)} ms: Timeout was reached\n")
            status = 28
            code, body = 0, None
        except LookupError:
            if not silent:
                c.err.write(_curl_meter(0))
            if report:
                c.err.write(f"curl: (6) Could not resolve host: {host}\n")
            status = 6
            code, body = 0, None
        if body is not None:
            if fail and code >= 400:
                if not silent:
                    c.err.write(_curl_meter(0))
                if report:
                    c.err.write(f"curl: (22) The requested URL returned error: {code}\n")
                status = 22
                body = None
            else:
                headers = f"HTTP/1.1 {code} {_reason(code)}\r\n\r\n".replace(" \r", "\r")
                text = (headers if (include or head) else "") + ("" if head else body)
                if out_file and out_file != "-":
                    if out_file != "/dev/null":
                        try:
                            c.m.fs.write(c.path(out_file), text, t=c.m.clock.t)
                        except FsError:
                            c.err.write("curl: (23) Failure writing output to destination\n")
                            status = 23
                else:
                    c.out.write(text)
                if not silent and (out_file or True):
                    c.err.write(_curl_meter(len(body.encode())))
        if write_out is not None:
            text, _ = _unescape(write_out)
            text = (text.replace("%{http_code}", f"{code:03d}")
                    .replace("%{response_code}", f"{code:03d}")
                    .replace("%{size_download}", str(len(body.encode()) if body else 0))
                    .replace("%{url_effective}", url)
                    .replace("%{time_total}", "0.000000"))
            c.out.write(text)
    return status
