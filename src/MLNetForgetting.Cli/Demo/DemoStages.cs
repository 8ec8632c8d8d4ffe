using System.Globalization;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Cli.Reporting;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Cli.Demo;

/// <summary>The stages of <c>mlnf demo</c>, in order.</summary>
public static class DemoStages
{
    /// <summary>
    /// Dataset → standard and forgetting pretraining → loss plot. Relearning, task adaptation,
    /// assembly, evaluation and LiST stages are appended here when their library components exist;
    /// they find the pretrained zips under <see cref="DemoArtifacts.Model"/>.
    /// </summary>
    public static IReadOnlyList<DemoStage> All { get; } = new DemoStage[]
    {
        new DatasetStage(),
        new PretrainStage("standard", forgetting: false),
        new PretrainStage("forgetting", forgetting: true),
        new LossPlotStage(),
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
            new SyntheticTestbed().WriteDataset(folder, context.Size.CorpusLines, context.Size.NliTrain, context.Size.NliDev);
            context.Summary.Add(Name, $"synthetic English + derived languages, {context.Size.CorpusLines} sentences each", "data/");
        }
        context.Artifacts[DemoArtifacts.Dataset] = folder;
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
            InputColumnName = input.Column, ModelPreset = size.Preset, ResetInterval = k, MaxSteps = size.Steps,
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
        context.Summary.Add(Name, $"{steps.Count} updates, {lm.History.Events.Count(e => e.Kind == "reset")} resets, final loss {loss} (mean of last {tail})",
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
