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
    /// Ignore <c>roberta.pooler.*</c> / <c>bert.pooler.*</c> (the pooler of HF's RobertaModel and BertModel,
    /// which our models do not use) and BERT's next-sentence head <c>cls.seq_relationship.*</c>. Default true.
    /// Any other extra key is an error.
    /// </summary>
    public bool IgnorePooler { get; init; } = true;

    /// <summary>
    /// When the checkpoint has no MLM head at all (a sentence encoder such as all-MiniLM-L6-v2, or a bare
    /// BertModel/RobertaModel), create a freshly initialised one instead of failing. Default true. A head
    /// that is only partly present is always an error. See <see cref="HuggingFaceImport.Import(string, HuggingFaceImportOptions?, out bool)"/>.
    /// </summary>
    public bool AllowMissingMlmHead { get; init; } = true;

    /// <summary>Seed of the initialisation of a missing MLM head. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Prefer <c>pytorch_model.bin</c> over <c>model.safetensors</c> when both exist. Default false.</summary>
    public bool PreferPyTorch { get; init; }

    /// <summary>Maximum sequence length when config.json lacks our section; default max_position_embeddings - pad_token_id - 1 (RoBERTa positions), max_position_embeddings (BERT).</summary>
    public int? MaxSequenceLength { get; init; }
}

/// <summary>
/// Reads a Hugging Face RoBERTa / XLM-R / CamemBERT or BERT directory (ours from <see cref="HuggingFaceExport"/>,
/// or one produced elsewhere): config.json, weights from model.safetensors or pytorch_model.bin, and the
/// tokenizer: our tokenizer files when present, else Hugging Face's (see <see cref="ImportTokenizer"/>):
/// RoBERTa's byte-level BPE vocab.json + merges.txt, XLM-R's sentencepiece.bpe.model with fairseq's ids, or
/// for BERT the WordPiece <c>vocab.txt</c> with lower-casing and accent stripping from tokenizer_config.json. BERT keys (<c>bert.*</c> or
/// bare <c>embeddings.*</c>/<c>encoder.*</c>, <c>cls.predictions.*</c>) become our names (<c>roberta.*</c>,
/// <c>lm_head.*</c>), so the same model classes serve both families. The tied decoder keys are checked
/// against E / the output bias and dropped; HF buffers (<c>*.position_ids</c>) are ignored. Any mismatch
/// with the architecture of config.json is an <see cref="InvalidDataException"/> listing the missing,
/// unexpected and mis-shaped parameters.
/// </summary>
public static class HuggingFaceImport
{
    /// <summary>Imports the model (CPU, eval mode) and, if the directory holds tokenizer files, the tokenizer (null for a RoBERTa-family folder without any).</summary>
    /// <exception cref="FileNotFoundException">config.json or both weight files are missing.</exception>
    /// <exception cref="InvalidDataException">The configuration or the weights do not describe a model we can build.</exception>
    public static (RobertaForMaskedLM Model, SubwordTokenizer? Tokenizer) Import(string directory, HuggingFaceImportOptions? options = null) =>
        Import(directory, options, out _);

    /// <summary>As <see cref="Import(string, HuggingFaceImportOptions?)"/>, telling whether the MLM head was newly initialised (the checkpoint had none).</summary>
    /// <exception cref="FileNotFoundException">config.json, both weight files, or (BERT) the tokenizer's vocab.txt are missing.</exception>
    /// <exception cref="InvalidDataException">The configuration or the weights do not describe a model we can build.</exception>
    public static (RobertaForMaskedLM Model, SubwordTokenizer? Tokenizer) Import(string directory, HuggingFaceImportOptions? options, out bool mlmHeadInitialized)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new HuggingFaceImportOptions();
        string configPath = Path.Combine(directory, HuggingFaceExport.ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"No {HuggingFaceExport.ConfigFile} in '{directory}'.", configPath);
        string configJson = File.ReadAllText(configPath);
        string modelType = ModelTypeOf(configJson, configPath);
        // BERT needs its tokenizer before the model: the [SEP] id marks where the second segment's token type begins.
        var tokenizer = ReadTokenizer(directory, modelType, HfModelTypeOf(configJson));
        var weights = ReadWeights(directory, options.PreferPyTorch);
        try
        {
            bool bert = modelType == RobertaConfig.BertModelType;
            if (bert) weights = BertToOurNames(weights);
            var (config, adapters) = ParseConfig(configJson, modelType, weights, options, tokenizer, configPath);
            var model = new RobertaForMaskedLM(config);
            try
            {
                if (adapters is not null) new AdapterSet(config, adapters).Install(model);
                var named = Normalize(weights, options);
                mlmHeadInitialized = !named.Keys.Any(k => k.StartsWith("lm_head.", StringComparison.Ordinal));
                if (mlmHeadInitialized)
                {
                    if (!options.AllowMissingMlmHead)
                        throw new InvalidDataException($"'{directory}' has no MLM head (no lm_head.* / cls.predictions.* keys) and AllowMissingMlmHead is false.");
                    // Keep the fresh head's initialisation: N(0, σ²) dense, LayerNorm 1/0, bias 0 (HF's).
                    var generator = new Generator((ulong)options.Seed);
                    model.InitializeWeights(generator);
                    foreach (var (name, p) in model.named_parameters())
                        if (name.StartsWith("lm_head.", StringComparison.Ordinal)) named[name] = p.detach().clone();
                }
                model.LoadNamedTensors(named);
                model.eval();
                return (model, tokenizer);
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

    /// <summary>Whether the checkpoint in <paramref name="directory"/> has an MLM head (RoBERTa's <c>lm_head.*</c> or BERT's <c>cls.predictions.*</c>).</summary>
    public static bool HasMlmHead(string directory, bool preferPyTorch = false)
    {
        var weights = ReadWeights(directory, preferPyTorch);
        try { return weights.Keys.Any(k => k.StartsWith("lm_head.", StringComparison.Ordinal) || k.StartsWith("cls.predictions.", StringComparison.Ordinal)); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
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

    /// <summary>The model families this importer reads: model_type values mapped to our <see cref="RobertaConfig.ModelType"/>.</summary>
    private static readonly Dictionary<string, string> SupportedModelTypes = new(StringComparer.Ordinal)
    {
        ["roberta"] = RobertaConfig.RobertaModelType, ["xlm-roberta"] = RobertaConfig.RobertaModelType, ["camembert"] = RobertaConfig.RobertaModelType,
        ["bert"] = RobertaConfig.BertModelType,
    };

    private static string? HfModelTypeOf(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("model_type", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    private static string ModelTypeOf(string json, string configPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("model_type", out var v) || v.ValueKind != JsonValueKind.String) return RobertaConfig.RobertaModelType;
            string type = v.GetString()!;
            return SupportedModelTypes.TryGetValue(type, out var ours) ? ours
                : throw new InvalidDataException($"'{configPath}': field \"model_type\" is '{type}', which this importer does not support (supported: {string.Join(", ", SupportedModelTypes.Keys)}).");
        }
        catch (JsonException je) { throw new InvalidDataException($"'{configPath}' is not valid JSON: {je.Message}", je); }
    }

    private static (RobertaConfig Config, AdapterOptions? Adapters) ParseConfig(string json, string modelType, IReadOnlyDictionary<string, Tensor> weights,
        HuggingFaceImportOptions options, SubwordTokenizer? tokenizer, string configPath)
    {
        JsonElement root = JsonDocument.Parse(json).RootElement;
        bool bert = modelType == RobertaConfig.BertModelType;
        int Int(string name, int? fallback = null) =>
            root.TryGetProperty(name, out var v) && v.TryGetInt32(out int i) ? i
            : fallback ?? throw new InvalidDataException($"{HuggingFaceExport.ConfigFile} has no integer \"{name}\".");
        double Dbl(string name, double fallback) => root.TryGetProperty(name, out var v) && v.TryGetDouble(out double d) ? d : fallback;
        string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        string act = Str("hidden_act") ?? "gelu";
        if (act != "gelu") throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: hidden_act '{act}' is not supported (only exact 'gelu').");
        string pos = Str("position_embedding_type") ?? "absolute";
        if (pos != "absolute") throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: position_embedding_type '{pos}' is not supported (only 'absolute').");
        int typeVocab = Int("type_vocab_size", bert ? 2 : 1);
        if (!bert && typeVocab != 1) throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: type_vocab_size {typeVocab} is not supported (RoBERTa uses 1).");

        int pad = Int("pad_token_id", bert ? 0 : 1);
        int maxPositions = Int("max_position_embeddings");
        JsonElement ext = root.TryGetProperty(HuggingFaceExport.ExtensionKey, out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
        int maxLength = options.MaxSequenceLength
            ?? (ext.ValueKind == JsonValueKind.Object && ext.TryGetProperty("max_sequence_length", out var m) && m.TryGetInt32(out int ml) ? ml
                : bert ? maxPositions : maxPositions - pad - 1);
        if (bert && maxLength != maxPositions)
            throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: max_position_embeddings {maxPositions} does not fit a maximum length of {maxLength} with BERT positions (0 .. length - 1).");
        if (!bert && maxLength + pad + 1 != maxPositions)
            throw new InvalidDataException($"{HuggingFaceExport.ConfigFile}: max_position_embeddings {maxPositions} does not fit a maximum length of {maxLength} with RoBERTa positions (pad_token_id {pad} + 1 + length).");

        int vocab = Int("vocab_size");
        if (weights.TryGetValue(RobertaForMaskedLM.TokenEmbeddingsKey, out var embeddings) && embeddings.dim() == 2 && embeddings.shape[0] != vocab)
            throw new InvalidDataException($"'{configPath}': vocab_size {vocab} disagrees with the word embeddings, which have {embeddings.shape[0]} rows.");
        if (tokenizer is not null && tokenizer.VocabSize != vocab)
            throw new InvalidDataException($"'{configPath}': vocab_size {vocab} disagrees with the tokenizer, which has {tokenizer.VocabSize} tokens.");
        int separator = -1;
        if (bert && typeVocab > 1)
        {
            separator = Int("sep_token_id", tokenizer?.EosId ?? -1);
            if (separator < 0) throw new InvalidDataException($"'{configPath}': a BERT model with token types needs the [SEP] id: give sep_token_id or the tokenizer's vocab.txt.");
            if (tokenizer is not null && tokenizer.EosId != separator)
                throw new InvalidDataException($"'{configPath}': sep_token_id {separator} differs from the tokenizer's [SEP] id {tokenizer.EosId}.");
        }

        // The classifier is there when its weights are: HF configs carry num_labels = 2 even for MLM models.
        int numLabels = weights.TryGetValue("classifier.out_proj.weight", out var outProj) && outProj.dim() == 2 ? (int)outProj.shape[0] : 0;
        var config = new RobertaConfig
        {
            VocabSize = Int("vocab_size"), HiddenSize = Int("hidden_size"), NumHiddenLayers = Int("num_hidden_layers"),
            NumAttentionHeads = Int("num_attention_heads"), IntermediateSize = Int("intermediate_size"), MaxSequenceLength = maxLength,
            HiddenDropout = Dbl("hidden_dropout_prob", 0.1), AttentionDropout = Dbl("attention_probs_dropout_prob", 0.1),
            LayerNormEps = Dbl("layer_norm_eps", bert ? 1e-12 : 1e-5), PadTokenId = pad, InitializerRange = Dbl("initializer_range", 0.02), NumLabels = numLabels,
            ModelType = modelType, TypeVocabSize = typeVocab, SeparatorTokenId = separator,
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
            if (options.IgnorePooler && (name.StartsWith("roberta.pooler.", StringComparison.Ordinal) || name.StartsWith("cls.seq_relationship.", StringComparison.Ordinal))) continue;
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

    /// <summary>
    /// BERT checkpoint names → ours: <c>bert.X</c> (or bare <c>embeddings.*</c>/<c>encoder.*</c>/<c>pooler.*</c>
    /// of a BertModel) → <c>roberta.X</c>; the MLM head <c>cls.predictions.transform.dense / .LayerNorm / .bias</c>
    /// → <c>lm_head.dense / .layer_norm / .bias</c>; its tied decoder → the keys <see cref="Normalize"/> checks.
    /// </summary>
    internal static Dictionary<string, Tensor> BertToOurNames(Dictionary<string, Tensor> weights)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, t) in weights)
        {
            string name = key;
            foreach (var (from, to) in BertNames)
            {
                if (key.StartsWith(from, StringComparison.Ordinal)) { name = to + key[from.Length..]; break; }
            }
            if (!result.TryAdd(name, t)) throw new InvalidDataException($"The checkpoint holds both '{key}' and another key that maps to '{name}'.");
        }
        return result;
    }

    /// <summary>Prefix pairs (HF BERT → ours), most specific first; <see cref="HuggingFaceExport"/> uses them in reverse.</summary>
    internal static readonly (string Bert, string Ours)[] BertNames =
    [
        ("bert.", "roberta."), ("embeddings.", "roberta.embeddings."), ("encoder.", "roberta.encoder."), ("pooler.", "roberta.pooler."),
        ("cls.predictions.transform.dense.", "lm_head.dense."), ("cls.predictions.transform.LayerNorm.", "lm_head.layer_norm."),
        ("cls.predictions.decoder.weight", HuggingFaceExport.DecoderWeightKey), ("cls.predictions.decoder.bias", HuggingFaceExport.DecoderBiasKey),
        ("cls.predictions.bias", HuggingFaceExport.LMHeadBiasKey),
    ];

    /// <summary>The tokenizer file a BERT directory must have when it has none of ours.</summary>
    public const string BertVocabFile = "vocab.txt";

    private const string SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>
    /// What <see cref="ImportTokenizer"/> and <see cref="Import(string, HuggingFaceImportOptions?)"/> look for, in this
    /// order (also the text of the error when none is there).
    /// </summary>
    internal const string TokenizerFilesLookedFor =
        "tokenizer_config.json with \"kind\" (ours, with its vocabulary files), vocab.json + merges.txt (RoBERTa / GPT-2 byte-level BPE), " +
        "sentencepiece.bpe.model (XLM-R) or vocab.txt (BERT WordPiece); tokenizer.json alone is not read";

    /// <summary>
    /// Reads only the tokenizer of a Hugging Face folder (no config.json needed), e.g. GPT-2's vocab.json + merges.txt,
    /// whose model type the importer does not take. Looks for our tokenizer files, then vocab.json + merges.txt
    /// (byte-level BPE, special tokens from special_tokens_map.json / tokenizer_config.json), sentencepiece.bpe.model
    /// (XLM-R, fairseq ids), and vocab.txt (BERT WordPiece, do_lower_case / strip_accents from tokenizer_config.json).
    /// </summary>
    /// <exception cref="FileNotFoundException">None of those files is there (the message lists them), or merges.txt lacks its vocab.json or the reverse.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or names a special token its vocabulary lacks.</exception>
    public static SubwordTokenizer ImportTokenizer(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"'{directory}' does not exist.");
        return ReadTokenizer(directory, modelType: null)
            ?? throw new FileNotFoundException($"'{directory}' has no tokenizer: looked for {TokenizerFilesLookedFor}.", Path.Combine(directory, "tokenizer_config.json"));
    }

    /// <summary>
    /// The tokenizer of a folder, or null when a RoBERTa-family folder has none. <paramref name="modelType"/> null
    /// accepts every file family; "bert" requires vocab.txt (its [SEP] id is needed before the model), the RoBERTa
    /// family reads vocab.json + merges.txt or sentencepiece.bpe.model.
    /// </summary>
    private static SubwordTokenizer? ReadTokenizer(string directory, string? modelType, string? hfModelType = null)
    {
        string config = Path.Combine(directory, "tokenizer_config.json");
        TokenizerConfig? hfConfig = null;
        if (File.Exists(config))
        {
            hfConfig = TokenizerConfig.Parse(File.ReadAllBytes(config), $"'{config}'");
            // Our tokenizer_config.json has "kind"; a Hugging Face one does not.
            if (hfConfig.String("kind") is not null)
            {
                var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach (var name in TokenizerFiles.AllNames)
                {
                    string path = Path.Combine(directory, name);
                    if (File.Exists(path)) files[name] = File.ReadAllBytes(path);
                }
                return SubwordTokenizer.FromFiles(files);
            }
        }
        bool bertOnly = modelType == RobertaConfig.BertModelType;
        string vocabTxt = Path.Combine(directory, BertVocabFile);
        if (bertOnly || (modelType is null && File.Exists(vocabTxt) && !File.Exists(Path.Combine(directory, TokenizerFiles.VocabJsonFile))))
        {
            if (!File.Exists(vocabTxt))
                throw new FileNotFoundException($"'{directory}' is a BERT model without its tokenizer file '{BertVocabFile}' (the WordPiece vocabulary).", vocabTxt);
            bool lower = hfConfig?.Bool("do_lower_case") ?? true;
            bool? strip = hfConfig?.Bool("strip_accents");
            using var stream = File.OpenRead(vocabTxt);
            return SubwordTokenizer.FromBertVocab(stream, lower, strip);
        }

        string vocabJson = Path.Combine(directory, TokenizerFiles.VocabJsonFile), merges = Path.Combine(directory, TokenizerFiles.MergesFile);
        if (File.Exists(vocabJson) || File.Exists(merges))
        {
            string missing = File.Exists(vocabJson) ? merges : vocabJson;
            if (!File.Exists(missing))
                throw new FileNotFoundException($"'{directory}' has {Path.GetFileName(File.Exists(vocabJson) ? vocabJson : merges)} but not {Path.GetFileName(missing)}: byte-level BPE needs both vocab.json and merges.txt.", missing);
            string map = Path.Combine(directory, SpecialTokensMapFile);
            var specialTokensMap = File.Exists(map) ? TokenizerConfig.Parse(File.ReadAllBytes(map), $"'{map}'") : null;
            try { return ByteLevelBpeKind.FromHuggingFace(File.ReadAllBytes(vocabJson), File.ReadAllBytes(merges), specialTokensMap, hfConfig); }
            catch (InvalidDataException e) { throw new InvalidDataException($"'{directory}': {e.Message}", e); }
        }

        string spm = Path.Combine(directory, TokenizerFiles.SentencePieceBpeFile);
        if (File.Exists(spm))
        {
            // CamemBERT numbers the same kind of file differently (<s>NOTUSED, offset 4); only XLM-R's layout is implemented.
            if (hfModelType == "camembert")
                throw new InvalidDataException($"'{spm}': CamemBERT's SentencePiece id layout is not supported (only XLM-R's: <s>=0 <pad>=1 </s>=2 <unk>=3, pieces + 1, <mask> last); pass a tokenizer instead.");
            try { return FairseqSentencePieceKind.Create(File.ReadAllBytes(spm)); }
            catch (InvalidDataException e) { throw new InvalidDataException($"'{spm}': {e.Message}", e); }
        }
        return null;
    }
}
