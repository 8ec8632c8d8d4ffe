using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Persistence;
using MLNetForgetting.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNetForgetting.Interop;

/// <summary>Which weight files <see cref="HuggingFaceExport.Export"/> writes.</summary>
[Flags]
public enum ExportFormat
{
    /// <summary><c>model.safetensors</c>.</summary>
    Safetensors = 1,
    /// <summary><c>pytorch_model.bin</c> (a pickled PyTorch state dict, <c>torch.load</c>-able).</summary>
    PyTorch = 2,
    /// <summary>Both files.</summary>
    Both = Safetensors | PyTorch,
}

/// <summary>
/// Writes any of our models (pretrained, relearned, task-adapted, assembled, a LiST backbone with
/// adapters installed) as a Hugging Face RoBERTa directory, or a BERT one for a BERT-type model
/// (<c>bert.*</c>, <c>cls.predictions.*</c>): weights with HF parameter names (plus the
/// tied <c>lm_head.decoder.weight</c> = E and <c>lm_head.decoder.bias</c> = <c>lm_head.bias</c> that HF
/// expects), <c>config.json</c> in HF's RobertaConfig format, and the tokenizer files. Every file is
/// written atomically. <see cref="HuggingFaceImport"/> reads the directory back bit-exactly.
/// </summary>
public static class HuggingFaceExport
{
    /// <summary>File names of the exported directory.</summary>
    public const string SafetensorsFile = "model.safetensors", PyTorchFile = "pytorch_model.bin", ConfigFile = "config.json";
    /// <summary>The tied decoder keys HF's RobertaForMaskedLM has and our model does not (the decoder reuses E and lm_head.bias).</summary>
    public const string DecoderWeightKey = "lm_head.decoder.weight", DecoderBiasKey = "lm_head.decoder.bias", LMHeadBiasKey = "lm_head.bias";
    /// <summary>Key of our own section in config.json (ignored by Hugging Face).</summary>
    public const string ExtensionKey = "mlnetforgetting";

    /// <summary>Exports <paramref name="model"/> (and <paramref name="tokenizer"/>, if given) to <paramref name="directory"/>.</summary>
    /// <param name="model">Any of our models; adapters installed in it are exported under their names.</param>
    /// <param name="tokenizer">Its vocabulary (vocab.json / merges.txt / tokenizer_config.json are written), or null.</param>
    /// <param name="directory">Created if needed; existing files of the same names are replaced atomically.</param>
    /// <param name="format">Which weight files to write.</param>
    /// <param name="labelNames">Class names for <c>id2label</c> when the model has a classifier (default LABEL_0, ...).</param>
    /// <param name="adapterOptions">Variant and placement of installed adapters; default LiST variant, placement read from the installed slots.</param>
    public static void Export(RobertaForMaskedLM model, SubwordTokenizer? tokenizer, string directory, ExportFormat format = ExportFormat.Safetensors,
        IReadOnlyList<string>? labelNames = null, AdapterOptions? adapterOptions = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if ((format & ExportFormat.Both) == 0) throw new ArgumentOutOfRangeException(nameof(format), format, "Choose Safetensors, PyTorch or Both.");
        Directory.CreateDirectory(directory);
        using var scope = NewDisposeScope();
        var state = StateDict(model);
        if ((format & ExportFormat.Safetensors) != 0)
            AtomicFile.Write(Path.Combine(directory, SafetensorsFile), s => SafeTensors.Write(s, state, new Dictionary<string, string> { ["format"] = "pt" }));
        if ((format & ExportFormat.PyTorch) != 0)
        {
            // PyTorchPickler takes a Hashtable of name -> tensor (insertion order kept: sorted for reproducible files).
            var table = new System.Collections.Hashtable();
            foreach (var (name, t) in state.OrderBy(kv => kv.Key, StringComparer.Ordinal)) table[name] = t;
            AtomicFile.Write(Path.Combine(directory, PyTorchFile), s => PyTorchPickler.PickleStateDict(s, table, leaveOpen: true));
        }
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), ConfigJson(model, tokenizer, labelNames, adapterOptions));
        if (tokenizer is not null)
            foreach (var (name, bytes) in tokenizer.ToFiles()) AtomicFile.WriteAllBytes(Path.Combine(directory, name), bytes);
    }

    /// <summary>
    /// The Hugging Face state dict of <paramref name="model"/>: every parameter under its own name (detached
    /// CPU copies), plus the tied decoder keys. Caller disposes (or uses a dispose scope).
    /// </summary>
    public static Dictionary<string, Tensor> StateDict(RobertaForMaskedLM model)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters()) state[name] = p.detach().cpu().clone();
        state[DecoderWeightKey] = state[RobertaForMaskedLM.TokenEmbeddingsKey].clone();
        state[DecoderBiasKey] = state[LMHeadBiasKey].clone();
        return model.Config.IsBert ? ToBertNames(state) : state;
    }

    /// <summary>Our names → HF BertForMaskedLM's (<c>bert.*</c>, <c>cls.predictions.*</c>), the inverse of the importer's map.</summary>
    private static Dictionary<string, Tensor> ToBertNames(Dictionary<string, Tensor> state)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in state)
        {
            string key = name;
            foreach (var (bert, ours) in HuggingFaceImport.BertNames)
            {
                // Only the "bert." prefix is written for the body (the bare BertModel prefixes are import-only).
                if (bert is "embeddings." or "encoder." or "pooler.") continue;
                if (name.StartsWith(ours, StringComparison.Ordinal)) { key = bert + name[ours.Length..]; break; }
            }
            result[key] = t;
        }
        return result;
    }

    /// <summary>config.json in Hugging Face's RobertaConfig format (with our extra section for what HF has no field for).</summary>
    public static string ConfigJson(RobertaForMaskedLM model, SubwordTokenizer? tokenizer = null, IReadOnlyList<string>? labelNames = null, AdapterOptions? adapterOptions = null)
    {
        var c = model.Config;
        bool hasClassifier = model.Classifier is not null;
        // A BERT model's classifier keeps our head's names (classifier.dense / out_proj), which HF's
        // BertForSequenceClassification does not have: such a directory is read back by us, by HF only as BertForMaskedLM.
        string family = c.IsBert ? "Bert" : "Roberta";
        var json = new JsonObject
        {
            ["architectures"] = hasClassifier && !c.IsBert ? new JsonArray("RobertaForSequenceClassification", "RobertaForMaskedLM") : new JsonArray(family + "ForMaskedLM"),
            ["model_type"] = c.IsBert ? "bert" : "roberta",
            ["vocab_size"] = (int)model.TokenEmbeddings.shape[0],
            ["hidden_size"] = c.HiddenSize,
            ["num_hidden_layers"] = c.NumHiddenLayers,
            ["num_attention_heads"] = c.NumAttentionHeads,
            ["intermediate_size"] = c.IntermediateSize,
            ["hidden_act"] = "gelu",
            ["hidden_dropout_prob"] = c.HiddenDropout,
            ["attention_probs_dropout_prob"] = c.AttentionDropout,
            ["max_position_embeddings"] = c.MaxPositionEmbeddings,
            ["type_vocab_size"] = c.TypeVocabSize,
            ["initializer_range"] = c.InitializerRange,
            ["layer_norm_eps"] = c.LayerNormEps,
            ["position_embedding_type"] = "absolute",
            ["pad_token_id"] = tokenizer?.PadId ?? c.PadTokenId,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
        };
        if (c.IsBert)
        {
            if (c.SeparatorTokenId >= 0) json["sep_token_id"] = c.SeparatorTokenId;
        }
        else
        {
            json["bos_token_id"] = tokenizer?.BosId ?? 0;
            json["eos_token_id"] = tokenizer?.EosId ?? 2;
        }
        if (hasClassifier)
        {
            int n = c.NumLabels;
            if (labelNames is not null && labelNames.Count != n)
                throw new ArgumentException($"The classifier has {n} classes; {labelNames.Count} label names were given.", nameof(labelNames));
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (int i = 0; i < n; i++)
            {
                string name = labelNames?[i] ?? $"LABEL_{i}";
                id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = name;
                label2id[name] = i;
            }
            json["num_labels"] = n;
            json["id2label"] = id2label;
            json["label2id"] = label2id;
            json["problem_type"] = "single_label_classification";
        }
        var ext = new JsonObject { ["format_version"] = 1, ["max_sequence_length"] = c.MaxSequenceLength };
        var adapters = AdapterSection(model, adapterOptions);
        if (adapters is not null) ext["adapters"] = adapters;
        json[ExtensionKey] = ext;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject? AdapterSection(RobertaForMaskedLM model, AdapterOptions? options)
    {
        var layers = model.Roberta.Encoder.Layers;
        bool attention = layers.Any(l => l.AttentionOutput.Adapter is BottleneckAdapter);
        bool output = layers.Any(l => l.FeedForwardOutput.Adapter is BottleneckAdapter);
        if (!attention && !output) return null;
        var first = layers.SelectMany(l => new[] { l.AttentionOutput.Adapter, l.FeedForwardOutput.Adapter }).OfType<BottleneckAdapter>().First();
        var placement = (attention ? AdapterPlacement.AttentionOutput : AdapterPlacement.None) | (output ? AdapterPlacement.FeedForwardOutput : AdapterPlacement.None);
        if (options is not null && options.Placement != placement)
            throw new ArgumentException($"The installed adapters have placement {placement}; the options say {options.Placement}.", nameof(options));
        return new JsonObject
        {
            ["bottleneck_size"] = (int)first.Down.shape[0],
            ["variant"] = first.Variant.ToString(),
            ["placement"] = placement.ToString(),
            ["init_std"] = options?.InitStd ?? new AdapterOptions().InitStd,
        };
    }
}
