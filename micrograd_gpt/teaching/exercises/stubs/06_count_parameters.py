"""Exercise 6 (chapter 6): count the parameters of any GPT config.

Chapter 6 added up the book's table for one configuration. Write the general count:

    count(vocab_size, d_model, num_layers, max_seq_len, norm="layernorm", tie_weights=True)

for the GPT of this package: token and position embeddings, per block attention (Wq, Wk,
Wv, Wo, no biases) and an MLP d -> 4d -> d (no biases), a norm before each of the two,
a final norm, and the unembedding, which adds nothing when it is tied to the token
embedding and |V|·d when it is not. A LayerNorm has a gain and a bias (2d numbers); an
RMSNorm ("rmsnorm") has only a gain (d).

Then use it: GPT2_MEDIUM is the count of GPT-2 medium's shape in this model (|V| = 50,257,
d = 1,024, 24 blocks, T = 1,024, tied, layernorm).

The checker compares count() with the number of parameters real models have
(`len(GPT(config).parameters())`) for many small configs, and with `count_parameters`.

Check your work:  micrograd-gpt exercise check 6
"""


def count(vocab_size, d_model, num_layers, max_seq_len, norm="layernorm", tie_weights=True):
    """The number of parameters of GPT(GPTConfig(...)) with these sizes."""
    # TODO
    raise NotImplementedError("write the count")


GPT2_MEDIUM = None  # TODO: a number (an expression like 50257 * 1024 + ... is fine)
