"""Letters a parent can send the school, filled in from the screening: the content model
(book.py), the filled-in letter (fill.py) and its three forms: text to copy (text.py), a Word
file (word.py) and a PDF (pdf.py), made together by render.py. No Telegram and no storage:
the conversation (bot/parent/letters.py) and `iep-bot letter preview` (cli.py) use them alike.
"""
