"""Writes to a library in a loop until killed; used by test_crash.py.

Prints each version id to stdout (flushed) only after ``save_version`` returned, i.e.
after its transaction committed: every id printed is a promise the library must keep.
Runs, responses and drafts are written in between so a kill can land in any of them.

    python crash_writer.py LIBRARY SEED
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from promptstudio.storage import Database, library
from tests.storage.helpers import respond


def main(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with Database(path) as db:
        prompts = db.call(library.list_prompts) or [db.call(library.create_prompt, "crash")]
        prompt_id = prompts[0].id
        n = 0
        while True:
            n += 1
            text = f"seed {seed} step {n} " + "words " * rng.randint(0, 600)
            version = db.call(library.save_version, prompt_id, text, {"n": n}, {})
            sys.stdout.write(f"{version.id}\n")
            sys.stdout.flush()
            if n % 3 == 0:
                db.call(library.save_draft, prompt_id, text + " typing", {"n": n}, {})
            if n % 4 == 0:
                respond(db, version.id, text, variables={"n": n}, ttft_ms=1.0, total_ms=2.0,
                        input_tokens=1, output_tokens=1)  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
