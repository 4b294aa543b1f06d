"""How an agreement's reference appears in its entry page's URL: /registers/<register>/entries/<reference>/.

References are 1 to 50 letters, digits, "/", ".", "_" and "-", starting with a letter or digit (agreements.models
.validate_reference). Most are kept as they are, slashes included, so SL/25/1 lives at .../entries/SL/25/1/.

A reference whose slashes would not survive a browser or a proxy (an empty segment as in "A//1", a trailing
slash, or a "." or ".." segment that browsers resolve away) is written with "~" in place of every "/" instead:
"A/../1" becomes "A~..~1". "~" never occurs in a reference, so the two forms cannot collide: a URL holding "~"
is always the second form, and reading it back is exact. Any other spelling of a reference (the "~" form of a
plain reference) is redirected to the one canonical URL by the view.
"""

from __future__ import annotations

import re

from django.urls import register_converter

# A "plain" reference: segments of allowed characters, none empty, none "." or "..".
_SEGMENT = r"(?!\.\.?(?:/|$))[A-Za-z0-9._-]+"
_PLAIN_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
ENCODED_SLASH = "~"


def reference_to_url(reference: str) -> str:
    """The path segment(s) of an entry's URL for a reference (not percent-encoded: every character is safe)."""
    if _PLAIN_RE.fullmatch(reference):
        return reference
    return reference.replace("/", ENCODED_SLASH)


def reference_from_url(value: str) -> str:
    return value.replace(ENCODED_SLASH, "/")


class EntryReferenceConverter:
    """A path converter for references: <entry_ref:reference> matches across slashes, like <path:...>, but only
    the characters a reference (or its "~" form) may hold."""

    regex = r"[A-Za-z0-9~][A-Za-z0-9/._~-]*"

    def to_python(self, value: str) -> str:
        return reference_from_url(value)

    def to_url(self, value: str) -> str:
        return reference_to_url(value)


# Registered once, here, for both URLconfs that use it (publishing.urls and staff.urls).
register_converter(EntryReferenceConverter, "entry_ref")
