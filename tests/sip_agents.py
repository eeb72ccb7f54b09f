"""Two baresip user agents on loopback: the SIP stack, RTP and G.711 of the SIP call test.

baresip (Debian ``baresip-core``) is other people's code; what is ours is only the
wiring: a config folder per agent, generated in the test's tmp_path, the process in a
process group of its own (so teardown ends it and anything it started), and a client
for its ``ctrl_tcp`` module (JSON commands and events in netstrings).

The settings come from ``shared/notes/dtmf-on-the-wire.md``'s pitfalls, each of which
was seen: the ``aubridge`` module as player and alert (``alsa,null`` spins a core),
``net_interface 127.0.0.1`` (``lo`` fails; without it media goes to another address),
SIP ports chosen so an agent's port *and the next one* are free (``sip_listen`` takes
both), 8 kHz mono for G.711 (PCMU only), and a long silent WAV as the default source,
because an ``aufile`` source that runs dry hangs the call up. The far end records what
it receives with the ``sndfile`` module.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toneflow.dtmf.audio import write_wav

BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")
RATE = 8000
"""G.711's rate: sources, players and the recording all run at it, one channel."""
SILENCE_S = 120
"""The default source's length: longer than any call here (the call times out before)."""
START_TIMEOUT = 10.0
COMMAND_TIMEOUT = 5.0
EVENT_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
START_ATTEMPTS = 3


class AgentError(RuntimeError):
    """baresip did not start, answer or do what it was told; the message says which."""


def _bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_sip_port(avoid: set[int]) -> int:
    """A port free for SIP on UDP and TCP whose next TCP port is free too, and neither
    in or next to ``avoid`` (another agent's ports)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 1 > 65535 or {port - 1, port, port + 1} & avoid:
            continue
        if (
            _bindable(port, socket.SOCK_DGRAM)
            and _bindable(port, socket.SOCK_STREAM)
            and _bindable(port + 1, socket.SOCK_STREAM)
        ):
            return port
    raise AgentError("found no free pair of ports for SIP on 127.0.0.1")


class Control:
    """A ``ctrl_tcp`` connection: commands with a token, answered in order; events
    (``{"event": true, "type": "CALL_ESTABLISHED", …}``) kept until waited for."""

    def __init__(self, port: int, timeout: float = COMMAND_TIMEOUT) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buffer = b""
        self._events: list[dict] = []
        self._tokens = 0

    def close(self) -> None:
        self._sock.close()

    def command(self, name: str, params: str = "", timeout: float = COMMAND_TIMEOUT) -> str:
        """Run a baresip command; its output. Fails if baresip says it did not run."""
        self._tokens += 1
        token = f"t{self._tokens}"
        body = json.dumps({"command": name, "params": params, "token": token}).encode()
        self._sock.sendall(str(len(body)).encode() + b":" + body + b",")
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline, f"the answer to '{name} {params}'")
            if message.get("response") and message.get("token") == token:
                if not message.get("ok"):
                    raise AgentError(f"'{name} {params}' failed: {message.get('data')!r}")
                return str(message.get("data", ""))
            self._events.append(message)

    def wait_event(self, kind: str, timeout: float = EVENT_TIMEOUT) -> dict:
        """The first event of type ``kind`` (earlier ones of other types are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            while self._events:
                event = self._events.pop(0)
                if event.get("type") == kind:
                    return event
            self._events.append(self._next(deadline, f"a {kind} event"))

    def _next(self, deadline: float, waiting_for: str) -> dict:
        """The next netstring message (``LENGTH:JSON,``)."""
        while True:
            head, colon, rest = self._buffer.partition(b":")
            if colon and head.isdigit() and len(rest) > int(head):
                size = int(head)
                self._buffer = rest[size + 1 :]
                return json.loads(rest[:size])
            left = deadline - time.monotonic()
            if left <= 0:
                raise AgentError(f"baresip sent no {waiting_for} in time")
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise AgentError(f"baresip closed its control connection before {waiting_for}")
            self._buffer += chunk


@dataclass
class Agent:
    """One running baresip: its folder (config, log, recordings), ports and control."""

    name: str
    folder: Path
    sip_port: int
    process: subprocess.Popen
    control: Control
    recordings: Path = field(init=False)

    def __post_init__(self) -> None:
        self.recordings = self.folder / "recordings"

    @property
    def uri(self) -> str:
        return f"sip:{self.name}@127.0.0.1:{self.sip_port}"

    def log(self) -> str:
        return (self.folder / "baresip.log").read_text("utf-8", errors="replace")[-4000:]

    def received(self) -> Path:
        """The one recording of what this agent received (``sndfile``'s ``…-dec.wav``)."""
        found = sorted(self.recordings.glob("*-dec.wav"))
        if len(found) != 1:
            raise AgentError(f"{self.name} made {len(found)} recordings of received audio")
        return found[0]


def _config(home: Path, sip_port: int, ctrl_port: int, silence: Path, record: bool) -> str:
    """The agent's ``config``: loopback only, G.711 at 8 kHz mono, no sound device."""
    modules = ["g711", "aubridge", "aufile", "ctrl_tcp", *(["sndfile"] if record else [])]
    settings = [
        ("poll_method", "epoll"),
        ("sip_listen", f"127.0.0.1:{sip_port}"),
        ("net_interface", "127.0.0.1"),
        ("call_local_timeout", "30"),
        ("call_max_calls", "1"),
        ("audio_player", "aubridge,nodev"),
        ("audio_alert", "aubridge,nodev"),
        ("audio_source", f"aufile,{silence}"),
        ("ausrc_srate", str(RATE)),
        ("auplay_srate", str(RATE)),
        ("ausrc_channels", "1"),
        ("auplay_channels", "1"),
        ("audio_buffer", "20-160"),
        ("jitter_buffer_delay", "5-10"),
        ("module_path", str(MODULES)),
        *(("module", f"{module}.so") for module in modules),
        ("module_app", "account.so"),
        ("module_app", "menu.so"),
        ("ctrl_tcp_listen", f"127.0.0.1:{ctrl_port}"),
        ("snd_path", str(home / "recordings")),
    ]
    return "".join(f"{key}\t{value}\n" for key, value in settings)


def _start(name: str, folder: Path, silence: Path, *, record: bool, avoid: set[int]) -> Agent:
    """Start one agent on fresh ports, retrying on new ones if it dies (a port taken in
    the meantime); an :class:`AgentError` with its log if it never answers."""
    log = ""
    for attempt in range(START_ATTEMPTS):
        sip_port = free_sip_port(avoid)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ctrl_port = sock.getsockname()[1]
        home = folder / f"{name}-{attempt}"
        (home / "recordings").mkdir(parents=True)
        (home / "config").write_text(_config(home, sip_port, ctrl_port, silence, record))
        # Answers by itself; no registrar (regint=0); PCMU only.
        account = f"<sip:{name}@127.0.0.1:{sip_port}>;regint=0;answermode=auto;audio_codecs=PCMU"
        (home / "accounts").write_text(account + "\n")
        (home / "contacts").write_text("")
        with (home / "baresip.log").open("wb") as out:
            process = subprocess.Popen(
                [BARESIP, "-f", str(home)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended at teardown
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                control = Control(ctrl_port)
            except OSError:
                time.sleep(0.05)
                continue
            avoid.update({sip_port, sip_port + 1})
            return Agent(name, home, sip_port, process, control)
        stop_process(process)
        log = (home / "baresip.log").read_text("utf-8", errors="replace")[-4000:]
    raise AgentError(f"baresip '{name}' did not start in {START_ATTEMPTS} attempts: {log}")


def stop_process(process: subprocess.Popen) -> None:
    """End ``process`` and its group: SIGTERM (baresip closes its recordings), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def stop(agent: Agent) -> None:
    agent.control.close()
    stop_process(agent.process)


@contextlib.contextmanager
def caller_and_callee(folder: Path) -> Iterator[tuple[Agent, Agent]]:
    """The platform's agent (``caller``) and the far end (``callee``, answering by itself
    and recording what it hears), both stopped on the way out, whatever happened."""
    if BARESIP is None:
        raise AgentError("baresip is not installed (Debian baresip-core)")
    folder.mkdir(parents=True, exist_ok=True)
    silence = folder / "silence.wav"
    write_wav(silence, np.zeros(SILENCE_S * RATE), rate=RATE)
    avoid: set[int] = set()
    started: list[Agent] = []
    try:
        started.append(_start("caller", folder, silence, record=False, avoid=avoid))
        started.append(_start("callee", folder, silence, record=True, avoid=avoid))
        yield started[0], started[1]
    finally:
        for agent in started:
            stop(agent)
