"""The model layer: modules built from Values, attention, the GPT, and the ladder of simpler
language models (bigram, MLP, RNN), all behind one interface (`LanguageModel`).

`nn` has the building blocks (Module, Linear, Embedding, norms, MLP); `language_model` the
interface every kind writes to; `attention` and `gpt` the transformer; `bigram`,
`context_mlp` and `rnn` the ladder; `generation` how `generate` picks each token;
`registry` the tuple of model classes and the tables derived from it; `torch_twins` each
model's PyTorch twin (imported only with torch).
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
    "MODEL_CLASSES": ".registry", "MODELS": ".registry", "build_model": ".registry",
    "sample_token": ".generation",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=("nn",))
