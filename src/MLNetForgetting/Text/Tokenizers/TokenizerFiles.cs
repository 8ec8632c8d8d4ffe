using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MLNetForgetting.Text;

/// <summary>
/// The file side of <see cref="SubwordTokenizer"/>: names, tokenizer_config.json, vocab.json, merges.txt and the
/// fingerprint. Every kind stores tokenizer_config.json ({"format_version": 1, "kind": ..., "normalization": ...}
/// plus kind-specific keys) and its vocabulary files; model zips keep them under "tokenizer.".
/// </summary>
internal static class TokenizerFiles
{
    public const string ConfigFile = "tokenizer_config.json";
    public const string VocabJsonFile = "vocab.json";
    public const string MergesFile = "merges.txt";
    public const string BertVocabFile = "vocab.txt";
    public const string SentencePieceFile = "sentencepiece.model";
    /// <summary>XLM-R's file name for its SentencePiece model (kept so an exported folder looks like XLM-R's).</summary>
    public const string SentencePieceBpeFile = "sentencepiece.bpe.model";
    public const int FormatVersion = 1;

    /// <summary>Every file name a tokenizer of ours may consist of.</summary>
    public static readonly string[] AllNames = [ConfigFile, VocabJsonFile, MergesFile, BertVocabFile, SentencePieceFile, SentencePieceBpeFile];

    /// <summary>Reads tokenizer_config.json and dispatches to the kind's factory.</summary>
    public static SubwordTokenizer Read(IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var config = TokenizerConfig.Parse(Require(files, ConfigFile), ConfigFile);
        string kindName = config.String("kind") ?? throw new InvalidDataException($"{ConfigFile} has no \"kind\".");
        int version = config.Root.TryGetProperty("format_version", out var v) && v.TryGetInt32(out int ver) ? ver : 0;
        if (version != FormatVersion) throw new InvalidDataException($"{ConfigFile} has format_version {version}; this build reads {FormatVersion}.");
        string normalization = config.String("normalization") ?? "";
        if (normalization != TextNormalization.Version) throw new InvalidDataException($"Unsupported normalization '{normalization}' (expected '{TextNormalization.Version}').");
        return TokenizerKinds.Load(TokenizerKinds.Parse(kindName), config, files);
    }

    public static byte[] Require(IReadOnlyDictionary<string, byte[]> files, string name) =>
        files.TryGetValue(name, out byte[]? bytes) ? bytes : throw new InvalidDataException($"Tokenizer file '{name}' is missing.");

    /// <summary>SHA-256 over (name, length, bytes) of each file in ordinal name order.</summary>
    public static string Fingerprint(SortedDictionary<string, byte[]> files)
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

    /// <summary>vocab.json: a JSON object token → id; ids must be distinct and non-negative.</summary>
    public static Dictionary<string, int> ParseVocabJson(byte[] bytes, string fileName = VocabJsonFile)
    {
        Dictionary<string, int> vocab;
        try { vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(bytes) ?? throw new InvalidDataException($"{fileName} is empty."); }
        catch (JsonException e) { throw new InvalidDataException($"{fileName} is not a JSON object of token → id.", e); }
        var seen = new HashSet<int>();
        foreach (var (token, id) in vocab)
        {
            if (id < 0) throw new InvalidDataException($"{fileName}: '{token}' has the negative id {id}.");
            if (!seen.Add(id)) throw new InvalidDataException($"{fileName}: id {id} is given to more than one token ('{token}' among them).");
        }
        return new Dictionary<string, int>(vocab, StringComparer.Ordinal);
    }

    /// <summary>merges.txt: "left right" per line in rank order; a "#version" line and empty lines are skipped.</summary>
    public static List<(string Left, string Right)> ParseMerges(byte[] bytes, string fileName = MergesFile)
    {
        var merges = new List<(string, string)>();
        using var reader = new StringReader(Encoding.UTF8.GetString(bytes));
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0) throw new InvalidDataException($"{fileName} line {lineNumber} is not \"left right\".");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    private static readonly JsonWriterOptions CompactJson = new()
    {
        // Byte-level symbols are Latin-1/Latin Extended-A letters; keep them readable as in GPT-2's vocab.json.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static byte[] WriteVocabJson(IReadOnlyList<string> vocabInIdOrder)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, CompactJson))
        {
            w.WriteStartObject();
            for (int i = 0; i < vocabInIdOrder.Count; i++) w.WriteNumber(vocabInIdOrder[i], i);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static byte[] WriteMerges(IReadOnlyList<(string Left, string Right)> merges)
    {
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in merges) sb.Append(left).Append(' ').Append(right).Append('\n');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>tokenizer_config.json: format_version, kind, the kind's own keys, normalization (in this order, as always written).</summary>
    public static byte[] WriteConfig(TokenizerKind kind, Action<Utf8JsonWriter> writeKindSpecific)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format_version", FormatVersion);
            w.WriteString("kind", kind.Name());
            writeKindSpecific(w);
            w.WriteString("normalization", TextNormalization.Version);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>A stream's bytes (the factories keep the exact file bytes for persistence and the fingerprint).</summary>
    public static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}

/// <summary>A parsed tokenizer_config.json (ours or Hugging Face's) with typed look-ups.</summary>
internal sealed class TokenizerConfig
{
    private TokenizerConfig(JsonElement root) => Root = root;

    public JsonElement Root { get; }

    public static TokenizerConfig Parse(byte[] bytes, string fileName)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{fileName} is not a JSON object.");
            return new TokenizerConfig(doc.RootElement.Clone());
        }
        catch (JsonException e) { throw new InvalidDataException($"{fileName} is not valid JSON: {e.Message}", e); }
    }

    public string? String(string name) => Root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public bool? Bool(string name) => Root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>
    /// A special token's text: Hugging Face writes either "&lt;mask&gt;" or {"content": "&lt;mask&gt;", "lstrip": true, ...}.
    /// </summary>
    public string? Token(string name) =>
        !Root.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()
        : null;
}
