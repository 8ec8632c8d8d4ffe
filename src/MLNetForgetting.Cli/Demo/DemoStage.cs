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

/// <summary>How big the demo runs are: the default shows the effect in minutes on a CPU; <see cref="Quick"/> is for tests.</summary>
/// <param name="CorpusLines">English sentences to pretrain on (generated, or the first lines of --data).</param>
/// <param name="Steps">Updates per pretraining run.</param>
/// <param name="ResetInterval">K of the forgetting run.</param>
/// <param name="BatchSize">Sequences per update.</param>
/// <param name="MaxSequenceLength">Longest sequence in tokens.</param>
/// <param name="VocabularySize">BPE vocabulary trained on the corpus.</param>
/// <param name="Preset">Model size preset.</param>
/// <param name="LearningRate">Peak learning rate of body and embeddings.</param>
/// <param name="NliTrain">English NLI pairs written with the synthetic dataset (for later stages).</param>
/// <param name="NliDev">NLI dev pairs per language written with the synthetic dataset.</param>
/// <param name="Smooth">Loss smoothing window of the plot.</param>
public sealed record DemoSize(
    int CorpusLines, long Steps, long ResetInterval, int BatchSize, int MaxSequenceLength, int VocabularySize,
    string Preset, double LearningRate, int NliTrain, int NliDev, int Smooth)
{
    /// <summary>About a minute per run on two CPU cores: 400 updates, 20 forgetting episodes (K = 20).</summary>
    public static DemoSize Default { get; } = new(20000, 400, 20, 32, 64, 2000, "Tiny", 2e-3, 2000, 500, 10);

    /// <summary>Seconds: a few updates on a few hundred sentences, enough to exercise every stage.</summary>
    public static DemoSize Quick { get; } = new(400, 12, 4, 8, 32, 300, "Tiny", 2e-3, 64, 32, 2);
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
}
