"""Multiple-choice questions: the options as the stub prints them, and how the tutor answers.

A question is only worth asking if thinking, not the look of the options, finds the answer:
the options are about as long and as detailed as each other (the tests check that the
right one is never the longest by far), and a wrong pick gets a pointer to the evidence
that rules it out, never the right letter. That one shows only with `--show`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .tutor import Wrong

__all__ = ["Question", "ask"]


@dataclass(frozen=True)
class Question:
    """One multiple-choice question.

    name:    the constant the learner sets in the stub (`WHAT_HAPPENS = "b"`);
    options: letter -> the option's text, word for word as the stub's docstring has it;
    right:   the right letter;
    why_not: letter -> what to look at again when that wrong option was picked;
    because: what the tutor says when the answer is right."""

    name: str
    options: dict
    right: str
    why_not: dict
    because: str


def ask(learner, question):
    """The learner's answer to `question`: the `because` text when right, else Wrong with a
    pointer to the evidence (and the right option kept back for `--show`)."""
    letters = list(question.options)
    answer = str(learner.answer(question.name)).strip().lower().strip(")")
    if answer not in question.options:
        raise Wrong(f"{question.name} must be one of {', '.join(map(repr, letters))}, got "
                    f"{answer!r}")
    if answer != question.right:
        right = question.right
        raise Wrong(f"not {answer}: {question.why_not[answer]}",
                    answer=f"{right}) {question.options[right]}")
    return f"{answer}: {question.because}"
