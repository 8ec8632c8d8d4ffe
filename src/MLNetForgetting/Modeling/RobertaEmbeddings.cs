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
/// relearning replaces), learned positions, a token-type table (one row for RoBERTa, kept for checkpoint
/// compatibility; two for BERT), LayerNorm and dropout.
/// </summary>
internal sealed class RobertaEmbeddings : Module<Tensor, Tensor>
{
    private Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private long padId;
    private readonly bool bertPositions;
    private long separatorId;

    public RobertaEmbeddings(RobertaConfig config) : base("embeddings")
    {
        padId = config.PadTokenId;
        bertPositions = config.IsBert;
        separatorId = config.TypeVocabSize > 1 ? config.SeparatorTokenId : -1;
        word_embeddings = Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        // BERT's position table has no padding row: position 0 is the [CLS] position.
        position_embeddings = bertPositions
            ? Embedding(config.MaxPositionEmbeddings, config.HiddenSize)
            : Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId);
        token_type_embeddings = Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = Dropout(config.HiddenDropout);
        RegisterComponents();
    }

    /// <summary>The token-type table (RoBERTa has a single type, BERT two).</summary>
    public Embedding TokenTypeEmbeddings => token_type_embeddings;

    /// <summary>The learned position table.</summary>
    public Embedding PositionEmbeddings => position_embeddings;

    /// <summary>The token embedding module; its weight is E, also the tied MLM decoder weight.</summary>
    public Embedding TokenEmbeddings => word_embeddings;

    /// <summary>
    /// Swaps in another token-embedding module (relearning a new vocabulary, assembly). Every other
    /// parameter is left untouched; the MLM decoder follows automatically because it reads E at forward time.
    /// </summary>
    public void ReplaceTokenEmbeddings(Embedding embeddings) => ReplaceTokenEmbeddings(embeddings, padId, separatorId);

    /// <summary>
    /// Swaps in token embeddings of a vocabulary with its own padding and separator ids. Only BERT-type
    /// models accept another padding id: their positions count from 0 whatever the padding, while a
    /// RoBERTa position table is offset by the padding id it was trained with.
    /// </summary>
    public void ReplaceTokenEmbeddings(Embedding embeddings, long newPadId, long newSeparatorId)
    {
        if (newPadId != padId && !bertPositions)
            throw new ArgumentException($"A RoBERTa-type model's positions are offset by its padding id {padId}; token embeddings padding with id {newPadId} cannot be used with it.", nameof(newPadId));
        if (embeddings.weight is null || embeddings.weight.shape[1] != word_embeddings.weight!.shape[1])
            throw new ArgumentException($"New token embeddings must have width {word_embeddings.weight!.shape[1]}.", nameof(embeddings));
        word_embeddings = embeddings;
        _internal_submodules[nameof(word_embeddings)] = embeddings; // replace the registration in place, keeping the key order
        padId = newPadId;
        if (separatorId >= 0) separatorId = newSeparatorId;
    }

    /// <param name="inputIds">(B, T) long token ids, padded with the pad id.</param>
    public override Tensor forward(Tensor inputIds)
    {
        using var notPad = inputIds.ne(padId).to(ScalarType.Int64);
        using var positionIds = PositionIds(inputIds, notPad);
        using var words = word_embeddings.forward(inputIds);
        using var positions = position_embeddings.forward(positionIds);
        using var types = TokenTypes(inputIds, notPad);
        using var sum = words + positions + types;
        using var normed = LayerNorm.forward(sum);
        return dropout.forward(normed);
    }

    private Tensor PositionIds(Tensor inputIds, Tensor notPad)
    {
        // BERT: 0, 1, 2, ... whatever the padding (HF's position_ids buffer); shape (1, T) broadcasts over the batch.
        if (bertPositions) return arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        // RoBERTa: padding_idx + 1 + index among non-pad tokens; pads keep padding_idx.
        using var cumulative = notPad.cumsum(1);
        return (cumulative * notPad) + padId;
    }

    private Tensor TokenTypes(Tensor inputIds, Tensor notPad)
    {
        if (separatorId < 0) return token_type_embeddings.weight![0].alias();
        // BERT pairs are [CLS] a [SEP] b [SEP]: type 1 from the token after the first [SEP] on, except
        // padding (type 0, as HF's default zeros). A single text ([CLS] a [SEP] pads) is all type 0. Our
        // tokenizers never produce [SEP] from text, so the first [SEP] is the segment boundary.
        using var isSep = inputIds.eq(separatorId).to(ScalarType.Int64);
        using var seen = isSep.cumsum(1);
        using var before = seen - isSep;
        using var after = before.gt(0).to(ScalarType.Int64);
        using var typeIds = after * notPad;
        return token_type_embeddings.forward(typeIds);
    }
}
