namespace MLNetForgetting.Text;

/// <summary>The vocabulary families <see cref="SubwordTokenizer"/> reads; each has one factory (Text/Tokenizers/*Kind.cs).</summary>
internal enum TokenizerKind
{
    /// <summary>Our byte-level BPE (<see cref="BpeVocabularyTrainer"/>): specials at ids 0-4, our pre-tokenizer.</summary>
    Bpe,
    /// <summary>A tiktoken encoding by name (o200k_base); our five roles appended.</summary>
    Tiktoken,
    /// <summary>A SentencePiece model with its own ids; missing roles appended.</summary>
    SentencePiece,
    /// <summary>BERT's WordPiece vocab.txt.</summary>
    Bert,
    /// <summary>Hugging Face RoBERTa / GPT-2 byte-level BPE (vocab.json + merges.txt, GPT-2 pre-tokenizer, specials by name).</summary>
    ByteLevelBpe,
    /// <summary>XLM-R's sentencepiece.bpe.model with fairseq's ids (&lt;s&gt;=0 &lt;pad&gt;=1 &lt;/s&gt;=2 &lt;unk&gt;=3, pieces +1, &lt;mask&gt; last).</summary>
    FairseqSentencePiece,
}

/// <summary>Names of the kinds as written in tokenizer_config.json ("kind") and shown by <see cref="SubwordTokenizer.Kind"/>.</summary>
internal static class TokenizerKinds
{
    private static readonly (TokenizerKind Kind, string Name)[] Names =
    [
        (TokenizerKind.Bpe, "bpe"), (TokenizerKind.Tiktoken, "tiktoken"), (TokenizerKind.SentencePiece, "sentencepiece"), (TokenizerKind.Bert, "bert"),
        (TokenizerKind.ByteLevelBpe, "byte-level-bpe"), (TokenizerKind.FairseqSentencePiece, "fairseq-sentencepiece"),
    ];

    public static string Name(this TokenizerKind kind) => Array.Find(Names, n => n.Kind == kind).Name ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, null);

    public static TokenizerKind Parse(string name)
    {
        foreach (var (kind, n) in Names) if (n == name) return kind;
        throw new InvalidDataException($"Unknown tokenizer kind '{name}' (known: {string.Join(", ", Names.Select(n => n.Name))}).");
    }

    /// <summary>Rebuilds a tokenizer of <paramref name="kind"/> from its files (tokenizer_config.json already parsed).</summary>
    public static SubwordTokenizer Load(TokenizerKind kind, TokenizerConfig config, IReadOnlyDictionary<string, byte[]> files) => kind switch
    {
        TokenizerKind.Bpe => BpeKind.Load(config, files),
        TokenizerKind.Tiktoken => TiktokenKind.Load(config),
        TokenizerKind.SentencePiece => SentencePieceKind.Load(files),
        TokenizerKind.Bert => BertKind.Load(config, files),
        TokenizerKind.ByteLevelBpe => ByteLevelBpeKind.Load(config, files),
        TokenizerKind.FairseqSentencePiece => FairseqSentencePieceKind.Load(files),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
