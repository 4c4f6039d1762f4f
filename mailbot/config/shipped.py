"""Where the files mailbot ships with live: its templates and its default rules.

In the repository they are the top-level `templates/` and `rules/default.toml`; the wheel
carries the same files inside the package (`mailbot/templates/`, `mailbot/rules/`), so an
installed mailbot finds them without a checkout. The package copy wins when both exist.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def _first(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def templates_dir() -> Path:
    """The templates every list uses unless the operator overrides one."""
    return _first(_PACKAGE / "templates", _PACKAGE.parent / "templates")


def default_rules() -> Path:
    """The rules every list starts from (`rules/default.toml`)."""
    return _first(_PACKAGE / "rules" / "default.toml", _PACKAGE.parent / "rules" / "default.toml")
