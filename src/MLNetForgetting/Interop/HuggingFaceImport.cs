using System.Text.Json;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Persistence;
using MLNetForgetting.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNetForgetting.Interop;

/// <summary>Options of <see cref="HuggingFaceImport.Import(string, HuggingFaceImportOptions?)"/>.</summary>
public sealed record HuggingFaceImportOptions
{
    /// <summary>
    /// Ignore <c>roberta.pooler.*</c> (the unused pooler of HF's RobertaModel; RobertaForMaskedLM and
    /// RobertaForSequenceClassification have none). Default true. Any other extra key is an error.
    /// </summary>
    public bool IgnorePooler { get; init; } = true;

    /// <summary>Prefer <c>pytorch_model.bin</c> over <c>model.safetensors</c> when both exist. Default false.</summary>
    public bool PreferPyTorch { get; init; }

    /// <summary>Maximum sequence length when config.json lacks our section; default max_position_embeddings - pad_token_id - 1 (RoBERTa positions).</summary>
    public int? MaxSequenceLength { get; init; }
}

/// <summary>
/// Reads a Hugging Face RoBERTa directory (ours from <see cref="HuggingFaceExport"/>, or one produced
/// elsewhere): config.json, weights from model.safetensors or pytorch_model.bin, and our tokenizer files
/// when present. The tied decoder keys are checked against E / lm_head.bias and dropped; HF buffers
/// (<c>*.position_ids</c>) are ignored. Any mismatch with the architecture of config.json is an
/// <see cref="InvalidDataException"/> listing the missing, unexpected and mis-shaped parameters.
/// </summary>
public static class HuggingFaceImport
{
    /// <summary>Imports the model (CPU, eval mode) and, if the directory holds our tokenizer files, the tokenizer.</summary>
    /// <exception cref="FileNotFoundException">config.json or both weight files are missing.</exception>
    /// <exception cref="InvalidDataException">The configuration or the weights do not describe a model we can build.</exception>
    public static (RobertaForMaskedLM Model, SubwordTokenizer? Tokenizer) Import(string directory, HuggingFaceImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new HuggingFaceImportOptions();
        string configPath = Path.Combine(directory, HuggingFaceExport.ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"No {HuggingFaceExport.ConfigFile} in '{directory}'.", configPath);
        var weights = ReadWeights(directory, options.PreferPyTorch);
        try
        {
            var (config, adapters) = ParseConfig(File.ReadAllText(configPath), weights, options);
            var model = new RobertaForMaskedLM(config);
            try
            {
                if (adapters is not null) new AdapterSet(config, adapters).Install(model);
                model.LoadNamedTensors(Normalize(weights, options));
                model.eval();
                return (model, ReadTokenizer(directory));
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>The raw state dict of a directory: model.safetensors, else pytorch_model.bin (or the reverse with <paramref name="preferPyTorch"/>).</summary>
    public static Dictionary<string, Tensor> ReadWeights(string directory, bool preferPyTorch = false)
    {
        string st = Path.Combine(directory, HuggingFaceExport.SafetensorsFile), pt = Path.Combine(directory, HuggingFaceExport.PyTorchFile);
        bool useSt = File.Exists(st) && !(preferPyTorch && File.Exists(pt));
        if (useSt) return SafeTensors.Read(File.ReadAllBytes(st), out _, st);
        if (!File.Exists(pt)) throw new FileNotFoundException($"Neither {HuggingFaceExport.SafetensorsFile} nor {HuggingFaceExport.PyTorchFile} is in '{directory}'.", st);
        return ReadPyTorch(pt);
    }

    /// <summary>Reads a pickled PyTorch state dict (torch.save(model.state_dict())).</summary>
    public static Dictionary<string, Tensor> ReadPyTorch(string path)
    {
        System.Collections.Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"'{path}' is not a PyTorch state dict this reader understands: {e.Message}", e);
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in table)
        {
            if (e.Key is not string name || e.Value is not Tensor t)
                throw new InvalidDataException($"'{path}' holds an entry that is not name → tensor ({e.Key}).");
            result[name] = t;
        }
        return result;
    }

    private static (RobertaConfig Config, AdapterOptions? Adapters) ParseConfig(string json, IReadOnlyDictionary<string, Tensor> weights, HuggingFaceImportOptions options)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(json).RootElement; }
        catch (JsonException je) { throw new InvalidDataException($"{HuggingFaceExport.ConfigFile} is not valid JSON: {je.Message}", je); }
        int Int(string name, int? fallback = null) =>
            root.TryGetProperty(name, out var v) && v.TryGetInt32(out int i) ? i
            : fallback ?? throw new InvalidDataException($"{HuggingFaceExport.ConfigFile} has no integer \"{name}\".");
        double Dbl(string name, double fallback) => root.TryGetProperty(name, out var v) && v.TryGetDouble(out double d) ? d : fallback;
        string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        string? modelType = Str("model_type");
        if (modelType is not null && modelType is not ("roberta" or "xlm-roberta" or "camembert"))
            throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: model_type '{modelType}' is not a RoBERTa-style model.");
        string act = Str("hidden_act") ?? "gelu";
        if (act != "gelu") throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: hidden_act '{act}' is not supported (only exact 'gelu').");
        string pos = Str("position_embedding_type") ?? "absolute";
        if (pos != "absolute") throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: position_embedding_type '{pos}' is not supported (only 'absolute').");
        int typeVocab = Int("type_vocab_size", 1);
        if (typeVocab != 1) throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: type_vocab_size {typeVocab} is not supported (RoBERTa uses 1).");

        int pad = Int("pad_token_id", 1);
        int maxPositions = Int("max_position_embeddings");
        JsonElement ext = root.TryGetProperty(HuggingFaceExport.ExtensionKey, out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
        int maxLength = options.MaxSequenceLength
            ?? (ext.ValueKind == JsonValueKind.Object && ext.TryGetProperty("max_sequence_length", out var m) && m.TryGetInt32(out int ml) ? ml : maxPositions - pad - 1);
        if (maxLength + pad + 1 != maxPositions)
            throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: max_position_embeddings {maxPositions} does not fit a maximum length of {maxLength} with RoBERTa positions (pad_token_id {pad} + 1 + length).");

        // The classifier is there when its weights are: HF configs carry num_labels = 2 even for MLM models.
        int numLabels = weights.TryGetValue("classifier.out_proj.weight", out var outProj) && outProj.dim() == 2 ? (int)outProj.shape[0] : 0;
        var config = new RobertaConfig
        {
            VocabSize = Int("vocab_size"), HiddenSize = Int("hidden_size"), NumHiddenLayers = Int("num_hidden_layers"),
            NumAttentionHeads = Int("num_attention_heads"), IntermediateSize = Int("intermediate_size"), MaxSequenceLength = maxLength,
            HiddenDropout = Dbl("hidden_dropout_prob", 0.1), AttentionDropout = Dbl("attention_probs_dropout_prob", 0.1),
            LayerNormEps = Dbl("layer_norm_eps", 1e-5), PadTokenId = pad, InitializerRange = Dbl("initializer_range", 0.02), NumLabels = numLabels,
        };
        try { config.Validate(); }
        catch (ArgumentOutOfRangeException ex) { throw new InvalidDataException($"{HuggingFaceExport.ConfigFile} describes an invalid model: {ex.Message}", ex); }

        AdapterOptions? adapters = null;
        if (ext.ValueKind == JsonValueKind.Object && ext.TryGetProperty("adapters", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            try
            {
                adapters = new AdapterOptions
                {
                    BottleneckSize = a.GetProperty("bottleneck_size").GetInt32(),
                    Variant = Enum.Parse<AdapterVariant>(a.GetProperty("variant").GetString() ?? ""),
                    Placement = Enum.Parse<AdapterPlacement>(a.GetProperty("placement").GetString() ?? ""),
                    InitStd = a.TryGetProperty("init_std", out var s) ? s.GetDouble() : new AdapterOptions().InitStd,
                };
                adapters.Validate();
            }
            catch (Exception ex) when (ex is KeyNotFoundException or ArgumentException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: the adapters section is malformed: {ex.Message}", ex);
            }
        }
        return (config, adapters);
    }

    /// <summary>HF names → ours: adds the <c>roberta.</c> prefix to bare RobertaModel keys, drops buffers and the tied decoder (after checking it is tied).</summary>
    private static Dictionary<string, Tensor> Normalize(IReadOnlyDictionary<string, Tensor> weights, HuggingFaceImportOptions options)
    {
        bool bare = !weights.Keys.Any(k => k.StartsWith("roberta.", StringComparison.Ordinal)) && weights.Keys.Any(k => k.StartsWith("embeddings.", StringComparison.Ordinal));
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, t) in weights)
        {
            string name = bare && (key.StartsWith("embeddings.", StringComparison.Ordinal) || key.StartsWith("encoder.", StringComparison.Ordinal) || key.StartsWith("pooler.", StringComparison.Ordinal))
                ? "roberta." + key : key;
            if (name.EndsWith(".position_ids", StringComparison.Ordinal) || name.EndsWith(".token_type_ids", StringComparison.Ordinal)) continue; // HF buffers
            if (options.IgnorePooler && name.StartsWith("roberta.pooler.", StringComparison.Ordinal)) continue;
            result[name] = t;
        }
        CheckTied(result, HuggingFaceExport.DecoderWeightKey, RobertaForMaskedLM.TokenEmbeddingsKey);
        CheckTied(result, HuggingFaceExport.DecoderBiasKey, HuggingFaceExport.LMHeadBiasKey);
        return result;
    }

    private static void CheckTied(Dictionary<string, Tensor> weights, string tiedKey, string ownKey)
    {
        if (!weights.Remove(tiedKey, out var tied)) return;
        if (!weights.TryGetValue(ownKey, out var own))
        {
            weights[ownKey] = tied; // e.g. a checkpoint that stored only the decoder bias
            return;
        }
        bool equal = tied.shape.SequenceEqual(own.shape) && tied.dtype == own.dtype && tied.cpu().contiguous().bytes.SequenceEqual(own.cpu().contiguous().bytes);
        if (!equal)
            throw new InvalidDataException($"'{tiedKey}' differs from '{ownKey}': this model ties the MLM decoder to them, so an untied checkpoint cannot be imported exactly.");
    }

    private static SubwordTokenizer? ReadTokenizer(string directory)
    {
        string config = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(config)) return null;
        // Our tokenizer_config.json has "kind"; a Hugging Face one does not and is not ours to read.
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(config)))
            if (!doc.RootElement.TryGetProperty("kind", out _)) return null;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in new[] { "tokenizer_config.json", "vocab.json", "merges.txt", "vocab.txt", "sentencepiece.model" })
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path)) files[name] = File.ReadAllBytes(path);
        }
        return SubwordTokenizer.FromFiles(files);
    }
}
