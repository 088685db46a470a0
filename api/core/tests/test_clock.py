import threading
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from api.core import clock
from api.core.clock import clock_set

MOMENT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_now_is_the_real_time_unless_set():
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_clock_set_holds_the_moment_for_its_block_only():
    with clock_set(MOMENT):
        assert clock.now() == MOMENT
        with clock_set(MOMENT.replace(hour=13)):
            assert clock.now() == MOMENT.replace(hour=13)
        assert clock.now() == MOMENT
    assert clock.now() != MOMENT


def test_clock_set_is_local_to_its_thread():
    seen = []
    with clock_set(MOMENT):
        other = threading.Thread(target=lambda: seen.append(clock.now()))
        other.start()
        other.join()
    assert seen[0] != MOMENT


def test_clock_set_needs_an_aware_moment():
    with pytest.raises(ValueError), clock_set(datetime(2026, 3, 10, 12, 0)):
        pass
