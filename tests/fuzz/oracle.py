"""Run the CLI in-process and classify what happened.

An outcome is one of
* ``traceback`` — an exception escaped :func:`eralpha.cli.main` (what a user would see as a traceback);
* ``error``     — exit status 2 (the message is then checked by :func:`message_problems`);
* ``ok``        — exit status 0 (the result is then checked by the command's sanity check);
* ``other``     — any other exit status.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from eralpha.cli import main


@dataclass
class Outcome:
    kind: str  # traceback | error | ok | other
    code: int | None
    stdout: str
    stderr: str
    exc: str = ""  # "TypeName: message" of an escaped exception
    where: str = ""  # the innermost eralpha frame of an escaped exception
    problems: list[str] = field(default_factory=list)  # why the outcome breaks the property
    exception: BaseException | None = None

    @property
    def message(self) -> str:
        return self.stderr.strip()

    def json(self):
        return json.loads(self.stdout)

    def describe(self) -> str:
        if self.kind == "traceback":
            return f"traceback {self.exc} at {self.where}"
        text = f"exit {self.code}"
        if self.problems:
            text += ": " + "; ".join(self.problems)
        if self.kind == "error":
            text += f" — message: {self.message[:300]!r}"
        return text


def _innermost_eralpha_frame(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "eralpha" in f.filename]
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} ({f.name})"


def run_cli(argv: list[str]) -> Outcome:
    """``eralpha ARGV`` in this process, with stdout and stderr captured (rich writes to sys.stdout/err)."""
    out, err = io.StringIO(), io.StringIO()
    code: int | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(argv)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Exception as exc:  # noqa: BLE001 - exactly what the harness looks for
        return Outcome("traceback", None, out.getvalue(), err.getvalue(),
                       exc=f"{type(exc).__name__}: {str(exc)[:200]}", where=_innermost_eralpha_frame(exc),
                       exception=exc)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
    kind = {0: "ok", 2: "error"}.get(code, "other")
    return Outcome(kind, code, out.getvalue(), err.getvalue())


# A message says what would be valid when it lists the valid values, suggests a name, or states the rule.
_VALID_HINTS = re.compile(
    r"\(valid: |did you mean|one of|must|needs? |at least|expected|only |should|write |use |give |"
    r"is not a number|is empty|is negative|missing value|not found",
    re.I,
)
_WHERE_HINTS = re.compile(r"field '|column '|\brows?\b|column[s]? |--[a-z]", re.I)


def message_problems(message: str, files: list[str]) -> list[str]:
    """What a bad-input message lacks: one line, 'error:', the file, the field / row+column, what is valid."""
    problems = []
    lines = [ln for ln in message.splitlines() if ln.strip()]
    if len(lines) != 1:
        problems.append(f"message has {len(lines)} lines, not one")
    text = " ".join(lines)
    if not text.startswith("error:"):
        problems.append("message does not start with 'error:'")
    if not any(Path(f).name in text for f in files):
        problems.append("message does not name the file")
    if not _WHERE_HINTS.search(text):
        problems.append("message names no field, column or row")
    if not _VALID_HINTS.search(text):
        problems.append("message does not say what would be valid")
    return problems


def is_finite_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x and abs(x) != float("inf")
