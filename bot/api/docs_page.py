"""What /api/docs shows, read from the OpenAPI document (docs.py `openapi_document`): every
operation with the scope it needs, its parameters, request body, responses, and every schema
as a table of fields — so the page can never disagree with the document. The page itself is
bot/templates/api/docs.html (its words are there)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
REF = "#/components/schemas/"


@dataclass(frozen=True)
class Row:
    """A parameter or a schema's field."""

    name: str
    type: str
    required: bool
    description: str
    where: str = ""  # a parameter's place: path, query, header
    link: str | None = None  # the anchor of the schema its type names


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media_type: str
    schema: str | None
    link: str | None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    scope: str | None
    anchor: str
    parameters: list[Row]
    body: tuple[str, str] | None  # (media type, schema name)
    body_link: str | None
    answers: list[Answer]
    paged: bool


@dataclass(frozen=True)
class Model:
    name: str
    anchor: str
    description: str
    fields: list[Row]


@dataclass
class Page:
    title: str
    description: str
    version: str
    tags: list[tuple[str, list[Operation]]] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)

    @property
    def operations(self) -> list[Operation]:
        return [op for _, ops in self.tags for op in ops]


def short_name(name: str) -> str:
    """spectree's component name ("AgendaPage.591af53.AgendaSummary") as people say it."""
    parts = [p for p in name.split(".") if not re.fullmatch(r"[0-9a-f]{7}", p)]
    return parts[-1] if parts else name


def anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def type_of(schema: dict[str, Any]) -> tuple[str, str | None]:
    """A schema as a short type ("string | null", "AgendaSummary[]", "integer 1–100") and
    the anchor of the schema it names, if any."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF)
        return short_name(name), anchor(name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [type_of(s) for s in schema[key]]
            link = next((link for _, link in parts if link), None)
            return " | ".join(text for text, _ in parts), link
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " | ".join(kind), None
    if kind == "array":
        inner, link = type_of(schema.get("items", {}))
        return f"{inner}[]", link
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        inner, link = type_of(schema["additionalProperties"])
        return f"{{string: {inner}}}", link
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"]), None
    return kind + _limits(schema), None


def _limits(schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        return f" {'' if low is None else low}–{'' if high is None else high}"
    parts = []
    if "minLength" in schema or "maxLength" in schema:
        parts.append(f"{schema.get('minLength', 0)}–{schema.get('maxLength', '')} 字")
    if "format" in schema:
        parts.append(schema["format"])
    return f" ({', '.join(parts)})" if parts else ""


def _description(schema: dict[str, Any]) -> str:
    found = schema.get("description", "")
    for key in ("anyOf", "oneOf"):
        for inner in schema.get(key, ()):
            found = found or inner.get("description", "")
    return str(found)


def _fields(schema: dict[str, Any]) -> list[Row]:
    required = set(schema.get("required", ()))
    rows = []
    for name, inner in schema.get("properties", {}).items():
        text, link = type_of(inner)
        rows.append(Row(name, text, name in required, _description(inner), link=link))
    return rows


def _parameter(parameter: dict[str, Any]) -> Row:
    schema = parameter.get("schema", {})
    text, link = type_of(schema)
    if "default" in schema and schema["default"] is not None:
        text += f"（默认 {schema['default']}）"
    description = parameter.get("description") or _description(schema)
    return Row(
        parameter["name"],
        text,
        bool(parameter.get("required")),
        description,
        where=parameter.get("in", ""),
        link=link,
    )


def _content(content: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """The first media type of a body or an answer, with its schema's name and anchor."""
    for media_type, body in content.items():
        schema = body.get("schema", {})
        if schema:
            text, link = type_of(schema)
            return media_type, text, link
        return media_type, None, None
    return "", None, None


def _operation(path: str, method: str, op: dict[str, Any], models: dict[str, Any]) -> Operation:
    body, body_link = None, None
    if "requestBody" in op:
        media_type, name, body_link = _content(op["requestBody"].get("content", {}))
        body = (media_type, name or "")
    answers = []
    for status, answer in sorted(op.get("responses", {}).items()):
        media_type, name, link = _content(answer.get("content", {}))
        answers.append(Answer(status, answer.get("description", ""), media_type, name, link))
    ok = next((a for a in answers if a.status.startswith("2") and a.link), None)
    paged = ok is not None and any(
        "next_cursor" in m.get("properties", {})
        for name, m in models.items()
        if ok.link == anchor(name)
    )
    return Operation(
        method=method.upper(),
        path=path,
        summary=op.get("summary", ""),
        description=op.get("description", ""),
        scope=op.get("x-scope"),
        anchor=f"op-{method}-" + re.sub(r"[^A-Za-z0-9_-]", "-", path.strip("/")),
        parameters=[_parameter(p) for p in op.get("parameters", ())],
        body=body,
        body_link=body_link,
        answers=answers,
        paged=paged,
    )


def page_of(document: dict[str, Any]) -> Page:
    """The page for `document`: operations grouped by their first tag, in document order."""
    info = document.get("info", {})
    models = document.get("components", {}).get("schemas", {})
    page = Page(info.get("title", ""), info.get("description", ""), str(info.get("version", "")))
    groups: dict[str, list[Operation]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or [""])[0]
                groups.setdefault(tag, []).append(_operation(path, method, item[method], models))
    page.tags = list(groups.items())
    page.models = [
        Model(short_name(name), anchor(name), schema.get("description", ""), _fields(schema))
        for name, schema in models.items()
        if not short_name(name).endswith(("Query", "Path"))  # shown as parameters
    ]
    return page
