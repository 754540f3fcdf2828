"""Exercise 14 (chapter 10): diagnose six runs from their health numbers.

Six runs of the tiny preset, 20 steps each, recorded with record_health=True. Each was
started with at most one knob set wrong; which one is for you to find, from the numbers
alone, as chapter 10's "What to do about what you see" reads them:

          validation loss       residual std       GELU     update ratio    gradient
    run  step 0    10    20     step 1  step 20  saturated  step 1 step 20    length
    A      3.35  2.87  2.89      0.169  102.248      0.000   -0.73   -1.28     1.254
    B      3.30  3.09  2.88      0.001    0.703      0.000   -0.30   -1.32     0.345
    C      3.35  3.35  3.35      0.169    0.167      0.000   -5.20   -4.23     1.254
    D      3.35  3.07  2.81      0.169    0.579      0.000   -2.20   -1.59     1.254
    E      3.35  2.82  2.70      0.169   52.129      0.000    0.10   -1.67     1.254
    F      9.88  7.55  5.20     27.784   29.763      0.222   -3.30   -2.33     9.269

    validation loss   at steps 0, 10 and 20 (ln 27 = 3.30 is a uniform guess)
    residual std      the spread of the residual stream (the output of blocks.0)
    GELU saturated    the share of GELU inputs below −3, at step 1
    update ratio      log10(|step| / |weight|) of blocks.0.mlp.fc.weight
    gradient length   the length of the whole gradient at step 1

(The table is what `health_table()` in micrograd_gpt/teaching/exercises/diagnose_the_run.py
prints: re-run it, and you get the same numbers. The preset: init_std 0.08, lr 0.01
after 20 warm-up steps, Adam.)

Fill in DIAGNOSIS: for each run, one of

    "healthy"  "init_std too large"  "init_std too small"  "lr too high"  "lr too low"

A diagnosis may fit several runs, or none. For each, say to yourself which numbers gave
it away: a start problem shows at step 1, before any step was taken; a step problem
shows in the update ratio and in what happens after a few steps.

Check your work:  micrograd-gpt exercise check 14   (a wrong one gets a pointer to the
numbers to look at; add --show to see the answer)
"""
TODO = None

DIAGNOSIS = {"A": TODO, "B": TODO, "C": TODO, "D": TODO, "E": TODO, "F": TODO}
