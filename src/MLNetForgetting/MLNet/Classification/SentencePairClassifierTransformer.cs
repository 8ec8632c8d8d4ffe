using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.Modeling;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(SentencePairClassifierTransformer), null, typeof(SignatureLoadModel),
    "MLNetForgetting Sentence Pair Classifier", SentencePairClassifierTransformer.LoaderSignature)]

namespace MLNetForgetting.MLNet.Classification;

/// <summary>
/// A RoBERTa-style classifier over one or two sentences (the classification head on &lt;s&gt;): adds
/// <c>Score</c> (class probabilities, in the order of the label's key values) and
/// <c>PredictedLabel</c> (a key with the training label's values), so
/// <c>mlContext.MulticlassClassification.Evaluate</c> works on its output. Produced by task
/// adaptation, and by assembly with relearned embeddings for zero-shot use in another language.
/// </summary>
public sealed class SentencePairClassifierTransformer : TorchRowTransformer
{
    internal const string LoaderSignature = "MlnfPairClassifier";
    internal const string Component = "MLNetForgetting.SentencePairClassifier";
    internal const int CurrentFormatVersion = 1;
    internal const string RegistrationName = "SentencePairClassifier";

    private static VersionInfo VersionInfo => ComponentVersionInfo("MLNFSPCL", LoaderSignature);

    /// <summary>What the transformer needs besides the weights.</summary>
    internal sealed record Settings(
        string Sentence1ColumnName, string? Sentence2ColumnName, string ScoreColumnName, string PredictedLabelColumnName,
        string[] LabelNames, int MaxSequenceLength, int BatchSize,
        [property: JsonConverter(typeof(JsonStringEnumConverter))] DeviceOption Device,
        string Description,
        string? PretrainedBody = null);

    private readonly Settings _settings;
    private readonly Device _device;
    private readonly IReadOnlyList<ColumnSpec> _inputs, _outputs;

    internal SentencePairClassifierTransformer(IHostEnvironment env, RobertaForMaskedLM model, SubwordTokenizer tokenizer, TrainingHistory? history, Settings settings)
        : base(env, RegistrationName)
    {
        if (model.Classifier is null) throw new ArgumentException("The model has no classification head.", nameof(model));
        if (model.Config.NumLabels != settings.LabelNames.Length)
            throw new ArgumentException($"The classifier has {model.Config.NumLabels} classes but {settings.LabelNames.Length} label names were given.", nameof(settings));
        Model = model;
        Tokenizer = tokenizer;
        History = history ?? new TrainingHistory();
        _settings = settings;
        BatchSize = settings.BatchSize;
        _device = model.TokenEmbeddings.device;
        var inputs = new List<ColumnSpec> { ColumnSpec.Text(settings.Sentence1ColumnName, "sentence 1") };
        if (settings.Sentence2ColumnName is not null) inputs.Add(ColumnSpec.Text(settings.Sentence2ColumnName, "sentence 2"));
        _inputs = inputs;
        _outputs = new[]
        {
            ColumnSpec.SingleVector(settings.ScoreColumnName, "score", settings.LabelNames.Length),
            ColumnSpec.Key(settings.PredictedLabelColumnName, "predicted label", settings.LabelNames),
        };
    }

    /// <summary>The classifier model (body, token embeddings, classification head), in eval mode.</summary>
    public RobertaForMaskedLM Model { get; }

    /// <summary>The tokenizer of the token embeddings (the target language's after assembly).</summary>
    public SubwordTokenizer Tokenizer { get; }

    /// <summary>The fine-tuning history.</summary>
    public TrainingHistory History { get; }

    /// <summary>Class names: key value k of <c>PredictedLabel</c> is <c>LabelNames[k - 1]</c>, score slot i is <c>LabelNames[i]</c>.</summary>
    public IReadOnlyList<string> LabelNames => _settings.LabelNames;

    /// <summary>What this model is (e.g. "task-adapted on English" or "assembled for xa").</summary>
    public string Description => _settings.Description;

    /// <summary>
    /// Fingerprint of the pretrained body this classifier was fine-tuned from
    /// (<see cref="Pretraining.LanguageModelTransformer.PretrainedBodyFingerprint"/> of that model);
    /// <see cref="CrossLingualAssembly.Assemble"/> accepts only embeddings relearned against it. Null for a
    /// zip written before MLNetForgetting recorded it.
    /// </summary>
    public string? PretrainedBodyFingerprint => _settings.PretrainedBody;

    internal Settings Configuration => _settings;

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

    /// <summary>Class probabilities for sentence pairs (<paramref name="second"/> null for single sentences).</summary>
    public float[][] PredictProbabilities(IReadOnlyList<string?> first, IReadOnlyList<string?>? second = null)
    {
        var result = new float[first.Count][];
        for (int start = 0; start < first.Count; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var precision = Autocast.Enable(InferencePrecision);
            int n = Math.Min(BatchSize, first.Count - start);
            var probabilities = Probabilities(first.Skip(start).Take(n).ToList(), second?.Skip(start).Take(n).ToList());
            for (int i = 0; i < n; i++) result[start + i] = probabilities[i];
        }
        return result;
    }

    private float[][] Probabilities(IReadOnlyList<string?> first, IReadOnlyList<string?>? second)
    {
        var sequences = new List<int[]>(first.Count);
        for (int i = 0; i < first.Count; i++)
            sequences.Add(second is null
                ? Tokenizer.EncodeSingle(DataViewText.ForPrediction(first[i]), _settings.MaxSequenceLength)
                : Tokenizer.EncodePair(DataViewText.ForPrediction(first[i]), DataViewText.ForPrediction(second[i]), _settings.MaxSequenceLength));
        var (ids, mask) = PaddedBatch.Create(sequences, Tokenizer.PadId, _device);
        var probabilities = Model.ClassifierLogits(ids, mask).softmax(-1).cpu();
        int k = _settings.LabelNames.Length;
        var flat = probabilities.data<float>().ToArray();
        return Enumerable.Range(0, first.Count).Select(i => flat.AsSpan(i * k, k).ToArray()).ToArray();
    }

    /// <inheritdoc/>
    private protected override void ComputeBatch(ColumnBatch inputs, ColumnBatch outputs)
    {
        int n = inputs.Count;
        var first = new ArraySegment<string?>(inputs.Text(0), 0, n);
        IReadOnlyList<string?>? second = _settings.Sentence2ColumnName is null ? null : (IReadOnlyList<string?>)new ArraySegment<string?>(inputs.Text(1), 0, n);
        ClassifierOutputs.Write(Probabilities(first, second), outputs);
    }

    /// <inheritdoc/>
    private protected override IReadOnlyDictionary<string, byte[]> GetArchiveEntries() => ModelBundle.ToEntries(Model, Tokenizer, History, _settings);

    /// <summary>ML.NET's loader entry point (found through <see cref="LoadableClassAttribute"/>).</summary>
    private static SentencePairClassifierTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var entries = LoadArchive(ctx, VersionInfo, Component, CurrentFormatVersion, ModelBundle.Required());
        var (settings, model, tokenizer, history) = ModelBundle.Load<Settings>(env, RegistrationName, entries, Component,
            s => string.IsNullOrEmpty(s.Sentence1ColumnName) || s.LabelNames is not { Length: >= 2 } || s.BatchSize < 1 ? "column names, label names or sizes are missing" : null,
            s => s.Device);
        if (model.Classifier is null || model.Config.NumLabels != settings.LabelNames.Length)
        {
            model.Dispose();
            throw ComponentArchive.Corrupt(Component, ModelBundle.WeightsEntry, $"the weights hold no classifier for the {settings.LabelNames.Length} labels in {ModelBundle.SettingsEntry}");
        }
        return new SentencePairClassifierTransformer(env, model, tokenizer, history, settings);
    }
}

/// <summary>Writes class probabilities to a Score column (0) and their argmax to a PredictedLabel key column (1).</summary>
internal static class ClassifierOutputs
{
    public static void Write(float[][] probabilities, ColumnBatch outputs)
    {
        var scores = outputs.Vectors(0);
        var predicted = outputs.Keys(1);
        for (int i = 0; i < probabilities.Length; i++)
        {
            probabilities[i].CopyTo(scores[i], 0);
            int best = 0;
            for (int c = 1; c < probabilities[i].Length; c++) if (probabilities[i][c] > probabilities[i][best]) best = c;
            predicted[i] = (uint)(best + 1); // keys are 1-based; 0 is missing
        }
    }
}

/// <summary>Stage 4 of the cross-lingual pipeline.</summary>
public static class CrossLingualAssembly
{
    private static string Short(string fingerprint) => fingerprint[..Math.Min(12, fingerprint.Length)];

    /// <summary>
    /// A new classifier for the target language: the body and classification head of
    /// <paramref name="taskAdapted"/> with the token embeddings (and tied decoder) and tokenizer of
    /// <paramref name="relearned"/> (docs/methods.md §2 stage 4). Neither input is changed.
    /// </summary>
    /// <remarks>
    /// The relearned embeddings must have been learned against the pretrained body the classifier was
    /// fine-tuned from; otherwise the result would classify, silently, at chance. Both carry that body's
    /// fingerprint, and a mismatch throws <see cref="BodyMismatchException"/> naming both. A classifier
    /// saved before the fingerprint was recorded has none: Assemble refuses it too, unless
    /// <paramref name="allowUnrecordedBody"/> is true (then a warning is logged). A recorded body that
    /// differs is always refused.
    /// </remarks>
    /// <exception cref="BodyMismatchException">The bodies differ, or the classifier's is unrecorded and <paramref name="allowUnrecordedBody"/> is false.</exception>
    public static SentencePairClassifierTransformer Assemble(this SentencePairClassifierTransformer taskAdapted, Pretraining.LanguageModelTransformer relearned, IHostEnvironment env, string? targetLanguage = null,
        bool allowUnrecordedBody = false)
    {
        ArgumentNullException.ThrowIfNull(taskAdapted);
        ArgumentNullException.ThrowIfNull(relearned);
        ArgumentNullException.ThrowIfNull(env);
        if (taskAdapted.PretrainedBodyFingerprint is { } expected)
        {
            if (expected != relearned.PretrainedBodyFingerprint)
                throw new BodyMismatchException($"The relearned embeddings were learned against pretrained body {Short(relearned.PretrainedBodyFingerprint)}, but the task-adapted classifier was fine-tuned from pretrained body {Short(expected)}; together they would predict at chance. Relearn the embeddings from the language model the classifier was fine-tuned from.",
                    expected, relearned.PretrainedBodyFingerprint);
        }
        else if (!allowUnrecordedBody)
            throw new BodyMismatchException($"The task-adapted classifier does not record which pretrained body it was fine-tuned from (it was saved before MLNetForgetting recorded it), so the relearned embeddings (pretrained body {Short(relearned.PretrainedBodyFingerprint)}) cannot be checked against it. Fine-tune it again, or pass allowUnrecordedBody: true (mlnf assemble --allow-unrecorded-body) if you know they match.",
                null, relearned.PretrainedBodyFingerprint);
        else
        {
            using var ch = env.Register(LogSources.Prefix + "Assemble").Start("Assemble");
            ch.Warning($"Assembling with a classifier that records no pretrained body (allowUnrecordedBody): the relearned embeddings (body {Short(relearned.PretrainedBodyFingerprint)}) are not checked against it.");
        }
        var model = Adaptation.ModelAssembly.Assemble(taskAdapted.Model, relearned.Model);
        model.eval();
        var settings = taskAdapted.Configuration with { Description = $"assembled{(targetLanguage is null ? "" : " for " + targetLanguage)}: body and classifier from task adaptation, token embeddings relearned" };
        return new SentencePairClassifierTransformer(env, model, relearned.Tokenizer, taskAdapted.History, settings);
    }
}

/// <summary>A relearned model and a task-adapted classifier come from different pretrained bodies (or the classifier's is unknown).</summary>
public sealed class BodyMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception with both fingerprints.</summary>
    public BodyMismatchException(string message, string? classifierBody, string relearnedBody) : base(message)
    {
        ClassifierBodyFingerprint = classifierBody;
        RelearnedBodyFingerprint = relearnedBody;
    }

    /// <summary>The pretrained body the classifier was fine-tuned from; null when its zip does not record it.</summary>
    public string? ClassifierBodyFingerprint { get; }

    /// <summary>The pretrained body the embeddings were relearned against.</summary>
    public string RelearnedBodyFingerprint { get; }
}
