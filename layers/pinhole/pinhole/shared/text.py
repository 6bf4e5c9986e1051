"""What people write (names, bios, captions, comments, messages, titles, notes) may hold any character a keyboard
or an emoji picker makes, but no control character: a NUL, an escape sequence or a backspace in a name is never
meant, and breaks what shows it (a terminal, a C string, a push payload). As patterns of the fields (pydantic's
StringConstraints), so the OpenAPI document tells clients and the fuzzer what is refused: 422 naming the field."""

ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""A name or a title: no control character at all (C0, DEL, C1), line breaks and tabs included."""

MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""A bio, a caption, a comment, a message, a note: line breaks (\\n, \\r) and tabs, and no other control character."""
