"""Named training set-ups: a model size and the training settings that suit it.

`micrograd-gpt train --preset NAME` starts from one of these; every option given on the
command line then overrides the preset's value. Each preset is two dicts: `model` (the
model's config fields except vocab_size, which comes from the data) and `train`
(TrainConfig fields), and optionally `kind`, the model kind it is for (models/registry.py;
"gpt" when absent); a preset with `"engine": "torch"` is too big for Values and needs
`--engine torch`. `micrograd-gpt train --model KIND` without --preset uses the preset the
kind's class names (`MODELS[KIND].default_preset`). Times are for the embedded `names`
data, measured on a 2-core machine.
"""
from __future__ import annotations

from ..common.checks import check_choice
from ..models.registry import DEFAULT_KIND, MODELS

__all__ = ["PRESETS", "DEFAULT_PRESET", "default_preset", "preset_kind", "presets_of",
           "needs_torch"]

PRESETS = {
    # The default: the book's architecture (LayerNorm, GELU, tied unembedding) at its
    # smallest useful size. About a minute; the samples already look like names. The
    # weights start wider than GPT-2's 0.02 (microgpt's 0.08): with d=16 that trains
    # noticeably faster (validation loss 2.25 instead of 2.30 after these 500 steps).
    "tiny": {
        "model": dict(d_model=16, num_heads=2, num_layers=1, max_seq_len=16, init_std=0.08),
        "train": dict(steps=500, batch_size=8, lr=0.01, lr_schedule="linear",
                      warmup_steps=20, optimizer="adam", betas=(0.9, 0.99), grad_clip=1.0,
                      eval_interval=100),
    },
    # karpathy's microgpt.py, choice for choice: d=16, 4 heads, 1 layer, context 16;
    # RMSNorm without a gain, right after the token + position embedding sum and before
    # each attention and MLP, no final norm; ReLU; a separate lm_head; every weight
    # N(0, 0.08²). Adam(lr 0.01, betas 0.85/0.99, eps 1e-8, with bias correction), the
    # learning rate decaying linearly to 0, one document per step, 1000 steps, no
    # clipping. 4,192 parameters on the names (27 tokens).
    "microgpt": {
        "model": dict(d_model=16, num_heads=4, num_layers=1, max_seq_len=16, norm="rmsnorm",
                      elementwise_affine=False, embedding_norm=True, final_norm=False,
                      activation="relu", tie_weights=False, init_std=0.08),
        "train": dict(steps=1000, batch_size=1, lr=0.01, lr_schedule="linear",
                      warmup_steps=0, optimizer="adam", betas=(0.85, 0.99), eps=1e-8,
                      grad_clip=None, eval_interval=200),
    },
    # Bigger and slower (tens of minutes): two layers of width 32, a longer context (also
    # good for `--data text`), AdamW with a cosine schedule.
    "small": {
        "model": dict(d_model=32, num_heads=4, num_layers=2, max_seq_len=32),
        "train": dict(steps=2000, batch_size=8, lr=0.005, lr_schedule="cosine",
                      warmup_steps=100, optimizer="adamw", betas=(0.9, 0.99),
                      weight_decay=0.01, grad_clip=1.0, eval_interval=250),
    },
    # Six layers of width 192 and a context of 128 characters: 2.7M parameters, a model
    # worth a GPU (`--engine torch`; the Value engine refuses it: it would take years). On
    # the sonnets it reaches a validation loss of 2.12 in 400 steps (train 1.80; an hour on
    # one busy CPU core): 86,000 training characters are few for 2.7M parameters, which
    # begin to memorize them; give it more text (`--data big.txt --text`) and more steps.
    "medium": {
        "model": dict(d_model=192, num_heads=6, num_layers=6, max_seq_len=128),
        "train": dict(data="text", steps=400, batch_size=32, lr=1e-3,
                      lr_schedule="cosine", warmup_steps=100, optimizer="adamw",
                      betas=(0.9, 0.99), weight_decay=0.1, grad_clip=1.0, eval_interval=100),
        "engine": "torch",
    },
}

# The ladder (chapter 11, benchmarks/ladder.py): one preset per kind, each about the size
# of `tiny` (a few thousand parameters) and trained like it, so their losses compare.
_LADDER_TRAINING = dict(steps=500, batch_size=8, lr=0.01, lr_schedule="linear",
                        warmup_steps=20, optimizer="adam", betas=(0.9, 0.99), grad_clip=1.0,
                        eval_interval=100)
PRESETS.update({
    # counted in one pass over the training names: no steps, no optimizer
    "bigram": {"kind": "bigram", "model": dict(smoothing=1.0),
               "train": dict(steps=1, eval_interval=0)},
    # the same table trained by gradient, from all zeros (uniform); a convex problem that
    # takes a bigger learning rate than the networks
    "neural_bigram": {"kind": "neural_bigram", "model": dict(init_std=0.0),
                      "train": dict(_LADDER_TRAINING, lr=0.1)},
    "mlp": {"kind": "mlp", "model": dict(context=3, d_embed=10, d_hidden=64),
            "train": dict(_LADDER_TRAINING)},
    "rnn": {"kind": "rnn", "model": dict(d_embed=16, d_hidden=40, cell="rnn"),
            "train": dict(_LADDER_TRAINING)},
    "gru": {"kind": "rnn", "model": dict(d_embed=16, d_hidden=24, cell="gru"),
            "train": dict(_LADDER_TRAINING)},
})

DEFAULT_PRESET = MODELS[DEFAULT_KIND].default_preset  # "tiny": what `train()` trains


def default_preset(kind):
    """The preset model `kind` starts from when no preset is given (its class says which)."""
    return MODELS[check_choice("kind", kind, tuple(MODELS))].default_preset


def preset_kind(name):
    """The model kind preset `name` is for ("gpt" unless it says otherwise)."""
    return PRESETS[check_choice("preset", name, tuple(PRESETS))].get("kind", DEFAULT_KIND)


def presets_of(kind):
    """The names of the presets for model `kind`, in PRESETS order."""
    check_choice("kind", kind, tuple(MODELS))
    return [name for name in PRESETS if preset_kind(name) == kind]


def needs_torch(name):
    """Whether preset `name` is one that only the torch engine can train in reasonable time."""
    return PRESETS[name].get("engine") == "torch"
