"""The exception tree, in one place.

Foreign errors (aiosmtplib, SQLAlchemy, email) are mapped to these at the edges, so the
core only ever reasons about what went wrong in mailbot's own words.
"""


class MailbotError(Exception):
    """Base of every error mailbot raises on purpose."""


class ConfigError(MailbotError):
    """The config or a rules file is wrong: says which file, which key, and what."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")


class SchemaError(MailbotError):
    """The database schema is not the one this version of mailbot needs."""


class DeliveryError(MailbotError):
    """An outgoing delivery failed; `permanent` says whether trying again could help."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        self.permanent, self.code = permanent, code
        super().__init__(message)
