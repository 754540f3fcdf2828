"""Exercise 14 (chapter 10): diagnose six runs from their health numbers. A solution.

A: a healthy start (step 1 is the same as D's), but the update ratio sits above −1 from
   the warm-up on, and the residual stream's spread runs off to 100 by step 20, while
   the loss stops falling: the steps are too big. lr too high.
B: a residual spread of 0.001 at step 1 (before any step), a first loss of exactly
   ln 27 (every logit about 0), and steps half the size of the weights (−0.3): the
   weights started far too small. init_std too small.
C: the update ratio is 10^−5: steps a hundred thousand times smaller than the weights,
   and the loss has not moved in 20 steps. lr too low.
D: a first loss near ln 27, spreads between 0.1 and 1, nothing saturated, an update
   ratio of about −2 (−1.6 once warmed up): healthy.
E: a healthy start again, but an update ratio of +0.1 at the very first step (the
   weights move by more than their own size) and a residual spread of 52 at step 20:
   no warm-up, and too high a rate. The loss looks fine so far; the health does not.
   lr too high.
F: a first loss of 9.9, three times a uniform guess, a residual spread of 28 and 22% of
   the GELU inputs saturated at step 1, before any step: init_std too large.
"""
TODO = None

DIAGNOSIS = {"A": "lr too high", "B": "init_std too small", "C": "lr too low",
             "D": "healthy", "E": "lr too high", "F": "init_std too large"}
