"""附件: the photos, voice and video kept from a ticket's attachments, served to the console.

GET /admin/tickets/<number>/media/<attachment id> (viewer, like the ticket page): the stored
file with its content type. Photos show inline on the ticket page, MP3 voice and MP4 video
play there; AMR and Speex voice (WeChat's own formats) no browser plays, so the page offers
them as a download instead of a player that would stay silent. What the page says about an
attachment not (yet) kept is written here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, send_file
from werkzeug.wrappers import Response

from models import ConsoleRole, ticket_by_number
from models import media as states
from models.media import stored_file

from ..media.fetch import stored_path
from .access import guard, requires
from .common import reading, ys
from .scope import in_scope

bp = Blueprint("console_media", __name__, url_prefix="/admin/tickets")
bp.before_request(guard)

# How each stored type is shown: an inline picture, a player, or a download link.
PLAYERS = {
    "image/jpeg": "img",
    "image/png": "img",
    "image/gif": "img",
    "audio/mpeg": "audio",
    "video/mp4": "video",
}
DOWNLOAD = "download"
# What the page says, by download state.
NOTES = {
    states.PENDING: "正在从微信下载，请稍后刷新。",
    states.FETCHING: "正在从微信下载，请稍后刷新。",
    states.TOO_LARGE: "文件过大（{size}，上限 {limit}），未保存，仅有微信媒体编号。",
    states.BAD_TYPE: "文件类型（{type}）不是图片、语音或视频，未保存，仅有微信媒体编号。",
    states.FAILED: "下载失败，未能保存（{error}）。微信只保留 3 天，过期后无法再取回。",
    states.ID_ONLY: "仅有微信媒体编号：未配置公众号 AppSecret（开发环境），无法从微信下载。",
}
DOWNLOAD_NOTE = "浏览器无法直接播放微信语音格式（{type}），请下载后用播放器打开。"
UNKNOWN_SIZE = "大小未知"


@dataclass(frozen=True)
class Shown:
    """How the ticket page shows one attachment's media: a player (or None) and a note."""

    player: str | None  # "img", "audio", "video", "download", or None: not stored
    note: str | None


def shown(
    status: str | None, content_type: str | None, size: int | None, error: str | None
) -> Shown:
    """What the page shows for an attachment in this download state."""
    if status is None:
        return Shown(None, None)  # nothing to download (a location, a link)
    if status == states.STORED:
        player = PLAYERS.get(content_type or "", DOWNLOAD)
        note = DOWNLOAD_NOTE.format(type=content_type) if player == DOWNLOAD else None
        return Shown(player, note)
    limit = ys().settings.media.max_bytes
    note = NOTES.get(status, "{error}").format(
        size=_size(size) if size else UNKNOWN_SIZE,
        limit=_size(limit),
        type=content_type or "未知",
        error=error or "原因不明",
    )
    return Shown(None, note)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@bp.route("/<int:number>/media/<int:attachment_id>")
@requires(ConsoleRole.VIEWER)
def file(number: int, attachment_id: int) -> Response:
    """The stored file of one attachment of ticket #number."""
    with reading() as db:
        ticket = ticket_by_number(db, number)
        if ticket is None:
            abort(404)
        in_scope(ticket.community_id)  # another community's ticket: no such file here
        found = stored_file(db.connection(), number, attachment_id)
    if found is None:
        abort(404)
    name, content_type = found
    path = stored_path(ys().settings, name)
    if path is None or not path.is_file():
        abort(404)
    player = PLAYERS.get(content_type)
    extension = path.suffix
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=player is None,  # AMR / Speex: a download, not a page
        download_name=f"诉求{number}-附件{attachment_id}{extension}",
        conditional=True,  # Range requests: a video can be sought
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A stored file is never a page: nothing in it may run, even if a browser tried.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
