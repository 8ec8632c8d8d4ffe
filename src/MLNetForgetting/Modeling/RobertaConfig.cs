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
    /// <summary>Std of the N(0, σ²) initialisation of weights and embeddings (0.02, as RoBERTa and [AF], docs/methods.md §1.1).</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>Classes of the sequence-classification head; 0 means the model has no classifier.</summary>
    public int NumLabels { get; init; }

    /// <summary>
    /// "roberta" (default: positions start at padding_idx + 1, one token type) or "bert" (positions start
    /// at 0, so the position table has exactly <see cref="MaxSequenceLength"/> rows; token types by segment).
    /// Everything else, module names included, is the same architecture.
    /// </summary>
    public string ModelType { get; init; } = RobertaModelType;

    /// <summary>Rows of the token-type table: 1 for RoBERTa; 2 for BERT (0 for the first segment, 1 for the second).</summary>
    public int TypeVocabSize { get; init; } = 1;

    /// <summary>
    /// The separator id ([SEP]) after which a BERT pair's second segment (token type 1) begins; -1 when the
    /// model has a single token type. Types are derived from the ids so every caller keeps passing ids and mask only.
    /// </summary>
    public int SeparatorTokenId { get; init; } = -1;

    /// <summary>Values of <see cref="ModelType"/>.</summary>
    public const string RobertaModelType = "roberta", BertModelType = "bert";

    /// <summary>True for BERT positions and token types.</summary>
    [JsonIgnore] public bool IsBert => ModelType == BertModelType;

    /// <summary>
    /// Rows of the position-embedding table. As in RoBERTa, position ids start at padding_idx + 1, so
    /// the table has <c>MaxSequenceLength + PadTokenId + 1</c> rows (514 for RoBERTa-base); BERT positions
    /// start at 0, so its table has <c>MaxSequenceLength</c> rows.
    /// </summary>
    [JsonIgnore] public int MaxPositionEmbeddings => IsBert ? MaxSequenceLength : MaxSequenceLength + PadTokenId + 1;

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
        if (ModelType is not (RobertaModelType or BertModelType))
            throw new ArgumentOutOfRangeException(nameof(ModelType), ModelType, $"ModelType must be '{RobertaModelType}' or '{BertModelType}'.");
        if (TypeVocabSize < 1 || (TypeVocabSize > 1 && !IsBert))
            throw new ArgumentOutOfRangeException(nameof(TypeVocabSize), TypeVocabSize, "TypeVocabSize must be 1 (RoBERTa), or more for BERT.");
        if (TypeVocabSize > 1 && (SeparatorTokenId < 0 || SeparatorTokenId >= VocabSize))
            throw new ArgumentOutOfRangeException(nameof(SeparatorTokenId), SeparatorTokenId, "A model with token types needs the separator id ([SEP]) to find the second segment.");
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RobertaConfig FromJson(string json) =>
        JsonSerializer.Deserialize<RobertaConfig>(json) ?? throw new InvalidDataException("Model configuration JSON is empty.");
}
