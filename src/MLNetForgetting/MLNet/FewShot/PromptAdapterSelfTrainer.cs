using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Prompts;
using MLNetForgetting.Runtime;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Training;

namespace MLNetForgetting.MLNet.FewShot;

/// <summary>How the few-shot classifier is trained: LiST, or one of the paper's baselines that keep the backbone frozen.</summary>
public enum FewShotMethod
{
    /// <summary>LiST: prompt-tuned adapters as the teacher, then M rounds of self-training with meta re-weighting.</summary>
    LiST,
    /// <summary>Baseline: prompt tuning of the adapters on the labelled examples only (no self-training).</summary>
    PromptTuningAdapters,
}

/// <summary>
/// LiST (Wang et al. 2021) as an ML.NET trainer: few-shot, prompt-based tuning of small adapters on
/// a frozen backbone from <see cref="ActiveForgettingPretrainer"/> (standard, forgetting, or one
/// assembled for another language), with teacher–student self-training on unlabelled data.
/// LiST: docs/methods.md §3. The full-model baselines (prompt fine-tuning of all parameters, classic
/// fine-tuning) are in <see cref="PromptSelfTrainer"/>; they change the backbone, so they are not
/// offered as an adapter trainer.
/// </summary>
public sealed class PromptAdapterSelfTrainer : TorchRowEstimator<PromptAdapterTransformer>
{
    /// <summary>Settings of <see cref="PromptAdapterSelfTrainer"/>.</summary>
    public sealed class Options
    {
        /// <summary>The backbone (its weights are copied, never changed).</summary>
        public LanguageModelTransformer? LanguageModel;
        /// <summary>Built-in LiST task whose template and label words to use: MNLI, RTE, QQP, SST-2, mpqa, subj. Ignored when <see cref="Template"/> is set.</summary>
        public string Task = "SST-2";
        /// <summary>A user-defined template in LM-BFF syntax (docs/prompts.md), e.g. <c>*cls**sent_0*_It_was*mask*.*sep+*</c>.</summary>
        public string? Template;
        /// <summary>Label value → label word (a single token with a leading space in the backbone's vocabulary), for a user-defined template.</summary>
        public IReadOnlyDictionary<string, string>? LabelWords;
        /// <summary>Maximum prompt length for a user-defined template.</summary>
        public int TemplateMaxLength = 128;
        /// <summary>The label: a key column whose values are the verbalizer's labels.</summary>
        public string LabelColumnName = "Label";
        /// <summary>The first sentence (role "sentence 1").</summary>
        public string Sentence1ColumnName = "Sentence1";
        /// <summary>The second sentence for pair tasks (MNLI, RTE, QQP); null for single-sentence tasks.</summary>
        public string? Sentence2ColumnName;
        /// <summary>Output: class probabilities in key order.</summary>
        public string ScoreColumnName = "Score";
        /// <summary>Output: the predicted label (key).</summary>
        public string PredictedLabelColumnName = "PredictedLabel";
        /// <summary>Unlabelled rows with the same sentence columns; null or empty skips self-training with a logged warning.</summary>
        public IDataView? UnlabelledData;
        /// <summary>LiST or the adapter prompt-tuning baseline.</summary>
        public FewShotMethod Method = FewShotMethod.LiST;
        /// <summary>All LiST hyperparameters (paper defaults, docs/methods.md §3.4).</summary>
        public SelfTrainingSettings Settings = new();
        /// <summary>At most this many unlabelled rows are read.</summary>
        public int MaxUnlabelledRows = 100_000;
        /// <summary>Seed; null takes one from the MLContext's seeded random.</summary>
        public int? Seed;
        /// <summary>Device; CUDA falls back to the CPU with a warning.</summary>
        public DeviceOption Device = DeviceOption.Cpu;
        /// <summary>Receives training progress.</summary>
        public IProgress<TrainingProgress>? Progress;
        /// <summary>Cancels training.</summary>
        public CancellationToken CancellationToken;
        /// <summary>Rows per forward pass at prediction time.</summary>
        public int BatchSize = 16;
    }

    private readonly Options _options;
    private readonly PromptTask _task;

    /// <summary>Rows the last <c>Fit</c> skipped: labelled rows without a label, and labelled or unlabelled rows with a null, empty or whitespace-only sentence.</summary>
    public long SkippedRows { get; private set; }

    internal PromptAdapterSelfTrainer(IHostEnvironment env, Options options) : base(env, PromptAdapterTransformer.RegistrationName)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LanguageModel is null) throw new ArgumentException("Options.LanguageModel (the backbone) is required.", nameof(options));
        options.Settings.Validate();
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options.BatchSize), options.BatchSize, "BatchSize must be >= 1.");
        _task = options.Template is null
            ? LiSTTasks.Get(options.Task)
            : new PromptTask("custom", PromptTemplate.Parse(options.Template, options.TemplateMaxLength),
                new Verbalizer(options.LabelWords ?? throw new ArgumentException("A user-defined Template needs LabelWords.", nameof(options))));
        // A label word that is not a single token fails here, naming the word and the option that fixes it.
        try { _ = _task.Verbalizer.LabelWordIds(options.LanguageModel.Tokenizer); }
        catch (LabelWordException e)
        {
            throw new LabelWordException(e.Word, e.Message + $" For a backbone pretrained by ActiveForgettingPretrainer, put \" {e.Word}\" in ActiveForgettingPretrainer.Options.RequiredTokens (the built-in tasks' label words are there by default) and pretrain again.");
        }
        if (_task.Template.SentenceCount == 2 && options.Sentence2ColumnName is null)
            throw new ArgumentException($"The {_task.Name} template reads two sentences; set Sentence2ColumnName.", nameof(options));
        _options = options;
    }

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> InputColumns => _options.Sentence2ColumnName is null
        ? new[] { ColumnSpec.Text(_options.Sentence1ColumnName, "sentence 1") }
        : new[] { ColumnSpec.Text(_options.Sentence1ColumnName, "sentence 1"), ColumnSpec.Text(_options.Sentence2ColumnName, "sentence 2") };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> OutputColumns => new[]
    {
        ColumnSpec.SingleVector(_options.ScoreColumnName, "score", _task.Verbalizer.Labels.Count),
        ColumnSpec.Key(_options.PredictedLabelColumnName, "predicted label", _task.Verbalizer.Labels),
    };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> TrainingOnlyColumns => new[] { ColumnSpec.Key(_options.LabelColumnName, "label", _task.Verbalizer.Labels) };

    /// <inheritdoc/>
    private protected override PromptAdapterTransformer FitCore(IDataView input)
    {
        TorchRuntime.EnsureInitialized();
        using var ch = Host.Start("LiST");
        var o = _options;
        var device = TorchDevices.Resolve(o.Device, msg => ch.Warning(msg));
        var labelNames = KeyNames.OfTrainingData(input, o.LabelColumnName);
        foreach (var name in labelNames) _task.Verbalizer.IndexOf(name); // a label missing from the verbalizer fails here, naming it

        var specs = InputColumns.Append(ColumnSpec.Key(o.LabelColumnName, "label", labelNames)).ToList();
        var rows = ColumnBatch.Read(input, specs);
        var labelled = new List<FewShotExample>();
        long missingLabels = 0, blankLabelled = 0, blankUnlabelled = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            uint key = rows.Keys(specs.Count - 1)[i];
            if (key == 0) { missingLabels++; continue; } // missing label: not a training example
            if (HasBlankSentence(rows, i)) { blankLabelled++; continue; } // nothing to learn the label from
            labelled.Add(new FewShotExample(Texts(rows, i), labelNames[(int)key - 1]));
        }
        var unlabelled = new List<FewShotExample>();
        if (o.UnlabelledData is not null)
        {
            var u = ColumnBatch.Read(o.UnlabelledData, InputColumns, o.MaxUnlabelledRows);
            for (int i = 0; i < u.Count; i++)
            {
                if (HasBlankSentence(u, i)) { blankUnlabelled++; continue; }
                unlabelled.Add(new FewShotExample(Texts(u, i), null));
            }
        }
        if (missingLabels + blankLabelled + blankUnlabelled > 0)
            ch.Warning($"Skipped {missingLabels} labelled rows without a label, {blankLabelled} labelled and {blankUnlabelled} unlabelled rows with a null, empty or whitespace-only sentence.");
        SkippedRows = missingLabels + blankLabelled + blankUnlabelled;
        if (labelled.Count == 0)
            throw new InvalidOperationException($"No labelled example to train on: {rows.Count} rows read, {missingLabels} without a label, {blankLabelled} with a blank sentence.");
        var settings = o.Settings with { Seed = o.Seed ?? Host.Rand.Next() };
        var backbone = ModelAssembly.Clone(o.LanguageModel!.Model); // the user's language model stays untouched
        var tokenizer = o.LanguageModel.Tokenizer;
        ch.Info($"{o.Method} on {labelled.Count} labelled and {unlabelled.Count} unlabelled rows, task {_task.Name}, seed {settings.Seed}");
        PromptClassifier classifier;
        SelfTrainingResult? result = null;
        if (o.Method == FewShotMethod.LiST)
        {
            result = PromptSelfTrainer.TrainLiST(backbone, tokenizer, _task, labelled, unlabelled, settings, device, msg => ch.Info(msg), o.Progress, o.CancellationToken);
            classifier = result.Model;
        }
        else
        {
            classifier = PromptSelfTrainer.PromptTuneAdapters(backbone, tokenizer, _task, labelled, settings, device, msg => ch.Info(msg), o.Progress, o.CancellationToken).Model;
        }
        ch.Info(classifier.ParameterReport().ToString());
        var transformerSettings = new PromptAdapterTransformer.Settings(o.Sentence1ColumnName, o.Sentence2ColumnName, o.ScoreColumnName, o.PredictedLabelColumnName,
            labelNames.ToArray(), _task.Name, o.BatchSize, o.Device);
        return new PromptAdapterTransformer(Host, backbone, tokenizer, classifier, transformerSettings, result);
    }

    private bool HasBlankSentence(ColumnBatch batch, int row) =>
        string.IsNullOrWhiteSpace(batch.Text(0)[row]) || (_options.Sentence2ColumnName is not null && string.IsNullOrWhiteSpace(batch.Text(1)[row]));

    private IReadOnlyList<string> Texts(ColumnBatch batch, int row) => _options.Sentence2ColumnName is null
        ? new[] { batch.Text(0)[row] ?? "" }
        : new[] { batch.Text(0)[row] ?? "", batch.Text(1)[row] ?? "" };
}

/// <summary>Reads the value names of a key column (its KeyValues annotation).</summary>
internal static class KeyNames
{
    /// <summary>
    /// The names of key values 1..n of <paramref name="column"/>; fails naming the column when it is not a
    /// key with value names. Text values are taken as they are; numeric values (a float or integer label
    /// mapped with MapValueToKey) are written in the invariant culture ("0", "1", "2.5").
    /// </summary>
    public static IReadOnlyList<string> Of(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(nameof(column), $"Could not find input column '{column}' (role: label)");
        if (col.Type is not KeyDataViewType)
            throw new ArgumentOutOfRangeException(nameof(column), $"Schema mismatch for input column '{column}' (role: label): expected Key<UInt32>, got {col.Type}. Map labels to keys first, e.g. mlContext.Transforms.Conversion.MapValueToKey(\"{column}\").");
        var annotation = col.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (annotation is null)
            throw new ArgumentException($"Label column '{column}' is a key without value names; map the labels with mlContext.Transforms.Conversion.MapValueToKey(\"{column}\") so their names are kept.", nameof(column));
        var itemType = annotation.Value.Type is VectorDataViewType v ? v.ItemType : annotation.Value.Type;
        if (itemType is TextDataViewType)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            col.GetKeyValues(ref names);
            return names.DenseValues().Select(n => n.ToString()).ToArray();
        }
        return itemType.RawType switch
        {
            var t when t == typeof(float) => Read<float>(col, f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
            var t when t == typeof(double) => Read<double>(col, f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
            var t when t == typeof(int) => Read<int>(col, i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            var t when t == typeof(long) => Read<long>(col, i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            var t when t == typeof(uint) => Read<uint>(col, i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            var t when t == typeof(bool) => Read<bool>(col, b => b ? "true" : "false"),
            _ => throw new ArgumentException($"Label column '{column}' is a key whose values are {itemType}; use text or numeric labels with MapValueToKey(\"{column}\").", nameof(column)),
        };
    }

    /// <summary>
    /// <see cref="Of(DataViewSchema, string)"/> for training data: an empty view, or labels with no value at
    /// all, fail saying so instead of as a schema problem.
    /// </summary>
    public static IReadOnlyList<string> OfTrainingData(IDataView data, string column)
    {
        ArgumentNullException.ThrowIfNull(data);
        long rows = data.GetRowCount() ?? CountRows(data);
        if (rows == 0)
            throw new InvalidOperationException($"The training data is empty (0 rows): there is nothing to learn label '{column}' from.");
        var names = Of(data.Schema, column);
        if (names.Count == 0)
            throw new InvalidOperationException($"Label column '{column}' has no values in the {rows} training rows (every label is missing, or MapValueToKey was fitted on other data).");
        return names;
    }

    private static long CountRows(IDataView data)
    {
        long n = 0;
        using var cursor = data.GetRowCursor(Array.Empty<DataViewSchema.Column>());
        while (cursor.MoveNext()) n++;
        return n;
    }

    private static IReadOnlyList<string> Read<T>(DataViewSchema.Column col, Func<T, string> format)
    {
        VBuffer<T> values = default;
        col.GetKeyValues(ref values);
        return values.DenseValues().Select(format).ToArray();
    }
}
