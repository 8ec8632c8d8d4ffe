namespace MLNetForgetting.Text;

/// <summary>
/// The five special tokens of a RoBERTa-style vocabulary, in RoBERTa order. Vocabularies trained by
/// <see cref="BpeVocabularyTrainer"/> put them at ids 0-4, so <c>padding_idx</c> is 1 as in fairseq.
/// Other tokenizer kinds (tiktoken, SentencePiece, BERT) map these roles onto their own ids; use the
/// id properties of <see cref="SubwordTokenizer"/> rather than these constants for those.
/// </summary>
internal static class SpecialTokens
{
    /// <summary>Beginning of sequence (also the classification position).</summary>
    public const string Bos = "<s>";
    /// <summary>Padding.</summary>
    public const string Pad = "<pad>";
    /// <summary>End of sequence / separator.</summary>
    public const string Eos = "</s>";
    /// <summary>Unknown token (never produced by byte-level BPE on valid text).</summary>
    public const string Unk = "<unk>";
    /// <summary>MLM mask token.</summary>
    public const string Mask = "<mask>";

    /// <summary>Id of <see cref="Bos"/> in trained vocabularies.</summary>
    public const int BosId = 0;
    /// <summary>Id of <see cref="Pad"/> in trained vocabularies (the embedding padding index).</summary>
    public const int PadId = 1;
    /// <summary>Id of <see cref="Eos"/> in trained vocabularies.</summary>
    public const int EosId = 2;
    /// <summary>Id of <see cref="Unk"/> in trained vocabularies.</summary>
    public const int UnkId = 3;
    /// <summary>Id of <see cref="Mask"/> in trained vocabularies.</summary>
    public const int MaskId = 4;

    /// <summary>The special token strings in id order (index = id in trained vocabularies).</summary>
    public static IReadOnlyList<string> InIdOrder { get; } = [Bos, Pad, Eos, Unk, Mask];
}

/// <summary>How <see cref="SubwordTokenizer.EncodePair"/> shortens a pair that does not fit.</summary>
public enum TruncationStrategy
{
    /// <summary>Remove one token at a time from the end of the currently longer segment (the second on ties).</summary>
    LongestFirst,
    /// <summary>Shorten only the first segment; fails if the second alone does not fit.</summary>
    OnlyFirst,
    /// <summary>Shorten only the second segment; fails if the first alone does not fit.</summary>
    OnlySecond,
}
