"""`genkit gallery`: a local web page over the history (genkit/history), and a static export of it.

media.py reads a recorded file only after checking it is still what the run wrote, and makes
thumbnails and MIDI renderings (cached by the file's sha256); pages.py turns history rows into
what the templates show; server.py serves it on 127.0.0.1; export.py writes it as plain files.
"""
