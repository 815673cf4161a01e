"""Lesson text as HTML: paragraphs at blank lines, `code` and **bold**, everything else escaped
(a lesson file is data a teacher writes, never markup the page trusts)."""

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


@register.filter
def lesson_text(text):
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return mark_safe("".join(f"<p>{inline(' '.join(p.split()))}</p>" for p in paragraphs))


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
