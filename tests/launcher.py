"""Start `python -m genkit ARGS` for the tests about 3 s sooner than a fresh interpreter can.

Most of the suite's time went into importing torch again in every one of its few hundred genkit
runs. A launcher process imports the heavy third-party libraries once (never genkit itself, never a
plugin) and forks one child per run. The child is a real, separate process: it takes its own working
folder, environment, stdin, stdout and stderr, imports genkit and its plugins afresh, runs
``python -m genkit`` exactly as the interpreter would, and ends with genkit's own exit status.

Left to fresh interpreters: anything that times or counts imports, kills a process, or talks to a
terminal; those tests use subprocess themselves. ``GENKIT_TEST_FRESH=1`` sends every run through a
fresh interpreter instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

LAUNCHER = r"""
import json, os, runpy, sys, traceback
import numpy, PIL.Image, pluggy, rich.console, safetensors.torch, torch, typer  # the slow imports, once

replies = os.fdopen(os.dup(1), "w")

def run(job):
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    extra = [p for p in job["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:1] = [os.getcwd(), *extra]  # what `python -m` and $PYTHONPATH give a new interpreter
    for fd, (name, mode) in enumerate([(job["stdin"], os.O_RDONLY), (job["stdout"], os.O_WRONLY), (job["stderr"], os.O_WRONLY)]):
        opened = os.open(name, mode)
        os.dup2(opened, fd)
        os.close(opened)  # genkit sees descriptors 0-2 only, as in a new interpreter
    replies.close()
    if job["env"].get("OMP_NUM_THREADS", "").isdigit():  # read by a new interpreter's torch at import
        torch.set_num_threads(max(1, int(job["env"]["OMP_NUM_THREADS"])))
    sys.argv = ["genkit", *job["args"]]
    code = 0
    try:
        runpy.run_module("genkit", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)

for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            run(job)
        finally:
            os._exit(70)  # a child never returns to this loop
    print(json.dumps({"pid": pid}), file=replies, flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), file=replies, flush=True)
"""


class Launcher:
    """One launcher per test process, started on first use; runs one genkit command at a time."""

    def __init__(self):
        self.proc = None
        self.busy = threading.Lock()

    def start(self):
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=tempfile.gettempdir(),
            )
        return self.proc

    def run(self, args, cwd, env, input, timeout):
        """Like subprocess.run(capture_output=True, text=True); None when busy (the caller runs it itself)."""
        if not self.busy.acquire(blocking=False):
            return None
        try:
            return self._run(args, cwd, env, input, timeout)
        finally:
            self.busy.release()

    def _run(self, args, cwd, env, input, timeout):
        proc = self.start()
        with tempfile.TemporaryDirectory(prefix="genkit-run-") as tmp:
            names = {k: str(Path(tmp) / k) for k in ("stdin", "stdout", "stderr")}
            Path(names["stdin"]).write_text(input or "", encoding="utf-8")
            Path(names["stdout"]).touch()
            Path(names["stderr"]).touch()
            job = dict(names, args=list(args), cwd=str(cwd or os.getcwd()), env=env)
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
            pid = json.loads(proc.stdout.readline())["pid"]
            status = self._wait(proc, pid, timeout, args)
            out, err = (Path(names[k]).read_text(encoding="utf-8", errors="replace") for k in ("stdout", "stderr"))
        return subprocess.CompletedProcess([sys.executable, "-m", "genkit", *args], status, out, err)

    def _wait(self, proc, pid, timeout, args):
        reply = {}
        reader = threading.Thread(target=lambda: reply.update(json.loads(proc.stdout.readline() or "{}")))
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            os.kill(pid, 9)
            reader.join()
            raise subprocess.TimeoutExpired([sys.executable, "-m", "genkit", *args], timeout)
        if "status" not in reply:
            raise RuntimeError("the test launcher died")
        return reply["status"]


LAUNCHER_PROCESS = Launcher()


def run(args, cwd, env, input, timeout):
    """The result of `python -m genkit ARGS`, forked from the launcher when it is free."""
    if os.environ.get("GENKIT_TEST_FRESH") != "1":
        result = LAUNCHER_PROCESS.run(args, cwd, env, input, timeout)
        if result is not None:
            return result
    return subprocess.run(
        [sys.executable, "-m", "genkit", *args],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
