"""分类: an admin asks the classifier to explain itself on a text, in the chat: the rules' hits
and scores, the learned model's likeliest topics and the n-grams that weighed most when the
rules were unsure, and who decided (bot/classify/book.py render_explanation, on the live
RuleBook's classifier for the admin's community, model included)."""

from __future__ import annotations

from models import Role

from . import texts
from .router import Context, Router

router = Router("admin")


@router.command("分类", help="分类 <文字>：查看规则和模型如何判断这段文字", role=Role.ADMIN)
def explain(ctx: Context, args: str) -> str:
    if not args.strip():
        return texts.EXPLAIN_USAGE
    return ctx.explain(args)
