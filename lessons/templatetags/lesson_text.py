"""Lesson text as HTML: paragraphs at blank lines, lists of lines that start with "- ", `code`
and **bold**; everything else escaped (a lesson file is data a teacher writes, never markup
the page trusts)."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def inline(text):
    html = escape(text)
    html = _CODE.sub(r"<code>\1</code>", html)
    return _BOLD.sub(r"<strong>\1</strong>", html)


def _block(block):
    lines = block.strip().splitlines()
    if all(re.match(r"\s*- ", line) or line.startswith("  ") for line in lines) and \
            lines[0].lstrip().startswith("- "):
        items, current = [], []
        for line in lines:
            if line.lstrip().startswith("- ") and not line.startswith("   "):
                if current:
                    items.append(current)
                current = [line.lstrip()[2:]]
            else:
                current.append(line.strip())
        items.append(current)
        return "<ul>" + "".join(f"<li>{inline(' '.join(item))}</li>" for item in items) + "</ul>"
    return f"<p>{inline(' '.join(block.split()))}</p>"


@register.filter
def lesson_text(text):
    blocks = [b for b in re.split(r"\n\s*\n", text or "") if b.strip()]
    return mark_safe("".join(_block(b) for b in blocks))


@register.filter
def lesson_inline(text):
    return mark_safe(inline(text or ""))


@register.filter
def in_lang(prose, language):
    """A lesson's text in the learner's language, where the lesson has it; else English."""
    return prose.in_language(language) if hasattr(prose, "in_language") else prose


@register.filter
def language_name(code):
    """The language's own name for itself (한국어 for ko), as Django's locale table has it."""
    from django.conf.locale import LANG_INFO

    return LANG_INFO.get(code, {}).get("name_local", code)


@register.simple_tag
def ui(text, language, **values):
    """The lesson pages' own words in the learner's language (lessons.words)."""
    from lessons.words import say

    return say(text, language, **values)
