using System.Diagnostics;
using MLNetForgetting.Evaluation;
using MLNetForgetting.Modeling;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using static TorchSharp.torch;

namespace MLNetForgetting.Adaptation;

/// <summary>One target language: its unlabelled corpus, its labelled dev pairs and optionally a ready tokenizer.</summary>
/// <param name="Code">Language code used in reports (e.g. "xa", "de").</param>
/// <param name="Corpus">Unlabelled text, re-enumerable (it is read several times: vocabulary, epochs).</param>
/// <param name="Dev">Labelled pairs for zero-shot evaluation; labels index <see cref="CrossLingualInputs.LabelNames"/>.</param>
/// <param name="Tokenizer">Target tokenizer; null to train one on <paramref name="Corpus"/> (<see cref="CrossLingualSettings.TargetVocabularySize"/>).</param>
public sealed record TargetLanguageInput(string Code, Func<IEnumerable<string?>> Corpus, IReadOnlyList<(string Premise, string Hypothesis, int Label)> Dev, SubwordTokenizer? Tokenizer = null);

/// <summary>Everything the pipeline reads, independent of where it came from.</summary>
/// <param name="LabelNames">The task's label set; every label id indexes it.</param>
/// <param name="SourceTrain">English task pairs (stage 3).</param>
/// <param name="SourceDev">English dev pairs, reported as <see cref="SourceLanguage"/>; null to skip.</param>
/// <param name="Targets">The target languages.</param>
public sealed record CrossLingualInputs(
    IReadOnlyList<string> LabelNames,
    IReadOnlyList<(string Premise, string Hypothesis, int Label)> SourceTrain,
    IReadOnlyList<(string Premise, string Hypothesis, int Label)>? SourceDev,
    IReadOnlyList<TargetLanguageInput> Targets)
{
    /// <summary>Code of the source language row in the report.</summary>
    public string SourceLanguage { get; init; } = "en";

    /// <summary>
    /// Inputs from the synthetic testbed: English training pairs (seed <see cref="SyntheticTestbed.DatasetTrainSeed"/>),
    /// aligned dev pairs in English and each target (seed <see cref="SyntheticTestbed.DatasetDevSeed"/>) and a
    /// target corpus (seed <see cref="SyntheticTestbed.DatasetCorpusSeed"/>), the same seeds as <see cref="SyntheticTestbed.WriteDataset"/>.
    /// </summary>
    public static CrossLingualInputs FromSyntheticTestbed(SyntheticTestbed testbed, IEnumerable<string> targetCodes, SyntheticInputOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(testbed);
        ArgumentNullException.ThrowIfNull(targetCodes);
        var o = options ?? new SyntheticInputOptions();
        o.Validate();
        var labels = NliLabels.All;
        LabelledPairs Pairs(string code, int n, int seed) =>
            LabelledPairs.FromStrings(code, testbed.NliExamples(code, n, seed).Select(e => ((string?)e.Premise, (string?)e.Hypothesis, (string?)e.Label)), labels);
        var targets = targetCodes.Select(code =>
        {
            testbed.Language(code); // fails early, listing the known codes
            return new TargetLanguageInput(code, () => testbed.UnlabelledCorpus(code, o.CorpusSentences, SyntheticTestbed.DatasetCorpusSeed),
                Pairs(code, o.DevExamples, SyntheticTestbed.DatasetDevSeed).Examples);
        }).ToList();
        return new CrossLingualInputs(labels, Pairs("en", o.TrainExamples, SyntheticTestbed.DatasetTrainSeed).Examples,
            o.DevExamples > 0 ? Pairs("en", o.DevExamples, SyntheticTestbed.DatasetDevSeed).Examples : null, targets);
    }

    /// <summary>
    /// Inputs from a folder with the shared/data layout: <c>glue_pools/MNLI/train.tsv</c> (English
    /// training pairs), <c>xnli/dev/dev.en.tsv</c> (English dev, optional), and per target
    /// <c>raw/{code}/*.txt</c> (corpus: non-blank lines of every file, files in ordinal order) and
    /// <c>xnli/dev/dev.{code}.tsv</c>. Labels: <see cref="XnliTsv.NliLabelNames"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">A required file or folder is missing (the message names it).</exception>
    public static CrossLingualInputs FromDataFolder(string root, IEnumerable<string> targetCodes, DataFolderInputOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(targetCodes);
        var o = options ?? new DataFolderInputOptions();
        o.Validate();
        var labels = XnliTsv.NliLabelNames;
        var train = XnliTsv.Load(Path.Combine(root, "glue_pools", "MNLI", "train.tsv"), labels, o.MaxTrainExamples).Examples;
        string enDev = Path.Combine(root, "xnli", "dev", "dev.en.tsv");
        var sourceDev = File.Exists(enDev) ? XnliTsv.Load(enDev, labels, o.MaxDevExamples).Examples : null;
        var targets = new List<TargetLanguageInput>();
        foreach (string code in targetCodes)
        {
            string rawDir = Path.Combine(root, "raw", code);
            if (!Directory.Exists(rawDir)) throw new FileNotFoundException($"No corpus folder for '{code}': {rawDir} does not exist.", rawDir);
            var files = Directory.GetFiles(rawDir, "*.txt").Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new FileNotFoundException($"No *.txt corpus files in {rawDir}.", rawDir);
            var dev = XnliTsv.Load(Path.Combine(root, "xnli", "dev", $"dev.{code}.tsv"), labels, o.MaxDevExamples).Examples;
            targets.Add(new TargetLanguageInput(code, () => ReadLines(files, o.MaxCorpusLines), dev));
        }
        return new CrossLingualInputs(labels, train, sourceDev, targets);
    }

    private static IEnumerable<string?> ReadLines(string[] files, int? maxLines)
    {
        int n = 0;
        foreach (string file in files)
            foreach (string line in File.ReadLines(file))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (maxLines is { } max && n >= max) yield break;
                n++;
                yield return line;
            }
    }
}

/// <summary>Sizes for <see cref="CrossLingualInputs.FromSyntheticTestbed"/>.</summary>
public sealed record SyntheticInputOptions
{
    public int TrainExamples { get; init; } = 5000;
    /// <summary>Dev pairs per language (English included); 0 skips the English dev row.</summary>
    public int DevExamples { get; init; } = 1000;
    public int CorpusSentences { get; init; } = 20_000;

    public void Validate()
    {
        if (TrainExamples <= 0) throw new ArgumentOutOfRangeException(nameof(TrainExamples), TrainExamples, "TrainExamples must be positive.");
        if (DevExamples <= 0) throw new ArgumentOutOfRangeException(nameof(DevExamples), DevExamples, "DevExamples must be positive (the targets need dev pairs).");
        if (CorpusSentences <= 0) throw new ArgumentOutOfRangeException(nameof(CorpusSentences), CorpusSentences, "CorpusSentences must be positive.");
    }
}

/// <summary>Caps for <see cref="CrossLingualInputs.FromDataFolder"/>; null means no cap.</summary>
public sealed record DataFolderInputOptions
{
    /// <summary>Non-blank corpus lines per target language.</summary>
    public int? MaxCorpusLines { get; init; }
    /// <summary>English training pairs (first rows of MNLI/train.tsv).</summary>
    public int? MaxTrainExamples { get; init; }
    /// <summary>Dev pairs per language (first rows; XNLI rows are aligned, so every language gets the same examples).</summary>
    public int? MaxDevExamples { get; init; }

    public void Validate()
    {
        if (MaxCorpusLines is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxCorpusLines), MaxCorpusLines, "MaxCorpusLines must be positive or null.");
        if (MaxTrainExamples is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxTrainExamples), MaxTrainExamples, "MaxTrainExamples must be positive or null.");
        if (MaxDevExamples is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxDevExamples), MaxDevExamples, "MaxDevExamples must be positive or null.");
    }
}

/// <summary>Settings of the whole pipeline: one per stage, plus the target vocabulary and evaluation.</summary>
public sealed record CrossLingualSettings
{
    public TaskAdaptationSettings TaskAdaptation { get; init; } = new();
    public RelearningSettings Relearning { get; init; } = new() { MaxSteps = 10_000 };
    /// <summary>BPE vocabulary size trained per target language when it has no tokenizer.</summary>
    public int TargetVocabularySize { get; init; } = 8000;
    public int EvaluationBatchSize { get; init; } = 64;
    /// <summary>Dev pairs used for the adaptation curve (the first ones; the final evaluation uses all). Fewer makes each curve point cheaper.</summary>
    public int? CurveDevExamples { get; init; }
    /// <summary>Keep the task-adapted and assembled models in the result (the caller disposes them).</summary>
    public bool KeepModels { get; init; }

    public void Validate()
    {
        TaskAdaptation.Validate();
        Relearning.Validate();
        if (TargetVocabularySize < 261) throw new ArgumentOutOfRangeException(nameof(TargetVocabularySize), TargetVocabularySize, "TargetVocabularySize must be at least 261 (5 special tokens + 256 bytes).");
        if (EvaluationBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "EvaluationBatchSize must be positive.");
        if (CurveDevExamples is <= 0) throw new ArgumentOutOfRangeException(nameof(CurveDevExamples), CurveDevExamples, "CurveDevExamples must be positive or null.");
    }
}

/// <summary>What happened for one target language.</summary>
public sealed record TargetLanguageOutcome(string Code, SubwordTokenizer Tokenizer, RelearningResult Relearning, LanguageResult Evaluation, TimeSpan RelearningTime, RobertaForMaskedLM? AssembledModel);

/// <summary>The pipeline's results: the per-language report, the task-adaptation history and each language's adaptation curve.</summary>
public sealed class CrossLingualResult : IDisposable
{
    internal CrossLingualResult(ClassificationReport report, TaskAdaptationResult taskAdaptation, TimeSpan taskAdaptationTime, IReadOnlyList<TargetLanguageOutcome> targets, RobertaForMaskedLM? taskModel)
    {
        Report = report; TaskAdaptation = taskAdaptation; TaskAdaptationTime = taskAdaptationTime; Targets = targets; TaskModel = taskModel;
    }

    /// <summary>Accuracy, macro-F1 and confusion per language (the source row first when it has dev pairs).</summary>
    public ClassificationReport Report { get; }
    public TaskAdaptationResult TaskAdaptation { get; }
    public TimeSpan TaskAdaptationTime { get; }
    public IReadOnlyList<TargetLanguageOutcome> Targets { get; }
    /// <summary>The task-adapted model (source vocabulary), when <see cref="CrossLingualSettings.KeepModels"/>.</summary>
    public RobertaForMaskedLM? TaskModel { get; }

    /// <summary>Adaptation curves: language → history (MLM loss per update; curve metrics in Validations).</summary>
    public IReadOnlyDictionary<string, TrainingHistory> AdaptationCurves => Targets.ToDictionary(t => t.Code, t => t.Relearning.History);

    public void Dispose()
    {
        TaskModel?.Dispose();
        foreach (var t in Targets) t.AssembledModel?.Dispose();
    }
}

/// <summary>
/// The cross-lingual transfer pipeline of [AF] (docs/methods.md §2) for one pretrained model: stage 3,
/// task adaptation of a copy on the source-language pairs with E frozen; then per target language,
/// stage 2, relearning E of another copy on the target corpus with the body frozen (recording the
/// zero-shot accuracy of the spliced model as the adaptation curve); stage 4, assembly; stage 5,
/// zero-shot evaluation on the target dev pairs. The pretrained model itself is not modified.
/// </summary>
public static class CrossLingualPipeline
{
    /// <summary>Metric name of the adaptation curve's zero-shot accuracy in <see cref="TrainingHistory.Validations"/>.</summary>
    public const string ZeroShotAccuracy = "zero_shot_accuracy";

    public static CrossLingualResult Run(
        RobertaForMaskedLM pretrained,
        SubwordTokenizer sourceTokenizer,
        CrossLingualInputs inputs,
        CrossLingualSettings settings,
        Device device,
        Action<string>? log = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        ArgumentNullException.ThrowIfNull(sourceTokenizer);
        ArgumentNullException.ThrowIfNull(inputs);
        settings.Validate();
        int numLabels = inputs.LabelNames.Count;
        var report = new ClassificationReport(inputs.LabelNames);
        foreach (var t in inputs.Targets) TaskAdaptation.ValidateExamples(t.Dev, numLabels, $"{t.Code} dev");
        if (inputs.Targets.Select(t => t.Code).Distinct().Count() != inputs.Targets.Count) throw new ArgumentException("Target language codes must be unique.", nameof(inputs));

        // Stage 3: task adaptation on a copy (source vocabulary, E frozen by default).
        var watch = Stopwatch.StartNew();
        var taskModel = ModelAssembly.Clone(pretrained);
        var outcomes = new List<TargetLanguageOutcome>();
        try
        {
            var taskResult = TaskAdaptation.FineTune(taskModel, sourceTokenizer, inputs.SourceTrain, numLabels, settings.TaskAdaptation, device,
                inputs.SourceDev, log, progress, cancellationToken);
            var taskTime = watch.Elapsed;
            if (inputs.SourceDev is { } sourceDev)
            {
                var r = Evaluate(report, inputs.SourceLanguage, taskModel, sourceTokenizer, sourceDev, settings.EvaluationBatchSize);
                log?.Invoke($"pipeline: {inputs.SourceLanguage} accuracy {r.Accuracy:P1} after task adaptation ({taskTime.TotalSeconds:F0} s)");
            }

            foreach (var target in inputs.Targets)
            {
                cancellationToken.ThrowIfCancellationRequested();
                watch.Restart();
                var tokenizer = target.Tokenizer ?? EmbeddingRelearning.TrainVocabulary(target.Corpus, settings.TargetVocabularySize);
                var curveDev = settings.CurveDevExamples is { } n ? target.Dev.Take(n).ToArray() : target.Dev;
                var relearned = ModelAssembly.Clone(pretrained); // stage 2 starts from the pretrained body, not the task-adapted one
                RobertaForMaskedLM? assembled = null;
                try
                {
                    IReadOnlyDictionary<string, double> Curve(long step)
                    {
                        using var spliced = ModelAssembly.Assemble(taskModel, relearned);
                        return new Dictionary<string, double> { [ZeroShotAccuracy] = TaskAdaptation.Accuracy(spliced, tokenizer, curveDev, settings.EvaluationBatchSize) };
                    }
                    var relearnSettings = settings.Relearning with
                    {
                        CheckpointDirectory = settings.Relearning.CheckpointDirectory is { } dir ? Path.Combine(dir, target.Code) : null,
                    };
                    if (relearnSettings.CheckpointDirectory is { } cd) Directory.CreateDirectory(cd);
                    var relearning = EmbeddingRelearning.Relearn(relearned, tokenizer, target.Corpus, relearnSettings, device, Curve, log, progress, cancellationToken);
                    assembled = ModelAssembly.Assemble(taskModel, relearned);
                    var result = Evaluate(report, target.Code, assembled, tokenizer, target.Dev, settings.EvaluationBatchSize);
                    log?.Invoke($"pipeline: {target.Code} zero-shot accuracy {result.Accuracy:P1} ({watch.Elapsed.TotalSeconds:F0} s for vocabulary, relearning and evaluation)");
                    outcomes.Add(new TargetLanguageOutcome(target.Code, tokenizer, relearning, result, watch.Elapsed, settings.KeepModels ? assembled : null));
                    if (settings.KeepModels) assembled = null;
                }
                finally
                {
                    relearned.Dispose();
                    assembled?.Dispose();
                }
            }
            var kept = settings.KeepModels ? taskModel : null;
            if (!settings.KeepModels) taskModel.Dispose();
            return new CrossLingualResult(report, taskResult, taskTime, outcomes, kept);
        }
        catch
        {
            taskModel.Dispose();
            foreach (var o in outcomes) o.AssembledModel?.Dispose();
            throw;
        }
    }

    private static LanguageResult Evaluate(ClassificationReport report, string code, RobertaForMaskedLM model, SubwordTokenizer tokenizer,
        IReadOnlyList<(string Premise, string Hypothesis, int Label)> dev, int batchSize)
    {
        var probabilities = TaskAdaptation.Predict(model, tokenizer, dev.Select(e => (e.Premise, e.Hypothesis)).ToArray(), batchSize);
        return report.Add(code, dev.Select(e => e.Label).ToArray(), probabilities);
    }
}
