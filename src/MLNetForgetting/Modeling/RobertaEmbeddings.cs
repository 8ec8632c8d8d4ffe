using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.Modeling;

// Registered submodule names keep the Hugging Face RoBERTa spelling (word_embeddings, LayerNorm, ...)
// so that state-dict keys match `roberta.embeddings.*` and weights can be exchanged by name.
#pragma warning disable IDE1006

/// <summary>
/// Token embeddings E (its own module, <c>word_embeddings</c>: the part active forgetting resets and
/// relearning replaces), learned positions, a one-row token-type table (kept for checkpoint
/// compatibility), LayerNorm and dropout.
/// </summary>
public sealed class RobertaEmbeddings : Module<Tensor, Tensor>
{
    private Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly long padId;

    public RobertaEmbeddings(RobertaConfig config) : base("embeddings")
    {
        padId = config.PadTokenId;
        word_embeddings = Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId);
        token_type_embeddings = Embedding(1, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = Dropout(config.HiddenDropout);
        RegisterComponents();
    }

    /// <summary>The one-row token-type table (RoBERTa has a single type).</summary>
    public Embedding TokenTypeEmbeddings => token_type_embeddings;

    /// <summary>The token embedding module; its weight is E, also the tied MLM decoder weight.</summary>
    public Embedding TokenEmbeddings => word_embeddings;

    /// <summary>
    /// Swaps in another token-embedding module (relearning a new vocabulary, assembly). Every other
    /// parameter is left untouched; the MLM decoder follows automatically because it reads E at forward time.
    /// </summary>
    public void ReplaceTokenEmbeddings(Embedding embeddings)
    {
        if (embeddings.weight is null || embeddings.weight.shape[1] != word_embeddings.weight!.shape[1])
            throw new ArgumentException($"New token embeddings must have width {word_embeddings.weight!.shape[1]}.", nameof(embeddings));
        word_embeddings = embeddings;
        _internal_submodules[nameof(word_embeddings)] = embeddings; // replace the registration in place, keeping the key order
    }

    /// <param name="inputIds">(B, T) long token ids, padded with the pad id.</param>
    public override Tensor forward(Tensor inputIds)
    {
        // RoBERTa positions: padding_idx + 1 + index among non-pad tokens; pads keep padding_idx.
        using var notPad = inputIds.ne(padId).to(ScalarType.Int64);
        using var cumulative = notPad.cumsum(1);
        using var positionIds = (cumulative * notPad) + padId;
        using var words = word_embeddings.forward(inputIds);
        using var positions = position_embeddings.forward(positionIds);
        using var sum = words + positions + token_type_embeddings.weight![0];
        using var normed = LayerNorm.forward(sum);
        return dropout.forward(normed);
    }
}
