"""The model layer: modules built from Values, attention, the GPT, and the ladder of simpler
language models (bigram, MLP, RNN), all behind one interface (`LanguageModel`).

`nn` has the building blocks (Module, Linear, Embedding, norms, MLP); `attention` and `gpt`
the transformer; `bigram`, `context_mlp` and `rnn` the ladder; `registry` maps a model kind's
name to its class; `torch_twins` holds each model's PyTorch twin (imported only with torch).
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "nn": ".nn", "Module": ".nn", "ModuleList": ".nn", "Linear": ".nn", "Embedding": ".nn",
    "LayerNorm": ".nn", "RMSNorm": ".nn", "MLP": ".nn",
    "CausalSelfAttention": ".attention", "KVCache": ".attention",
    "GPT": ".gpt", "GPTConfig": ".gpt", "count_parameters": ".gpt",
    "LanguageModel": ".language_model",
    "CountingBigram": ".bigram", "NeuralBigram": ".bigram", "ContextMLP": ".context_mlp",
    "RNN": ".rnn",
    "MODELS": ".registry", "build_model": ".registry",
    "sample_token": ".sampling",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=("nn",))
