"""The gallery's HTML: Jinja2 templates that escape everything, and show invisible characters.

Autoescaping makes ``<script>`` and ``onerror=`` in a prompt, a file name or a plugin's metadata
plain text. ``finalize`` runs on every value a template prints, before escaping: it writes control
and bidirectional-override characters as visible escapes (``\\u202e``), so a name cannot reorder
what is shown around it or hide part of itself.
"""

from __future__ import annotations

from functools import lru_cache

# default-src 'none': nothing loads unless listed; no inline script or style, no other origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# An exported site is opened from file://; Chromium treats each file as its own origin, so 'self'
# would refuse the site's own files. Still: no network, no inline script.
EXPORT_CSP = (
    "default-src 'none'; script-src 'self' file:; style-src 'self' file:; img-src 'self' file: data:; "
    "media-src 'self' file:; form-action 'none'; base-uri 'none'"
)


def visible(value) -> str:
    """``value`` as text whose control and bidi characters are written as escapes (genkit.printable,
    the one function for outside text), line by line: a page keeps a text's line breaks."""
    from genkit.printable import printable

    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():  # the common case, checked at C speed
        return text
    return "\n".join(printable(line) for line in text.split("\n"))


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("genkit.gallery", "templates"),
        autoescape=True,  # every template, whatever its name
        finalize=visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
