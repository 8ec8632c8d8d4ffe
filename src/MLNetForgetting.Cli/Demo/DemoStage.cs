using Microsoft.ML;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Cli.Reporting;

namespace MLNetForgetting.Cli.Demo;

/// <summary>
/// One step of <c>mlnf demo</c>. The demo runs its stages in order; each reads what earlier stages
/// produced from <see cref="DemoContext.Artifacts"/>, writes its files into the output folder, records
/// its own artifacts and adds rows to the summary. Later pipeline steps (relearning, task adaptation,
/// assembly, evaluation, LiST) become new stages appended to <see cref="DemoStages.All"/>.
/// </summary>
public abstract class DemoStage
{
    /// <summary>Short name shown as the stage heading, e.g. "pretrain (forgetting)".</summary>
    public abstract string Name { get; }

    /// <summary>Does the stage's work.</summary>
    public abstract void Run(DemoContext context);
}

/// <summary>How big the demo runs are: <see cref="Default"/> tells the whole story in under 10 minutes on two CPU cores; <see cref="Tiny"/> is for tests.</summary>
/// <param name="CorpusLines">English sentences to pretrain on (generated, or the first lines of --data).</param>
/// <param name="Steps">Updates per pretraining run.</param>
/// <param name="ResetInterval">K of the forgetting run.</param>
/// <param name="BatchSize">Sequences per update.</param>
/// <param name="MaxSequenceLength">Longest sequence in tokens.</param>
/// <param name="VocabularySize">BPE vocabulary trained on the English corpus (and on each target corpus).</param>
/// <param name="Preset">Model size preset.</param>
/// <param name="HiddenSize">Width of the model (null: the preset's).</param>
/// <param name="LearningRate">Peak learning rate of pretraining.</param>
/// <param name="NliTrain">English NLI pairs for task adaptation.</param>
/// <param name="NliDev">NLI dev pairs per language.</param>
/// <param name="Smooth">Loss smoothing window of the plot.</param>
/// <param name="TaskEpochs">Epochs of task adaptation.</param>
/// <param name="RelearnSteps">Updates of each relearning run (the low token budget of the story).</param>
/// <param name="CurveInterval">Zero-shot accuracy is measured every this many relearning updates.</param>
/// <param name="CurveExamples">Dev pairs the curve is measured on.</param>
/// <param name="Languages">Target languages relearned.</param>
/// <param name="ListShots">Labelled pairs per class of the LiST run.</param>
/// <param name="ListUnlabelled">Unlabelled pairs of the LiST run.</param>
/// <param name="ListRounds">Self-training rounds of the LiST run.</param>
public sealed record DemoSize(
    int CorpusLines, long Steps, long ResetInterval, int BatchSize, int MaxSequenceLength, int VocabularySize,
    string Preset, int? HiddenSize, double LearningRate, int NliTrain, int NliDev, int Smooth,
    int TaskEpochs, long RelearnSteps, long CurveInterval, int CurveExamples, int Languages, int ListShots, int ListUnlabelled, int ListRounds)
{
    /// <summary>The whole story in minutes on two CPU cores (measured in docs/cli.md).</summary>
    public static DemoSize Default { get; } = new(20000, 2000, 100, 32, 64, 400, "Tiny", 64, 2e-3, 3000, 500, 10,
        TaskEpochs: 3, RelearnSteps: 300, CurveInterval: 50, CurveExamples: 200, Languages: 2, ListShots: 8, ListUnlabelled: 200, ListRounds: 1);

    /// <summary>Every stage in seconds of compute (two languages, a few updates each): the demo test.</summary>
    public static DemoSize Tiny { get; } = new(400, 12, 4, 8, 32, 300, "Tiny", null, 3e-3, 64, 32, 2,
        TaskEpochs: 1, RelearnSteps: 4, CurveInterval: 2, CurveExamples: 16, Languages: 2, ListShots: 2, ListUnlabelled: 8, ListRounds: 1);

    /// <summary>By --size name.</summary>
    public static DemoSize Named(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => Tiny,
        _ => Default,
    };
}

/// <summary>What the stages of one demo run share.</summary>
public sealed class DemoContext(CliContext cli, MLContext ml, string outputDirectory, string? dataDirectory, DemoSize size, int seed)
{
    /// <summary>Console, cancellation and verbosity of the command.</summary>
    public CliContext Cli { get; } = cli;

    /// <summary>The seeded ML.NET context all stages use.</summary>
    public MLContext ML { get; } = ml;

    /// <summary>Where every file of the demo goes.</summary>
    public string OutputDirectory { get; } = outputDirectory;

    /// <summary>A dataset folder in the shared-data layout given with --data, or null for the built-in synthetic data.</summary>
    public string? DataDirectory { get; set; } = dataDirectory;

    /// <summary>Run sizes.</summary>
    public DemoSize Size { get; } = size;

    /// <summary>Seed of every run.</summary>
    public int Seed { get; } = seed;

    /// <summary>Files produced so far by name (see <see cref="DemoArtifacts"/>), for later stages.</summary>
    public Dictionary<string, string> Artifacts { get; } = new(StringComparer.Ordinal);

    /// <summary>One row per result, printed and exported at the end.</summary>
    public ReportTable Summary { get; } = new("mlnf demo", "Stage", "Result", "Files");

    /// <summary>A path in the output folder.</summary>
    public string File(string name) => Path.Combine(OutputDirectory, name);

    /// <summary>Target language codes (synthetic testbed, or --languages with --data).</summary>
    public IReadOnlyList<string> Languages { get; set; } = Array.Empty<string>();

    /// <summary>The English tokenizer both pretraining runs share (trained by the dataset stage), so the pair differs only in K.</summary>
    public MLNetForgetting.Text.SubwordTokenizer? EnglishTokenizer { get; set; }

    /// <summary>Result tables printed again after the summary.</summary>
    public List<ReportTable> Tables { get; } = new();

    /// <summary>Evaluation per run, one row per language.</summary>
    internal Dictionary<string, MLNetForgetting.Evaluation.ClassificationReport> Reports { get; } = new(StringComparer.Ordinal);

    /// <summary>The artifact <paramref name="name"/>, or an error naming the stage that should have made it.</summary>
    public string Require(string name) =>
        Artifacts.TryGetValue(name, out var path) ? path : throw new InvalidOperationException($"demo stage order: artifact '{name}' was not produced by an earlier stage");
}

/// <summary>Names of the artifacts the demo stages exchange.</summary>
public static class DemoArtifacts
{
    /// <summary>The dataset folder (shared-data layout: raw/{lang}/*.txt, xnli/dev, glue_pools/MNLI).</summary>
    public const string Dataset = "dataset";

    /// <summary>Model zip of the run named <paramref name="run"/> ("standard", "forgetting").</summary>
    public static string Model(string run) => "model." + run;

    /// <summary>History CSV of the run named <paramref name="run"/>.</summary>
    public static string History(string run) => "history." + run;

    /// <summary>Relearned zip of <paramref name="run"/>'s model for <paramref name="language"/>.</summary>
    public static string Relearned(string run, string language) => $"relearned.{run}.{language}";

    /// <summary>Relearning history (adaptation curve) of <paramref name="run"/>'s model for <paramref name="language"/>.</summary>
    public static string Curve(string run, string language) => $"curve.{run}.{language}";
}
