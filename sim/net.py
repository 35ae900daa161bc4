"""Listening on the network: the checks both servers make (``relsim dashboard``, ``relsim class``).

Each returns what is wrong in words ("" when nothing is), so that a command prints it and exits
with status 2 before it starts anything. Standard library only: ``relsim --help`` stays fast.
"""

from __future__ import annotations

import errno
import ipaddress
import socket

#: The ports ``relsim dashboard`` and ``relsim class`` listen on unless told otherwise.
DASHBOARD_PORT = 8765
CLASS_PORT = 8766

#: Host names that mean this machine only, beside the loopback addresses.
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only listens on this machine."""
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, command: str, risk: str) -> str:
    """The warning ``command`` prints when it listens on ``host`` beyond this machine.

    "" on loopback; else the host and ``risk`` (who can then do what, and how to keep it safe).
    """
    if is_loopback(host):
        return ""
    return f"{command}: WARNING: listening on {host}, not only on this machine: {risk}"


def port_number_problem(port: object) -> str:
    """Why ``port`` is not a port number ("" when it is one)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return f"--port must be a whole number from 1 to 65535, got {port!r}"
    return ""


def port_problem(host: str, port: int, *, holder: str, command: str, default: int) -> str:
    """Why a server cannot listen on ``host:port`` ("" when it can).

    Parameters
    ----------
    host, port : str, int
        Where the server would listen.
    holder : str
        What else may be holding the port, for the hint ("a dashboard").
    command, default : str, int
        The command and its default port: a taken port's hint suggests ``command --port N``
        with the next port (``default`` after the last).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        return f"cannot listen on host {host!r}: {error.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # Uvicorn sets SO_REUSEADDR too, so a port left in TIME_WAIT by a stopped server counts
        # as free; only a program listening on it makes it busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                other = port + 1 if port < 65535 else default
                return (f"port {port} is already in use (another program, or {holder} still "
                        f"running); stop it or pick another port, e.g. {command} --port "
                        f"{other}")  # fmt: skip
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return ""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nobody listens on now (the system picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
