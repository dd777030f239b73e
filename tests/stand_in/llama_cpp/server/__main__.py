"""``python -m llama_cpp.server`` for tests: the fake LLM server on the given host and port.

Takes the real server's options (``--model``, ``--model_alias``, ``--host``, ``--port``,
``--chat_format``, ``--interrupt_requests``), lists the alias as its only model and writes
the options it got to ``<model>.args.json`` so tests can check the command line. Like the
real one it refuses a model file that does not exist and exits when the port is taken.
``STAND_IN_EXIT=message`` makes it print that and exit 1 at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository, for tests.*

from tests.fake_llm import FakeLLM, Reply

ANSWER = "Hello from the stand-in llama.cpp server."


def main() -> int:
    parser = argparse.ArgumentParser(prog="llama_cpp.server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--model_alias")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--chat_format")
    parser.add_argument("--interrupt_requests", default="True")
    args = parser.parse_args()
    if os.environ.get("STAND_IN_EXIT"):
        print(os.environ["STAND_IN_EXIT"], flush=True)
        return 1
    model = Path(args.model)
    if not model.is_file():
        print(f"ValueError: Model path does not exist: {model}", flush=True)
        return 1
    Path(f"{model}.args.json").write_text(json.dumps(vars(args)), encoding="utf-8")
    fake = FakeLLM(models=[args.model_alias or str(model)])
    fake.script(Reply(text=ANSWER))
    fake.start(args.port)  # OSError "Address already in use" when taken, as uvicorn says
    print(f"INFO:     Uvicorn running on http://{args.host}:{fake.port}", flush=True)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
