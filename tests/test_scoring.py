"""score_documents: the same records, in input order, on one core and on several."""

from __future__ import annotations

import pytest

from arabictopics.io import Document
from arabictopics.scoring import score_documents

TEXTS = [
    "ضبطت الجمارك شحنة كبتاغون في المنفذ الحدودي وأوقفت المهربين.",
    "بحث وزيرا الخارجية العلاقات الثنائية خلال زيارة رسمية.",
    "فاز الفريق بالمباراة النهائية للدوري.",
    "",
]


def _docs():
    docs = [Document(f"d{i}", text) for i, text in enumerate(TEXTS * 5)]
    return docs + [Document("bad", error="line 9: not JSON")]


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_workers_give_the_records_of_one_process_in_order(n_jobs):
    one = [record for chunk in score_documents(_docs(), chunk_size=3) for record in chunk]
    many = [record for chunk in score_documents(_docs(), chunk_size=3, n_jobs=n_jobs) for record in chunk]
    assert many == one
    assert [record["id"] for record in one] == [doc.id for doc in _docs()]
    assert one[-1] == {"id": "bad", "error": "line 9: not JSON"}


def test_objects_frozen_for_forked_workers_are_unfrozen_when_the_pool_ends():
    import gc

    from arabictopics.scoring import fork_pool

    pool = fork_pool(1)
    if pool is None:
        pytest.skip("this platform does not fork")
    assert gc.get_freeze_count() > 0  # frozen while the workers share our pages
    pool.shutdown()
    assert gc.get_freeze_count() == 0
    chunks = score_documents(_docs(), chunk_size=3, n_jobs=2)
    next(chunks)
    chunks.close()  # stopped early: the pool is shut down all the same
    assert gc.get_freeze_count() == 0
