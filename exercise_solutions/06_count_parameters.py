"""Exercise 6 (chapter 6): count the parameters of any GPT config. A solution."""


def count(vocab_size, d_model, num_layers, max_seq_len, norm="layernorm", tie_weights=True):
    """The number of parameters of GPT(GPTConfig(...)) with these sizes."""
    d = d_model
    norm_size = 2 * d if norm == "layernorm" else d      # gain and bias, or gain only
    embeddings = vocab_size * d + max_seq_len * d         # wte, wpe
    block = 4 * d * d + 8 * d * d + 2 * norm_size         # attention, MLP, two norms
    unembedding = 0 if tie_weights else vocab_size * d    # tied: wte is used again
    return embeddings + num_layers * block + norm_size + unembedding


GPT2_MEDIUM = count(50257, 1024, 24, 1024)  # 354,601,984
