"""Pure review rules: moderation, the pre-check, limits, the reward, the summary."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.errors import InvalidInput
from shopops.reviews import rules
from shopops.reviews.errors import IllegalReviewTransition
from shopops.reviews.rules import Flag, ReviewAction, ReviewStatus


def test_moderation_moves():
    assert rules.next_status("pending", ReviewAction.PUBLISH) is ReviewStatus.PUBLISHED
    assert rules.next_status("pending", ReviewAction.REJECT) is ReviewStatus.REJECTED
    assert rules.next_status("published", ReviewAction.REJECT) is ReviewStatus.REJECTED
    assert rules.next_status("published", ReviewAction.REOPEN) is ReviewStatus.PENDING
    for current, action in [
        ("rejected", ReviewAction.PUBLISH),
        ("rejected", ReviewAction.REJECT),
        ("published", ReviewAction.PUBLISH),
        ("pending", ReviewAction.REOPEN),
    ]:
        with pytest.raises(IllegalReviewTransition):
            rules.next_status(current, action)


def test_clean_text_passes():
    check = rules.precheck("充电很快，做工扎实，用了一周没有发热，推荐购买。")
    assert check.clean and check.flags == () and check.banned == ()


def test_banned_words_are_whole_words_of_the_segmentation():
    flagged = rules.precheck("东西还行，好评返现加微信找我")
    assert Flag.BANNED_WORD in flagged.flags
    assert {"好评返现", "加微信"} <= set(flagged.banned)
    # 操 is banned, 操作 (operation) is not; sb is banned, usb is not.
    assert rules.precheck("操作很简单，usb接口很稳").clean
    assert rules.precheck("什么破东西 操").banned == ("操",)
    assert rules.precheck("Fuck this cable").banned == ("fuck",)


def test_spam_rules():
    assert Flag.CONTACT in rules.precheck("有问题打13812345678").flags
    assert Flag.LINK in rules.precheck("看这里 http://example.test/x").flags
    assert Flag.REPEATED in rules.precheck("好好好好好好好好").flags
    assert Flag.LOW_VARIETY in rules.precheck("好的好的好的好的好的好的").flags
    assert Flag.DUPLICATE in rules.precheck("不错 不错", recent_texts=["不错不错"]).flags
    assert rules.precheck("不错不错", recent_texts=["很好"]).clean


def test_custom_banned_list():
    assert not rules.precheck("这个颜色很丑", banned_words=frozenset({"丑"})).clean


@given(st.text(max_size=80))
def test_precheck_never_fails_and_is_deterministic(text):
    assert rules.precheck(text) == rules.precheck(text)


def test_limits():
    assert rules.check_rating(5) == 5
    for bad in (0, 6, True, 4.5):
        with pytest.raises(InvalidInput):
            rules.check_rating(bad)  # type: ignore[arg-type]
    assert rules.check_text("  好  ", field="content", min_length=1, max_length=3) == "好"
    with pytest.raises(InvalidInput):
        rules.check_text("x" * 501, field="content", min_length=0, max_length=500)
    urls = [f"https://img.example.test/{i}.jpg" for i in range(9)]
    assert rules.check_photos(urls + urls[:2]) == urls  # duplicates dropped
    with pytest.raises(InvalidInput):
        rules.check_photos([*urls, "https://img.example.test/9.jpg"])
    with pytest.raises(InvalidInput):
        rules.check_photos(["javascript:alert(1)"])


def test_photo_reward_needs_a_photo_and_twenty_characters():
    text = "质量很好" * 5  # 20 characters
    assert rules.earns_photo_reward(text, ["https://x.test/a.jpg"])
    assert not rules.earns_photo_reward(text, [])
    assert not rules.earns_photo_reward("质量很好 " * 4 + "质量很", ["https://x.test/a.jpg"])


def test_follow_up_window():
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert rules.follow_up_open(at, at + dt.timedelta(days=180))
    assert not rules.follow_up_open(at, at + dt.timedelta(days=180, seconds=1))


def test_summary():
    empty = rules.summarize({})
    assert empty.count == 0 and empty.average is None and empty.good_rate is None
    assert empty.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    s = rules.summarize({(5, True): 2, (5, False): 1, (4, False): 1, (1, True): 1})
    assert s.count == 5 and s.average == 4.0
    assert s.distribution == {1: 1, 2: 0, 3: 0, 4: 1, 5: 3}
    assert s.photo_share == pytest.approx(0.6) and s.good_rate == pytest.approx(0.8)


@given(st.dictionaries(st.tuples(st.integers(1, 5), st.booleans()), st.integers(0, 50)))
def test_summary_shares_are_bounded(counts):
    s = rules.summarize(counts)
    assert s.count == sum(counts.values())
    if s.count:
        assert 1 <= s.average <= 5
        assert 0 <= s.good_rate <= 1 and 0 <= s.photo_share <= 1


def test_segmentation_keeps_ascii_runs_whole():
    words = rules.segment("操作很简单，USB接口 加我微信vx123")
    assert "操作" in words and "usb" in words and "加我微信" in words and "vx123" in words
    assert "操" not in words and "sb" not in words


def test_jieba_segmentation_agrees_when_installed():
    pytest.importorskip("jieba")
    assert rules.precheck("操作很简单，usb接口很稳").clean
    assert set(rules.precheck("好评返现，加微信").banned) == {"好评返现", "加微信"}


def _banned_by_segmentation(text: str, banned: frozenset[str] = rules.BANNED_WORDS) -> set[str]:
    """What the pre-check's banned words were before it skipped texts without one in them."""
    return {w for w in rules.segment(text, banned_words=banned) if w in banned} if text else set()


_PIECES = ["好评返现", "加微信", "操作", "操", "usb", "SB", "vx", "充电很快", "，", " "]
_PIECES += ["qq群", "返", "Fuck"]


@given(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join) | st.text(max_size=40))
def test_skipping_texts_without_a_banned_word_changes_no_precheck(text):
    found = _banned_by_segmentation(text)
    check = rules.precheck(text)
    assert set(check.banned) <= found and (Flag.BANNED_WORD in check.flags) == bool(found)


def test_the_simulated_texts_precheck_as_segmented():
    from shopops.sim import reviews as sim_reviews

    texts = [t for ts in sim_reviews.GOOD.values() for t in ts] + sim_reviews.GENERIC_GOOD
    texts += sim_reviews.MIDDLE + sim_reviews.BAD + sim_reviews.SPAM
    texts += [t for ts in sim_reviews.BY_PERSONA.values() for t in ts]
    for text in texts + [t + s for t in texts[:5] for s in sim_reviews.SPAM]:
        found = _banned_by_segmentation(text)
        assert (Flag.BANNED_WORD in rules.precheck(text).flags) == bool(found), text


def test_the_segmenter_loads_once_from_a_warm_up_thread():
    vocabulary = rules.BANNED_WORDS | rules.SAFE_WORDS
    rules.warm_segmenter().join()
    assert rules._jieba_tokenizer(vocabulary) is rules._tokenizers[vocabulary]
