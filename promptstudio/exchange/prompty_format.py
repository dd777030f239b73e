"""Prompty files (``.prompty``): YAML front matter, then the template with role markers.

Writes the current Prompty v2 schema (``model.id/provider/connection/options``, ``inputs``
as a list of properties, ``template.format/parser``); reads v2 and v1
(``model.configuration/parameters``, ``inputs`` as a mapping, ``sample``). PromptStudio's
own extras (folder, column ids, further columns) travel in ``metadata.promptstudio``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
    azure_resource,
    column_key_env,
    column_params,
    column_profile,
    columns_to_dicts,
    provider_kind,
)
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.front_matter import dump_front_matter, split_front_matter
from promptstudio.exchange.image_exchange import (
    image_input_names,
    images_from_prompty,
    images_to_prompty,
)
from promptstudio.exchange.json_format import checked_column, column_label, column_settings
from promptstudio.exchange.prompty_body import (
    body_from_prompty,
    body_to_prompty,
    expand_threads,
    starts_without_marker,
    undeclared_inputs,
)
from promptstudio.exchange.prompty_references import with_files
from promptstudio.exchange.prompty_schema import outputs_schema, schema_outputs
from promptstudio.exchange.prompty_tools import tools_from_prompty, tools_to_prompty
from promptstudio.exchange.reading import checked_text
from promptstudio.providers import ProviderProfile
from promptstudio.runs.columns import ColumnConfig

# Our parameter names → Prompty v2 ``model.options`` names.
OPTION_NAMES: dict[str, str] = {
    "temperature": "temperature",
    "max_tokens": "maxOutputTokens",
    "top_p": "topP",
    "stop": "stopSequences",
    "seed": "seed",
    "top_k": "topK",
    "reasoning_effort": "reasoningEffort",
    "frequency_penalty": "frequencyPenalty",
    "presence_penalty": "presencePenalty",
}
_PARAM_NAMES = {option: param for param, option in OPTION_NAMES.items()}


def to_prompty(doc: PromptDocument) -> str:
    """The document as a Prompty v2 file (the first column becomes ``model``) that the
    Prompty runtime runs as PromptStudio does: a thread loop of an imported file goes back
    to ``{{ name }}`` with ``kind: thread``, the column's structured output to ``outputs``."""
    front: dict[str, Any] = {"name": doc.name}
    if doc.description:
        front["description"] = doc.description
    extras: dict[str, Any] = {}
    if doc.folder:
        extras["folder"] = doc.folder
    if doc.columns:
        first = doc.columns[0]
        extras["column"] = {"id": first.id, "profile": first.profile}
        own = first.to_dict()  # the API and samples, where not the defaults
        extras["column"].update({k: own[k] for k in ("api", "samples") if k in own})
        if len(doc.columns) > 1:
            extras["moreColumns"] = columns_to_dicts(doc.columns[1:])
    metadata: dict[str, Any] = {"tags": list(doc.tags), "promptstudio": extras}
    front["metadata"] = metadata
    template, threads = body_to_prompty(doc.template, doc.variables)
    template, image_values, image_undo = images_to_prompty(template, doc.variables)
    if image_undo:
        extras["images"] = image_undo
    if starts_without_marker(template):  # PromptStudio's role there is user, Prompty's system
        template = "user:\n" + template
        extras["addedUser"] = True
    extras["markers"] = "promptstudio"  # the body follows PromptStudio's marker rules
    outputs = None
    if doc.columns:
        front["model"], outputs = _model(doc.columns[0], doc.profiles)
    if doc.variables:
        front["inputs"] = [
            _input(name, value, thread=name in threads) for name, value in doc.variables.items()
        ]
    if image_values:
        others = [i for i in front.get("inputs", []) if i["name"] not in image_values]
        images = [{"name": n, "kind": "image", "default": v} for n, v in image_values.items()]
        front["inputs"] = others + images
    if outputs is not None:
        front["outputs"] = outputs
    if doc.tools:
        front["tools"], extras["tools"] = tools_to_prompty(doc.tools)
    front["template"] = {"format": {"kind": "jinja2"}, "parser": {"kind": "prompty"}}
    return dump_front_matter(front, template)


#: The key variable an exported file names for an OpenAI-compatible server without a
#: conventional one, and the placeholder used when it is not set (a local server takes any
#: key, but the runtime's OpenAI client will not start without one).
COMPATIBLE_KEY_VAR = "OPENAI_COMPATIBLE_API_KEY"
NO_KEY = "no-key"


def _model(
    column: ColumnConfig, profiles: list[ProviderProfile]
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """``model`` for the column, and ``outputs`` when its response format came from them."""
    kind = provider_kind(column, profiles)
    profile = column_profile(column, profiles)
    base_url = column.base_url or (profile.base_url if profile is not None else "")
    model: dict[str, Any] = {
        "id": column.model,
        "provider": "anthropic" if kind == "anthropic" else "openai",
        "apiType": "responses" if column.api == "responses" and kind != "anthropic" else "chat",
    }
    hosted = "ANTHROPIC_API_KEY" if kind == "anthropic" else "OPENAI_API_KEY"
    env_var = column_key_env(column, profiles) if base_url else hosted
    if env_var is None and kind in ("openai", "anthropic") and base_url.startswith("https://"):
        env_var = hosted  # a proxy in front of the provider takes the provider's key
    # Always a key connection (the runtime runs no other without a registered client), the
    # key as a reference Prompty resolves when it runs: never the key itself.
    connection: dict[str, Any] = {"kind": "key"}
    if base_url.rstrip("/") not in (OPENAI_URL, ANTHROPIC_URL, ""):
        connection["endpoint"] = base_url
    connection["apiKey"] = (
        "${env:" + env_var + "}" if env_var else "${env:" + COMPATIBLE_KEY_VAR + ":" + NO_KEY + "}"
    )
    model["connection"] = connection
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    params = column_params(column)
    outputs = schema_outputs(params.get("json_schema"))
    if outputs is not None:
        del params["json_schema"]
    for name, value in params.items():
        if name in OPTION_NAMES:
            options[OPTION_NAMES[name]] = value
        else:
            extra[name] = value
    if extra:
        options["additionalProperties"] = extra
    if options:
        model["options"] = options
    return model, outputs


def _input(name: str, value: Any, *, thread: bool = False) -> dict[str, Any]:
    if thread:
        return {"name": name, "kind": "thread", "default": value}
    return {"name": name, "kind": _kind(value), "default": value} | (
        {"items": {"kind": _items_kind(value)}} if isinstance(value, list) else {}
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _items_kind(values: list[Any]) -> str:
    kinds = {_kind(value) for value in values}
    return kinds.pop() if len(kinds) == 1 else "object"


def from_prompty(
    data: str | bytes, *, name: str = "", base_dir: Path | None = None
) -> PromptDocument:
    """A document from a Prompty v2 or v1 file; :class:`ExchangeError` when it can't be read.

    Read as the Prompty runtime reads it: a file that is only a body (no front matter;
    ``name`` names it); ``model: gpt-4o`` as a bare model id; ``${file:path}`` as any
    value of the front matter (JSON, YAML or text, read from ``base_dir``, the file's
    folder, and never from outside it); ``${env:VAR}`` or ``${env:VAR:default}`` in an
    endpoint or a model id (read now, and noted; a key never is: keys are not read from
    the file at all, and a key reference other than the column's is noted). The body is
    rewritten to render here as Prompty renders it
    (:mod:`~promptstudio.exchange.prompty_body`); inputs the template uses but the file
    does not declare, or declares without a default, are empty, as Prompty renders them.
    ``outputs`` becomes the column's JSON-schema response format, ``apiType: responses``
    its API. Whatever else the file holds that PromptStudio has no place for (tools of a
    kind other than ``function``, other ``metadata``, role attributes, model and
    connection fields, ...) is named in the document's ``notes``. Function ``tools``
    become the prompt's tools (``prompty_tools``).
    """
    text = checked_text(data)
    notes: list[str] = []
    if text.split("\n", 1)[0].rstrip() != "---":
        front: dict[str, Any] = {}
        body = text
    else:
        front, body = split_front_matter(text)
        front = with_files(front, base_dir)
    if isinstance(front.get("model"), str):
        front["model"] = {"id": front["model"]}
    if isinstance(front.get("instructions"), str) and front["instructions"].strip():
        if body.strip():  # the body is the prompt, in Prompty as here
            notes.append("instructions not kept: the body below the front matter is the prompt.")
        else:
            body = front["instructions"]
            notes.append(
                "The body is empty, so the instructions are the prompt here (Prompty 2.1 sends "
                "the empty body in their place: move them below the front matter for both)."
            )
    metadata = _mapping(front, "metadata")
    extras = metadata.get("promptstudio")
    extras = extras if isinstance(extras, dict) else {}
    tags = metadata.get("tags", front.get("tags", []))
    if not isinstance(tags, list):
        raise ExchangeError("'metadata.tags' must be a list.")
    columns: list[ColumnConfig] = []
    model = _mapping(front, "model")
    if model:
        # outputs are the column's response format, checked with its other settings
        extra = {"json_schema": outputs_schema(front["outputs"])} if front.get("outputs") else {}
        read = _column_v1 if "configuration" in model or "parameters" in model else _column_v2
        column = read(model, extra, notes)
        first = extras.get("column")
        if isinstance(first, dict):  # our own export: the column's id and profile
            column.id = str(first.get("id") or column.id)
            if "profile" in first:
                column.profile = str(first["profile"] or "")
            own = ColumnConfig.from_dict({k: first[k] for k in ("api", "samples") if k in first})
            column.api = own.api if "api" in first else column.api
            column.samples = own.samples
        else:  # a file from elsewhere: is its key the one the column sends?
            _note_key(model, column, notes)
        columns.append(column)
    elif front.get("outputs"):
        notes.append("outputs (structured output) not kept: the file names no model to hold it.")
    more = extras.get("moreColumns", [])
    if isinstance(more, list):
        more = [column for column in more if isinstance(column, dict)]
        columns += [
            checked_column(column, number, notes)
            for number, column in enumerate(more, start=len(columns) + 1)
        ]
    variables, threads = _variables(front, notes)
    if extras.get("markers") == "promptstudio":  # our own export: only undo what it did
        template = expand_threads(body, threads)
        if extras.get("addedUser") and template.startswith("user:\n"):
            template = template.removeprefix("user:\n")
    else:
        template = body_from_prompty(body, threads, notes)
        for missing in undeclared_inputs(template, set(variables)):
            variables[missing] = ""  # Prompty renders an input it was not given as empty
    template = images_from_prompty(
        template, image_input_names(front), extras.get("images"), variables
    )
    _note_unkept(front, metadata, notes)
    tools = tools_from_prompty(front.get("tools"), extras.get("tools"), notes)
    return PromptDocument(
        name=str(front.get("name") or name or "Imported prompt"),
        description=str(front.get("description") or ""),
        folder=str(extras.get("folder") or ""),
        tags=[str(tag) for tag in tags],
        template=template,
        variables=variables,
        columns=columns,
        tools=tools,
        notes=notes,
    )


# Front matter keys read into the document (others are noted as not kept).
_READ_KEYS = frozenset(
    {"name", "description", "metadata", "model", "inputs", "outputs", "template", "sample",
     "tags", "instructions", "kind"}
)  # fmt: skip


def _note_unkept(front: dict[str, Any], metadata: dict[str, Any], notes: list[str]) -> None:
    other = [key for key in metadata if key not in ("tags", "promptstudio")]
    if other:
        notes.append(f"metadata not kept: {', '.join(other)}.")
    unread = [key for key in front if key not in _READ_KEYS and key != "tools"]
    if unread:
        notes.append(f"Not kept: {', '.join(unread)}.")
    inputs = front.get("inputs")
    specs = inputs if isinstance(inputs, list) else list((inputs or {}).values())
    described = [spec for spec in specs if isinstance(spec, dict) and spec.get("description")]
    if described:
        notes.append(f"Descriptions of inputs not kept ({len(described)}).")
    template = front.get("template")
    fmt = template.get("format") if isinstance(template, dict) else template
    kind = fmt.get("kind") if isinstance(fmt, dict) else fmt
    if isinstance(kind, str) and kind.lower() not in ("", "*", "jinja2"):
        notes.append(f"The template format {kind} is read as Jinja2.")


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ExchangeError(f"'{key}' must be a mapping.")
    return value


def _column_v2(model: dict[str, Any], extra: dict[str, Any], notes: list[str]) -> ColumnConfig:
    """The column of a v2 ``model``; ``extra`` are settings read elsewhere (``outputs``)."""
    provider = str(model.get("provider") or "openai")
    connection = _mapping(model, "connection")
    default = ANTHROPIC_URL if provider == "anthropic" else OPENAI_URL
    params: dict[str, Any] = {}
    for name, value in _mapping(model, "options").items():
        if name == "additionalProperties" and isinstance(value, dict):
            params.update(value)
        else:
            params[_PARAM_NAMES.get(name, name)] = value
    endpoint = connection.get("endpoint")
    base_url = default if endpoint is None else _endpoint(endpoint, notes)
    azure = _azure_v1(base_url, notes) if provider in _AZURE_KINDS else base_url
    if azure != base_url:
        base_url = azure
    elif provider not in ("openai", "anthropic"):
        notes.append(f"The provider {provider} is run as an OpenAI-compatible server.")
    api_type = str(model.get("apiType") or "chat")
    api = "responses" if api_type == "responses" and provider != "anthropic" else "auto"
    if api_type not in ("chat", api):
        notes.append(f"apiType {api_type} not kept: the column uses Chat Completions.")
    if connection.get("kind") not in (None, "key", "anonymous"):
        notes.append(f"The connection kind {connection['kind']} not kept (keys come from "
                     "PromptStudio's own store).")  # fmt: skip
    _note_other_keys(model, ("id", "provider", "apiType", "connection", "options"), "model", notes)
    _note_other_keys(connection, ("kind", "endpoint", "apiKey"), "model.connection", notes)
    return _column(
        profile=provider if provider in ("openai", "anthropic") and endpoint is None else "",
        base_url=base_url,
        model=_model_id(model.get("id"), notes),
        params=params | extra,
        notes=notes,
        api=api,
    )


def _column_v1(model: dict[str, Any], extra: dict[str, Any], notes: list[str]) -> ColumnConfig:
    """The column of a v1 ``model`` (``configuration`` and ``parameters``)."""
    configuration = _mapping(model, "configuration")
    kind = str(configuration.get("type") or "openai")
    name = (
        configuration.get("azure_deployment")
        or configuration.get("name")
        or configuration.get("model")
        or ""
    )
    # azure_openai/azure name azure_endpoint, serverless names endpoint, openai base_url.
    written = next(
        (configuration[key] for key in ("azure_endpoint", "endpoint", "base_url")
         if configuration.get(key)),
        None,
    )  # fmt: skip
    base_url = OPENAI_URL if written is None else _endpoint(written, notes)
    if kind in _AZURE_KINDS:
        base_url = _azure_v1(base_url, notes)
    api, response = str(model.get("api") or "chat"), str(model.get("response") or "first")
    if api != "chat":
        notes.append(f"api {api} not kept: the column uses Chat Completions.")
    read = ("api", "configuration", "parameters") + (("response",) if response == "first" else ())
    _note_other_keys(model, read, "model", notes)
    _note_other_keys(configuration, _V1_READ, "model.configuration", notes)
    return _column(
        profile="openai" if kind == "openai" and base_url == OPENAI_URL else "",
        base_url=base_url,
        model=_model_id(name, notes),
        params=dict(_mapping(model, "parameters")) | extra,
        notes=notes,
    )


# Prompty's names for Azure OpenAI: v1 ``configuration.type``, v2 ``model.provider``.
_AZURE_KINDS = ("azure_openai", "azure", "foundry")


def _azure_v1(base_url: str, notes: list[str]) -> str:
    """An Azure OpenAI resource's endpoint (``https://NAME.openai.azure.com/``) as the base
    URL of its v1 API, the one way to reach it with an OpenAI client: Prompty's executors
    build an ``AzureOpenAI`` client from the bare resource URL, and the bare URL sent as an
    OpenAI-compatible server would answer 404. Anything else is returned as it is."""
    resource = azure_resource(base_url)
    if resource is None or resource[1] not in ("", "/openai"):
        return base_url
    v1 = resource[0] + "/openai/v1"
    notes.append(
        f"Azure OpenAI is run through its v1 API, {v1} (OpenAI-compatible: no api-version; "
        "the deployment name is the column's model)."
    )
    return v1


# What a v1 ``model.configuration`` holds that is read (the others are noted).
_V1_READ = ("type", "azure_endpoint", "endpoint", "base_url", "azure_deployment", "name", "model")


def _note_other_keys(
    data: dict[str, Any], read: tuple[str, ...], where: str, notes: list[str]
) -> None:
    """Note the keys of ``data`` (a part of ``model``) that the column has no place for,
    by name only (one of them may hold a key)."""
    other = [key for key in data if key not in read]
    if other:
        notes.append(f"{where} not kept: {', '.join(other)}.")


def _note_key(model: dict[str, Any], column: ColumnConfig, notes: list[str]) -> None:
    """Note a v2 ``apiKey`` the column will not send: the key itself written in the file,
    or a reference other than the one an export of the column names (the column sends the
    key PromptStudio keeps for its server)."""
    connection = model.get("connection")
    key = connection.get("apiKey") if isinstance(connection, dict) else None
    if key is None:
        return
    text = str(key).strip()
    if _ENV_REFERENCE.match(text) is None:
        notes.append(
            "The key written in model.connection.apiKey is not kept (keys belong in "
            "PromptStudio's key store, or in an environment variable the file names)."
        )
    elif text != _model(column, [])[0]["connection"]["apiKey"]:
        notes.append(
            f"The key reference {text} is not kept: the column sends the key PromptStudio "
            "keeps for its server (typed in, or the server's usual variable)."
        )


def _column(
    *,
    profile: str,
    base_url: str,
    model: str,
    params: dict[str, Any],
    notes: list[str],
    api: str = "auto",
) -> ColumnConfig:
    """The file's model as the first run column, its settings checked as the editor's."""
    settings = column_settings(params, column_label(1, model), notes)
    return ColumnConfig(base_url=base_url, model=model, profile=profile, params=settings, api=api)


_ENV_REFERENCE = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}$")


def _endpoint(value: object, notes: list[str]) -> str:
    """An endpoint as text, with a whole-value ``${env:VAR[:default]}`` looked up now (the
    runtime reads it when it runs: the note says so; unset, the column has no endpoint).

    Only a web address is taken from the environment: a file naming ``${env:OPENAI_API_KEY}``
    as its endpoint would otherwise store the key as a URL and send it with every request.
    """
    text = str(value or "").strip()
    found = _ENV_REFERENCE.match(text)
    if found is None:
        return text
    resolved = os.environ.get(found.group(1), found.group(2) or "").strip()
    if not resolved:
        notes.append(
            f"The endpoint {text} is not set in this environment, so the column has none: "
            f"set {found.group(1)} and import again, or choose the column's server."
        )
    elif not resolved.lower().startswith(("http://", "https://")):
        raise ExchangeError(
            f"The endpoint {text} does not hold a web address (http:// or https://) in this "
            "environment, so it is not used; name the server's URL in the file instead."
        )
    else:
        notes.append(f"The endpoint {text} was read now: {resolved} (Prompty reads it per run).")
    return resolved


def _model_id(value: object, notes: list[str]) -> str:
    """A model id (a v1 deployment name) as text. A whole-value ``${env:VAR[:default]}``
    becomes its default (noted; none: no model): the environment is not read, because
    the model's name is stored and sent to the server the file names, and a variable can
    hold a key."""
    text = str(value or "")
    found = _ENV_REFERENCE.match(text.strip())
    if found is None:
        return text
    default = (found.group(2) or "").strip()
    taken = f"the column takes the file's default, {default}" if default else "type it"
    notes.append(
        f"The model {text.strip()} is read from the environment by Prompty when it runs "
        f"(not here: {taken})."
    )
    return default


def _thread_value(value: object) -> list[Any]:
    """A thread input's turns, a turn's Prompty text parts (``kind: text``, ``value``)
    joined into its text as Prompty sends them in one message; [] for no turns."""
    if not isinstance(value, list):
        return []
    turns = []
    for turn in value:
        content = turn.get("content") if isinstance(turn, dict) else None
        if isinstance(content, list) and all(
            isinstance(part, dict) and part.get("kind") == "text" for part in content
        ):
            turn = {**turn, "content": "".join(str(part.get("value") or "") for part in content)}
        turns.append(turn)
    return turns


def _variables(front: dict[str, Any], notes: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The variables, and the names of the inputs of ``kind: thread``. A v2 input without
    a default is empty, as Prompty renders it (an ``example`` is not a value: noted)."""
    variables: dict[str, Any] = {}
    threads: list[str] = []
    examples: list[str] = []
    inputs = front.get("inputs")
    if isinstance(inputs, list):  # v2: a list of properties
        for item in inputs:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ExchangeError("Each entry of 'inputs' needs a 'name'.")
            if "default" not in item and item.get("example") is not None:
                examples.append(item["name"])
            variables[item["name"]] = item.get("default", "")
            if item.get("kind") == "thread":
                threads.append(item["name"])
                variables[item["name"]] = _thread_value(variables[item["name"]])
        if examples:
            notes.append(
                f"Examples of inputs are not their values ({', '.join(examples)}): "
                "Prompty renders an input without a default empty, and so does the import."
            )
    elif isinstance(inputs, dict):  # v1: name → {type, default, sample} or a plain value
        for name, spec in inputs.items():
            if isinstance(spec, dict):
                variables[name] = spec.get("default", spec.get("sample", ""))
            else:
                variables[name] = spec
    elif inputs is not None:
        raise ExchangeError("'inputs' must be a list or a mapping.")
    sample = front.get("sample")
    if isinstance(sample, dict):  # v1 sample values win over defaults
        variables.update(sample)
    from_env = []
    for name, value in variables.items():  # never read: a value is stored and sent
        found = _ENV_REFERENCE.match(value.strip()) if isinstance(value, str) else None
        if found is not None:
            from_env.append(name)
            variables[name] = found.group(2) or ""
    if from_env:
        notes.append(
            f"Inputs Prompty reads from the environment ({', '.join(from_env)}) take the "
            "file's default here (the environment is not read: values are stored and sent)."
        )
    return variables, threads
