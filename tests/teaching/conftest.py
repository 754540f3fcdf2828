"""The quick tier checks exercise files in this process, as the browser does; the slow tier
also runs each through the child process that `exercise check` uses (test_exercises.py and
tests/errors/test_errors_exercise_runner.py), so both ways stay tested."""
import pytest


@pytest.fixture(autouse=True)
def check_in_this_process_unless_slow(request, monkeypatch):
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr("micrograd_gpt.teaching.exercises.can_start_processes",
                            lambda: False)
