"""The fake server's batch APIs: OpenAI's Files + Batch API and Anthropic's Message Batches.

Wire shapes follow the SDKs' types (``openai.types.Batch``, ``FileObject``,
``anthropic.types.messages.MessageBatch``, ``MessageBatchIndividualResponse``):

* ``POST /v1/files`` (multipart: ``file``, ``purpose``), ``GET /v1/files/{id}`` and
  ``GET /v1/files/{id}/content``;
* ``POST /v1/batches`` (``input_file_id``, ``endpoint``, ``completion_window``),
  ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, ``GET /v1/batches``;
  statuses ``validating`` → ``in_progress`` → ``finalizing`` → ``completed`` (or
  ``failed``, ``expired``, ``cancelling`` → ``cancelled``), then an output file (one line
  per answered request: ``{"id", "custom_id", "response": {"status_code", "request_id",
  "body"}, "error": null}``) and an error file (requests that failed or never ran);
* ``POST /v1/messages/batches`` (``requests``: ``custom_id`` + ``params``),
  ``GET /v1/messages/batches/{id}``, ``POST .../{id}/cancel``, ``GET .../{id}/results``
  (JSONL: ``{"custom_id", "result": {"type": "succeeded" | "errored" | "canceled" |
  "expired", ...}}``), ``GET /v1/messages/batches``.

Time runs on a short clock: a batch ends :attr:`FakeBatches.seconds` after it was
created (a third of it validating, a third in progress, a third finalizing). Each line is
answered by the server's scripted replies (:meth:`FakeLLM.script`, :meth:`FakeLLM.respond`)
when the batch ends, as the live endpoints would answer it; a reply with an error status
becomes that line's error. Faults for the next batches: :attr:`FakeBatches.fault`
(``"expire"``: the window runs out after half the lines, ``"fail_validation"``: OpenAI
refuses the file, Anthropic the create call, ``"malformed_line"``: one output line is cut
short) and :attr:`FakeBatches.drop_polls` / ``drop_creates`` (the next n retrieves, or create
calls, hang up without an answer).
``enabled = False`` answers every batch path with 404, as a server without batches does.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tests.fake_llm import FakeLLM, Reply, _Handler

ENDPOINT_ROUTES = {"/v1/chat/completions", "/v1/responses"}
EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."


@dataclass
class FakeBatch:
    """One batch as the server keeps it."""

    id: str
    kind: str  # "openai" | "anthropic"
    created: float
    seconds: float
    requests: list[dict[str, Any]]  # each: custom_id, url or none, body
    endpoint: str = ""
    input_file_id: str = ""
    fault: str | None = None
    cancelled_at: float | None = None
    results: list[str] | None = None  # output lines, once ended
    errors: list[str] = field(default_factory=list)  # OpenAI's error-file lines
    counts: dict[str, int] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    status: str = ""
    metadata: dict[str, str] | None = None


class FakeBatches:
    """Both batch APIs of one :class:`FakeLLM`."""

    def __init__(self, fake: FakeLLM) -> None:
        self.fake = fake
        self.enabled = True
        self.seconds = 0.3
        self.fault: str | None = None
        self.drop_polls = 0
        self.drop_creates = 0  # the next n create calls hang up without an answer
        self.batches: dict[str, FakeBatch] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # id -> (purpose, bytes)
        self._lock = threading.Lock()
        self._count = 0

    # ---- routing ---------------------------------------------------------------------

    def handle(self, handler: _Handler, method: str, raw: bytes) -> bool:
        """Answer a batch or file request; False when the path is not one of them."""
        parts = [part for part in urlsplit(handler.path).path.split("/") if part]
        if parts[:2] == ["v1", "files"] or parts[:2] == ["v1", "batches"]:
            kind = "openai"
            rest = parts[2:]
        elif parts[:3] == ["v1", "messages", "batches"]:
            kind = "anthropic"
            rest = parts[3:]
        else:
            return False
        if not self.enabled:
            handler._send_not_found()
            return True
        if kind == "openai" and parts[1] == "files":
            self._files(handler, method, rest, raw)
        elif kind == "openai":
            self._openai(handler, method, rest, raw)
        else:
            self._anthropic(handler, method, rest, raw)
        return True

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            return f"{prefix}_fake{self._count:04d}"

    def _find(self, handler: _Handler, batch_id: str) -> FakeBatch | None:
        batch = self.batches.get(batch_id)
        if batch is None:
            handler._send_error(404, f"No batch found with id '{batch_id}'.", None)
        return batch

    def _dropped(self, handler: _Handler, creating: bool = False) -> bool:
        """Hang up without an answer (a network failure while polling or creating)."""
        with self._lock:
            left = self.drop_creates if creating else self.drop_polls
            if left <= 0:
                return False
            if creating:
                self.drop_creates -= 1
            else:
                self.drop_polls -= 1
        handler.close_connection = True
        handler._cut()
        return True

    # ---- OpenAI Files ----------------------------------------------------------------

    def _files(self, handler: _Handler, method: str, rest: list[str], raw: bytes) -> None:
        if method == "POST" and not rest:
            form = _multipart(handler.headers.get("content-type") or "", raw)
            data = form.get("file", (b"", ""))[0]
            purpose = form.get("purpose", (b"", ""))[0].decode()
            if purpose != "batch":
                handler._send_error(400, f"Invalid purpose {purpose!r}.", None)
                return
            file_id = self._new_id("file")
            self.files[file_id] = (purpose, data)
            handler._send_json(200, self._file_object(file_id, form["file"][1]))
        elif method == "GET" and len(rest) == 1 and rest[0] in self.files:
            handler._send_json(200, self._file_object(rest[0], "batch.jsonl"))
        elif method == "GET" and len(rest) == 2 and rest[1] == "content" and rest[0] in self.files:
            data = self.files[rest[0]][1]
            handler.send_response(200)
            handler.send_header("content-type", "application/octet-stream")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        else:
            handler._send_error(404, "No such File object.", None)

    def _file_object(self, file_id: str, name: str) -> dict[str, Any]:
        purpose, data = self.files[file_id]
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    # ---- OpenAI Batch API ------------------------------------------------------------

    def _openai(self, handler: _Handler, method: str, rest: list[str], raw: bytes) -> None:
        if method == "POST" and not rest:
            self._openai_create(handler, raw)
        elif method == "GET" and not rest:
            data = [
                self._openai_object(handler, b) for b in self.batches.values() if b.kind == "openai"
            ]
            handler._send_json(
                200,
                {
                    "object": "list",
                    "data": data[::-1],
                    "has_more": False,
                    "first_id": None,
                    "last_id": None,
                },
            )
        elif method == "GET" and len(rest) == 1:
            if self._dropped(handler):
                return
            batch = self._find(handler, rest[0])
            if batch is not None:
                handler._send_json(200, self._openai_object(handler, batch))
        elif method == "POST" and len(rest) == 2 and rest[1] == "cancel":
            batch = self._find(handler, rest[0])
            if batch is not None:
                if batch.cancelled_at is None and batch.results is None:
                    batch.cancelled_at = time.time()
                handler._send_json(200, self._openai_object(handler, batch))
        else:
            handler._send_not_found()

    def _openai_create(self, handler: _Handler, raw: bytes) -> None:
        if self._dropped(handler, creating=True):
            return
        body = json.loads(raw or b"{}")
        endpoint = body.get("endpoint")
        if body.get("completion_window") != "24h" or endpoint not in ENDPOINT_ROUTES:
            handler._send_error(400, "Invalid endpoint or completion window.", None)
            return
        found = self.files.get(str(body.get("input_file_id")))
        if found is None:
            handler._send_error(400, "No such input file.", None)
            return
        requests = []
        for line in found[1].decode().splitlines():
            if line.strip():
                item = json.loads(line)
                requests.append(
                    {
                        "custom_id": item["custom_id"],
                        "url": item["url"],
                        "method": item["method"],
                        "body": item["body"],
                    }
                )
        ids = [r["custom_id"] for r in requests]
        fault = self.fault
        if len(set(ids)) != len(ids) or any(r["url"] != endpoint for r in requests):
            fault = "fail_validation"
        batch = FakeBatch(
            self._new_id("batch"),
            "openai",
            time.time(),
            self.seconds,
            requests,
            endpoint=endpoint,
            input_file_id=str(body["input_file_id"]),
            fault=fault,
        )
        batch.metadata = body.get("metadata")
        self.batches[batch.id] = batch
        handler._send_json(200, self._openai_object(handler, batch))

    def _openai_object(self, handler: _Handler, batch: FakeBatch) -> dict[str, Any]:
        self._advance(handler, batch)
        created = int(batch.created)
        total = len(batch.requests)
        done = batch.counts.get("succeeded", 0)
        failed = total - done if batch.results is not None else 0
        errors = None
        if batch.status == "failed":
            errors = {
                "object": "list",
                "data": [
                    {
                        "code": "invalid_request",
                        "line": 1,
                        "message": "The batch input file is not valid.",
                        "param": None,
                    }
                ],
            }
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "errors": errors,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": created,
            "in_progress_at": created,
            "expires_at": created + 86400,
            "finalizing_at": None,
            "completed_at": int(time.time()) if batch.status == "completed" else None,
            "failed_at": int(time.time()) if batch.status == "failed" else None,
            "expired_at": int(time.time()) if batch.status == "expired" else None,
            "cancelling_at": None if batch.cancelled_at is None else int(batch.cancelled_at),
            "cancelled_at": int(time.time()) if batch.status == "cancelled" else None,
            "metadata": batch.metadata,
            "request_counts": {
                "total": total if batch.status != "validating" else 0,
                "completed": done,
                "failed": failed,
            },
        }

    # ---- Anthropic Message Batches -------------------------------------------------

    def _anthropic(self, handler: _Handler, method: str, rest: list[str], raw: bytes) -> None:
        if method == "POST" and not rest:
            if self._dropped(handler, creating=True):
                return
            body = json.loads(raw or b"{}")
            requests = [
                {"custom_id": r["custom_id"], "body": r["params"]}
                for r in body.get("requests") or ()
            ]
            ids = [r["custom_id"] for r in requests]
            if not requests or len(set(ids)) != len(ids) or self.fault == "fail_validation":
                handler._send_error(400, "requests: custom_id values must be unique.", None)
                return
            created = FakeBatch(
                self._new_id("msgbatch"),
                "anthropic",
                time.time(),
                self.seconds,
                requests,
                fault=self.fault,
            )
            self.batches[created.id] = created
            handler._send_json(200, self._anthropic_object(handler, created))
        elif method == "GET" and not rest:
            listed = [
                self._anthropic_object(handler, b)
                for b in self.batches.values()
                if b.kind == "anthropic"
            ]
            handler._send_json(
                200, {"data": listed[::-1], "has_more": False, "first_id": None, "last_id": None}
            )
        elif method == "GET" and len(rest) == 1:
            if self._dropped(handler):
                return
            batch = self._find(handler, rest[0])
            if batch is not None:
                handler._send_json(200, self._anthropic_object(handler, batch))
        elif method == "GET" and len(rest) == 2 and rest[1] == "results":
            batch = self._find(handler, rest[0])
            if batch is None:
                return
            self._advance(handler, batch)
            if batch.results is None:
                handler._send_error(400, "The batch is still processing.", None)
                return
            data = "".join(line + "\n" for line in batch.results).encode()
            handler.send_response(200)
            handler.send_header("content-type", "application/binary")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        elif method == "POST" and len(rest) == 2 and rest[1] == "cancel":
            batch = self._find(handler, rest[0])
            if batch is not None:
                if batch.cancelled_at is None and batch.results is None:
                    batch.cancelled_at = time.time()
                handler._send_json(200, self._anthropic_object(handler, batch))
        else:
            handler._send_not_found()

    def _anthropic_object(self, handler: _Handler, batch: FakeBatch) -> dict[str, Any]:
        self._advance(handler, batch)
        ended = batch.results is not None
        counts = {
            "processing": 0 if ended else len(batch.requests),
            "succeeded": 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        }
        counts.update(batch.counts)
        status = "ended" if ended else "canceling" if batch.cancelled_at else "in_progress"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": _iso(batch.created),
            "expires_at": _iso(batch.created + 86400),
            "ended_at": _iso(time.time()) if ended else None,
            "cancel_initiated_at": _iso(batch.cancelled_at) if batch.cancelled_at else None,
            "archived_at": None,
            "results_url": f"{self.fake.root_url}/v1/messages/batches/{batch.id}/results"
            if ended
            else None,
        }

    # ---- the clock and the answers -------------------------------------------------

    def _advance(self, handler: _Handler, batch: FakeBatch) -> None:
        """Move ``batch`` along the clock; answer its lines when it ends."""
        with self._lock:
            if batch.results is not None:
                return
            age = time.time() - batch.created
            third = batch.seconds / 3
            if batch.kind == "openai" and batch.fault == "fail_validation":
                batch.status = "failed" if age >= third else "validating"
                if batch.status == "failed":
                    batch.results = []
                return
            if batch.cancelled_at is not None:  # cancelling, then cancelled a third later
                if time.time() - batch.cancelled_at >= third:
                    self._end(handler, batch, answered=0, how="canceled")
                    batch.status = "cancelled"
                else:
                    batch.status = "cancelling"
                return
            if age < batch.seconds:
                batch.status = ("validating", "in_progress", "finalizing")[min(2, int(age / third))]
                return
            if batch.fault == "expire":
                self._end(handler, batch, answered=len(batch.requests) // 2, how="expired")
                batch.status = "expired"
            else:
                self._end(handler, batch, answered=len(batch.requests), how="")
                batch.status = "completed"

    def _end(self, handler: _Handler, batch: FakeBatch, answered: int, how: str) -> None:
        lines: list[str] = []
        errors: list[str] = []
        counts = {"succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for number, request in enumerate(batch.requests):
            custom_id, body = request["custom_id"], request["body"]
            if number >= answered:
                counts["canceled" if how == "canceled" else "expired"] += 1
                if batch.kind == "anthropic":
                    lines.append(json.dumps({"custom_id": custom_id, "result": {"type": how}}))
                else:
                    code = "batch_cancelled" if how == "canceled" else "batch_expired"
                    message = "The batch was cancelled." if how == "canceled" else EXPIRED_MESSAGE
                    errors.append(
                        json.dumps(
                            {
                                "id": f"batch_req_{number}",
                                "custom_id": custom_id,
                                "response": None,
                                "error": {"code": code, "message": message},
                            }
                        )
                    )
                continue
            model = str(body.get("model", ""))
            reply = self.fake._next_reply(model, body)
            ok = reply.status == 200
            counts["succeeded" if ok else "errored"] += 1
            if batch.kind == "anthropic":
                result = (
                    {"type": "succeeded", "message": handler._message(reply, body, model)}
                    if ok
                    else {"type": "errored", "error": _anthropic_error(handler, reply)}
                )
                lines.append(json.dumps({"custom_id": custom_id, "result": result}))
                continue
            answer = _openai_answer(handler, request["url"], reply, body, model)
            line = json.dumps(
                {
                    "id": f"batch_req_{number}",
                    "custom_id": custom_id,
                    "response": {
                        "status_code": reply.status,
                        "request_id": f"req_{number}",
                        "body": answer,
                    },
                    "error": None,
                }
            )
            (lines if ok else errors).append(line)
        if batch.fault == "malformed_line" and lines:
            lines[0] = lines[0][: len(lines[0]) // 2]
        batch.counts = counts
        batch.results = lines
        batch.errors = errors
        if batch.kind == "openai":
            if lines:
                batch.output_file_id = self._store_file(lines)
            if errors:
                batch.error_file_id = self._store_file(errors)

    def _store_file(self, lines: list[str]) -> str:
        file_id = f"file_fake_out{len(self.files)}"
        self.files[file_id] = ("batch_output", "".join(line + "\n" for line in lines).encode())
        return file_id


def _openai_answer(
    handler: _Handler, url: str, reply: Reply, body: dict[str, Any], model: str
) -> dict[str, Any]:
    if reply.status != 200:
        kind = "rate_limit_error" if reply.status == 429 else "invalid_request_error"
        return {
            "error": {
                "message": reply.error_message,
                "type": reply.error_type or kind,
                "param": None,
                "code": reply.error_type,
            }
        }
    if url == "/v1/responses":
        return handler._response(reply, body, model)
    return handler._chat_completion(reply, body, model)


def _anthropic_error(handler: _Handler, reply: Reply) -> dict[str, Any]:
    kinds = {400: "invalid_request_error", 429: "rate_limit_error", 529: "overloaded_error"}
    kind = reply.error_type or kinds.get(reply.status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": reply.error_message}}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[bytes, str]]:
    """A multipart form's fields: name -> (bytes, file name)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, tuple[bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[str(name)] = (data, str(part.get_filename() or ""))
    return fields
