"""Lab 7 reference: the file a request's target names under the web root.

No sockets here: a target in, a file path out, or HttpError with the status to answer.
"""

import os
import re
import urllib.parse

from request import HttpError

BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def segments(target: str) -> list[str]:
    """The target's path, percent-decoded, as its non-empty segments; the query is dropped.

    Decoding comes first, so ``%2e%2e`` and ``..%2f`` are seen for the ``..`` they are.
    """
    path = target.split("?", 1)[0]
    if BAD_ESCAPE.search(path):
        raise HttpError(400)
    try:
        path = urllib.parse.unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400) from None
    if "\0" in path:
        raise HttpError(400)
    parts = [p for p in path.split("/") if p and p != "."]
    if ".." in path:
        raise HttpError(403)
    return parts


def file_for(root: str, parts: list[str]) -> str:
    """The regular file the path names in ``root`` (a folder's index.html), or HttpError 404."""
    path = os.path.join(root, *parts)
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    if not os.path.isfile(path):
        raise HttpError(404)
    return path
