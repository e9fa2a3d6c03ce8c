"""The state directory of --ari: one small file per certificate and CA, holding the CA's last answer.

Checks layer, the only files the plugin writes. Thousands of checks every five minutes must not ask the CA
each time: an answer is kept until the CA's Retry-After runs out (schedule.py), and every check of the same
certificate (IMAP, submission and SMTP of one host) reads it from here until then.

Safety: the directory must be owned by the user running the check, not a symbolic link, and writable by no
one else; otherwise the check refuses it (a usage error, UNKNOWN, saying why). A missing one is created 0700
when the first answer is kept, not when the options are read. A file in it
that is not a regular file of that user, is too large, unreadable or corrupt is ignored and replaced. Writes
go to a temporary file renamed over the old one, so a reader never sees half an answer. Files no check has
rewritten for a week (certificates no longer served) are removed, at most once a day.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from datetime import UTC, datetime, timedelta

from ...errors import UsageError
from ...records import NamedTuple
from ...sanitize import clean
from .schedule import LONG_TERM, MAX_RETRY
from .status import Answered, Failure, Unavailable, Where, Window

#: An entry is a few hundred bytes.
MAX_ENTRY_BYTES = 16 * 1024
#: Entries not rewritten for this long are removed (an entry in use is rewritten at least daily: MAX_RETRY).
PRUNE_AFTER = timedelta(days=7)
PRUNE_EVERY = timedelta(days=1)
#: The file whose time says when the directory was last pruned.
PRUNED_MARK = ".pruned"
PREFIX, SUFFIX = "ari-", ".json"
#: An entry asked further in the future than this is from a clock that was wrong: ignored.
CLOCK_SKEW = timedelta(minutes=5)
VERSION = 1


class StateDir(NamedTuple):
    path: str
    uid: int  # the user the check runs as: every file must be theirs


class Entry(NamedTuple):
    """One cached answer: what the CA said (or why not), when, until when, and the temporary failures so far."""

    answer: Answered | Unavailable
    asked: datetime
    until: datetime
    failures: int = 0


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _judge(info: os.stat_result, named: str, uid: int) -> None:
    """Refuse (UsageError, saying why) a state directory the check must not use."""
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{named} is a symbolic link: give the directory it points to")
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{named} is not a directory")
    if info.st_uid != uid:
        raise UsageError(
            f"{named} belongs to {_user(info.st_uid)}, not to {_user(uid)} who runs the check: "
            "give each user its own --state-dir"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise UsageError(f"{named} can be written by other users (mode {mode:04o}): make it 0700")
    if mode & 0o300 != 0o300:
        raise UsageError(f"{named} cannot be written by {_user(uid)} (mode {mode:04o}): make it 0700")


def open_state_dir(path: str, named: str) -> StateDir:
    """The state directory, checked when the options are read; UsageError saying why it cannot be used.

    A missing one is made (0700) only when there is an answer to keep (``prepared``): reading the options
    creates nothing. ``named`` is how the words name it ("--state-dir /x").
    """
    uid = os.geteuid()
    if not path or "\0" in path:
        raise UsageError(f"{named}: not a directory name")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise UsageError(f"{named} cannot be created: {clean(parent, 200)} is not a directory") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(
                f"{named} cannot be created in {clean(parent, 200)}: permission denied (running as {_user(uid)})"
            ) from None
        return StateDir(path, uid)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise UsageError(f"{named} cannot be used: {reason} (running as {_user(uid)})") from None
    _judge(info, named, uid)
    return StateDir(path, uid)


def prepared(state: StateDir) -> str:
    """Make the state directory if it is missing (0700, whatever the umask) and check it again: '' when it can
    take entries, else why not (for -v)."""
    try:
        os.mkdir(state.path, 0o700)
        os.chmod(state.path, 0o700)  # what the umask took away from the owner
    except FileExistsError:
        pass
    except OSError as exc:
        return clean(exc.strerror or type(exc).__name__)
    try:
        _judge(os.lstat(state.path), "the state directory", state.uid)
    except (OSError, UsageError) as exc:
        return clean(str(exc), 200)
    return ""


def entry_path(state: StateDir, directory: str, cert_id: str) -> str:
    digest = hashlib.sha256(f"{directory}\n{cert_id}".encode()).hexdigest()[:40]
    return os.path.join(state.path, f"{PREFIX}{digest}{SUFFIX}")


def _moment(value: object) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("not a time")
    return datetime.fromtimestamp(value, UTC)


def _text(value: object, limit: int = 2000) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise TypeError("not a text")
    return value


def _decode(data: bytes, directory: str, cert_id: str, now: datetime) -> Entry:
    """An entry from its file's bytes; raises (ValueError, TypeError, KeyError...) for anything else."""
    document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ValueError("another format")
    if document.get("directory") != directory or document.get("cert_id") != cert_id:
        raise ValueError("another certificate's")
    asked, until = _moment(document["asked"]), _moment(document["until"])
    if asked > now + CLOCK_SKEW or not asked < until <= asked + max(MAX_RETRY, LONG_TERM):
        raise ValueError("times out of bounds")
    failures = document["failures"]
    if not isinstance(failures, int) or not 0 <= failures <= 100:
        raise ValueError("failures")
    answer = document["answer"]
    if not isinstance(answer, dict):
        raise TypeError("answer")
    url = _text(answer["url"])
    if answer.get("kind") == "window":
        start, end = _moment(answer["start"]), _moment(answer["end"])
        if not start < end:
            raise ValueError("window")
        return Entry(Answered(url, Window(start, end, _text(answer["explanation"], 200))), asked, until, failures)
    if answer.get("kind") == "unavailable":
        status = answer["status"]
        if not isinstance(status, int) or not 0 <= status <= 999:
            raise ValueError("status")
        where, why = Where[_text(answer["where"])], Failure[_text(answer["why"])]
        return Entry(Unavailable(where, url, why, _text(answer["detail"], 400), status), asked, until, failures)
    raise ValueError("kind")


def read_entry(state: StateDir, directory: str, cert_id: str, now: datetime) -> Entry | None:
    """The cached entry, or None: absent, or a file to ignore (not a regular file of ours, too large, corrupt)."""
    path = entry_path(state, directory, cert_id)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != state.uid or info.st_size > MAX_ENTRY_BYTES:
            return None
        data = os.read(fd, MAX_ENTRY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_ENTRY_BYTES:
        return None
    try:
        return _decode(data, directory, cert_id, now)
    except (ValueError, TypeError, KeyError, OverflowError, OSError, RecursionError):
        return None


def _encode(entry: Entry, directory: str, cert_id: str) -> bytes:
    answer = entry.answer
    if isinstance(answer, Answered):
        window = answer.window
        kept: dict[str, object] = {
            "kind": "window",
            "url": answer.url,
            "start": window.start.timestamp(),
            "end": window.end.timestamp(),
            "explanation": window.explanation,
        }
    else:
        kept = {
            "kind": "unavailable",
            "where": answer.where.name,
            "url": answer.url,
            "why": answer.why.name,
            "detail": answer.detail,
            "status": answer.status,
        }
    document = {
        "version": VERSION,
        "directory": directory,
        "cert_id": cert_id,
        "asked": entry.asked.timestamp(),
        "until": entry.until.timestamp(),
        "failures": entry.failures,
        "answer": kept,
    }
    return json.dumps(document, sort_keys=True).encode() + b"\n"


def write_entry(state: StateDir, directory: str, cert_id: str, entry: Entry) -> str:
    """Write (replace) the entry atomically: '' when written, else why not (cleaned, for -v)."""
    path = entry_path(state, directory, cert_id)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{PREFIX}", suffix=".tmp", dir=state.path)
    except OSError as exc:
        return clean(exc.strerror or type(exc).__name__)
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp: mode 0600, ours
            handle.write(_encode(entry, directory, cert_id))
        os.replace(temporary, path)  # over a corrupt or foreign file too: the directory is ours
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return clean(exc.strerror or type(exc).__name__)
    return ""


def prune(state: StateDir, now: datetime) -> None:
    """Remove entries and leftover temporary files not written for PRUNE_AFTER, at most once per PRUNE_EVERY."""
    mark = os.path.join(state.path, PRUNED_MARK)
    try:
        if now.timestamp() - os.lstat(mark).st_mtime < PRUNE_EVERY.total_seconds():
            return
    except OSError:
        pass
    try:
        os.close(os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
        os.utime(mark)  # touched before the scan: concurrent checks do not all scan
    except OSError:
        return
    oldest = now.timestamp() - PRUNE_AFTER.total_seconds()
    try:
        with os.scandir(state.path) as entries:
            for item in entries:
                ours = item.name.startswith(PREFIX) and item.name.endswith(SUFFIX)
                leftover = item.name.startswith(f".{PREFIX}") and item.name.endswith(".tmp")
                if not (ours or leftover):
                    continue
                with contextlib.suppress(OSError):
                    if item.stat(follow_symlinks=False).st_mtime < oldest:
                        os.unlink(item.path)
    except OSError:
        return
