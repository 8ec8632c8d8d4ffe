using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Evaluation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;

namespace MLNetForgetting.MLNet.CrossLingual;

/// <summary>
/// The cross-lingual transfer of [AF] (docs/methods.md §2) after pretraining, for one or more pretrained
/// models compared on the same data (e.g. standard and active forgetting): stage 3, task adaptation
/// of each model on the source-language pairs with the token embeddings frozen; then per relearning
/// budget, target language and model, stage 2, relearning the embeddings for the target language with
/// the body frozen (recording the zero-shot accuracy of the task model with those embeddings spliced
/// in as the adaptation curve, <see cref="HistoryNames.ZeroShotAccuracy"/>); stage 4, assembly; and
/// zero-shot evaluation on the target's dev pairs. Every stage goes through the public estimators
/// (<see cref="SentencePairClassificationTrainer"/>, <see cref="EmbeddingRelearner"/>,
/// <see cref="CrossLingualAssembly.Assemble"/>), so what it produces saves and loads like any ML.NET model.
/// One target vocabulary per language is shared by every model and budget, so the models differ only
/// in their pretraining. The pretrained models are not modified. <c>mlnf demo</c>, examples/ZeroShotXnli
/// and the tests all run this one orchestrator; <see cref="Hooks"/> is where they differ (progress
/// display, saving each model, a model cache).
/// </summary>
public static class CrossLingualPipeline
{
    /// <summary>One pretrained model entering the pipeline, named for reports and hooks (e.g. "standard", "forgetting").</summary>
    public sealed record Pretrained(string Name, LanguageModelTransformer LanguageModel);

    /// <summary>What the pipeline does at each stage.</summary>
    public sealed class Options
    {
        /// <summary>Stage 3 (<c>Seed</c> is replaced, see <see cref="Seed"/>; a checkpoint folder gets one subfolder per model).</summary>
        public TaskAdaptationSettings TaskAdaptation = new();

        /// <summary>
        /// Stage 2 (<c>Seed</c> is replaced; <c>MaxTokens</c> by each of <see cref="RelearningBudgets"/>; a checkpoint
        /// folder gets one subfolder per model, language and budget).
        /// </summary>
        public RelearningSettings Relearning = new() { MaxSteps = 10_000 };

        /// <summary>Relearning budgets in tokens, each a full set of runs; null means <see cref="Relearning"/> as given.</summary>
        public IReadOnlyList<long?> RelearningBudgets = [null];

        /// <summary>BPE vocabulary trained per target language that has no tokenizer.</summary>
        public int TargetVocabularySize = 8000;

        /// <summary>Dev pairs of each target the adaptation curve is measured on (the first ones; the final evaluation uses all). Null: all.</summary>
        public int? CurveDevExamples;

        /// <summary>
        /// About this many curve points per relearning run: the evaluation interval is the expected number of
        /// updates (from the budget in full-length batches, or <c>MaxSteps</c>) divided by it. Null: <c>Relearning.EvaluationInterval</c>.
        /// </summary>
        public int? CurvePoints;

        /// <summary>Run seed: task adaptation uses Seed + 1, relearning Seed + 2. Null takes seeds from the MLContext's seeded random.</summary>
        public int? Seed;

        /// <summary>Where the models train.</summary>
        public DeviceOption Device = DeviceOption.Cpu;

        /// <summary>Pairs per forward pass when evaluating and measuring the curve.</summary>
        public int EvaluationBatchSize = 64;

        /// <summary>Called after every update of every stage (unless a hook supplies its own).</summary>
        public IProgress<TrainingProgress>? Progress;

        /// <summary>Stops the run between updates (unless a hook supplies its own token).</summary>
        public CancellationToken CancellationToken;

        /// <summary>How fits run and what happens to each model; null: fit in place, keep nothing.</summary>
        public Hooks? Hooks;

        internal void Validate()
        {
            TaskAdaptation.Validate();
            Relearning.Validate();
            if (RelearningBudgets is null || RelearningBudgets.Count == 0) throw new ArgumentException("RelearningBudgets needs at least one entry (null: Relearning as given).", nameof(RelearningBudgets));
            if (RelearningBudgets.FirstOrDefault(b => b is <= 0) is { } bad) throw new ArgumentOutOfRangeException(nameof(RelearningBudgets), bad, "Every relearning budget must be a positive number of tokens.");
            if (RelearningBudgets.Distinct().Count() != RelearningBudgets.Count) throw new ArgumentException("RelearningBudgets must not repeat a budget.", nameof(RelearningBudgets));
            if (TargetVocabularySize < 261) throw new ArgumentOutOfRangeException(nameof(TargetVocabularySize), TargetVocabularySize, "TargetVocabularySize must be at least 261 (5 special tokens + 256 bytes).");
            if (EvaluationBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "EvaluationBatchSize must be positive.");
            if (CurveDevExamples is <= 0) throw new ArgumentOutOfRangeException(nameof(CurveDevExamples), CurveDevExamples, "CurveDevExamples must be positive or null.");
            if (CurvePoints is <= 0) throw new ArgumentOutOfRangeException(nameof(CurvePoints), CurvePoints, "CurvePoints must be positive or null.");
        }
    }

    /// <summary>Which stage a hook is called for.</summary>
    public enum Stage
    {
        /// <summary>Stage 3: body + classifier on the source pairs (a <see cref="SentencePairClassifierTransformer"/>).</summary>
        TaskAdaptation,
        /// <summary>Stage 2: token embeddings for a target language (a <see cref="LanguageModelTransformer"/>).</summary>
        Relearning,
        /// <summary>Stage 4: the zero-shot classifier for a target language (a <see cref="SentencePairClassifierTransformer"/>).</summary>
        Assembly,
    }

    /// <summary>One model the pipeline makes.</summary>
    /// <param name="Stage">The stage.</param>
    /// <param name="Run">Name of the pretrained model (<see cref="Pretrained.Name"/>).</param>
    /// <param name="Language">The source language for task adaptation, else the target's code.</param>
    /// <param name="Budget">Relearning budget in tokens (null: the settings' budget; always null for task adaptation).</param>
    /// <param name="InputSchema">Schema of the data the model was fitted on or takes (for saving it with <c>ml.Model.Save</c>).</param>
    public sealed record Step(Stage Stage, string Run, string Language, long? Budget, DataViewSchema InputSchema);

    /// <summary>
    /// Where callers differ: override <see cref="Fit{T}"/> to show progress, cancel, save or load a cached
    /// model, and <see cref="Assembled"/> to save the assembled classifier. The defaults fit and keep nothing.
    /// </summary>
    public class Hooks
    {
        /// <summary>
        /// Produces the model of <paramref name="step"/>: by default <c>fit(null, default)</c>. An override may pass its
        /// own progress sink and cancellation token (null and an uncancellable token fall back to the options'),
        /// wrap the call, save the result, or return a model loaded from a cache instead of fitting.
        /// </summary>
        public virtual T Fit<T>(Step step, Func<IProgress<TrainingProgress>?, CancellationToken, T> fit) where T : class, ITransformer => fit(null, default);

        /// <summary>Called with each assembled classifier (stage 4), before it is evaluated.</summary>
        public virtual void Assembled(Step step, SentencePairClassifierTransformer classifier) { }
    }

    /// <summary>Stage 3 for one model.</summary>
    /// <param name="Run">The model's name.</param>
    /// <param name="Classifier">The task-adapted classifier (source vocabulary).</param>
    /// <param name="Source">Source-language dev result; null without source dev pairs.</param>
    /// <param name="Time">Wall time of the stage (fit or load, and evaluation).</param>
    public sealed record TaskOutcome(string Run, SentencePairClassifierTransformer Classifier, LanguageResult? Source, TimeSpan Time);

    /// <summary>Stages 2 and 4 and the evaluation for one model, budget and target language.</summary>
    /// <param name="Run">The model's name.</param>
    /// <param name="Budget">Relearning budget in tokens (null: the settings' budget).</param>
    /// <param name="Language">Target language code.</param>
    /// <param name="Relearning">The relearning history: MLM loss per update and the adaptation curve in its validations.</param>
    /// <param name="Evaluation">Zero-shot result of the assembled classifier on all the target's dev pairs.</param>
    /// <param name="Time">Wall time of relearning, assembly and evaluation.</param>
    public sealed record TargetOutcome(string Run, long? Budget, string Language, TrainingHistory Relearning, LanguageResult Evaluation, TimeSpan Time);

    /// <summary>What the pipeline produced.</summary>
    public sealed class Result
    {
        private readonly Dictionary<(string Run, long? Budget), ClassificationReport> _reports;

        internal Result(IReadOnlyList<TaskOutcome> tasks, IReadOnlyList<TargetOutcome> targets, IReadOnlyDictionary<string, SubwordTokenizer> tokenizers,
            Dictionary<(string, long?), ClassificationReport> reports)
        {
            TaskAdaptations = tasks; Targets = targets; TargetTokenizers = tokenizers; _reports = reports;
        }

        /// <summary>Stage 3 per model, in the order the models were given.</summary>
        public IReadOnlyList<TaskOutcome> TaskAdaptations { get; }

        /// <summary>One entry per budget, target language and model, in the order they ran (budget, then language, then model).</summary>
        public IReadOnlyList<TargetOutcome> Targets { get; }

        /// <summary>The target vocabulary of each language (shared by every model and budget).</summary>
        public IReadOnlyDictionary<string, SubwordTokenizer> TargetTokenizers { get; }

        /// <summary>Stage 3 of <paramref name="run"/>.</summary>
        public TaskOutcome TaskAdaptation(string run) =>
            TaskAdaptations.FirstOrDefault(t => t.Run == run) ?? throw new KeyNotFoundException($"No model named '{run}' (models: {string.Join(", ", TaskAdaptations.Select(t => t.Run))}).");

        /// <summary>The outcome of <paramref name="run"/> on <paramref name="language"/> at <paramref name="budget"/>.</summary>
        public TargetOutcome Target(string run, string language, long? budget = null) =>
            Targets.FirstOrDefault(t => t.Run == run && t.Language == language && t.Budget == budget)
            ?? throw new KeyNotFoundException($"No outcome for model '{run}', language '{language}', budget {budget?.ToString() ?? "null"}.");

        /// <summary>Accuracy, macro-F1 and confusion per language for one model and budget: the source row first (when there are source dev pairs), then the targets.</summary>
        public ClassificationReport Report(string run, long? budget = null) =>
            _reports.TryGetValue((run, budget), out var r) ? r : throw new KeyNotFoundException($"No report for model '{run}', budget {budget?.ToString() ?? "null"}.");
    }

    /// <summary>Runs the pipeline for one pretrained model, named "model" in the result.</summary>
    public static Result Run(MLContext ml, LanguageModelTransformer pretrained, CrossLingualInputs inputs, Options options) =>
        Run(ml, [new Pretrained("model", pretrained)], inputs, options);

    /// <summary>Runs the pipeline for every model in <paramref name="pretrained"/> on the same data, vocabularies and seeds.</summary>
    /// <exception cref="ArgumentException">Bad options, duplicate names or target codes, or a dev label outside the label set (all checked before training).</exception>
    public static Result Run(MLContext ml, IReadOnlyList<Pretrained> pretrained, CrossLingualInputs inputs, Options options)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(pretrained);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (pretrained.Count == 0) throw new ArgumentException("At least one pretrained model is needed.", nameof(pretrained));
        if (pretrained.Select(p => p.Name).Distinct().Count() != pretrained.Count) throw new ArgumentException("Pretrained model names must be unique.", nameof(pretrained));
        if (inputs.Targets.Select(t => t.Code).Distinct().Count() != inputs.Targets.Count) throw new ArgumentException("Target language codes must be unique.", nameof(inputs));
        int numLabels = inputs.LabelNames.Count;
        Adaptation.TaskAdaptation.ValidateExamples(inputs.SourceTrain, numLabels, $"{inputs.SourceLanguage} train");
        if (inputs.SourceDev is { } checkDev) Adaptation.TaskAdaptation.ValidateExamples(checkDev, numLabels, $"{inputs.SourceLanguage} dev");
        foreach (var t in inputs.Targets) Adaptation.TaskAdaptation.ValidateExamples(t.Dev, numLabels, $"{t.Code} dev");

        var host = ((IHostEnvironment)ml).Register(LogSources.Prefix + nameof(CrossLingualPipeline));
        using var ch = host.Start(nameof(CrossLingualPipeline));
        var hooks = options.Hooks ?? new Hooks();
        var data = new PairViews(ml, inputs.LabelNames);
        var train = data.Labelled(inputs.SourceTrain);
        var sourceDev = inputs.SourceDev is { } d ? data.Labelled(d) : null;

        // Stage 3 per model.
        var tasks = new List<TaskOutcome>();
        var sourceScores = new Dictionary<string, IReadOnlyList<float[]>>(StringComparer.Ordinal);
        foreach (var run in pretrained)
        {
            var watch = Stopwatch.StartNew();
            var trainerOptions = new SentencePairClassificationTrainer.Options
            {
                LanguageModel = run.LanguageModel, Seed = options.Seed + 1, Device = options.Device, BatchSize = options.EvaluationBatchSize,
                Settings = options.TaskAdaptation with { CheckpointDirectory = Subfolder(options.TaskAdaptation.CheckpointDirectory, run.Name) },
                ValidationData = options.TaskAdaptation.ValidationInterval > 0 || options.TaskAdaptation.KeepBestCheckpoint ? sourceDev?.View : null,
            };
            var trainer = ml.MulticlassClassification.Trainers.SentencePairClassification(trainerOptions); // validates before any work
            var step = new Step(Stage.TaskAdaptation, run.Name, inputs.SourceLanguage, null, train.Schema);
            var classifier = hooks.Fit(step, (progress, token) =>
            {
                Attach(trainerOptions, options, progress, token);
                return trainer.Fit(train.View);
            });
            LanguageResult? source = null;
            if (sourceDev is not null)
            {
                sourceScores[run.Name] = Score(classifier, sourceDev);
                source = new ClassificationReport(inputs.LabelNames).Add(inputs.SourceLanguage, sourceDev.Gold, sourceScores[run.Name]);
            }
            if (source is not null) ch.Info($"{run.Name}: {inputs.SourceLanguage} accuracy {source.Accuracy:P1} after task adaptation ({watch.Elapsed.TotalSeconds:F0} s)");
            tasks.Add(new TaskOutcome(run.Name, classifier, source, watch.Elapsed));
        }

        // Stages 2 and 4 and evaluation per budget, target and model.
        var reports = new Dictionary<(string, long?), ClassificationReport>();
        foreach (var budget in options.RelearningBudgets)
            foreach (var task in tasks)
            {
                var report = new ClassificationReport(inputs.LabelNames);
                if (sourceDev is not null) report.Add(inputs.SourceLanguage, sourceDev.Gold, sourceScores[task.Run]);
                reports[(task.Run, budget)] = report;
            }
        var tokenizers = new Dictionary<string, SubwordTokenizer>(StringComparer.Ordinal);
        var targets = new List<TargetOutcome>();
        foreach (var budget in options.RelearningBudgets)
            foreach (var target in inputs.Targets)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                if (!tokenizers.TryGetValue(target.Code, out var tokenizer))
                {
                    ch.Info($"{target.Code}: training the target vocabulary ({options.TargetVocabularySize})");
                    tokenizers[target.Code] = tokenizer = target.Tokenizer ?? EmbeddingRelearning.TrainVocabulary(target.Corpus, options.TargetVocabularySize);
                }
                var text = TextView(ml, target.Corpus);
                var dev = data.Labelled(target.Dev);
                var curveDev = options.CurveDevExamples is { } n ? target.Dev.Take(n).ToArray() : target.Dev;
                foreach (var (run, task) in pretrained.Zip(tasks))
                {
                    var watch = Stopwatch.StartNew();
                    var relearned = Relearn(ml, hooks, options, run, task.Classifier, target.Code, budget, tokenizer, text, curveDev);
                    var assembled = task.Classifier.Assemble(relearned, ml, target.Code);
                    hooks.Assembled(new Step(Stage.Assembly, run.Name, target.Code, budget, dev.Schema), assembled);
                    var result = reports[(run.Name, budget)].Add(target.Code, dev.Gold, Score(assembled, dev));
                    ch.Info($"{run.Name}: {target.Code} zero-shot accuracy {result.Accuracy:P1} ({watch.Elapsed.TotalSeconds:F0} s for relearning, assembly and evaluation)");
                    targets.Add(new TargetOutcome(run.Name, budget, target.Code, relearned.History, result, watch.Elapsed));
                }
            }
        return new Result(tasks, targets, tokenizers, reports);
    }

    // Stage 2 for one model, target and budget, with the adaptation curve: the task model with the embeddings being trained spliced in.
    private static LanguageModelTransformer Relearn(MLContext ml, Hooks hooks, Options options, Pretrained run, SentencePairClassifierTransformer task,
        string code, long? budget, SubwordTokenizer tokenizer, IDataView text, IReadOnlyList<(string Premise, string Hypothesis, int Label)> curveDev)
    {
        var settings = options.Relearning with
        {
            MaxTokens = budget ?? options.Relearning.MaxTokens,
            CheckpointDirectory = Subfolder(options.Relearning.CheckpointDirectory, run.Name, budget is { } b ? $"{code}-{b}" : code),
        };
        if (options.CurvePoints is { } points)
        {
            // The number of updates is estimated from full-length batches when a token budget sets it.
            long expected = settings.MaxTokens is { } tokens ? Math.Max(1, tokens / ((long)settings.BatchSize * settings.MaxSequenceLength)) : 0;
            if (settings.MaxSteps is { } steps) expected = expected == 0 ? steps : Math.Min(expected, steps);
            settings = settings with { EvaluationInterval = Math.Max(1, expected / points) };
        }
        var relearnerOptions = new EmbeddingRelearner.Options
        {
            LanguageModel = run.LanguageModel, Tokenizer = tokenizer, Seed = options.Seed + 2, Device = options.Device, Settings = settings,
            InferenceBatchSize = options.EvaluationBatchSize,
            Evaluate = (model, _) =>
            {
                using var spliced = ModelAssembly.Assemble(task.Model, model);
                return new Dictionary<string, double> { [HistoryNames.ZeroShotAccuracy] = Adaptation.TaskAdaptation.Accuracy(spliced, tokenizer, curveDev, options.EvaluationBatchSize) };
            },
        };
        var relearner = ml.Transforms.Text.EmbeddingRelearner(relearnerOptions);
        return hooks.Fit(new Step(Stage.Relearning, run.Name, code, budget, text.Schema), (progress, token) =>
        {
            relearnerOptions.Progress = progress ?? options.Progress;
            relearnerOptions.CancellationToken = token.CanBeCanceled ? token : options.CancellationToken;
            return relearner.Fit(text);
        });
    }

    private static void Attach(SentencePairClassificationTrainer.Options trainer, Options options, IProgress<TrainingProgress>? progress, CancellationToken token)
    {
        trainer.Progress = progress ?? options.Progress;
        trainer.CancellationToken = token.CanBeCanceled ? token : options.CancellationToken;
    }

    private static string? Subfolder(string? root, params string[] parts)
    {
        if (root is null) return null;
        string folder = Path.Combine([root, .. parts]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    // Class probabilities through ML.NET: Transform, then the score column.
    private static IReadOnlyList<float[]> Score(SentencePairClassifierTransformer classifier, LabelledView dev) =>
        classifier.Transform(dev.View).GetColumn<float[]>(classifier.OutputColumns[0].Name).ToList();

    // Re-enumerable: LoadFromEnumerable reads the corpus afresh for every cursor (vocabulary, epochs) instead of holding it.
    private static IDataView TextView(MLContext ml, Func<IEnumerable<string?>> corpus)
    {
        IEnumerable<TextRow> Rows()
        {
            foreach (var line in corpus())
                if (line is not null) yield return new TextRow { Text = line };
        }
        return ml.Data.LoadFromEnumerable(Rows());
    }

    private sealed record LabelledView(IDataView View, int[] Gold)
    {
        public DataViewSchema Schema => View.Schema;
    }

    // Pairs as Sentence1, Sentence2 and Label, a key whose order is the label set's (key k + 1 is label k).
    private sealed class PairViews(MLContext ml, IReadOnlyList<string> labelNames)
    {
        private readonly ITransformer _map = ml.Transforms.Conversion
            .MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(labelNames.Select(n => new LabelRow { Label = n }).ToList()))
            .Fit(ml.Data.LoadFromEnumerable(new[] { new PairRow() }));

        public LabelledView Labelled(IReadOnlyList<(string Premise, string Hypothesis, int Label)> pairs) =>
            new(_map.Transform(ml.Data.LoadFromEnumerable(pairs.Select(p => new PairRow { Sentence1 = p.Premise, Sentence2 = p.Hypothesis, Label = labelNames[p.Label] }).ToList())),
                pairs.Select(p => p.Label).ToArray());
    }

    internal sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    internal sealed class LabelRow
    {
        public string Label { get; set; } = "";
    }

    internal sealed class PairRow
    {
        public string Sentence1 { get; set; } = "";
        public string Sentence2 { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
