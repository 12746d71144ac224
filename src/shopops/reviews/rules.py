"""Pure rules of reviews: the moderation state machine, the automatic pre-check (banned words
by segmentation, spam patterns), the 晒单有奖 photo-review reward, the 追评 window and the
rating summary. No session, no I/O.

Moderation: pending → published / rejected (staff, or the pre-check publishing a clean review),
published → rejected (taken down later; its reward is reversed), published → pending (a
flagged follow-up). A rejected review stays
rejected: its reward ref was used once and is not paid twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shopops.errors import InvalidInput
from shopops.reviews.errors import IllegalReviewTransition

MIN_RATING, MAX_RATING = 1, 5
GOOD_RATINGS = frozenset({4, 5})  # 好评: the good-review rate is their share
MAX_CONTENT = 500
MAX_FOLLOW_UP = 500
MAX_REPLY = 500
MAX_REASON = 200
MAX_PHOTOS = 9
MAX_PHOTO_URL = 500
FOLLOW_UP_DAYS = 180
# 晒单有奖: a published review with at least this many photos and characters earns points.
REWARD_MIN_PHOTOS = 1
REWARD_MIN_CHARS = 20
REWARD_POINTS = 20

PHOTO_URL = re.compile(r"^https?://[^\s<>\"']+$")


class ReviewStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


class ReviewAction(StrEnum):
    PUBLISH = "publish"
    REJECT = "reject"
    REOPEN = "reopen"  # a flagged follow-up sends a published review back to the queue


S, A = ReviewStatus, ReviewAction
TRANSITIONS: dict[tuple[ReviewStatus, ReviewAction], ReviewStatus] = {
    (S.PENDING, A.PUBLISH): S.PUBLISHED,
    (S.PENDING, A.REJECT): S.REJECTED,
    (S.PUBLISHED, A.REJECT): S.REJECTED,
    (S.PUBLISHED, A.REOPEN): S.PENDING,
}


def next_status(current: str, action: ReviewAction) -> ReviewStatus:
    """Where `action` takes a review in `current`; 409 `illegal_transition` otherwise."""
    target = TRANSITIONS.get((ReviewStatus(current), action))
    if target is None:
        raise IllegalReviewTransition(
            f"a {current} review does not allow {action.value}",
            details={"status": current, "action": action.value},
        )
    return target


# --- input limits ------------------------------------------------------------------------------


def char_count(text: str) -> int:
    """Characters that count for the reward: whitespace does not."""
    return len(re.sub(r"\s+", "", text))


def check_rating(rating: int) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise InvalidInput("a rating is a whole number of stars", details={"rating": rating})
    if not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidInput(
            f"a rating is {MIN_RATING} to {MAX_RATING} stars", details={"rating": rating}
        )
    return rating


def check_text(text: str, *, field: str, min_length: int, max_length: int) -> str:
    """The text stripped, between `min_length` and `max_length` characters (422 otherwise)."""
    text = text.strip()
    if not min_length <= len(text) <= max_length:
        raise InvalidInput(
            f"{field} has {min_length} to {max_length} characters",
            details={"field": field, "length": len(text), "max": max_length},
        )
    return text


def check_photos(photos: Iterable[str]) -> list[str]:
    """0–9 distinct http(s) URLs, in the order given."""
    out: list[str] = []
    for url in photos:
        url = url.strip()
        if len(url) > MAX_PHOTO_URL or not PHOTO_URL.match(url):
            raise InvalidInput("a photo is an http(s) URL", details={"photo": url[:MAX_PHOTO_URL]})
        if url not in out:
            out.append(url)
    if len(out) > MAX_PHOTOS:
        raise InvalidInput(
            f"at most {MAX_PHOTOS} photos", details={"photos": len(out), "max": MAX_PHOTOS}
        )
    return out


def follow_up_open(reviewed_at: dt.datetime, at: dt.datetime, days: int = FOLLOW_UP_DAYS) -> bool:
    """追评 is possible for `days` after the first review."""
    return at <= reviewed_at + dt.timedelta(days=days)


def earns_photo_reward(content: str, photos: Collection[str]) -> bool:
    """晒单有奖: enough photos and enough words."""
    return len(photos) >= REWARD_MIN_PHOTOS and char_count(content) >= REWARD_MIN_CHARS


# --- the automatic pre-check --------------------------------------------------------------------

# Abuse and off-platform advertising (好评返现 and contact details are against platform rules).
BANNED_WORDS: frozenset[str] = frozenset(
    {
        "傻逼", "sb", "操", "妈的", "滚蛋", "去死", "垃圾玩意",
        "加微信", "加我微信", "vx", "微信号", "qq", "代购", "刷单", "好评返现",
        "返现", "兼职", "博彩", "赌博", "色情", "fuck", "shit",
    }
)  # fmt: skip
# Common words that contain a banned character, so that a segmenter keeps them whole:
# 操作 (operation) is not 操.
SAFE_WORDS: frozenset[str] = frozenset(
    {"操作", "操心", "体操", "早操", "操控", "操场", "节操", "情操", "操纵", "操持"}
)
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LINK = re.compile(r"https?://|www\.|\.com\b|\.cn\b", re.IGNORECASE)
ASCII_RUN = re.compile(r"([a-z0-9]+)")
REPEATED = re.compile(r"(.)\1{5,}")  # the same character six times in a row
LOW_VARIETY_MIN = 12  # texts at least this long…
LOW_VARIETY_RATIO = 0.2  # …with fewer distinct characters than this share are spam


class Flag(StrEnum):
    BANNED_WORD = "banned_word"
    CONTACT = "contact"
    LINK = "link"
    REPEATED = "repeated"
    LOW_VARIETY = "low_variety"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Precheck:
    """What the pre-check found; `clean` reviews publish themselves."""

    flags: tuple[str, ...]
    banned: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.flags

    def as_dict(self) -> dict[str, Any]:
        return {"flags": list(self.flags), "banned": list(self.banned)}


_tokenizers: dict[frozenset[str], Any] = {}
_tokenizers_lock = threading.Lock()  # one load (~1 s) even when a warm-up thread races a check


def _jieba_tokenizer(words: frozenset[str]) -> Any:
    """A private jieba tokenizer that knows the banned and safe words (loaded once: ~1 s);
    None when jieba is not installed."""
    if words in _tokenizers:
        return _tokenizers[words]
    with _tokenizers_lock:
        if words not in _tokenizers:
            _tokenizers[words] = _load_jieba(words)
        return _tokenizers[words]


def _load_jieba(words: frozenset[str]) -> Any:
    try:
        import jieba
    except ImportError:
        return None
    jieba.setLogLevel(logging.WARNING)  # not its dictionary-loading chatter on every console
    tokenizer = jieba.Tokenizer()
    for word in sorted(words):
        tokenizer.add_word(word, freq=100_000)
    return tokenizer


def warm_segmenter(banned_words: frozenset[str] = BANNED_WORDS) -> threading.Thread:
    """Load the segmenter in a daemon thread (for a process that will pre-check many texts:
    the load overlaps its waits instead of stalling its first flagged review)."""
    thread = threading.Thread(
        target=_jieba_tokenizer, args=(banned_words | SAFE_WORDS,), daemon=True
    )
    thread.start()
    return thread


def _may_hold_banned(text: str, banned_words: Collection[str]) -> bool:
    """Whether any banned word occurs in the lower-cased text: every word `segment` yields is
    a piece of it, so without one the segmentation cannot find any (and is skipped)."""
    lowered = text.lower()
    return any(w in lowered for w in banned_words)


def _max_match(text: str, vocabulary: frozenset[str]) -> list[str]:
    """Forward maximum matching over `vocabulary`, single characters otherwise: the
    segmenter when jieba is missing."""
    longest = max((len(w) for w in vocabulary), default=1)
    tokens: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            piece = text[i : i + size]
            if size == 1 or piece in vocabulary:
                tokens.append(piece)
                i += size
                break
    return tokens


def segment(text: str, *, banned_words: frozenset[str] = BANNED_WORDS) -> list[str]:
    """The text's words, lower-cased: runs of ASCII letters and digits are words as they
    stand (usb is not sb); the rest goes through jieba's search-mode segmentation (sub-words
    too, so 加我微信 also yields 微信), or maximum matching when jieba is not installed."""
    vocabulary = banned_words | SAFE_WORDS
    tokenizer = _jieba_tokenizer(vocabulary)
    words: list[str] = []
    for piece in ASCII_RUN.split(text.lower()):
        if not piece.strip():
            continue
        if ASCII_RUN.fullmatch(piece):
            words.append(piece)
        elif tokenizer is not None:
            words.extend(tokenizer.lcut_for_search(piece))
        else:
            words.extend(_max_match(piece, vocabulary))
    return [w for w in words if w.strip()]


def precheck(
    text: str,
    *,
    banned_words: frozenset[str] = BANNED_WORDS,
    recent_texts: Iterable[str] = (),
) -> Precheck:
    """Flags of a review text: banned words (whole words of the segmentation, so 操作 is not
    操), a phone number, a link, a character repeated 6+ times, too little variety, or the same
    text as one of the customer's recent reviews."""
    flags: list[str] = []
    hit = text and _may_hold_banned(text, banned_words)
    words = segment(text, banned_words=banned_words) if hit else []
    found = {w for w in words if w in banned_words}
    # The longest banned words only: jieba's search mode also yields 返现 inside 好评返现.
    banned = sorted(w for w in found if not any(w != o and w in o for o in found))
    if banned:
        flags.append(Flag.BANNED_WORD)
    if PHONE.search(text):
        flags.append(Flag.CONTACT)
    if LINK.search(text):
        flags.append(Flag.LINK)
    compact = re.sub(r"\s+", "", text)
    if REPEATED.search(compact):
        flags.append(Flag.REPEATED)
    if len(compact) >= LOW_VARIETY_MIN and len(set(compact)) / len(compact) < LOW_VARIETY_RATIO:
        flags.append(Flag.LOW_VARIETY)
    if compact and any(re.sub(r"\s+", "", t) == compact for t in recent_texts):
        flags.append(Flag.DUPLICATE)
    return Precheck(flags=tuple(str(f) for f in flags), banned=tuple(banned))


# --- the rating summary -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """Published reviews of a product: how many, the mean, stars → count, and shares."""

    count: int
    average: float | None
    distribution: dict[int, int]
    photo_share: float | None
    good_rate: float | None


def summarize(counts: Mapping[tuple[int, bool], int]) -> RatingSummary:
    """The summary from `(rating, has photos) → reviews`; shares are None with no reviews."""
    distribution = dict.fromkeys(range(MIN_RATING, MAX_RATING + 1), 0)
    with_photos = 0
    for (rating, has_photos), n in counts.items():
        distribution[int(rating)] += int(n)
        with_photos += int(n) if has_photos else 0
    total = sum(distribution.values())
    if total == 0:
        return RatingSummary(0, None, distribution, None, None)
    stars = sum(r * n for r, n in distribution.items())
    good = sum(distribution[r] for r in GOOD_RATINGS)
    return RatingSummary(
        count=total,
        average=round(stars / total, 2),
        distribution=distribution,
        photo_share=with_photos / total,
        good_rate=good / total,
    )
