"""The errors socklab reports to its users.

The CLI catches ``SocklabError`` only: anything else is a bug and keeps its traceback.
"""

from socklab.i18n import _


class SocklabError(Exception):
    """Base of every error socklab reports with a message instead of a traceback."""

    exit_code = 2


class LabError(SocklabError):
    """A lab folder or its metadata is malformed (the lab author's fault)."""


class PlatformError(SocklabError):
    """Docker, Compose, an image or the topology failed: never the student's fault."""


class CommandError(PlatformError):
    """A command the platform ran failed; shows the command, exit code and output tail."""

    def __init__(self, argv: list[str], returncode: int, output: str) -> None:
        tail = "\n".join(output.strip().splitlines()[-15:])
        command = " ".join(argv)
        super().__init__(
            _("command failed with exit code {code}: {command}").format(code=returncode, command=command)
            + f"\n{tail}"
        )
        self.argv = argv
        self.returncode = returncode
        self.output = output
