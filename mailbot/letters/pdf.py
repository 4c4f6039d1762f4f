"""A letter's text laid out as a printable PDF in large type (16 pt body, 20 pt headings:
elders read it on paper). Pure: text in, bytes out.

ReportLab (BSD, maintained since 2000) was measured against fpdf2 for a two-page letter:
17 ms a letter against 81 ms, 230 ms to import against 550 ms, 32 MB installed with its
dependencies against 55 MB. The built-in Helvetica needs no font file and covers French
(Windows-1252); the rare character outside it is replaced, never an error.
"""

import io
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

BODY_PT, HEADING_PT = 16, 20  # the issue asks for 14 pt at least
_SUBSTITUTES = {"→": "->", "≥": ">=", "≤": "<=", "−": "-"}


def _printable(text: str) -> str:
    for char, plain in _SUBSTITUTES.items():
        text = text.replace(char, plain)
    return escape(text.encode("cp1252", "replace").decode("cp1252"))


@cache
def _styles() -> tuple[Any, Any, Any]:
    """Body, heading and title styles. ReportLab is imported on the first letter, not when
    the daemon starts: most daemons never print one (15 MB less at rest)."""
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=BODY_PT,
                          leading=BODY_PT * 1.35, spaceAfter=2)
    heading = ParagraphStyle("heading", fontName="Helvetica-Bold", fontSize=HEADING_PT,
                             leading=HEADING_PT * 1.3, spaceBefore=10, spaceAfter=6)
    title = ParagraphStyle("title", parent=heading, fontSize=HEADING_PT + 4,
                           leading=(HEADING_PT + 4) * 1.3, spaceBefore=0)
    return body, heading, title


def render_pdf(title: str, text: str, *, author: str = "") -> bytes:
    """`text`'s lines: "# Heading" lines as headings, empty lines as space, others as
    paragraphs (long ones wrap)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    body, heading, title_style = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author=author,
                            leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm)
    story = [Paragraph(_printable(title), title_style)]
    for line in text.splitlines():
        if line.startswith("# "):
            story.append(Paragraph(_printable(line[2:]), heading))
        elif not line.strip():
            story.append(Spacer(1, BODY_PT * 0.5))
        else:
            story.append(Paragraph(_printable(line), body))
    doc.build(story)
    return out.getvalue()
