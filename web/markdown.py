"""Markdown of learning assets as the app shows it: CommonMark with raw HTML disabled (so it
is escaped), plus tables; links that leave the app open in a new tab."""
from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup


def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def link_open(renderer, tokens, idx, options, env):
        href = str(tokens[idx].attrGet("href") or "")
        if href.startswith(("http://", "https://")):
            tokens[idx].attrSet("target", "_blank")
            tokens[idx].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)
    md.add_render_rule("link_open", link_open)
    return md


def render(text: str) -> Markup:
    """The Markdown text as the app shows it."""
    return Markup(markdown().render(text))
