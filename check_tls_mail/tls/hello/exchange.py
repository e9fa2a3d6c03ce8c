"""One hello exchange on a socket: send a client's ClientHello, read the server's flight until it decides.

Wire layer below the probes: the socket must be past any STARTTLS dialogue; the
result is one typed ``ServerAnswer`` within the deadline, never an exception.
"""

import os
import socket
import time

from ...net.transport import Deadline
from ...records import NamedTuple
from .answer import MAX_RECORD, Ending, ServerAnswer
from .encoder import encode_client_hello
from .flight import FlightReader
from .spec import HelloSpec


class HelloExchange(NamedTuple):
    """What was sent and what came back, with the time it took."""

    answer: ServerAnswer
    sent: int
    seconds: float


def exchange_hello(
    sock: socket.socket,
    spec: HelloSpec,
    deadline: Deadline,
    random: bytes | None = None,
    session_id: bytes | None = None,
) -> HelloExchange:
    """Send ``spec``'s hello on a connected socket and read until the server's answer decides.

    The socket must be past any STARTTLS dialogue with nothing buffered. The
    whole step is bounded by ``deadline`` and by ``MAX_FLIGHT`` bytes; the
    socket is left open (the caller closes it). Never raises for anything the
    server does.
    """
    started = time.monotonic()
    session_id = os.urandom(spec.session_id_length) if session_id is None else session_id
    hello = encode_client_hello(spec, random, session_id)
    reader = FlightReader(spec, session_id)

    def done(answer: ServerAnswer) -> HelloExchange:
        return HelloExchange(answer, len(hello), time.monotonic() - started)

    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        sock.sendall(hello)
    except TimeoutError:
        return done(reader.end(Ending.TIMEOUT))
    except ConnectionResetError:
        return done(reader.end(Ending.RESET))
    except OSError:
        return done(reader.end(Ending.CLOSED))
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            return done(reader.end(Ending.TIMEOUT))
        try:
            sock.settimeout(remaining)
            chunk = sock.recv(MAX_RECORD + 5)
        except TimeoutError:
            return done(reader.end(Ending.TIMEOUT))
        except ConnectionResetError:
            return done(reader.end(Ending.RESET))
        except OSError:
            return done(reader.end(Ending.CLOSED))
        if not chunk:
            return done(reader.end(Ending.CLOSED))
        answer = reader.feed(chunk)
        if answer is not None:
            return done(answer)
