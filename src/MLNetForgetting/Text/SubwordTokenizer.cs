using Microsoft.ML.Tokenizers;

namespace MLNetForgetting.Text;

/// <summary>
/// A subword vocabulary plus the RoBERTa conventions the models need (special ids, single and pair
/// layouts, truncation, persistence). Encoding is done by a Microsoft.ML.Tokenizers
/// <see cref="Tokenizer"/>; this class only normalises the text first and manages special tokens.
/// </summary>
/// <remarks>
/// <para>Kinds (one factory each in Text/Tokenizers):</para>
/// <list type="bullet">
/// <item><c>bpe</c>: byte-level BPE trained by <see cref="BpeVocabularyTrainer"/> (vocab.json +
/// merges.txt, loaded by <see cref="BpeTokenizer"/> with <c>ByteLevel = true</c>). Lossless: any text
/// round-trips to <see cref="Normalize"/>(text) and no unknown token is ever produced.</item>
/// <item><c>byte-level-bpe</c>: a Hugging Face RoBERTa / GPT-2 vocab.json + merges.txt (GPT-2's pre-tokenizer,
/// special tokens by name from special_tokens_map.json; roles the vocabulary lacks, such as GPT-2's padding and
/// mask, are appended). Lossless unless <c>add_prefix_space</c>.</item>
/// <item><c>tiktoken</c>: a tiktoken encoding such as o200k_base (also byte-level and lossless). It
/// has no pad/mask/bos ids, so the five <see cref="SpecialTokens"/> are appended after its last id.</item>
/// <item><c>sentencepiece</c>: a SentencePiece model; missing special roles are appended.</item>
/// <item><c>fairseq-sentencepiece</c>: XLM-R's sentencepiece.bpe.model with fairseq's ids (&lt;s&gt;=0,
/// &lt;pad&gt;=1, &lt;/s&gt;=2, &lt;unk&gt;=3, every other piece its SentencePiece id + 1, &lt;mask&gt; last), as
/// Hugging Face's XLMRobertaTokenizer numbers them.</item>
/// <item><c>bert</c>: a WordPiece vocab.txt ([CLS]/[SEP]/[PAD]/[UNK]/[MASK] take the roles of
/// &lt;s&gt;/&lt;/s&gt;/&lt;pad&gt;/&lt;unk&gt;/&lt;mask&gt;). BERT pair layout is used: [CLS] a [SEP] b [SEP].</item>
/// </list>
/// <para>Special tokens are never produced by <see cref="EncodeToIds"/> (text "&lt;mask&gt;" is encoded
/// as ordinary characters) and are always skipped by <see cref="Decode"/>.</para>
/// <para>Instances are immutable. Microsoft.ML.Tokenizers locks its BPE word cache, so concurrent encoding is expected to be safe; it is not stress-tested here.</para>
/// </remarks>
public sealed class SubwordTokenizer
{
    private readonly SubwordEncoder _encoder;
    private readonly Dictionary<string, int> _tokenToId;      // model tokens plus specials (not used for tiktoken model tokens)
    private readonly Dictionary<int, string> _idToToken;
    private readonly HashSet<int> _specialIds;
    private readonly SortedDictionary<string, byte[]> _files;
    private readonly bool _lossless;
    private readonly bool _bertPairLayout;
    private string? _fingerprint;

    internal SubwordTokenizer(
        TokenizerKind kind,
        SubwordEncoder encoder,
        int vocabSize,
        Dictionary<string, int> tokenToId,
        (int Bos, int Pad, int Eos, int Unk, int Mask) specials,
        SortedDictionary<string, byte[]> files,
        bool lossless)
    {
        TokenizerKind = kind;
        Kind = kind.Name();
        _encoder = encoder;
        VocabSize = vocabSize;
        _tokenToId = tokenToId;
        _idToToken = new Dictionary<int, string>(tokenToId.Count);
        foreach (var (token, id) in tokenToId) _idToToken.TryAdd(id, token);
        (BosId, PadId, EosId, UnkId, MaskId) = specials;
        _specialIds = [BosId, PadId, EosId, UnkId, MaskId];
        SpecialIds = _specialIds;
        _files = files;
        _lossless = lossless;
        _bertPairLayout = kind == TokenizerKind.Bert;
    }

    /// <summary>Number of ids (embedding rows needed): every id produced is in [0, VocabSize).</summary>
    public int VocabSize { get; }
    /// <summary>Padding id (the embedding padding index).</summary>
    public int PadId { get; }
    /// <summary>Beginning-of-sequence id (&lt;s&gt; or [CLS]).</summary>
    public int BosId { get; }
    /// <summary>End-of-sequence / separator id (&lt;/s&gt; or [SEP]).</summary>
    public int EosId { get; }
    /// <summary>MLM mask id.</summary>
    public int MaskId { get; }
    /// <summary>Unknown-token id.</summary>
    public int UnkId { get; }
    /// <summary>The five special ids: never masked, never drawn as random replacements, skipped by <see cref="Decode"/>.</summary>
    public IReadOnlySet<int> SpecialIds { get; }
    /// <summary>"bpe", "byte-level-bpe", "sentencepiece", "fairseq-sentencepiece", "tiktoken" or "bert".</summary>
    public string Kind { get; }
    internal TokenizerKind TokenizerKind { get; }
    /// <summary>
    /// The underlying Microsoft.ML.Tokenizers tokenizer that does the encoding (for fairseq-sentencepiece its ids
    /// are SentencePiece's, one less than ours).
    /// </summary>
    public Tokenizer InnerTokenizer => _encoder.Inner;

    /// <summary>Whether <c>Decode(EncodeToIds(text))</c> is <see cref="TextNormalization.Normalize"/>(text) (byte-level kinds without a prefix space).</summary>
    internal bool IsLossless => _lossless;

    /// <summary>Number of special tokens <see cref="EncodePair"/> adds (4 RoBERTa-style, 3 for BERT).</summary>
    public int PairSpecialTokenCount => _bertPairLayout ? 3 : 4;

    /// <summary>
    /// Text as this tokenizer sees it: what <c>Decode(EncodeToIds(text))</c> gives back. For the lossless
    /// kinds (bpe, tiktoken) this is <see cref="TextNormalization.Normalize"/>; for bert and sentencepiece,
    /// whose own normalisation is lossy (lower-casing, whitespace handling, unknown pieces), it is the round trip itself.
    /// </summary>
    public string Normalize(string text)
    {
        string normalized = TextNormalization.Normalize(text);
        return _lossless ? normalized : Decode(EncodeToIds(normalized));
    }

    /// <summary>Token ids of <paramref name="text"/> without special tokens; null or empty gives an empty array.</summary>
    public int[] EncodeToIds(string text)
    {
        string normalized = TextNormalization.Normalize(text);
        if (normalized.Length == 0) return [];
        return [.. _encoder.Encode(normalized)];
    }

    /// <summary>
    /// The id of <paramref name="text"/> if it encodes to exactly one token (e.g. a LiST label word with
    /// its leading space, " great"), otherwise null.
    /// </summary>
    public int? SingleTokenId(string text)
    {
        int[] ids = EncodeToIds(text);
        return ids.Length == 1 ? ids[0] : null;
    }

    /// <summary>Text of <paramref name="ids"/>; special ids are skipped, ids outside the vocabulary throw.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Id outside the vocabulary (size {VocabSize}).");
            if (!_specialIds.Contains(id)) kept.Add(id);
        }
        if (kept.Count == 0) return string.Empty;
        return _encoder.Decode(kept);
    }

    /// <summary>
    /// &lt;s&gt; text &lt;/s&gt; ([CLS] text [SEP] for bert), with the text truncated from the end so the
    /// result has at most <paramref name="maxLength"/> ids.
    /// </summary>
    public int[] EncodeSingle(string text, int maxLength) => EncodeSingle(text, maxLength, out _);

    /// <summary>As <see cref="EncodeSingle(string,int)"/>, reporting whether tokens were cut off.</summary>
    public int[] EncodeSingle(string text, int maxLength, out bool truncated)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must leave room for the two special tokens.");
        int[] ids = EncodeToIds(text);
        int keep = Math.Min(ids.Length, maxLength - 2);
        truncated = keep < ids.Length;
        var result = new int[keep + 2];
        result[0] = BosId;
        Array.Copy(ids, 0, result, 1, keep);
        result[^1] = EosId;
        return result;
    }

    /// <summary>
    /// RoBERTa pair layout &lt;s&gt; a &lt;/s&gt;&lt;/s&gt; b &lt;/s&gt; (BERT: [CLS] a [SEP] b [SEP]),
    /// truncated to at most <paramref name="maxLength"/> ids with <paramref name="strategy"/>.
    /// </summary>
    /// <exception cref="ArgumentException">OnlyFirst/OnlySecond cannot make the pair fit.</exception>
    public int[] EncodePair(string first, string second, int maxLength, TruncationStrategy strategy = TruncationStrategy.LongestFirst)
    {
        int specials = PairSpecialTokenCount;
        if (maxLength < specials) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"maxLength must leave room for the {specials} special tokens.");
        int[] a = EncodeToIds(first);
        int[] b = EncodeToIds(second);
        (int keepA, int keepB) = TruncatedLengths(a.Length, b.Length, maxLength - specials, strategy);

        var result = new List<int>(keepA + keepB + specials) { BosId };
        result.AddRange(a.AsSpan(0, keepA));
        result.Add(EosId);
        if (!_bertPairLayout) result.Add(EosId);
        result.AddRange(b.AsSpan(0, keepB));
        result.Add(EosId);
        return [.. result];
    }

    internal static (int KeepA, int KeepB) TruncatedLengths(int lengthA, int lengthB, int budget, TruncationStrategy strategy)
    {
        if (lengthA + lengthB <= budget) return (lengthA, lengthB);
        switch (strategy)
        {
            case TruncationStrategy.LongestFirst:
                {
                    // Same result as removing one token at a time from the longer side (the second on ties).
                    int a = lengthA, b = lengthB;
                    int excess = a + b - budget;
                    int diff = Math.Min(Math.Abs(a - b), excess);
                    if (a > b) a -= diff; else b -= diff;
                    excess -= diff;
                    // Now equal (or done): alternate, second side first.
                    b -= (excess + 1) / 2;
                    a -= excess / 2;
                    return (a, b);
                }
            case TruncationStrategy.OnlyFirst:
                if (lengthB > budget) throw new ArgumentException($"OnlyFirst truncation cannot fit the pair: the second segment alone has {lengthB} tokens but only {budget} fit.");
                return (budget - lengthB, lengthB);
            case TruncationStrategy.OnlySecond:
                if (lengthA > budget) throw new ArgumentException($"OnlySecond truncation cannot fit the pair: the first segment alone has {lengthA} tokens but only {budget} fit.");
                return (lengthA, budget - lengthA);
            default:
                throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null);
        }
    }

    /// <summary>
    /// Id of a token in vocabulary form (byte-level BPE writes a leading space as 'Ġ', so " great" is
    /// "Ġgreat"; special tokens by their text, e.g. "&lt;mask&gt;"). For tiktoken, whose vocabulary is
    /// bytes, plain text that encodes to exactly one token. Null if absent.
    /// </summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _tokenToId.TryGetValue(token, out int id) ? id : _encoder.TokenToIdFallback(token);
    }

    /// <summary>Vocabulary form of <paramref name="id"/> (see <see cref="TokenToId"/>); null if out of range.</summary>
    public string? IdToToken(int id)
    {
        return _idToToken.TryGetValue(id, out string? token) ? token : _encoder.IdToTokenFallback(id, VocabSize);
    }

    /// <summary>
    /// Everything needed to rebuild this tokenizer with <see cref="FromFiles"/>: always tokenizer_config.json,
    /// plus vocab.json and merges.txt (bpe, byte-level-bpe), vocab.txt (bert), sentencepiece.model or
    /// sentencepiece.bpe.model (fairseq-sentencepiece). The returned arrays are copies.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> ToFiles()
    {
        var copy = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, bytes) in _files) copy.Add(name, (byte[])bytes.Clone());
        return copy;
    }

    /// <summary>
    /// SHA-256 (lower-case hex) over the files of <see cref="ToFiles"/> in ordinal name order (name,
    /// length and bytes of each): equal fingerprints mean the same vocabulary and settings.
    /// </summary>
    public string Fingerprint => _fingerprint ??= TokenizerFiles.Fingerprint(_files);

    /// <summary>Rebuilds a tokenizer from the output of <see cref="ToFiles"/>.</summary>
    /// <exception cref="InvalidDataException">A file is missing or malformed.</exception>
    public static SubwordTokenizer FromFiles(IReadOnlyDictionary<string, byte[]> files) => TokenizerFiles.Read(files);

    /// <summary>
    /// Byte-level BPE from a vocabulary in id order (ids 0-4 must be the <see cref="SpecialTokens"/>,
    /// and all 256 byte-level characters must be present) and merges in rank order.
    /// </summary>
    internal static SubwordTokenizer CreateBpe(IReadOnlyList<string> vocabInIdOrder, IReadOnlyList<(string Left, string Right)> merges) =>
        BpeKind.Create(vocabInIdOrder, merges);

    /// <summary>The exact Microsoft.ML.Tokenizers configuration our BPE files are meant for.</summary>
    internal static BpeTokenizer CreateBpeTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges) =>
        BpeKind.CreateBpeTokenizer(vocab, merges);

    /// <summary>A tiktoken encoding (e.g. "o200k_base", which needs the Microsoft.ML.Tokenizers.Data.O200kBase package, referenced here).</summary>
    public static SubwordTokenizer FromTiktoken(string encodingName) => TiktokenKind.Create(encodingName);

    /// <summary>
    /// A SentencePiece model (BPE models work in Microsoft.ML.Tokenizers 2.0.1 and 3.0.0; test Unigram models
    /// first). &lt;pad&gt; and &lt;mask&gt; are used if the model has them, otherwise appended.
    /// </summary>
    public static SubwordTokenizer FromSentencePiece(Stream model) => SentencePieceKind.Create(model);

    /// <summary>
    /// A BERT WordPiece vocab.txt (one token per line, line index = id), encoded by Microsoft.ML.Tokenizers'
    /// <see cref="BertTokenizer"/> with BERT's basic tokenization (punctuation and CJK split, control
    /// characters removed).
    /// </summary>
    /// <param name="vocabTxt">The vocabulary.</param>
    /// <param name="lowerCase">Lower-case before WordPiece (Hugging Face's <c>do_lower_case</c>; true for uncased models).</param>
    /// <param name="stripAccents">Remove accents (non-spacing marks after NFD); null follows <paramref name="lowerCase"/>, as Hugging Face's <c>strip_accents</c> does.</param>
    /// <remarks>
    /// Text that spells a special token ("[SEP]") is encoded as ordinary characters, as for every kind: the
    /// model finds a BERT pair's second segment by its first [SEP], which therefore only the layout adds.
    /// </remarks>
    public static SubwordTokenizer FromBertVocab(Stream vocabTxt, bool lowerCase = true, bool? stripAccents = null) =>
        BertKind.Create(vocabTxt, lowerCase, stripAccents);

    /// <summary>
    /// Roles the model lacks get new ids after <paramref name="baseSize"/>, in RoBERTa order; their text is the
    /// RoBERTa token (added to <paramref name="tokenToId"/>).
    /// </summary>
    internal static (int, int, int, int, int) AppendMissingSpecials(int baseSize, Dictionary<string, int> tokenToId,
        int? bos, int? pad, int? eos, int? unk, int? mask, out int vocabSize)
    {
        int next = baseSize;
        int Resolve(int? existing, string text)
        {
            if (existing is int id) return id;
            int added = next++;
            tokenToId[text] = added;
            return added;
        }
        var result = (Resolve(bos, SpecialTokens.Bos), Resolve(pad, SpecialTokens.Pad), Resolve(eos, SpecialTokens.Eos),
            Resolve(unk, SpecialTokens.Unk), Resolve(mask, SpecialTokens.Mask));
        vocabSize = next;
        return result;
    }
}
