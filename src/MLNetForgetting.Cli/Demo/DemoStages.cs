using System.Globalization;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Cli.Reporting;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Prompts;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Text;
using MLNetForgetting.Training;

namespace MLNetForgetting.Cli.Demo;

/// <summary>The stages of <c>mlnf demo</c>, in order.</summary>
public static class DemoStages
{
    /// <summary>
    /// Dataset → standard and forgetting pretraining → loss plot → task adaptation on English NLI,
    /// relearning each target language (with the zero-shot adaptation curve), assembly and evaluation
    /// (the library's CrossLingualPipeline, one stage) → adaptation-curve plot → a short LiST run. Stages exchange files through <see cref="DemoArtifacts"/>.
    /// </summary>
    public static IReadOnlyList<DemoStage> All { get; } = new DemoStage[]
    {
        new DatasetStage(),
        new PretrainStage("standard", forgetting: false),
        new PretrainStage("forgetting", forgetting: true),
        new LossPlotStage(),
        new CrossLingualTransferStage(),
        new CurvePlotStage(),
        new ListStage(),
    };
}

/// <summary>Uses --data, or writes the built-in synthetic dataset (English and the derived languages, NLI pairs) into the output folder.</summary>
public sealed class DatasetStage : DemoStage
{
    /// <inheritdoc/>
    public override string Name => "dataset";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        string folder;
        if (context.DataDirectory is { } given)
        {
            folder = given;
            context.Summary.Add(Name, $"English text from {Path.Combine(given, "raw", "en")} (first {context.Size.CorpusLines} lines)", given);
        }
        else
        {
            folder = context.File("data");
            // The LiST stage takes its few-shot and unlabelled pairs from after the task-adaptation pairs.
            int listPairs = 3 * context.Size.ListShots * 4 + context.Size.ListUnlabelled;
            new SyntheticTestbed().WriteDataset(folder, context.Size.CorpusLines, context.Size.NliTrain + listPairs, context.Size.NliDev);
            context.Summary.Add(Name, $"synthetic English + derived languages, {context.Size.CorpusLines} sentences each", "data/");
        }
        context.Artifacts[DemoArtifacts.Dataset] = folder;
        // One English vocabulary for both runs; the LiST stage's MNLI label words must be single tokens in it.
        var english = Directory.GetFiles(Path.Combine(folder, "raw", "en"), "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(l => !string.IsNullOrWhiteSpace(l)).Take(context.Size.CorpusLines).ToList();
        context.EnglishTokenizer = BpeVocabularyTrainer.Train(english, new BpeTrainerOptions
        {
            VocabSize = context.Size.VocabularySize, RequiredTokens = LiSTTasks.Mnli.Verbalizer.Words.Select(w => " " + w).ToArray(),
        });
        if (context.Languages.Count == 0) context.Languages = LanguageCodes.Synthetic.Where(c => c != "en").Take(context.Size.Languages).ToArray();
    }
}

/// <summary>Pretrains one model on the English corpus: standard (K = 0) or with active forgetting.</summary>
public sealed class PretrainStage(string run, bool forgetting) : DemoStage
{
    /// <inheritdoc/>
    public override string Name => $"pretrain ({run})";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var size = context.Size;
        string english = Path.Combine(context.Require(DemoArtifacts.Dataset), "raw", "en");
        var input = TextInput.Open(context.ML, english, "--data", maxRows: size.CorpusLines);
        long k = forgetting ? size.ResetInterval : 0;
        var options = new ActiveForgettingPretrainer.Options
        {
            InputColumnName = input.Column, ModelPreset = size.Preset, ResetInterval = k, MaxSteps = size.Steps, Tokenizer = context.EnglishTokenizer,
            HiddenSize = size.HiddenSize, NumAttentionHeads = size.HiddenSize / 16, IntermediateSize = 2 * size.HiddenSize,
            BatchSize = size.BatchSize, MaxSequenceLength = size.MaxSequenceLength, VocabularySize = size.VocabularySize,
            LearningRate = size.LearningRate, EmbeddingLearningRate = size.LearningRate, Seed = context.Seed,
        };
        string model = context.File($"pretrain-{run}.zip"), history = context.File($"pretrain-{run}.history.csv");
        string title = forgetting ? $"forgetting K={k}" : "standard";
        var lm = PretrainRun.Execute(context.Cli, context.ML, new PretrainJob(title, input, options, model, history));
        context.Artifacts[DemoArtifacts.Model(run)] = model;
        context.Artifacts[DemoArtifacts.History(run)] = history;

        var steps = lm.History.Steps;
        int tail = Math.Max(1, steps.Count / 10);
        string loss = steps.TakeLast(tail).Average(s => s.Loss).ToString("F3", CultureInfo.InvariantCulture);
        context.Summary.Add(Name, $"{steps.Count} updates, {lm.History.Events.Count(e => e.Kind == HistoryNames.ResetEvent)} resets, final loss {loss} (mean of last {tail})",
            $"{Path.GetFileName(model)}, {Path.GetFileName(history)}");
    }
}

/// <summary>Draws the loss curves of the pretraining runs, with the resets marked.</summary>
public sealed class LossPlotStage : DemoStage
{
    /// <inheritdoc/>
    public override string Name => "plot";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var series = new[] { "standard", "forgetting" }
            .Select(run => context.Require(DemoArtifacts.History(run)))
            .Select(path => new HistoryPlot.Series(Path.GetFileName(path), HistoryFiles.Load(context.ML, path)))
            .ToList();
        string png = context.File("pretrain-loss.png");
        HistoryPlot.Save(series, png, PlotKind.Loss, smooth: context.Size.Smooth,
            title: $"Pretraining loss (mean of {context.Size.Smooth} updates); dashed: embedding resets every {context.Size.ResetInterval} updates");
        context.Artifacts["plot.pretrain-loss"] = png;
        context.Summary.Add(Name, "loss curves of both runs with reset marks", Path.GetFileName(png));
    }
}
