using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNetForgetting.Modeling;

/// <summary>
/// The one description of the RoBERTa-style architecture. Sizes come from here only; presets give
/// the configurations the project uses: <see cref="Tiny"/> for tests, <see cref="Small"/> for CPU
/// experiments and the throughput benchmark, <see cref="Base"/> for RoBERTa-base dimensions.
/// </summary>
public sealed record RobertaConfig
{
    public int VocabSize { get; init; } = 8192;
    public int HiddenSize { get; init; } = 256;
    public int NumHiddenLayers { get; init; } = 4;
    public int NumAttentionHeads { get; init; } = 4;
    public int IntermediateSize { get; init; } = 1024;
    /// <summary>Longest sequence the model accepts, in tokens including &lt;s&gt; and &lt;/s&gt;.</summary>
    public int MaxSequenceLength { get; init; } = 128;
    public double HiddenDropout { get; init; } = 0.1;
    public double AttentionDropout { get; init; } = 0.1;
    public double LayerNormEps { get; init; } = 1e-5;
    public int PadTokenId { get; init; } = 1;
    /// <summary>Std of the N(0, σ²) initialisation of weights and embeddings (0.02, as RoBERTa and [AF] §1.1).</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>Classes of the sequence-classification head; 0 means the model has no classifier.</summary>
    public int NumLabels { get; init; }

    /// <summary>
    /// Rows of the position-embedding table. As in RoBERTa, position ids start at padding_idx + 1, so
    /// the table has <c>MaxSequenceLength + PadTokenId + 1</c> rows (514 for RoBERTa-base).
    /// </summary>
    [JsonIgnore] public int MaxPositionEmbeddings => MaxSequenceLength + PadTokenId + 1;

    public static RobertaConfig Tiny(int vocabSize) => new()
    {
        VocabSize = vocabSize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2,
        IntermediateSize = 64, MaxSequenceLength = 64,
    };

    public static RobertaConfig Small(int vocabSize) => new()
    {
        VocabSize = vocabSize, HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4,
        IntermediateSize = 1024, MaxSequenceLength = 128,
    };

    public static RobertaConfig Base(int vocabSize) => new()
    {
        VocabSize = vocabSize, HiddenSize = 768, NumHiddenLayers = 12, NumAttentionHeads = 12,
        IntermediateSize = 3072, MaxSequenceLength = 512,
    };

    /// <summary>Gets a preset by name (Tiny, Small, Base; case-insensitive).</summary>
    public static RobertaConfig FromPreset(string preset, int vocabSize) => preset.ToLowerInvariant() switch
    {
        "tiny" => Tiny(vocabSize),
        "small" => Small(vocabSize),
        "base" => Base(vocabSize),
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Unknown model preset; expected Tiny, Small or Base."),
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid size.</summary>
    public void Validate()
    {
        static void Positive(int v, string name) { if (v <= 0) throw new ArgumentOutOfRangeException(name, v, $"{name} must be positive."); }
        Positive(VocabSize, nameof(VocabSize)); Positive(HiddenSize, nameof(HiddenSize)); Positive(NumHiddenLayers, nameof(NumHiddenLayers));
        Positive(NumAttentionHeads, nameof(NumAttentionHeads)); Positive(IntermediateSize, nameof(IntermediateSize)); Positive(MaxSequenceLength, nameof(MaxSequenceLength));
        if (HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentOutOfRangeException(nameof(NumAttentionHeads), NumAttentionHeads, $"HiddenSize ({HiddenSize}) must be divisible by NumAttentionHeads.");
        if (HiddenDropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(HiddenDropout), HiddenDropout, "Dropout must be in [0, 1).");
        if (AttentionDropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(AttentionDropout), AttentionDropout, "Dropout must be in [0, 1).");
        if (NumLabels < 0) throw new ArgumentOutOfRangeException(nameof(NumLabels), NumLabels, "NumLabels must be >= 0.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new ArgumentOutOfRangeException(nameof(PadTokenId), PadTokenId, "PadTokenId must be a vocabulary id.");
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RobertaConfig FromJson(string json) =>
        JsonSerializer.Deserialize<RobertaConfig>(json) ?? throw new InvalidDataException("Model configuration JSON is empty.");
}
