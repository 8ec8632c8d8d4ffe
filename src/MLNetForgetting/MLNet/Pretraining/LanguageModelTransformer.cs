using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Persistence;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(LanguageModelTransformer), null, typeof(SignatureLoadModel),
    "MLNetForgetting Language Model", LanguageModelTransformer.LoaderSignature)]

namespace MLNetForgetting.MLNet.Pretraining;

/// <summary>
/// A pretrained RoBERTa-style language model as an ML.NET transformer: it adds a sentence-embedding
/// column (the mean of the final hidden states over the real tokens of each row, width
/// <see cref="RobertaConfig.HiddenSize"/>) that any ML.NET trainer can consume. It carries the body,
/// token embeddings and tokenizer for the next stages (relearning, task adaptation, LiST) and the
/// training history. Null, empty and whitespace-only text are encoded as &lt;s&gt;&lt;/s&gt;
/// (<see cref="DataViewText.ForPrediction"/>); text longer than the model's maximum length is truncated.
/// </summary>
public sealed partial class LanguageModelTransformer : TorchRowTransformer
{
    internal const string LoaderSignature = "MlnfLanguageModel";
    internal const string Component = "MLNetForgetting.LanguageModel";
    internal const int CurrentFormatVersion = 1;

    private static VersionInfo VersionInfo => ComponentVersionInfo("MLNFLMOD", LoaderSignature);

    /// <summary>What the transformer needs besides the weights.</summary>
    internal sealed record Settings(
        string InputColumnName, string OutputColumnName, int MaxSequenceLength, int BatchSize, long ResetInterval, int Seed,
        [property: JsonConverter(typeof(JsonStringEnumConverter))] DeviceOption Device,
        string? PretrainedBody = null);

    private readonly Settings _settings;
    private readonly Device _device;
    private readonly IReadOnlyList<ColumnSpec> _inputs, _outputs;

    internal LanguageModelTransformer(IHostEnvironment env, RobertaForMaskedLM model, SubwordTokenizer tokenizer, TrainingHistory? history, Settings settings)
        : base(env, ActiveForgettingPretrainer.RegistrationName)
    {
        Model = model;
        Tokenizer = tokenizer;
        History = history ?? new TrainingHistory();
        _settings = settings;
        BatchSize = settings.BatchSize;
        _device = model.TokenEmbeddings.device;
        _inputs = new[] { ColumnSpec.Text(settings.InputColumnName, "text") };
        _outputs = new[] { ColumnSpec.SingleVector(settings.OutputColumnName, "sentence embedding", model.Config.HiddenSize) };
    }

    /// <summary>The masked language model (body, token embeddings E, MLM head), in eval mode.</summary>
    public RobertaForMaskedLM Model { get; }

    /// <summary>The vocabulary the token embeddings belong to.</summary>
    public SubwordTokenizer Tokenizer { get; }

    /// <summary>The pretraining history: loss and learning rates per update, resets, validation metrics.</summary>
    public TrainingHistory History { get; }

    /// <summary>K of the run (0 = standard pretraining).</summary>
    public long ResetInterval => _settings.ResetInterval;

    /// <summary>The seed the run used.</summary>
    public int Seed => _settings.Seed;

    private string? _pretrainedBody;

    /// <summary>
    /// Fingerprint of the pretrained body (<see cref="Adaptation.ModelAssembly.BodyFingerprint"/>): the same for
    /// a pretrained model and every model relearned from it. Saved in the zip; a zip written before it
    /// was recorded gets it from its weights, which is exact because relearning leaves the body as it was.
    /// </summary>
    public string PretrainedBodyFingerprint => _pretrainedBody ??= _settings.PretrainedBody ?? Adaptation.ModelAssembly.BodyFingerprint(Model);

    /// <summary>Longest sequence the transformer encodes.</summary>
    public int MaxSequenceLength => _settings.MaxSequenceLength;

    /// <summary>Writes the history as CSV (.csv) or JSON (any other extension), atomically.</summary>
    public void ExportHistory(string path) =>
        AtomicFile.WriteAllText(path, Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase) ? History.ToCsv() : History.ToJson());

    /// <inheritdoc/>
    internal override IReadOnlyList<ColumnSpec> InputColumns => _inputs;

    /// <inheritdoc/>
    internal override IReadOnlyList<ColumnSpec> OutputColumns => _outputs;

    /// <inheritdoc/>
    private protected override string ComponentName => Component;

    /// <inheritdoc/>
    private protected override int FormatVersion => CurrentFormatVersion;

    /// <inheritdoc/>
    private protected override VersionInfo GetVersionInfo() => VersionInfo;

    /// <summary>Sentence embeddings for <paramref name="texts"/> (eval mode, no gradients), one array per text.</summary>
    public float[][] Embed(IReadOnlyList<string?> texts)
    {
        var result = new float[texts.Count][];
        for (int start = 0; start < texts.Count; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var precision = Autocast.Enable(InferencePrecision);
            var chunk = texts.Skip(start).Take(BatchSize).ToList();
            var pooled = Pool(chunk);
            for (int i = 0; i < chunk.Count; i++) result[start + i] = pooled[i];
        }
        return result;
    }

    private float[][] Pool(IReadOnlyList<string?> texts)
    {
        var sequences = texts.Select(t => Tokenizer.EncodeSingle(DataViewText.ForPrediction(t), _settings.MaxSequenceLength)).ToList();
        var (ids, mask) = PaddedBatch.Create(sequences, Tokenizer.PadId, _device);
        var pooled = Model.MeanPooled(ids, mask).cpu();
        int d = Model.Config.HiddenSize;
        var flat = pooled.data<float>().ToArray();
        return Enumerable.Range(0, texts.Count).Select(i => flat.AsSpan(i * d, d).ToArray()).ToArray();
    }

    /// <inheritdoc/>
    private protected override void ComputeBatch(ColumnBatch inputs, ColumnBatch outputs)
    {
        var texts = inputs.Text(0);
        var pooled = Pool(new ArraySegment<string?>(texts, 0, inputs.Count));
        var rows = outputs.Vectors(0);
        for (int i = 0; i < inputs.Count; i++) pooled[i].CopyTo(rows[i], 0);
    }

    /// <inheritdoc/>
    private protected override IReadOnlyDictionary<string, byte[]> GetArchiveEntries() =>
        ModelBundle.ToEntries(Model, Tokenizer, History, _settings with { PretrainedBody = PretrainedBodyFingerprint });

    /// <summary>ML.NET's loader entry point (found through <see cref="LoadableClassAttribute"/>).</summary>
    private static LanguageModelTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var entries = LoadArchive(ctx, VersionInfo, Component, CurrentFormatVersion, ModelBundle.Required());
        var (settings, model, tokenizer, history) = ModelBundle.Load<Settings>(env, ActiveForgettingPretrainer.RegistrationName, entries, Component,
            s => string.IsNullOrEmpty(s.InputColumnName) || string.IsNullOrEmpty(s.OutputColumnName) || s.BatchSize < 1 || s.MaxSequenceLength < 3 ? "column names or sizes are missing" : null,
            s => s.Device);
        return new LanguageModelTransformer(env, model, tokenizer, history, settings);
    }
}
