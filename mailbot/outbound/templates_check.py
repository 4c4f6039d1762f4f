"""`mailbot check` on the templates: which ones the bot uses, and whether each can be read.

Every template (shipped, or the operator's override for all lists or for one list) is
parsed, its includes must exist, both languages must be there, and it is rendered once
with stand-in values, so a typo in an override is found at `check`, not in a member's
mailbox.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, meta

from mailbot.outbound.compose import Composer

LANGUAGES = ("fr", "en")


class _StandIn(ChainableUndefined):
    """Any value a template asks for: empty text, an empty list, zero, never an error.
    (Undefined's operators are typed to never return; these do, hence the ignores.)"""

    def _same(self, *_: Any) -> "_StandIn":
        return self

    def _false(self, *_: Any) -> bool:
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same  # type: ignore
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _same  # type: ignore
    __mod__ = __rmod__ = _same  # type: ignore
    __lt__ = __le__ = __gt__ = __ge__ = _false  # type: ignore

    def __call__(self, *_: Any, **__: Any) -> "_StandIn":  # type: ignore[override]
        return self

    def __int__(self) -> int:  # type: ignore[override]
        return 0

    def __float__(self) -> float:  # type: ignore[override]
        return 0.0


@dataclass
class TemplateReport:
    used: list[tuple[str, str]] = field(default_factory=list)  # (template, where from)
    problems: list[str] = field(default_factory=list)


def check_templates(composer: Composer, list_names: list[str]) -> TemplateReport:
    report = TemplateReport()
    shipped = _stems(composer.shipped)
    if not shipped:
        report.problems.append(f"{composer.shipped}: no templates found (a broken install?)")
        return report
    overrides = _stems(composer.overrides) if composer.overrides else set()
    for stem in sorted(overrides - shipped):
        head = stem.split("/", 1)
        if len(head) == 2 and head[0] in list_names and head[1] in shipped:
            continue
        report.problems.append(f"{composer.overrides}/{stem}.*.txt overrides no template "
                               "mailbot has: check its name and folder")
    for stem in sorted(shipped | overrides):
        source = "yours" if stem in overrides else "shipped"
        report.used.append((stem, source))
        for language in LANGUAGES:
            _check_one(composer, stem, language, report.problems)
    return report


def _stems(folder: Path | None) -> set[str]:
    if folder is None or not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix().rsplit(".", 2)[0] for p in folder.rglob("*.txt")
            if p.name.count(".") >= 2}


def _check_one(composer: Composer, stem: str, language: str, problems: list[str]) -> None:
    name = f"{stem}.{language}.txt"
    env = composer.env
    try:
        source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    except TemplateError:
        problems.append(f"template {name} is missing (every template needs fr and en)")
        return
    try:
        for included in meta.find_referenced_templates(env.parse(source, name, filename)):
            if included is not None and included not in env.list_templates():
                problems.append(f"{filename}: includes {included}, which does not exist")
        text = env.overlay(undefined=_StandIn).from_string(source).render()
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        problems.append(f"{filename}{f' line {line}' if line else ''}: {exc.message}")
        return
    if not stem.rsplit("/", 1)[-1].startswith("_") and not text.startswith("Subject:"):
        problems.append(f"{filename}: the first line must be 'Subject: …'")
