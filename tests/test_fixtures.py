"""The fixtures validator: schema, labels, ids, duplicates, and the counts the labeling plan promises."""

from __future__ import annotations

from collections import Counter

from arabictopics import load_labeled, validate_labeled
from arabictopics.dataset import describe
from arabictopics.taxonomy import theme_labels

from .conftest import FIXTURES

GENRES = {
    "agency_brief",
    "news_report",
    "ministry_statement",
    "press_release",
    "feature",
    "interview",
    "op_ed",
    "social_post",
    "analysis",
}


def test_schema(records):
    themes = set(theme_labels())
    for r in records:
        assert set(r) <= {"id", "text", "labels", "mentions", "genre", "country", "note"}, r["id"]
        assert isinstance(r["text"], str) and r["text"].strip(), r["id"]
        assert r["labels"] == sorted(set(r["labels"])), r["id"]
        assert set(r["labels"]) <= themes, r["id"]
        assert r["mentions"] == sorted(set(r["mentions"])) and set(r["mentions"]) <= themes, r["id"]
        assert not set(r["labels"]) & set(r["mentions"]), r["id"]
        assert r["genre"] in GENRES, r["id"]
        assert isinstance(r["country"], str) and r["country"], r["id"]
    assert len({r["id"] for r in records}) == len(records)


def test_no_duplicates_or_near_duplicates():
    data = load_labeled(FIXTURES, known_labels=theme_labels())
    assert validate_labeled(data) == []


def test_counts_meet_the_plan(records):
    data = load_labeled(FIXTURES, known_labels=theme_labels())
    stats = describe(data)
    assert stats["articles"] >= 600
    assert stats["off_topic"] >= 120
    assert all(stats["per_label"].get(theme, 0) >= 45 for theme in theme_labels()), stats["per_label"]
    assert stats["with_note"] >= 60
    assert stats["words"]["min"] <= 60 and stats["words"]["max"] >= 500
    assert len(Counter(r["country"] for r in records)) >= 12


def test_long_multi_theme_news_on_two_levels(records):
    # The genre users care most about: long cooperation news that names many themes.
    long = [r for r in records if len(r["text"]) >= 2500]
    assert len(long) >= 200 and sum(len(r["text"]) > 6000 for r in long) >= 40
    assert sum(len(r["mentions"]) >= 2 for r in long) >= 150
    stats = describe(load_labeled(FIXTURES, known_labels=theme_labels()))
    assert stats["with_mentions"] == len(records)
    assert all(stats["per_mention"].get(theme, 0) >= 20 for theme in theme_labels()), stats["per_mention"]
