"""ingest.plan_entries: what a feed's entries mean for the store, decided without SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import make_entry

from curator.ingest import plan_entries
from curator.models import Entry
from curator.store import StoredItem, entry_hash

NOW = datetime(2022, 1, 10, tzinfo=UTC)


def entry(key: str, title: str = "Titre", url: str | None = None) -> Entry:
    return make_entry(key, title, url, published=NOW, body="")


def stored(item_id: int, e: Entry, owner: str = "a", *, shared: bool = False) -> StoredItem:
    return StoredItem(item_id, e.url, shared, entry_hash(e), owner)


def test_new_entries_are_new_items_and_a_repeated_key_counts_once() -> None:
    plan = plan_entries("a", [entry("1", url="https://x/1"), entry("2"), entry("1", "Autre")], {}, {})
    assert [(temp, e.key, shared) for temp, e, _h, shared in plan.new] == [(-1, "1", False), (-2, "2", False)]
    assert not plan.links and not plan.updates and not plan.now_shared


def test_entries_sharing_a_url_are_items_of_their_own_and_merge_nothing() -> None:
    home = "https://podcast.example/"
    other = stored(7, entry("x", url=home), owner="b")
    plan = plan_entries("a", [entry(f"ep{n}", url=home) for n in range(100)], {}, {home: other})
    assert len(plan.new) == 100 and all(shared for *_rest, shared in plan.new)
    assert plan.links == []


def test_an_article_from_another_feed_is_linked_and_not_rewritten() -> None:
    theirs = entry("their-id", "Leur titre", "https://x/article")
    plan = plan_entries(
        "a",
        [entry("my-id", "Mon titre", "https://x/article")],
        {},
        {"https://x/article": stored(3, theirs, "b")},
    )
    assert plan.links == [("my-id", 3)] and plan.new == [] and plan.updates == []


def test_an_unchanged_entry_changes_nothing_and_a_changed_one_is_updated() -> None:
    e = entry("1", "Titre", "https://x/1")
    assert plan_entries("a", [e], {"1": stored(1, e)}, {"https://x/1": stored(1, e)}).updates == []
    changed = entry("1", "Titre corrigé", "https://x/1")
    plan = plan_entries("a", [changed], {"1": stored(1, e)}, {"https://x/1": stored(1, e)})
    assert [(i, u.title, url, shared) for i, u, _h, url, shared in plan.updates] == [
        (1, "Titre corrigé", "https://x/1", False)
    ]


def test_a_url_given_up_is_free_for_a_new_entry_and_a_taken_one_is_not_taken() -> None:
    old = entry("k1", "Premier", "https://x/old")
    plan = plan_entries(
        "a",
        [entry("k3", "Troisième", "https://x/old"), entry("k1", "Premier", "https://x/new")],
        {"k1": stored(1, old)},
        {"https://x/old": stored(1, old)},
    )
    assert [(i, url) for i, _e, _h, url, _s in plan.updates] == [(1, "https://x/new")]
    assert [e.key for _t, e, _h, _s in plan.new] == ["k3"]
    # A URL another item owns is not taken: the item keeps its own.
    taken = stored(2, entry("z", url="https://x/taken"), "b")
    plan = plan_entries(
        "a", [entry("k1", "Premier", "https://x/taken")], {"k1": stored(1, old)}, {"https://x/taken": taken}
    )
    assert [(i, url) for i, _e, _h, url, _s in plan.updates] == [(1, "https://x/old")]


def test_an_item_of_another_source_is_not_rewritten_and_a_newly_shared_url_is_marked() -> None:
    e = entry("1", "Titre", "https://x/1")
    plan = plan_entries("a", [entry("1", "Autre titre", "https://x/1")], {"1": stored(1, e, owner="b")}, {})
    assert plan.updates == []
    plan = plan_entries(
        "a", [entry("1", "Titre", "https://x/1"), entry("2", "Deux", "https://x/1")], {"1": stored(1, e)}, {}
    )
    assert plan.now_shared == [1] and [e.key for _t, e, _h, shared in plan.new if shared] == ["2"]
