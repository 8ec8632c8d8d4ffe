using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Persistence;
using MLNetForgetting.Prompts;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.SelfTraining;

/// <summary>A pack was written for another backbone (or tokenizer) than the one it is loaded onto.</summary>
public sealed class BackboneMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public BackboneMismatchException(string expected, string actual)
        : base($"This adapter pack was trained on the backbone with fingerprint {expected}, but the given backbone has fingerprint {actual}. " +
               "Adapters only work on the exact frozen weights and tokenizer they were trained with; load the pack onto that backbone.")
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Fingerprint stored in the pack.</summary>
    public string Expected { get; }

    /// <summary>Fingerprint of the backbone given.</summary>
    public string Actual { get; }
}

/// <summary>
/// A task's trained parts without the backbone: adapters (<c>adapters.*</c>) and label-word head
/// (<c>head.*</c>) as safetensors tensors; template, verbalizer, adapter options and the backbone
/// fingerprint as metadata strings. Written atomically; loads only onto a backbone with the same
/// fingerprint (SHA-256 over the frozen backbone weights and the tokenizer fingerprint).
/// </summary>
internal static class AdapterPack
{
    /// <summary>Metadata value of <c>mlnf.kind</c> for adapter packs.</summary>
    public const string Kind = "list-adapter-pack";
    private const string KindKey = "mlnf.kind", TaskKey = "list.task", TemplateKey = "list.template", MaxLengthKey = "list.template_max_length",
        FirstLimitKey = "list.first_sentence_limit", LabelsKey = "list.labels", WordsKey = "list.words", AdaptersKey = "list.adapters",
        FingerprintKey = "list.backbone_fingerprint", LabelIdsKey = "list.label_word_ids", FormatKey = "mlnf.format_version", ContentKey = "mlnf.content_sha256";

    /// <summary>The pack format this build writes and the highest it reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Writes <paramref name="model"/>'s adapters and head to <paramref name="path"/> (atomically).</summary>
    public static void Save(string path, PromptClassifier model, SubwordTokenizer tokenizer, string? taskName = null)
    {
        byte[] bytes = ToBytes(model, tokenizer, taskName);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The pack as bytes (a safetensors file), e.g. for an entry of an ML.NET model zip.</summary>
    public static byte[] ToBytes(PromptClassifier model, SubwordTokenizer tokenizer, string? taskName = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (model.Adapters is null)
            throw new ArgumentException("This model has no adapters (its backbone was fine-tuned); an adapter pack holds adapters for a frozen backbone. Save the whole backbone instead.", nameof(model));
        var meta = new Dictionary<string, string>
        {
            [KindKey] = Kind,
            [TaskKey] = taskName ?? "",
            [TemplateKey] = model.Template.Text,
            [MaxLengthKey] = model.Template.MaxLength.ToString(CultureInfo.InvariantCulture),
            [FirstLimitKey] = model.Template.FirstSentenceLimit?.ToString(CultureInfo.InvariantCulture) ?? "",
            [LabelsKey] = JsonSerializer.Serialize(model.Verbalizer.Labels),
            [WordsKey] = JsonSerializer.Serialize(model.Verbalizer.Words),
            [LabelIdsKey] = JsonSerializer.Serialize(model.LabelWordIds),
            [AdaptersKey] = JsonSerializer.Serialize(model.Adapters.Options),
            [FingerprintKey] = BackboneFingerprint(model.Backbone, tokenizer),
        };
        meta[FormatKey] = FormatVersion.ToString(CultureInfo.InvariantCulture);
        var tensors = model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter)).ToList();
        // The tensor bytes do not depend on the header, so hash them once and write again with the hash:
        // safetensors has no checksum of its own, and an altered adapter weight would otherwise load silently.
        meta[ContentKey] = ContentHash(SafeTensors.ToBytes(tensors, meta));
        return SafeTensors.ToBytes(tensors, meta);
    }

    // SHA-256 of the tensor data that follows the 8-byte length and the JSON header.
    private static string ContentHash(byte[] file) =>
        Convert.ToHexStringLower(SHA256.HashData(file.AsSpan(8 + (int)BitConverter.ToUInt64(file, 0))));

    /// <summary>
    /// Rebuilds the classifier of a pack on <paramref name="backbone"/>. Throws
    /// <see cref="BackboneMismatchException"/> (naming both fingerprints) if the backbone or tokenizer differs.
    /// </summary>
    public static PromptClassifier Load(string path, RobertaForMaskedLM backbone, SubwordTokenizer tokenizer) =>
        FromBytes(File.ReadAllBytes(path), backbone, tokenizer, path);

    /// <summary>Rebuilds the classifier of a pack held in memory; <paramref name="path"/> names it in errors.</summary>
    public static PromptClassifier FromBytes(byte[] bytes, RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, string path)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var tensors = SafeTensors.Read(bytes, out var meta, path);
        try
        {
            if (!meta.TryGetValue(KindKey, out var kind) || kind != Kind)
                throw new InvalidDataException($"{path} is not a LiST adapter pack (mlnf.kind = '{kind}').");
            // Packs written before the format version and hash existed have neither; they load as version 1 without the check.
            if (meta.TryGetValue(FormatKey, out var versionText))
            {
                if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
                    throw new InvalidDataException($"{path}: adapter pack format version '{versionText}' is not valid.");
                if (version > FormatVersion)
                    throw new InvalidDataException($"{path}: adapter pack format version {version} is newer than this library reads (up to {FormatVersion}). Upgrade MLNetForgetting.");
            }
            if (meta.TryGetValue(ContentKey, out var hash) && !string.Equals(hash, ContentHash(bytes), StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{path}: the adapter pack's tensor data does not match its SHA-256 (the file was altered or damaged).");
            string Get(string key) => meta.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{path}: adapter pack metadata lacks '{key}'.");
            string expected = Get(FingerprintKey);
            string actual = BackboneFingerprint(backbone, tokenizer);
            if (!string.Equals(expected, actual, StringComparison.Ordinal)) throw new BackboneMismatchException(expected, actual);

            string firstLimit = Get(FirstLimitKey);
            var template = PromptTemplate.Parse(Get(TemplateKey), int.Parse(Get(MaxLengthKey), CultureInfo.InvariantCulture),
                firstLimit.Length == 0 ? null : int.Parse(firstLimit, CultureInfo.InvariantCulture));
            var labels = JsonSerializer.Deserialize<string[]>(Get(LabelsKey)) ?? throw new InvalidDataException($"{path}: bad labels.");
            var words = JsonSerializer.Deserialize<string[]>(Get(WordsKey)) ?? throw new InvalidDataException($"{path}: bad words.");
            var verbalizer = new Verbalizer(labels.Zip(words, (l, w) => new KeyValuePair<string, string>(l, w)));
            var options = JsonSerializer.Deserialize<AdapterOptions>(Get(AdaptersKey)) ?? throw new InvalidDataException($"{path}: bad adapter options.");
            var task = new PromptTask(Get(TaskKey), template, verbalizer);
            var model = PromptClassifier.Create(backbone, tokenizer, task, options);
            try
            {
                if (!model.LabelWordIds.SequenceEqual(JsonSerializer.Deserialize<int[]>(Get(LabelIdsKey)) ?? []))
                    throw new InvalidDataException($"{path}: the label words map to other ids with this tokenizer.");
                var own = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
                var extra = tensors.Keys.Where(k => !own.ContainsKey(k)).ToList();
                if (missing.Count + extra.Count > 0)
                    throw new InvalidDataException($"{path}: tensors do not match the adapters it describes (missing: {string.Join(", ", missing)}; unexpected: {string.Join(", ", extra)}).");
                using (no_grad())
                {
                    foreach (var (name, p) in own)
                    {
                        if (!tensors[name].shape.SequenceEqual(p.shape))
                            throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(",", tensors[name].shape)}], expected [{string.Join(",", p.shape)}].");
                        p.copy_(tensors[name]);
                    }
                }
                model.FreezeBackbone();
                model.Activate();
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>
    /// SHA-256 (hex) over the frozen backbone: every parameter except installed adapters and a
    /// classification head, by ordinal name (name, dtype, shape, bytes), then the tokenizer fingerprint.
    /// </summary>
    public static string BackboneFingerprint(RobertaForMaskedLM backbone, SubwordTokenizer tokenizer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, p) in backbone.named_parameters()
                     .Where(p => !AdapterSet.IsAdapterParameterName(p.name) && !p.name.StartsWith("classifier.", StringComparison.Ordinal))
                     .OrderBy(p => p.name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}|{p.dtype}|{string.Join(",", p.shape)}\n"));
            using var cpu = p.detach().cpu().contiguous();
            sha.AppendData(cpu.bytes);
        }
        sha.AppendData(Encoding.UTF8.GetBytes("tokenizer|" + tokenizer.Fingerprint));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
