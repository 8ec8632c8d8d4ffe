using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Runtime;
using MLNetForgetting.Training;
using TorchSharp;

namespace MLNetForgetting.MLNet.CrossLingual;

/// <summary>
/// Stage 3 of the cross-lingual pipeline (task adaptation, docs/methods.md §2): fine-tunes the body of a
/// pretrained model and a new classification head on sentence pairs (e.g. English MNLI) with the
/// token embeddings frozen, the paper's setting, so that the body keeps working with embeddings
/// relearned for another language. <c>Settings.FreezeTokenEmbeddings = false</c> fine-tunes everything
/// (the usual setting) for comparison. The input language model is not modified.
/// </summary>
public sealed class SentencePairClassificationTrainer : TorchRowEstimator<SentencePairClassifierTransformer>
{
    /// <summary>Settings of <see cref="SentencePairClassificationTrainer"/>.</summary>
    public sealed class Options
    {
        /// <summary>The pretrained model (required; copied, never changed).</summary>
        public LanguageModelTransformer? LanguageModel;
        /// <summary>The label: a key column (use MapValueToKey on text labels).</summary>
        public string LabelColumnName = "Label";
        /// <summary>The premise.</summary>
        public string Sentence1ColumnName = "Sentence1";
        /// <summary>The hypothesis.</summary>
        public string Sentence2ColumnName = "Sentence2";
        /// <summary>Output: class probabilities in key order.</summary>
        public string ScoreColumnName = "Score";
        /// <summary>Output: the predicted label (key).</summary>
        public string PredictedLabelColumnName = "PredictedLabel";
        /// <summary>Epochs or steps, batch size, learning rate (paper: 1e-5, 10 epochs, batch 32), freezing, checkpointing. <c>Seed</c> here is replaced by <see cref="Seed"/>.</summary>
        public TaskAdaptationSettings Settings = new();
        /// <summary>Held-out labelled pairs with the same columns, evaluated at <c>Settings.ValidationInterval</c>.</summary>
        public IDataView? ValidationData;
        /// <summary>Seed; null takes one from the MLContext's seeded random.</summary>
        public int? Seed;
        /// <summary>Device; CUDA falls back to the CPU with a warning.</summary>
        public DeviceOption Device = DeviceOption.Cpu;
        /// <summary>Receives training progress.</summary>
        public IProgress<TrainingProgress>? Progress;
        /// <summary>Stops training (after writing a checkpoint when a folder is set).</summary>
        public CancellationToken CancellationToken;
        /// <summary>Rows per forward pass at prediction time.</summary>
        public int BatchSize = 32;
    }

    private readonly Options _options;

    /// <summary>Rows the last <c>Fit</c> skipped: those without a label plus those with a null, empty or whitespace-only sentence.</summary>
    public long SkippedRows { get; private set; }

    internal SentencePairClassificationTrainer(IHostEnvironment env, Options options) : base(env, SentencePairClassifierTransformer.RegistrationName)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LanguageModel is null) throw new ArgumentException("Options.LanguageModel (the pretrained model) is required.", nameof(options));
        options.Settings.Validate();
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options.BatchSize), options.BatchSize, "BatchSize must be >= 1.");
        _options = options;
    }

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> InputColumns => new[]
    {
        ColumnSpec.Text(_options.Sentence1ColumnName, "sentence 1"), ColumnSpec.Text(_options.Sentence2ColumnName, "sentence 2"),
    };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> OutputColumns => new[]
    {
        // The class count and names come from the label column at Fit; schema propagation only needs the
        // kinds (a known-size score vector, a key with value names), so placeholders stand in for them.
        ColumnSpec.SingleVector(_options.ScoreColumnName, "score", 0),
        ColumnSpec.Key(_options.PredictedLabelColumnName, "predicted label", new[] { "?" }),
    };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> TrainingOnlyColumns => new[] { ColumnSpec.Key(_options.LabelColumnName, "label", new[] { "?" }) };

    private List<(string Premise, string Hypothesis, int Label)> ReadPairs(IDataView data, IReadOnlyList<string> labelNames, out long missingLabels, out long blankSentences)
    {
        var specs = InputColumns.Append(ColumnSpec.Key(_options.LabelColumnName, "label", labelNames)).ToList();
        var rows = ColumnBatch.Read(data, specs);
        var pairs = new List<(string, string, int)>(rows.Count);
        missingLabels = 0; blankSentences = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            uint key = rows.Keys(2)[i];
            if (key == 0) { missingLabels++; continue; } // a missing label is no training example
            // Like a missing value in an ML.NET trainer: a pair with a null, empty or whitespace-only sentence is skipped and counted.
            if (string.IsNullOrWhiteSpace(rows.Text(0)[i]) || string.IsNullOrWhiteSpace(rows.Text(1)[i])) { blankSentences++; continue; }
            pairs.Add((rows.Text(0)[i]!, rows.Text(1)[i]!, (int)key - 1));
        }
        if (pairs.Count == 0)
            throw new InvalidOperationException($"No sentence pair to train on: {rows.Count} rows read, {missingLabels} without a label in '{_options.LabelColumnName}', {blankSentences} with a blank '{_options.Sentence1ColumnName}' or '{_options.Sentence2ColumnName}'.");
        return pairs;
    }

    /// <inheritdoc/>
    private protected override SentencePairClassifierTransformer FitCore(IDataView input)
    {
        TorchRuntime.EnsureInitialized();
        using var ch = Host.Start("TaskAdaptation");
        var o = _options;
        var device = TorchDevices.Resolve(o.Device, msg => ch.Warning(msg));
        var labelNames = KeyNames.OfTrainingData(input, o.LabelColumnName);
        var pairs = ReadPairs(input, labelNames, out long missing, out long blank);
        if (missing > 0) ch.Warning($"{missing} rows without a label were skipped.");
        if (blank > 0) ch.Warning($"{blank} rows with a null, empty or whitespace-only sentence were skipped.");
        SkippedRows = missing + blank;
        List<(string, string, int)>? validation = null;
        if (o.ValidationData is not null)
        {
            var validationNames = KeyNames.Of(o.ValidationData.Schema, o.LabelColumnName);
            if (!validationNames.SequenceEqual(labelNames))
                throw new ArgumentException($"The validation labels ({string.Join(", ", validationNames)}) are not the training labels ({string.Join(", ", labelNames)}); map both with the same MapValueToKey.");
            validation = ReadPairs(o.ValidationData, labelNames, out _, out _);
        }
        int seed = o.Seed ?? Host.Rand.Next();
        var settings = o.Settings with { Seed = seed };
        var model = ModelAssembly.Clone(o.LanguageModel!.Model);
        model.to(device);
        ch.Info($"Task adaptation on {pairs.Count} pairs, {labelNames.Count} classes, token embeddings {(settings.FreezeTokenEmbeddings ? "frozen" : "trained")}, seed {seed}");
        var result = TaskAdaptation.FineTune(model, o.LanguageModel.Tokenizer, pairs, labelNames.Count, settings, device, validation, msg => ch.Info(msg), o.Progress, o.CancellationToken);
        model.eval();
        return new SentencePairClassifierTransformer(Host, model, o.LanguageModel.Tokenizer, result.History, new SentencePairClassifierTransformer.Settings(
            o.Sentence1ColumnName, o.Sentence2ColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, labelNames.ToArray(),
            Math.Min(settings.MaxSequenceLength, model.Config.MaxSequenceLength), o.BatchSize, o.Device,
            settings.FreezeTokenEmbeddings ? "task-adapted (token embeddings frozen)" : "task-adapted (all parameters)",
            o.LanguageModel.PretrainedBodyFingerprint));
    }
}
