using Microsoft.ML.Tokenizers;

namespace MLNetForgetting.Text;

/// <summary>
/// The encoding side of <see cref="SubwordTokenizer"/>: normalised text → ids of the model's vocabulary and back
/// (special tokens never produced, never given to <see cref="Decode"/>). One subclass per way of calling
/// Microsoft.ML.Tokenizers.
/// </summary>
internal abstract class SubwordEncoder(Tokenizer inner)
{
    /// <summary>The Microsoft.ML.Tokenizers tokenizer doing the work.</summary>
    public Tokenizer Inner { get; } = inner;

    /// <summary>Ids of non-empty, normalised text.</summary>
    public abstract IReadOnlyList<int> Encode(string normalized);

    /// <summary>Text of ids that are neither special nor out of range.</summary>
    public abstract string Decode(IReadOnlyList<int> ids);

    /// <summary>Id of a token the vocabulary table does not list (tiktoken: plain text of one token); null otherwise.</summary>
    public virtual int? TokenToIdFallback(string token) => null;

    /// <summary>Vocabulary form of an id the table does not list; null otherwise.</summary>
    public virtual string? IdToTokenFallback(int id, int vocabSize) => null;
}

/// <summary>Microsoft.ML.Tokenizers' own EncodeToIds / Decode (our BPE, Hugging Face byte-level BPE).</summary>
internal class PlainEncoder(Tokenizer inner) : SubwordEncoder(inner)
{
    public override IReadOnlyList<int> Encode(string normalized) => Inner.EncodeToIds(normalized);
    public override string Decode(IReadOnlyList<int> ids) => Inner.Decode(ids);
}

/// <summary>
/// Hugging Face byte-level BPE with <c>add_prefix_space</c>: a space goes before text that does not start with
/// whitespace (RobertaTokenizer's rule), so the first word is encoded like every other.
/// </summary>
internal sealed class PrefixSpaceEncoder(Tokenizer inner) : PlainEncoder(inner)
{
    public override IReadOnlyList<int> Encode(string normalized) => Inner.EncodeToIds(char.IsWhiteSpace(normalized[0]) ? normalized : " " + normalized);
}

/// <summary>tiktoken: vocabulary entries are byte strings, so look-ups by text go through encoding.</summary>
internal sealed class TiktokenEncoder(TiktokenTokenizer inner) : PlainEncoder(inner)
{
    public override int? TokenToIdFallback(string token)
    {
        string normalized = TextNormalization.Normalize(token);
        if (normalized.Length == 0) return null;
        var ids = Encode(normalized);
        return ids.Count == 1 ? ids[0] : null;
    }

    public override string? IdToTokenFallback(int id, int vocabSize)
    {
        if ((uint)id >= (uint)vocabSize) return null;
        // tiktoken tokens are byte strings; a lone partial UTF-8 sequence decodes to U+FFFD.
        try { return Inner.Decode([id]); } catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException) { return null; }
    }
}

/// <summary>
/// SentencePiece, optionally with fairseq's ids (XLM-R): our id = SentencePiece id + <paramref name="fairseqOffset"/>,
/// except SentencePiece's unknown piece, which becomes <paramref name="unknownId"/> (fairseq's &lt;unk&gt; = 3).
/// </summary>
internal sealed class SentencePieceEncoder(SentencePieceTokenizer inner, int fairseqOffset = 0, int unknownId = -1) : SubwordEncoder(inner)
{
    private readonly SentencePieceTokenizer _sp = inner;

    public override IReadOnlyList<int> Encode(string normalized)
    {
        var ids = _sp.EncodeToIds(normalized, false, false);
        if (fairseqOffset == 0) return ids;
        var mapped = new int[ids.Count];
        for (int i = 0; i < mapped.Length; i++) mapped[i] = ids[i] == _sp.UnknownId ? unknownId : ids[i] + fairseqOffset;
        return mapped;
    }

    public override string Decode(IReadOnlyList<int> ids)
    {
        if (fairseqOffset == 0) return _sp.Decode(ids, false);
        var mapped = new int[ids.Count];
        for (int i = 0; i < mapped.Length; i++) mapped[i] = ids[i] == unknownId ? _sp.UnknownId : ids[i] - fairseqOffset;
        return _sp.Decode(mapped, false);
    }
}

/// <summary>WordPiece after BERT's basic tokenization, which is ours (see <see cref="BertBasicTokenization"/>).</summary>
internal sealed class BertEncoder(BertTokenizer inner, bool lowerCase, bool stripAccents) : SubwordEncoder(inner)
{
    private readonly BertTokenizer _bert = inner;

    public override IReadOnlyList<int> Encode(string normalized) =>
        _bert.EncodeToIds(BertBasicTokenization.Apply(normalized, lowerCase, stripAccents), addSpecialTokens: false);

    public override string Decode(IReadOnlyList<int> ids) => _bert.Decode(ids, false);
}
