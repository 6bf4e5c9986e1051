"""Ids minted for a moment other than now (pinhole.shared.ids.id_at): they sort by that moment, to the millisecond."""

from datetime import UTC, datetime

from pinhole.shared.ids import id_at, time_of


def test_an_id_minted_for_a_moment_carries_its_exact_millisecond_and_stays_unique() -> None:
    # Given moments whose float timestamp times 1000 falls a millisecond short (2039-02-09T09:11:56.654Z → …653)
    moments = [
        datetime(2039, 2, 9, 9, 11, 56, 654000, tzinfo=UTC),
        datetime(2026, 11, 22, 9, 33, 36, 942000, tzinfo=UTC),
    ]

    # When ids are minted for them, twice each
    ids = [id_at(moment) for moment in moments for _ in range(2)]

    # Then each id tells its moment exactly, and no two are the same
    assert [time_of(minted) for minted in ids] == [moments[0], moments[0], moments[1], moments[1]]
    assert len(set(ids)) == 4
    assert ids[0] > ids[2]  # the later moment's ids sort above the earlier's
