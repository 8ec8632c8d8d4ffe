using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace MLNetForgetting.Text;

/// <summary>
/// A subword vocabulary plus the RoBERTa conventions the models need (special ids, single and pair
/// layouts, truncation, persistence). Encoding is done by a Microsoft.ML.Tokenizers
/// <see cref="Tokenizer"/>; this class only normalises the text first and manages special tokens.
/// </summary>
/// <remarks>
/// <para>Kinds:</para>
/// <list type="bullet">
/// <item><c>bpe</c>: byte-level BPE trained by <see cref="BpeVocabularyTrainer"/> (vocab.json +
/// merges.txt, loaded by <see cref="BpeTokenizer"/> with <c>ByteLevel = true</c>). Lossless: any text
/// round-trips to <see cref="Normalize"/>(text) and no unknown token is ever produced.</item>
/// <item><c>tiktoken</c>: a tiktoken encoding such as o200k_base (also byte-level and lossless). It
/// has no pad/mask/bos ids, so the five <see cref="SpecialTokens"/> are appended after its last id.</item>
/// <item><c>sentencepiece</c>: a SentencePiece model; missing special roles are appended.</item>
/// <item><c>bert</c>: a WordPiece vocab.txt ([CLS]/[SEP]/[PAD]/[UNK]/[MASK] take the roles of
/// &lt;s&gt;/&lt;/s&gt;/&lt;pad&gt;/&lt;unk&gt;/&lt;mask&gt;). BERT pair layout is used: [CLS] a [SEP] b [SEP].</item>
/// </list>
/// <para>Special tokens are never produced by <see cref="EncodeToIds"/> (text "&lt;mask&gt;" is encoded
/// as ordinary characters) and are always skipped by <see cref="Decode"/>.</para>
/// <para>Instances are immutable. Microsoft.ML.Tokenizers locks its BPE word cache, so concurrent encoding is expected to be safe; it is not stress-tested here.</para>
/// </remarks>
public sealed class SubwordTokenizer
{
    private const string ConfigFile = "tokenizer_config.json";
    private const string VocabJsonFile = "vocab.json";
    private const string MergesFile = "merges.txt";
    private const string BertVocabFile = "vocab.txt";
    private const string SentencePieceFile = "sentencepiece.model";
    private const int FormatVersion = 1;

    private readonly Tokenizer _tokenizer;
    private readonly Dictionary<string, int> _tokenToId;      // model tokens plus specials (not used for tiktoken model tokens)
    private readonly Dictionary<int, string> _idToToken;
    private readonly HashSet<int> _specialIds;
    private readonly SortedDictionary<string, byte[]> _files;
    private readonly bool _lossless;
    private readonly bool _bertPairLayout;
    private string? _fingerprint;
    private (bool LowerCase, bool StripAccents) _bertBasic; // bert kind: BERT's basic tokenization, done by us (see BertBasicTokenization)

    private SubwordTokenizer(
        string kind,
        Tokenizer tokenizer,
        int vocabSize,
        Dictionary<string, int> tokenToId,
        (int Bos, int Pad, int Eos, int Unk, int Mask) specials,
        SortedDictionary<string, byte[]> files,
        bool lossless)
    {
        Kind = kind;
        _tokenizer = tokenizer;
        VocabSize = vocabSize;
        _tokenToId = tokenToId;
        _idToToken = new Dictionary<int, string>(tokenToId.Count);
        foreach (var (token, id) in tokenToId) _idToToken.TryAdd(id, token);
        (BosId, PadId, EosId, UnkId, MaskId) = specials;
        _specialIds = [BosId, PadId, EosId, UnkId, MaskId];
        SpecialIds = _specialIds;
        _files = files;
        _lossless = lossless;
        _bertPairLayout = kind == "bert";
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
    /// <summary>"bpe", "sentencepiece", "tiktoken" or "bert".</summary>
    public string Kind { get; }
    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer that does the encoding.</summary>
    public Tokenizer InnerTokenizer => _tokenizer;

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
        IReadOnlyList<int> ids = _tokenizer switch
        {
            SentencePieceTokenizer sp => sp.EncodeToIds(normalized, false, false),
            BertTokenizer bert => bert.EncodeToIds(BertBasicTokenization.Apply(normalized, _bertBasic.LowerCase, _bertBasic.StripAccents), addSpecialTokens: false),
            _ => _tokenizer.EncodeToIds(normalized),
        };
        return [.. ids];
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
        return _tokenizer switch
        {
            SentencePieceTokenizer sp => sp.Decode(kept, false),
            BertTokenizer bert => bert.Decode(kept, false),
            _ => _tokenizer.Decode(kept),
        };
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
        if (_tokenToId.TryGetValue(token, out int id)) return id;
        return _tokenizer is TiktokenTokenizer ? SingleTokenId(token) : null;
    }

    /// <summary>Vocabulary form of <paramref name="id"/> (see <see cref="TokenToId"/>); null if out of range.</summary>
    public string? IdToToken(int id)
    {
        if (_idToToken.TryGetValue(id, out string? token)) return token;
        if (_tokenizer is TiktokenTokenizer && (uint)id < (uint)VocabSize)
        {
            // tiktoken tokens are byte strings; a lone partial UTF-8 sequence decodes to U+FFFD.
            try { return _tokenizer.Decode([id]); } catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException) { return null; }
        }
        return null;
    }

    /// <summary>
    /// Everything needed to rebuild this tokenizer with <see cref="FromFiles"/>: always tokenizer_config.json,
    /// plus vocab.json and merges.txt (bpe), vocab.txt (bert) or sentencepiece.model. The returned
    /// arrays are copies.
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
    public string Fingerprint => _fingerprint ??= ComputeFingerprint(_files);

    private static string ComputeFingerprint(SortedDictionary<string, byte[]> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        foreach (var (name, bytes) in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            hash.AppendData([0]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, bytes.LongLength);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Rebuilds a tokenizer from the output of <see cref="ToFiles"/>.</summary>
    /// <exception cref="InvalidDataException">A file is missing or malformed.</exception>
    public static SubwordTokenizer FromFiles(IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        byte[] configBytes = Require(files, ConfigFile);
        JsonElement config;
        try { config = JsonDocument.Parse(configBytes).RootElement; }
        catch (JsonException e) { throw new InvalidDataException($"{ConfigFile} is not valid JSON.", e); }

        string kind = config.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : throw new InvalidDataException($"{ConfigFile} has no \"kind\".");
        int version = config.TryGetProperty("format_version", out var v) && v.TryGetInt32(out int ver) ? ver : 0;
        if (version != FormatVersion) throw new InvalidDataException($"{ConfigFile} has format_version {version}; this build reads {FormatVersion}.");
        string normalization = config.TryGetProperty("normalization", out var n) ? n.GetString() ?? "" : "";
        if (normalization != TextNormalization.Version) throw new InvalidDataException($"Unsupported normalization '{normalization}' (expected '{TextNormalization.Version}').");

        switch (kind)
        {
            case "bpe":
                {
                    string preTokenizer = config.TryGetProperty("pre_tokenizer", out var p) ? p.GetString() ?? "" : "";
                    if (preTokenizer != PreTokenization.Name) throw new InvalidDataException($"Unsupported pre_tokenizer '{preTokenizer}' (expected '{PreTokenization.Name}').");
                    Dictionary<string, int> vocab;
                    try { vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(Require(files, VocabJsonFile)) ?? throw new InvalidDataException($"{VocabJsonFile} is empty."); }
                    catch (JsonException e) { throw new InvalidDataException($"{VocabJsonFile} is not a JSON object of token → id.", e); }
                    var merges = new List<(string, string)>();
                    using var reader = new StringReader(Encoding.UTF8.GetString(Require(files, MergesFile)));
                    int lineNumber = 0;
                    for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
                    {
                        lineNumber++;
                        if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
                        string[] parts = line.Split(' ');
                        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0) throw new InvalidDataException($"{MergesFile} line {lineNumber} is not \"left right\".");
                        merges.Add((parts[0], parts[1]));
                    }
                    var ordered = vocab.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToList();
                    for (int i = 0; i < ordered.Count; i++)
                    {
                        if (vocab[ordered[i]] != i) throw new InvalidDataException($"{VocabJsonFile} ids must be 0..{ordered.Count - 1} without gaps.");
                    }
                    return CreateBpe(ordered, merges);
                }
            case "tiktoken":
                {
                    string encoding = config.TryGetProperty("encoding", out var e) ? e.GetString() ?? "" : "";
                    return FromTiktoken(encoding);
                }
            case "sentencepiece":
                return FromSentencePiece(new MemoryStream(Require(files, SentencePieceFile), writable: false));
            case "bert":
                {
                    bool lowerCase = !config.TryGetProperty("lower_case", out var l) || l.GetBoolean();
                    // Written since accent stripping became a setting; files from before it were encoded without it.
                    bool stripAccents = config.TryGetProperty("strip_accents", out var sa) && sa.ValueKind == JsonValueKind.True;
                    return FromBertVocab(new MemoryStream(Require(files, BertVocabFile), writable: false), lowerCase, stripAccents);
                }
            default:
                throw new InvalidDataException($"Unknown tokenizer kind '{kind}'.");
        }
    }

    private static byte[] Require(IReadOnlyDictionary<string, byte[]> files, string name) =>
        files.TryGetValue(name, out byte[]? bytes) ? bytes : throw new InvalidDataException($"Tokenizer file '{name}' is missing.");

    /// <summary>
    /// Byte-level BPE from a vocabulary in id order (ids 0-4 must be the <see cref="SpecialTokens"/>,
    /// and all 256 byte-level characters must be present) and merges in rank order.
    /// </summary>
    internal static SubwordTokenizer CreateBpe(IReadOnlyList<string> vocabInIdOrder, IReadOnlyList<(string Left, string Right)> merges)
    {
        for (int i = 0; i < SpecialTokens.InIdOrder.Count; i++)
        {
            if (vocabInIdOrder.Count <= i || vocabInIdOrder[i] != SpecialTokens.InIdOrder[i])
                throw new InvalidDataException($"BPE vocabulary id {i} must be '{SpecialTokens.InIdOrder[i]}'.");
        }
        var tokenToId = new Dictionary<string, int>(vocabInIdOrder.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabInIdOrder.Count; i++)
        {
            if (!tokenToId.TryAdd(vocabInIdOrder[i], i)) throw new InvalidDataException($"BPE vocabulary lists '{vocabInIdOrder[i]}' twice.");
        }
        foreach (char c in ByteLevelAlphabet.ByteToChar)
        {
            // Without every byte symbol some text would become <unk>; refuse such a vocabulary.
            if (!tokenToId.ContainsKey(c.ToString())) throw new InvalidDataException($"BPE vocabulary lacks the byte-level symbol '{c}'.");
        }

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [VocabJsonFile] = WriteVocabJson(vocabInIdOrder),
            [MergesFile] = WriteMerges(merges),
            [ConfigFile] = WriteConfig(w =>
            {
                w.WriteString("kind", "bpe");
                w.WriteBoolean("byte_level", true);
                w.WriteString("pre_tokenizer", PreTokenization.Name);
                w.WriteString("pre_tokenizer_pattern", PreTokenization.Pattern);
                w.WriteString("unknown_token", SpecialTokens.Unk);
            }),
        };

        var tokenizer = CreateBpeTokenizer(tokenToId, merges);
        return new SubwordTokenizer("bpe", tokenizer, vocabInIdOrder.Count, tokenToId,
            (SpecialTokens.BosId, SpecialTokens.PadId, SpecialTokens.EosId, SpecialTokens.UnkId, SpecialTokens.MaskId), files, lossless: true);
    }

    /// <summary>The exact Microsoft.ML.Tokenizers configuration our BPE files are meant for.</summary>
    internal static BpeTokenizer CreateBpeTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges) =>
        BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges.Select(m => m.Left + " " + m.Right).ToList(),
            PreTokenizer = new RegexPreTokenizer(PreTokenization.Regex, null),
            UnknownToken = SpecialTokens.Unk,
            ByteLevel = true,
        });

    /// <summary>A tiktoken encoding (e.g. "o200k_base", which needs the Microsoft.ML.Tokenizers.Data.O200kBase package, referenced here).</summary>
    public static SubwordTokenizer FromTiktoken(string encodingName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(encodingName);
        TiktokenTokenizer tokenizer = TiktokenTokenizer.CreateForEncoding(encodingName);
        // The mergeable ranks are not exposed; tiktoken's own special tokens sit after them, so the
        // highest special id bounds every id the encoder can produce.
        IReadOnlyDictionary<string, int> own = tokenizer.SpecialTokens is { Count: > 0 } s
            ? s : throw new NotSupportedException($"tiktoken encoding '{encodingName}' has no special tokens, so its vocabulary size is unknown.");
        int baseSize = own.Values.Max() + 1;
        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in own) tokenToId[token] = id;
        var specials = AppendMissingSpecials(baseSize, tokenToId, null, null, null, null, null, out int vocabSize);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [ConfigFile] = WriteConfig(w => { w.WriteString("kind", "tiktoken"); w.WriteString("encoding", encodingName); }),
        };
        return new SubwordTokenizer("tiktoken", tokenizer, vocabSize, tokenToId, specials, files, lossless: true);
    }

    /// <summary>
    /// A SentencePiece model (BPE models work in Microsoft.ML.Tokenizers 2.0.1 and 3.0.0; test Unigram models
    /// first). &lt;pad&gt; and &lt;mask&gt; are used if the model has them, otherwise appended.
    /// </summary>
    public static SubwordTokenizer FromSentencePiece(Stream model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var buffer = new MemoryStream();
        model.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        SentencePieceTokenizer tokenizer;
        try
        {
            tokenizer = SentencePieceTokenizer.Create(new MemoryStream(bytes, writable: false), false, false, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException("The stream is not a SentencePiece model Microsoft.ML.Tokenizers can load.", e);
        }
        var tokenToId = new Dictionary<string, int>(tokenizer.Vocabulary, StringComparer.Ordinal);
        int baseSize = tokenizer.Vocabulary.Values.DefaultIfEmpty(-1).Max() + 1;
        // Microsoft.ML.Tokenizers reports bos/eos id 1 when the model has none (id <= 0), so a role only
        // counts if the piece at that id really is the role's token.
        int? Known(int id, string token) => tokenToId.TryGetValue(token, out int actual) && actual == id ? id : null;
        var specials = AppendMissingSpecials(baseSize, tokenToId,
            Known(tokenizer.BeginningOfSentenceId, tokenizer.BeginningOfSentenceToken), Lookup(tokenToId, SpecialTokens.Pad),
            Known(tokenizer.EndOfSentenceId, tokenizer.EndOfSentenceToken), Known(tokenizer.UnknownId, tokenizer.UnknownToken),
            Lookup(tokenToId, SpecialTokens.Mask), out int vocabSize);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [SentencePieceFile] = bytes,
            [ConfigFile] = WriteConfig(w => w.WriteString("kind", "sentencepiece")),
        };
        return new SubwordTokenizer("sentencepiece", tokenizer, vocabSize, tokenToId, specials, files, lossless: false);
    }

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
    public static SubwordTokenizer FromBertVocab(Stream vocabTxt, bool lowerCase = true, bool? stripAccents = null)
    {
        ArgumentNullException.ThrowIfNull(vocabTxt);
        using var buffer = new MemoryStream();
        vocabTxt.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();

        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        int lines = 0;
        using (var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8))
        {
            for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            {
                tokenToId.TryAdd(line, lines++);
            }
        }
        foreach (string required in new[] { "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]" })
        {
            if (!tokenToId.ContainsKey(required)) throw new InvalidDataException($"BERT vocab.txt lacks {required}.");
        }
        bool strip = stripAccents ?? lowerCase;
        // Microsoft.ML.Tokenizers does WordPiece on whitespace-separated words; BERT's basic tokenization
        // (lower-casing and accent stripping included) is ours, because its own drops symbols such as '$'.
        BertTokenizer tokenizer = BertTokenizer.Create(new MemoryStream(bytes, writable: false), new BertOptions
        {
            LowerCaseBeforeTokenization = false, RemoveNonSpacingMarks = false, SplitOnSpecialTokens = false, ApplyBasicTokenization = false,
        });
        var specials = (tokenizer.ClassificationTokenId, tokenizer.PaddingTokenId, tokenizer.SeparatorTokenId, tokenizer.UnknownTokenId, tokenizer.MaskingTokenId);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [BertVocabFile] = bytes,
            [ConfigFile] = WriteConfig(w =>
            {
                w.WriteString("kind", "bert");
                w.WriteBoolean("lower_case", lowerCase);
                w.WriteBoolean("strip_accents", strip);
                // Hugging Face's keys too, so the exported directory's tokenizer loads there as well.
                w.WriteString("tokenizer_class", "BertTokenizer");
                w.WriteBoolean("do_lower_case", lowerCase);
                w.WriteBoolean("tokenize_chinese_chars", true);
                foreach (var (key, token) in new[] { ("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("mask_token", "[MASK]") })
                    w.WriteString(key, token);
            }),
        };
        return new SubwordTokenizer("bert", tokenizer, lines, tokenToId, specials, files, lossless: false) { _bertBasic = (lowerCase, strip) };
    }

    private static int? Lookup(Dictionary<string, int> vocab, string token) => vocab.TryGetValue(token, out int id) ? id : null;

    // Roles the model lacks get new ids after baseSize, in RoBERTa order; their text is the RoBERTa token.
    private static (int, int, int, int, int) AppendMissingSpecials(int baseSize, Dictionary<string, int> tokenToId,
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

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Byte-level symbols are Latin-1/Latin Extended-A letters; keep them readable as in GPT-2's vocab.json.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static byte[] WriteVocabJson(IReadOnlyList<string> vocabInIdOrder)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, JsonOptions))
        {
            w.WriteStartObject();
            for (int i = 0; i < vocabInIdOrder.Count; i++) w.WriteNumber(vocabInIdOrder[i], i);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static byte[] WriteMerges(IReadOnlyList<(string Left, string Right)> merges)
    {
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in merges) sb.Append(left).Append(' ').Append(right).Append('\n');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static byte[] WriteConfig(Action<Utf8JsonWriter> writeKindSpecific)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format_version", FormatVersion);
            writeKindSpecific(w);
            w.WriteString("normalization", TextNormalization.Version);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
