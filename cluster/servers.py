"""What a running container answers on the network: the simulated servers of the images.

`answer(image, request_number, hostname, port, path)` is pure: it gives the HTTP status and
body the image's main process returns for its n-th request, or None when nothing listens on
that port. The runtime counts requests and logs them; probes and (later) Services call it.
"""

from dataclasses import dataclass

NGINX_WELCOME = (
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n"
    "<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully "
    "installed and working.</p>\n</body>\n</html>\n")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def listening_ports(image, spec):
    """Ports the container's main process listens on: the image's own, else the declared."""
    if image.port:
        return {image.port}
    if image.server or image.entrypoint or image.cmd or spec.get("command"):
        return set()   # a program (shell, batch job) listens on nothing
    return {p["containerPort"] for p in spec.get("ports") or [] if p.get("containerPort")}


def answer(image, spec, request_number, hostname, port, path):
    """The answer to the `request_number`-th request (1-based), or None if refused."""
    if port not in listening_ports(image, spec):
        return None
    if image.server == "kubia":
        return Answer(200, f"You've hit {hostname}\n")
    if image.server == "kubia-unhealthy":
        # The book's unhealthy kubia: fine for five requests, then 500 for ever.
        if request_number > 5:
            return Answer(500, "I'm not well. Please restart me!\n")
        return Answer(200, f"You've hit {hostname}\n")
    if image.server == "nginx":
        if path in ("/", "/index.html"):
            return Answer(200, NGINX_WELCOME)
        return Answer(404, "<html>\n<head><title>404 Not Found</title></head>\n</html>\n")
    return Answer(200, "ok\n")


def request_log(image, client_ip, path, status, body, when, agent):
    """The line the server logs for a request (None if it logs nothing)."""
    if image.server in ("kubia", "kubia-unhealthy"):
        return f"Received request from ::ffff:{client_ip}"
    if image.server == "nginx":
        stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
        return (f'{client_ip} - - [{stamp}] "GET {path} HTTP/1.1" {status} {len(body)} "-" '
                f'"{agent}" "-"')
    return None
