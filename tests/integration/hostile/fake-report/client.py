"""Hostile: claim to pass, in every format, instead of talking to the server."""

from fake import forge

forge()
