"""Who may post: accept, or hold for a moderator with a reason. Pure."""

from dataclasses import dataclass

from mailbot.config.rules import Posting


@dataclass(frozen=True)
class Verdict:
    action: str  # "accept", "hold" (for a moderator) or "reject" (too large)
    reason: str = ""  # a reason code; templates say it in words


ACCEPT = Verdict("accept")


def decide_post(rules: Posting, *, is_member: bool, is_moderator: bool,
                post_count: int, size: int, automatic: bool, has_author: bool = True,
                moderated: bool = False,
                posts_today: int = 0) -> Verdict:
    """Decide what happens to a post from the sender's standing and the list's rules.
    `moderated`: a moderator put the member under moderation; `posts_today`: how many of
    their posts went out today (the flood brake, `max_posts_per_day`)."""
    if size > rules.max_kb * 1024:
        return Verdict("reject", "too-large")
    if not has_author:  # no From, several, or unreadable: receivers would refuse the copies
        return Verdict("hold", "no-from")
    if is_moderator:
        return Verdict("accept")
    if automatic:
        return Verdict("hold", "automatic")
    if rules.who == "moderators":
        return Verdict("hold", "moderators-only")
    if rules.who == "members" and not is_member:
        return Verdict("hold", "not-member")
    if is_member and moderated:
        return Verdict("hold", "moderated")
    if is_member and rules.first_post_moderated and post_count == 0:
        return Verdict("hold", "first-post")
    if is_member and 0 < rules.max_posts_per_day <= posts_today:
        return Verdict("hold", "flood")
    return Verdict("accept")
