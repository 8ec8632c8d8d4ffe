using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Persistence;
using MLNetForgetting.Prompts;
using MLNetForgetting.Runtime;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Text;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(PromptAdapterTransformer), null, typeof(SignatureLoadModel),
    "MLNetForgetting Prompt Adapter Classifier", PromptAdapterTransformer.LoaderSignature)]

namespace MLNetForgetting.MLNet.FewShot;

/// <summary>
/// A prompt-based few-shot classifier (LiST): a frozen backbone with small bottleneck adapters and
/// a label-word head; class scores are the MLM logits at &lt;mask&gt; restricted to the label words.
/// Adds <c>Score</c> (probabilities in the order of the training label's key values) and
/// <c>PredictedLabel</c>. The zip holds the backbone and the adapter pack; <see cref="ExportAdapterPack"/>
/// writes the adapters alone (a few MB) for use on a matching backbone.
/// </summary>
public sealed class PromptAdapterTransformer : TorchRowTransformer
{
    internal const string LoaderSignature = "MlnfPromptAdapters";
    internal const string Component = "MLNetForgetting.PromptAdapterClassifier";
    internal const int CurrentFormatVersion = 1;
    internal const string AdaptersEntry = "adapters.safetensors";
    internal const string RegistrationName = "PromptAdapterSelfTrainer";

    private static VersionInfo VersionInfo => ComponentVersionInfo("MLNFLIST", LoaderSignature);

    /// <summary>What the transformer needs besides the weights.</summary>
    internal sealed record Settings(
        string Sentence1ColumnName, string? Sentence2ColumnName, string ScoreColumnName, string PredictedLabelColumnName,
        string[] LabelNames, string TaskName, int BatchSize,
        [property: JsonConverter(typeof(JsonStringEnumConverter))] DeviceOption Device);

    private readonly Settings _settings;
    private readonly PromptTask _task;
    private readonly int[] _verbalizerIndex; // key index → verbalizer index
    private readonly int _maxLength;
    private readonly IReadOnlyList<ColumnSpec> _inputs, _outputs;

    internal PromptAdapterTransformer(IHostEnvironment env, RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, PromptClassifier classifier, Settings settings, SelfTrainingResult? training = null)
        : base(env, RegistrationName)
    {
        Backbone = backbone;
        Tokenizer = tokenizer;
        Classifier = classifier;
        Training = training;
        _task = new PromptTask(settings.TaskName, classifier.Template, classifier.Verbalizer);
        _settings = settings;
        BatchSize = settings.BatchSize;
        _verbalizerIndex = settings.LabelNames.Select(classifier.Verbalizer.IndexOf).ToArray();
        _maxLength = Math.Min(classifier.Template.MaxLength, backbone.Config.MaxSequenceLength);
        var inputs = new List<ColumnSpec> { ColumnSpec.Text(settings.Sentence1ColumnName, "sentence 1") };
        if (settings.Sentence2ColumnName is not null) inputs.Add(ColumnSpec.Text(settings.Sentence2ColumnName, "sentence 2"));
        _inputs = inputs;
        _outputs = new[]
        {
            ColumnSpec.SingleVector(settings.ScoreColumnName, "score", settings.LabelNames.Length),
            ColumnSpec.Key(settings.PredictedLabelColumnName, "predicted label", settings.LabelNames),
        };
    }

    /// <summary>The frozen backbone (its weights never change; the classifier installs its adapters on it).</summary>
    public RobertaForMaskedLM Backbone { get; }

    /// <summary>The backbone's tokenizer.</summary>
    public SubwordTokenizer Tokenizer { get; }

    /// <summary>Adapters, prompt template, verbalizer and label-word head.</summary>
    internal PromptClassifier Classifier { get; }

    /// <summary>The self-training record (teacher initialisation, rounds, meta-weight statistics); null after a load.</summary>
    internal SelfTrainingResult? Training { get; }

    /// <summary>Class names in key order.</summary>
    public IReadOnlyList<string> LabelNames => _settings.LabelNames;

    /// <summary>Trainable versus total parameters (what LiST trains: adapters and the head).</summary>
    public TrainableParameterReport ParameterReport => Classifier.ParameterReport();

    /// <summary>Writes the adapters, head, template and label words with the backbone's fingerprint (atomically).</summary>
    public void ExportAdapterPack(string path) => AdapterPack.Save(path, Classifier, Tokenizer, _settings.TaskName);

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

    /// <summary>Class probabilities in key order for rows of sentence texts.</summary>
    public float[][] PredictProbabilities(IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var examples = PromptEncoder.Encode(rows.Select(r => new FewShotExample(r.Select(DataViewText.ForPrediction).ToArray(), null)), _task, Tokenizer, _maxLength);
        float[,] probabilities;
        using (Modeling.Autocast.Enable(InferencePrecision))
            probabilities = Classifier.PredictProbabilities(examples, BatchSize);
        var result = new float[rows.Count][];
        for (int i = 0; i < rows.Count; i++)
            result[i] = _verbalizerIndex.Select(v => probabilities[i, v]).ToArray();
        return result;
    }

    /// <inheritdoc/>
    private protected override void ComputeBatch(ColumnBatch inputs, ColumnBatch outputs)
    {
        int n = inputs.Count;
        var rows = new IReadOnlyList<string>[n];
        for (int i = 0; i < n; i++)
            rows[i] = _settings.Sentence2ColumnName is null ? new[] { inputs.Text(0)[i] ?? "" } : new[] { inputs.Text(0)[i] ?? "", inputs.Text(1)[i] ?? "" };
        Classification.ClassifierOutputs.Write(PredictProbabilities(rows), outputs);
    }

    /// <inheritdoc/>
    private protected override IReadOnlyDictionary<string, byte[]> GetArchiveEntries()
    {
        // The backbone without the installed adapters; the adapter pack carries those (and checks the backbone on load).
        var entries = ModelBundle.ToEntries(Backbone, Tokenizer, history: null, _settings, exclude: AdapterSet.IsAdapterParameterName);
        entries[AdaptersEntry] = AdapterPack.ToBytes(Classifier, Tokenizer, _settings.TaskName);
        return entries;
    }

    /// <summary>ML.NET's loader entry point (found through <see cref="LoadableClassAttribute"/>).</summary>
    private static PromptAdapterTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var entries = LoadArchive(ctx, VersionInfo, Component, CurrentFormatVersion, ModelBundle.Required(AdaptersEntry));
        var (settings, backbone, tokenizer, _) = ModelBundle.Load<Settings>(env, RegistrationName, entries, Component,
            s => string.IsNullOrEmpty(s.Sentence1ColumnName) || s.LabelNames is not { Length: >= 2 } || s.BatchSize < 1 ? "column names, label names or sizes are missing" : null,
            s => s.Device);
        PromptClassifier classifier;
        try { classifier = AdapterPack.FromBytes(entries[AdaptersEntry], backbone, tokenizer, AdaptersEntry); }
        catch (Exception e) when (e is InvalidDataException or BackboneMismatchException or ArgumentException or JsonException or FormatException)
        {
            backbone.Dispose();
            throw ComponentArchive.Corrupt(Component, AdaptersEntry, e.Message, e);
        }
        return new PromptAdapterTransformer(env, backbone, tokenizer, classifier, settings);
    }

    /// <summary>
    /// Applies an adapter pack to <paramref name="backbone"/>; a pack made for another backbone or
    /// tokenizer is refused (<see cref="BackboneMismatchException"/> naming both fingerprints).
    /// </summary>
    public static PromptAdapterTransformer FromAdapterPack(MLContext mlContext, Pretraining.LanguageModelTransformer backbone, string path, IReadOnlyList<string> labelNames,
        string sentence1ColumnName = "Sentence1", string? sentence2ColumnName = null, string taskName = "custom")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(backbone);
        var copy = ModelAssembly.Clone(backbone.Model);
        var classifier = AdapterPack.Load(path, copy, backbone.Tokenizer);
        var settings = new Settings(sentence1ColumnName, sentence2ColumnName, "Score", "PredictedLabel", labelNames.ToArray(), taskName, 16, DeviceOption.Cpu);
        return new PromptAdapterTransformer(mlContext, copy, backbone.Tokenizer, classifier, settings);
    }
}
