"""A letter as a Word file (.docx), with python-docx: its default template is Word's own,
so the file opens in Word, Google Docs and phones' viewers alike. The parent edits it, so
the letter is plain paragraphs in a common font (Times New Roman, which Liberation Serif in
the PDF matches), bullets in Word's own list style, US Letter with one-inch margins.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.letters.fill import BlockKind, Letter

FONT = "Times New Roman"
FONT_SIZE = 11.5  # points: the PDF's size, so both keep the usual letter on one page
SPACE_AFTER = 8  # points between blocks


def docx_bytes(letters: Sequence[Letter]) -> bytes:
    """The letters in one Word file; each after the first starts on a new page."""
    # Loaded here: `iep-bot --help`, the content check and every reply without a letter
    # never pay for python-docx and lxml.
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Inches, Pt

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(FONT_SIZE)
    normal.paragraph_format.space_after = Pt(0)
    # The template says "python-docx" here; say nothing about who wrote it instead.
    properties = document.core_properties
    properties.author = properties.last_modified_by = properties.comments = ""
    properties.title = letters[0].subject if letters else ""

    for index, letter in enumerate(letters):
        if index:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        if letter.heading:
            heading = document.add_paragraph()
            heading.add_run(letter.heading).italic = True
            heading.paragraph_format.space_after = Pt(SPACE_AFTER * 2)
        for block in letter.blocks:
            if block.kind is BlockKind.BULLETS:
                for line in block.lines:
                    item = document.add_paragraph(line, style="List Bullet")
                    item.paragraph_format.space_after = Pt(2)
                document.paragraphs[-1].paragraph_format.space_after = Pt(SPACE_AFTER)
                continue
            paragraph = document.add_paragraph()
            for i, line in enumerate(block.lines):
                run = paragraph.add_run(line)
                run.bold = block.kind is BlockKind.SUBJECT
                if i < len(block.lines) - 1:
                    run.add_break()
            paragraph.paragraph_format.space_after = Pt(SPACE_AFTER)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
