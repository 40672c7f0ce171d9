"""/api/docs: the API for people, made from the OpenAPI document — every operation with the
scope it needs, its parameters and answers; the key, problems, pages, webhooks and Open311;
and nothing from outside this server (no script, no CDN, no web fonts)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask.testing import FlaskClient

METHODS = ("get", "post", "put", "patch", "delete")


class Links(HTMLParser):
    """Every src and href of a page, and whether it has a script or a style sheet link."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]


def test_the_page_needs_no_key_and_nothing_from_outside(client: FlaskClient) -> None:
    answer = client.get("/api/docs")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    links = Links()
    links.feed(html)
    assert "script" not in links.tags and "link" not in links.tags and "iframe" not in links.tags
    assert links.urls, "the page links its own sections"
    for url in links.urls:
        assert url.startswith(("#", "/")) and not url.startswith("//"), url
    assert "url(" not in html and "@import" not in html and "@font-face" not in html
    assert not re.search(r"https?://", html.split("<main>", 1)[0])  # the head loads nothing


def test_the_page_lists_every_operation_of_the_document(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    html = client.get("/api/docs").get_data(as_text=True)
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 8
    for method, path, operation in operations:
        heading = f"{method.upper()}</span><code>{path}</code>"
        assert heading in html, f"{method.upper()} {path} is not on the page"
        assert operation["summary"] in html
    # The scope a key needs, from the routes themselves.
    agenda = document["paths"]["/api/v1/agenda"]["get"]
    assert agenda["x-scope"] == "agenda:read"
    assert document["paths"]["/api/v1/topics"]["get"]["x-scope"] == "any"
    section = html.split('id="op-get-api-v1-agenda"', 1)[1].split("</section>", 1)[0]
    assert "所需权限：<code>agenda:read</code>" in section
    assert "<code>stage</code>" in section and "<code>cursor</code>" in section
    assert 'href="#schema-AgendaPage' in section


def test_the_page_says_how_to_call_and_what_comes_back(client: FlaskClient) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    assert "Authorization: Bearer" in html
    assert "application/problem+json" in html and "Retry-After" in html
    assert "next_cursor" in html
    assert "Yishiting-Signature: t=UNIX_TIME,v1=HEX" in html
    assert "Yishiting-Event-Id" in html and "ticket.rejected" in html
    assert "/open311/v2/services.json" in html and "jurisdiction_id" in html
    # Chinese first.
    assert html.index("认证与权限") < html.index("Authentication")
